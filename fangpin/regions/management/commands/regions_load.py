from django.core.management.base import BaseCommand

from fangpin.regions.loader import load_regions


class Command(BaseCommand):
    help = "加载行政区划（国家统计局2023年统计用区划代码，至村级）"

    def add_arguments(self, parser):
        parser.add_argument(
            "--county",
            action="append",
            default=[],
            help="只加载这些县（或市、省）的乡镇和村，如 410506；不给则加载全国31个省至村级",
        )

    def handle(self, *args, **opts):
        n = load_regions(county_prefixes=opts["county"] or None)
        self.stdout.write(f"行政区划共 {n} 条")
