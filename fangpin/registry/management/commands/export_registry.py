"""fangpin export_registry OUT.xlsx [--region CODE] [--monitoring] [--unmasked --as USER] [--income-year Y]
[--kind registry|living_conditions|village_profile]

Writes the registry (or, with --monitoring, the monitoring list) in the national column names.
ID numbers and phones are masked unless --unmasked is given by a user allowed to export full values.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.io.export import KIND_MONITORING, KIND_REGISTRY, registry_export

from ._actor import command_actor


class Command(BaseCommand):
    help = "按国家系统列名导出户档案（默认脱敏）"

    def add_arguments(self, parser):
        parser.add_argument("out")
        parser.add_argument("--region", default=None, help="区划代码（县/乡镇/村），默认本人管辖范围")
        parser.add_argument("--unmasked", action="store_true", help="导出明文证件号码和电话（须有权限）")
        parser.add_argument("--monitoring", action="store_true", help="只导出监测对象")
        parser.add_argument(
            "--income-year", type=int, default=None, help="收入年度（默认：各户最近一个完整年度的收入记录）"
        )
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--on", default=None, help="业务日期 YYYY-MM-DD（默认今天）")
        parser.add_argument(
            "--kind",
            default="registry",
            choices=["registry", "living_conditions", "village_profile"],
            help="导出文件：registry=监测对象信息（默认），living_conditions=（乡村建设）户信息，village_profile=（自定义）行政村信息",
        )

    def handle(self, *args, **opts):
        actor = command_actor(opts["username"])
        if opts["kind"] != "registry":
            from fangpin.registry.services.kind_imports import kind_export

            try:
                path, n = kind_export(
                    actor=actor,
                    kind=opts["kind"],
                    out_path=opts["out"],
                    region_code=opts["region"],
                    unmasked=opts["unmasked"],
                )
            except DomainError as e:
                raise CommandError(e.message) from None
            self.stdout.write(f"已导出{n}行到 {path}")
            return
        try:
            res = registry_export(
                actor=actor,
                out_path=opts["out"],
                on=dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today(),
                region_code=opts["region"],
                unmasked=opts["unmasked"],
                kind=KIND_MONITORING if opts["monitoring"] else KIND_REGISTRY,
                income_year=opts["income_year"],
            )
        except DomainError as e:
            raise CommandError(e.message) from None
        masked = "已脱敏" if res.masked else "明文"
        self.stdout.write(
            f"已导出{res.rows}人（{res.households}户，{masked}）到 {res.path}  sha256={res.sha256[:16]}…"
        )
