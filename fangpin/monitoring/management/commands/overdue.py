"""fangpin overdue [--on 2025-06-30] [--as USER]: overdue steps, procedures and visits per township."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from fangpin.core import clock
from fangpin.monitoring.selectors import overdue_by_township
from fangpin.regions.models import Region
from fangpin.registry.management.commands._actor import command_actor


class Command(BaseCommand):
    help = "按乡镇列出逾期事项（办理环节、程序总时限、绿色通道补办、走访）"

    def add_arguments(self, parser):
        parser.add_argument("--on", default="", help="YYYY-MM-DD，默认今天")
        parser.add_argument("--as", dest="as_user", default=None)
        parser.add_argument("--no-visits", action="store_true", help="不列走访逾期")

    def handle(self, *args, on: str, as_user: str | None, no_visits: bool, **kw):
        actor = command_actor(as_user)
        day = dt.date.fromisoformat(on) if on else clock.today()
        grouped = overdue_by_township(actor=actor, on=day)
        names = dict(Region.objects.filter(code__in=list(grouped)).values_list("code", "name"))
        if not grouped:
            self.stdout.write(f"{day} 无逾期事项")
        for t, items in grouped.items():
            items = [i for i in items if not (no_visits and i.kind == "visit")]
            self.stdout.write(f"{names.get(t, t)}（{t}）逾期 {len(items)} 项")
            for i in items:
                self.stdout.write(f"  {i.household_no} {i.kind} {i.message}")
