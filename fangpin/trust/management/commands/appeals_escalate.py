from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from fangpin.core import clock
from fangpin.trust.services.appeals import appeals_escalate


class Command(BaseCommand):
    help = "逾期未办结的异议申诉升级到上一层级（每日运行）"

    def add_arguments(self, parser):
        parser.add_argument("--on", default="", help="按该日期判断逾期 YYYY-MM-DD")

    def handle(self, *args, **opts):
        on = dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today()
        moved = appeals_escalate(on=on)
        for a in moved:
            self.stdout.write(f"{a.number} → {a.owner_level}，新期限 {a.deadline}")
        self.stdout.write(f"共处理 {len(moved)} 件")
