"""fangpin check_villages [--region CODE] [--as USER] [--show N]: data-quality checks of the 行政村信息."""

from __future__ import annotations

from collections import Counter

from django.core.management.base import BaseCommand

from fangpin.registry.checks.villages import TITLES, village_findings

from ._actor import command_actor


class Command(BaseCommand):
    help = "校验行政村信息（出列村统计项为空、到乡镇未通硬化路、饮水与危房户数之和大于总户数）"

    def add_arguments(self, parser):
        parser.add_argument("--region", default=None, help="区划代码（县、乡镇或村），默认本人管辖范围")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--show", type=int, default=20, help="在终端打印前N条问题")

    def handle(self, *args, region, username, show, **opts):
        findings = village_findings(actor=command_actor(username), region_code=region)
        c = Counter(f.code for f in findings)
        for code, title in TITLES.items():
            self.stdout.write(f"  {code:<24} {c.get(code, 0):>6}  {title}")
        self.stdout.write(f"合计 {len(findings)} 条问题")
        for f in findings[:show]:
            self.stdout.write(f"  [{f.code}] {f.village_name}（{f.village_code}）：{f.message}")
