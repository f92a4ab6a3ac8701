"""fangpin demo_verify_checks [--county 410506]: the checks must find exactly the planted defects."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.demo.models import DemoDataset
from fangpin.demo.services.verify import compare_with_planted


class Command(BaseCommand):
    help = "用生成器预置的数据问题核对逻辑校验结果（逐条规则：预置数、发现数、遗漏、多报）；须在生成后、业务变更前运行"

    def add_arguments(self, parser):
        parser.add_argument("--county", default="410506")

    def handle(self, *args, county: str, **opts):
        ds = DemoDataset.objects.filter(county_code=county).first()
        if ds is None:
            raise CommandError(f"{county}没有演示数据集，请先运行 demo_county")
        rows = compare_with_planted(ds)
        self.stdout.write(f"{'规则':<24}{'预置':>6}{'发现':>6}{'遗漏':>6}{'多报':>6}")
        for r in rows:
            self.stdout.write(f"{r.code:<24}{r.planted:>6}{r.found:>6}{len(r.missing):>6}{len(r.extra):>6}")
        bad = [r for r in rows if not r.exact]
        total_p, total_f = sum(r.planted for r in rows), sum(r.found for r in rows)
        self.stdout.write(f"合计 预置 {total_p} 条，发现 {total_f} 条")
        if bad:
            raise CommandError(f"{len(bad)}条规则与预置不一致：{', '.join(r.code for r in bad)}")
        self.stdout.write("逻辑校验结果与预置数据问题逐条一致")
