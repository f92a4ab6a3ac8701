"""fangpin mingbaizhi 户编号 --out file.html [--user 用户名] [--on 2025-06-01] [--known-on 2025-12-01]"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.actors import system_actor
from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household
from fangpin.trust.mingbaizhi import mingbaizhi_render


class Command(BaseCommand):
    help = "生成一户的明白纸（可打印HTML，姓名和证件号已脱敏）；查看行为记入审计日志"

    def add_arguments(self, parser):
        parser.add_argument("household_no", help="户编号")
        parser.add_argument("--out", required=True, help="输出HTML文件")
        parser.add_argument(
            "--as",
            "--user",
            dest="user",
            default="",
            help="以该用户身份生成（按其管辖范围）；缺省为服务器操作员",
        )
        parser.add_argument("--on", default="", help="日期 YYYY-MM-DD，缺省为今天")
        parser.add_argument("--known-on", default="", help="补打：按该日 YYYY-MM-DD 系统所记的情况生成")

    def handle(self, *args, **opts):
        # With --as, "missing" and "not yours" get the same answer (the service's NotFound, audited).
        if not opts["user"] and not Household.objects.filter(household_no=opts["household_no"]).exists():
            raise CommandError(f"户编号 {opts['household_no']} 不存在")
        actor = system_actor("mingbaizhi")  # the server operator: full scope, named in the audit log
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"]).first()
            if actor is None:
                raise CommandError(f"用户 {opts['user']} 不存在")
        on = dt.date.fromisoformat(opts["on"]) if opts["on"] else clock.today()
        known_on = dt.date.fromisoformat(opts["known_on"]) if opts["known_on"] else None
        try:
            html = mingbaizhi_render(actor=actor, household_no=opts["household_no"], on=on, known_on=known_on)
        except DomainError as e:
            raise CommandError(e.message) from e
        Path(opts["out"]).write_text(html, encoding="utf-8")
        self.stdout.write(f"已生成 {opts['out']}")
