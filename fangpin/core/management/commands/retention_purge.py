"""fangpin retention_purge [--on YYYY-MM-DD] [--dry-run]: deletes department batch files, import reject
reports and leftover uploads whose retention (policy parameters security.retention.*) has ended; audited."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.core.retention import retention_purge


class Command(BaseCommand):
    help = "按保留期限删除部门比对数据文件、导入错误报告和已处理的上传文件（记入审计日志）"

    def add_arguments(self, parser):
        parser.add_argument("--on", help="业务日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--dry-run", action="store_true", help="只列出将删除的文件，不删除")

    def handle(self, *args, **o):
        try:
            on = dt.date.fromisoformat(o["on"]) if o["on"] else clock.today()
        except ValueError:
            raise CommandError(f"日期格式不对：{o['on']}（应为 YYYY-MM-DD）") from None
        try:
            res = retention_purge(actor=system_actor("retention_purge"), on=on, dry_run=o["dry_run"])
        except DomainError as e:
            raise CommandError(e.message) from None
        verb = "将删除" if o["dry_run"] else "已删除"
        self.stdout.write(
            f"{verb}：部门数据批次 {len(res.department_batches)} 个，错误报告 {len(res.reports)} 份，"
            f"上传文件 {len(res.uploads)} 个，临时文件 {res.stray_files} 个"
        )
