"""fangpin check_registry [--region CODE] [--code X ...] [--household 户编号] [--out report.xlsx] [--on DATE]"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.registry.checks.base import CHECKS, _load
from fangpin.registry.checks.report import registry_findings, write_xlsx


class Command(BaseCommand):
    help = "运行户籍库逻辑校验：按规则统计问题数，并可输出问题明细（Excel）"

    def add_arguments(self, parser):
        parser.add_argument("--region", help="区划代码（县、乡镇或村）")
        parser.add_argument("--code", action="append", help="只运行指定规则（可重复）")
        parser.add_argument("--household", help="只检查一个户编号")
        parser.add_argument("--out", type=Path, help="问题明细输出到 .xlsx")
        parser.add_argument("--on", type=dt.date.fromisoformat, default=None, help="校验基准日期（默认今天）")
        parser.add_argument("--show", type=int, default=0, help="在终端打印前N条问题")

    def handle(self, *args, region, code, household, out, on, show, **opts):
        _load()
        unknown = set(code or ()) - set(CHECKS)
        if unknown:
            raise CommandError(f"未知规则代码：{'、'.join(sorted(unknown))}")
        findings = registry_findings(
            actor=system_actor("check_registry"),
            region_code=region,
            household_no=household,
            codes=code,
            on=on or clock.today(),
        )
        c = Counter(f.code for f in findings)
        for k in sorted(code or CHECKS):
            self.stdout.write(f"  {k:<24} {c.get(k, 0):>6}  {CHECKS[k].title}")
        self.stdout.write(f"合计 {len(findings)} 条问题")
        for f in findings[:show]:
            self.stdout.write(f"  [{f.code}] {f.message}")
        if out:
            path = write_xlsx(findings, out)
            self.stdout.write(f"问题明细已写入 {path}")
