"""fangpin dept_mapping KIND FILE --as USER [--set 列=表头 ...] [--for 部门]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError

from ._report import print_preview


class Command(BaseCommand):
    help = (
        "部门数据列映射：预览文件按当前映射读取的前几行；--set 保存本部门该类数据的列对应关系（下次上传沿用）"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", help="部门数据类型，如 medical、hrss")
        parser.add_argument("file")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument(
            "--set", dest="pairs", action="append", default=[], help="列名=文件表头（可多次）"
        )
        parser.add_argument("--for", dest="on_behalf_of", default=None, help="县管理员代该部门设置，如 公安")

    def handle(self, *args, kind, file, username, pairs, on_behalf_of=None, **opts):
        from fangpin.screening.services.uploads import dept_mapping_preview, dept_mapping_save
        from fangpin.screening.sources import source_get

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        columns = {}
        for p in pairs:
            if "=" not in p:
                raise CommandError(f"“{p}”格式错误，应为 列名=文件表头")
            k, v = p.split("=", 1)
            columns[k] = v
        try:
            if columns:
                m = dept_mapping_save(
                    actor=user, kind=kind, columns=columns, path=Path(file), on_behalf_of=on_behalf_of
                )
                titles = {c.name: c.title for c in source_get(kind).columns}
                pairs = "、".join(f"{titles.get(k, k)}={v}" for k, v in m.columns.items())
                self.stdout.write(f"已保存 {m.department} {kind} 列映射 v{m.version}：{pairs}")
            pv = dept_mapping_preview(
                actor=user, kind=kind, path=Path(file), on_behalf_of=on_behalf_of, on=clock.today()
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        print_preview(self, pv)
