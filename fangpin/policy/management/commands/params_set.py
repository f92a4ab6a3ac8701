import json

from django.core.management.base import BaseCommand

from fangpin.policy.params import parameter_set


class Command(BaseCommand):
    help = "设置政策参数（新建版本，旧版本保留）。例：fangpin params_set income.monitoring_line 7500 --region 41 --year 2025"

    def add_arguments(self, parser):
        parser.add_argument("key")
        parser.add_argument("value", help="JSON 值，如 7500 或 '{\"rich\": 35}'")
        parser.add_argument("--region", default="")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--basis", default="")
        parser.add_argument("--doc-no", default="")

    def handle(self, *args, **o):
        p = parameter_set(
            actor=None,
            key=o["key"],
            value=json.loads(o["value"]),
            region_code=o["region"],
            year=o["year"],
            basis=o["basis"],
            doc_no=o["doc_no"],
        )
        self.stdout.write(f"已保存 {p}")
