"""fangpin monitoring_month --month 2025-06 [--county 410506] [--seed 0]: the scripted month on the demo data."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.demo.simulate import scripted_month


class Command(BaseCommand):
    help = "按月演示防返贫监测全流程（走访、线索、识别、帮扶、风险消除），通过真实业务服务执行"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--county", default="410506")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--self-applications", type=int, default=3)

    def handle(self, *args, month: str, county: str, seed: int, self_applications: int, **kw):
        try:
            m = dt.date.fromisoformat(f"{month}-01")
        except ValueError as e:
            raise CommandError("--month 格式应为 YYYY-MM") from e
        rep = scripted_month(county=county, month=m, seed=seed, self_applications=self_applications)
        for line in rep.lines():
            self.stdout.write(line)
