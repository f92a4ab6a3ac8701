"""fangpin dept_upload KIND FILE --period 2025-06 --as USER"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core.errors import DomainError


class Command(BaseCommand):
    help = "上传部门数据文件（Excel/CSV/Parquet）"

    def add_arguments(self, parser):
        parser.add_argument("kind", help="部门数据类型，如 medical、disability")
        parser.add_argument("file")
        parser.add_argument("--period", required=True, help="数据月份 YYYY-MM")
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args, kind, file, period, username, **opts):
        from fangpin.screening.services.uploads import dept_batch_upload

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"用户“{username}”不存在")
        try:
            b = dept_batch_upload(actor=user, kind=kind, path=Path(file), period=period)
        except DomainError as exc:
            for e in exc.details.get("errors", [])[:20]:
                self.stderr.write(f"  第{e['row']}行 {e['column']}：{e['message']}")
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"批次#{b.pk} {b.kind} {b.period} v{b.version}: 共{b.rows_total}行，入库{b.rows_ok}，"
            f"退回{b.rows_rejected}，证件号码待匹配{b.rows_id_problem}"
        )
        for i in b.issues.filter(severity="error")[:20]:
            self.stdout.write(f"  退回 第{i.row}行 {i.column}：{i.message}")
