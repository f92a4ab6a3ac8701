"""fangpin dept_upload KIND FILE --period 2025-06 --as USER [--for 部门]"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError

from ._report import print_preview


class Command(BaseCommand):
    help = "上传部门数据文件（Excel/CSV/Parquet）；表头无法识别时先用 dept_mapping 指定一次"

    def add_arguments(self, parser):
        parser.add_argument("kind", help="部门数据类型，如 medical、disability")
        parser.add_argument("file")
        parser.add_argument("--period", required=True, help="数据月份 YYYY-MM（文件报送的月份）")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--for", dest="on_behalf_of", default=None, help="县管理员代该部门上传，如 公安")
        parser.add_argument("--on", default=None, help="业务日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, kind, file, period, username, on_behalf_of=None, on=None, **opts):
        from fangpin.screening.services.uploads import dept_batch_upload, dept_mapping_preview
        from fangpin.screening.sources.parse import E_MAPPING_NEEDED

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        day = dt.date.fromisoformat(on) if on else clock.today()
        try:
            b = dept_batch_upload(
                actor=user, kind=kind, path=Path(file), period=period, on_behalf_of=on_behalf_of, on=day
            )
        except DomainError as exc:
            if exc.code == E_MAPPING_NEEDED:
                print_preview(
                    self,
                    dept_mapping_preview(
                        actor=user, kind=kind, path=Path(file), on_behalf_of=on_behalf_of, on=day
                    ),
                )
            for e in exc.details.get("errors", [])[:20]:
                self.stderr.write(f"  第{e['row']}行 {e['column']}：{e['message']}")
            raise CommandError(exc.message) from exc
        behalf = f"（{user.username} 代{b.department}上传）" if b.on_behalf else ""
        self.stdout.write(
            f"批次#{b.pk} {b.kind} {b.period} v{b.version}{behalf}: 共{b.rows_total}行，入库{b.rows_ok}，"
            f"退回{b.rows_rejected}，证件号码待匹配{b.rows_id_problem}"
        )
        for i in b.issues.filter(severity="error")[:20]:
            self.stdout.write(f"  退回 第{i.row}行 {i.column}：{i.message}")
