"""fangpin change list|submit|approve|reject … --as USER: change requests (maker-checker) from the command line.

change list --as USER                                   pending requests with what each would change
change submit 户编号 --kind contact|condition --set phone=138… [--set …] --reason … [--evidence …]
change approve ID [--reason …] / change reject ID --reason …"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring.household_search import visible_households
from fangpin.registry.management.commands._actor import command_actor
from fangpin.trust.selectors import change_request_list
from fangpin.trust.services.changes import (
    change_plan,
    change_request_approve,
    change_request_reject,
    change_request_submit,
)


class Command(BaseCommand):
    help = "变更申请：列出待审批（含变更内容）、提交、批准、驳回"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "submit", "approve", "reject"])
        parser.add_argument("target", nargs="?", default="")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--kind", default="contact")
        parser.add_argument("--set", dest="sets", action="append", default=[], help="字段=值")
        parser.add_argument("--reason", default="")
        parser.add_argument("--evidence", default="")

    def handle(self, *a, action: str, target: str, username: str | None, **o):
        actor = command_actor(username)
        out = self.stdout.write
        try:
            if action == "list":
                for r in change_request_list(actor=actor).order_by("created_at"):
                    out(
                        f"{r.pk:>6} {r.number} {r.household.household_no} {r.get_kind_display()} 提交人 {r.maker}"
                    )
                    for c in change_plan(r):
                        out(f"         {c.get('label', c.get('field'))}：{c.get('old')} → {c.get('new')}")
            elif action == "submit":
                hh = visible_households(actor=actor, on=clock.today()).filter(household_no=target).first()
                if hh is None:
                    raise CommandError(f"户{target}不存在或无权访问")
                fields = dict(x.split("=", 1) for x in o["sets"])
                req = change_request_submit(
                    actor=actor,
                    household_id=hh.pk,
                    kind=o["kind"],
                    payload={"fields": fields},
                    reason=o["reason"],
                    evidence=[{"kind": "说明", "ref": o["evidence"]}] if o["evidence"] else None,
                    on=clock.today(),
                )
                out(f"{req.number}：{req.get_status_display()}")
            elif action == "approve":
                req = change_request_approve(actor=actor, request_id=int(target), reason=o["reason"])
                out(f"{req.number}：{req.get_status_display()}")
            else:
                req = change_request_reject(actor=actor, request_id=int(target), reason=o["reason"])
                out(f"{req.number}：{req.get_status_display()}")
        except DomainError as e:
            raise CommandError(e.message) from None
        except ValueError as e:
            raise CommandError(f"参数有误：{e}") from None
