"""fangpin appeal list|lodge|assign|decide … --as USER: 异议申诉 from the command line (the same services as
the screen: numbering, owner office, working-day deadline, escalation, decision with reasons; audited).

    appeal list --as USER [--all] [--mine]
    appeal lodge 户编号 --kind not_included|elimination|wrong_fact --by 姓名 [--relation 本户|群众|其他]
                 --content 内容 [--on DATE] --as USER
    appeal assign 编号 --owner 用户名 --as USER
    appeal decide 编号 --outcome upheld|partly|dismissed --reason 理由 [--on DATE] --as USER
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.accounts.models import User
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound
from fangpin.monitoring.management.commands._household import command_household
from fangpin.registry.management.commands._actor import command_actor
from fangpin.trust.models import Appeal, AppealKind, AppealOutcome
from fangpin.trust.selectors import appeal_list
from fangpin.trust.services.appeals import appeal_assign, appeal_decide, appeal_lodge


class Command(BaseCommand):
    help = "异议申诉：list 列出；lodge 登记；assign 指定承办人；decide 办结（须说明理由）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["list", "lodge", "assign", "decide"])
        parser.add_argument("ref", nargs="?", default="", help="lodge：户编号；assign/decide：异议编号")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--all", action="store_true", help="list：含已办结")
        parser.add_argument("--mine", action="store_true", help="list：本单位承办的")
        parser.add_argument("--kind", choices=[k for k in AppealKind.values if k != AppealKind.PUBLICITY])
        parser.add_argument("--by", default="", help="提出人")
        parser.add_argument("--relation", default="本户", help="提出人身份")
        parser.add_argument("--content", default="")
        parser.add_argument("--owner", default="", help="承办人用户名")
        parser.add_argument("--outcome", choices=AppealOutcome.values)
        parser.add_argument("--reason", default="")
        parser.add_argument("--on", default="", help="日期 YYYY-MM-DD，默认今天")

    def handle(self, *args: Any, action: str, username: str, **o: Any) -> None:
        actor = command_actor(username)
        on = dt.date.fromisoformat(o["on"]) if o["on"] else clock.today()
        try:
            getattr(self, f"_{action}")(actor, on, o)
        except NotFound:
            raise CommandError("异议申诉不存在或无权访问") from None
        except DomainError as e:
            raise CommandError(e.message) from None

    def _appeal(self, actor, number: str) -> Appeal:
        a = appeal_list(actor=actor, status=None).filter(number=number).first()
        if a is None:
            from fangpin.accounts.access import access_refused_record

            pk = Appeal.objects.filter(number=number).values_list("pk", flat=True).first()
            access_refused_record(actor, Appeal, pk, what="异议申诉")
            raise NotFound("异议申诉")
        return a

    def _list(self, actor, on: dt.date, o: dict) -> None:
        qs = appeal_list(actor=actor, status=None if o["all"] else "open").select_related("household")
        if o["mine"]:
            qs = qs.filter(owner_region_id=actor.region_id)
        for a in qs.order_by("deadline", "id"):
            late = f"【逾期{(on - a.deadline).days}天】" if a.status == "open" and a.deadline < on else ""
            done = f"：{a.get_outcome_display()}" if a.outcome else ""
            self.stdout.write(f"{late}{a.number} {a.household.household_no} {a.get_kind_display()} "
                              f"期限{a.deadline} {a.get_status_display()}{done}")  # fmt: skip

    def _lodge(self, actor, on: dt.date, o: dict) -> None:
        if not o["ref"] or not o["kind"]:
            raise CommandError(
                "用法：fangpin appeal lodge 户编号 --kind 类型 --by 提出人 --content 内容 --as 用户"
            )
        hh = command_household(actor, o["ref"], on)
        a = appeal_lodge(actor=actor, household_id=hh.pk, kind=o["kind"], content=o["content"],
                         lodged_by_name=o["by"], lodged_by_relation=o["relation"], lodged_on=on)  # fmt: skip
        self.stdout.write(f"已登记异议申诉{a.number}，由{a.owner_region.name}承办，期限{a.deadline}")

    def _assign(self, actor, on: dt.date, o: dict) -> None:
        a = self._appeal(actor, o["ref"])
        owner = User.objects.filter(username=o["owner"], is_active=True).first()
        if owner is None:
            raise CommandError(f"用户“{o['owner']}”不存在或已停用")
        a = appeal_assign(actor=actor, appeal_id=a.pk, owner_id=owner.pk)
        self.stdout.write(f"{a.number} 承办人：{a.owner}")

    def _decide(self, actor, on: dt.date, o: dict) -> None:
        a = self._appeal(actor, o["ref"])
        a = appeal_decide(actor=actor, appeal_id=a.pk, outcome=o["outcome"] or "", reason=o["reason"], on=on)
        self.stdout.write(f"{a.number} 已办结：{a.get_outcome_display()}（{a.outcome_reason}）")
