"""fangpin securitycheck --mlps3 [--format md|text] [--strict]: the 等保三级 self-check, one line per item
with its status and the evidence read now (``audit.mlps``); the run itself is audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.audit.mlps import FAIL, mlps3_report
from fangpin.audit.record import audit_record


class Command(BaseCommand):
    help = "等保三级自查：逐项给出状态和取自当前配置与数据的证据（--strict：有不通过项时返回非零）"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--mlps3", action="store_true", help="GB/T 22239-2019 第三级 8.1.4 / 8.1.5 各项（默认）"
        )
        parser.add_argument("--format", choices=["md", "text"], default="md")
        parser.add_argument("--strict", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        lines = mlps3_report()
        if o["format"] == "md":
            self.stdout.write("| 条款 | 要求 | 状态 | 证据 |\n|---|---|---|---|")
            for c in lines:
                self.stdout.write(f"| {c.clause} | {c.item} | {c.status} | {c.evidence} |")
        else:
            for c in lines:
                self.stdout.write(f"{c.clause}\t{c.status}\t{c.item}：{c.evidence}")
        failed = [c.clause for c in lines if c.status == FAIL]
        audit_record(actor=system_actor("securitycheck"), event_type="audit.securitycheck",
                     result="ok" if not failed else "refused", data={"failed": failed})  # fmt: skip
        if failed and o["strict"]:
            raise CommandError(f"不通过：{'、'.join(failed)}")
