"""Shared body of ``report_monthly`` and ``report_quarterly``: build the table for a user's region and
write it as xlsx, pdf or html (default: the latest complete period before today)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.management.commands._actor import command_actor
from fangpin.reports.excel import report_xlsx
from fangpin.reports.printable import report_html, report_pdf
from fangpin.reports.tables import last_complete, report_build


class ReportCommand(BaseCommand):
    kind = "monthly"
    number_name = "month"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None)
        parser.add_argument(f"--{self.number_name}", dest="number", type=int, default=None)
        parser.add_argument("--format", choices=["xlsx", "pdf", "html"], default="xlsx")
        parser.add_argument("--out", default=None, help="输出文件（默认当前目录，按报表名命名）")
        parser.add_argument(
            "--as", dest="username", default=None, help="以该用户的管辖区域统计（默认第一个县级管理员）"
        )
        parser.add_argument("--internal", action="store_true", help="内部版：不做小单元格抑制（仅季通报）")

    def handle(self, *args, **opts):
        actor = command_actor(opts["username"])
        year, number = opts["year"], opts["number"]
        if year is None or number is None:
            y, n = last_complete(self.kind, clock.today())
            year, number = year or y, number or n
        try:
            table = report_build(
                actor=actor, kind=self.kind, year=year, number=number, published=not opts["internal"]
            )
        except DomainError as e:
            raise CommandError(e.message) from e
        fmt = opts["format"]
        data = {
            "xlsx": lambda: report_xlsx(table),
            "pdf": lambda: report_pdf(table),
            "html": lambda: report_html(table).encode("utf-8"),
        }[fmt]()
        out = Path(opts["out"] or f"{table.title}.{fmt}")
        out.write_bytes(data)
        audit_record(
            actor=actor,
            event_type="reports.export",
            region_code=actor.region_id or "",
            data={"kind": self.kind, "year": year, "number": number, "format": fmt, "channel": "cli"},
        )
        self.stdout.write(f"{table.title}：{len(table.rows) - 1}个乡镇，已写入 {out}")
