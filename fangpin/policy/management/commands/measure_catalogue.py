"""fangpin measure_catalogue [--region CODE] [--year Y] [--add 名称=类别 ...] [--retire 名称 ...]
--as USER --basis TEXT --doc-no NO

Lists the catalogue of assistance measures in force; with --add / --retire records a new version of it
(basis and document number required, audited)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.policy.catalogue import MEASURE_KINDS, measure_catalogue, measure_catalogue_change


class Command(BaseCommand):
    help = "帮扶措施目录：列出；--add 名称=类别 / --retire 名称 保存为新版本（须填依据和文件号，记入审计）"

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="适用区域前缀（默认全国）")
        parser.add_argument("--year", type=int, default=None, help="自该年度起（默认今年）")
        parser.add_argument("--add", action="append", default=[], help="名称=类别，如 光伏收益=开发式帮扶")
        parser.add_argument("--retire", action="append", default=[], help="停用的措施名称")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--basis", default="")
        parser.add_argument("--doc-no", dest="doc_no", default="")

    def handle(self, *args, region, year, add, retire, username, basis, doc_no, **opts):
        on = clock.today()
        year = year or on.year
        if add or retire:
            actor = User.objects.filter(username=username or "", is_active=True).first()
            if actor is None:
                raise CommandError("请用 --as 指定有修改政策参数权限的用户")
            pairs = {}
            for a in add:
                if "=" not in a:
                    raise CommandError(f"“{a}”格式错误，应为 名称=类别")
                n, k = a.split("=", 1)
                pairs[n] = k
            try:
                p = measure_catalogue_change(
                    actor=actor, region_code=region, year=year, add=pairs, retire=retire,
                    basis=basis, doc_no=doc_no, on=on,
                )  # fmt: skip
            except DomainError as e:
                raise CommandError(e.message) from None
            self.stdout.write(
                f"已保存措施目录第{p.version}版（{p.region_code or '全国'}，{p.year}年起）：{p.note}"
            )
        cat = measure_catalogue(region_code=region, year=year)
        self.stdout.write(f"帮扶措施目录（第{cat.version}版，{cat.region_code or '全国'}，{cat.year}年起）：")
        for name, kind in cat.value.items():
            self.stdout.write(f"  {name}\t{MEASURE_KINDS.get(kind, kind)}")
