from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand

from fangpin.core import clock
from fangpin.trust.services.recert import recert_tasks_generate


class Command(BaseCommand):
    help = "为超过复核周期的户生成定期复核待办（每日或每月运行）"

    def add_arguments(self, parser):
        parser.add_argument("--on", default="")

    def handle(self, *args, **opts):
        on = dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today()
        self.stdout.write(f"新建复核待办 {recert_tasks_generate(on=on)} 项")
