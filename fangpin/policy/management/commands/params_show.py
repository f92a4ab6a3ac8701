from django.core.management.base import BaseCommand

from fangpin.policy.params import param_get


class Command(BaseCommand):
    help = "查看某区域某年度生效的参数值。例：fangpin params_show income.monitoring_line --region 410506 --year 2025"

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("--region", default="")
        parser.add_argument("--year", type=int, required=True)

    def handle(self, *args, **o):
        pv = param_get(o["key"], region_code=o["region"], year=o["year"])
        self.stdout.write(
            f"{pv.key} = {pv.value}（参数#{pv.param_id} v{pv.version}，区域 {pv.region_code or '全国'}，{pv.year}年起）"
        )
