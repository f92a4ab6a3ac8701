"""fangpin self_apply submit|status …: 农户自主申报 from the command line (a cadre files on a household's behalf,
or an application taken on paper is entered afterwards; the same service and acknowledgement number).

    self_apply submit 户编号 --as USER --applicant 姓名 --difficulties 困难 [--phone ..] [--on-behalf]
                      [--risk 因病 ...] [--note ..] [--on DATE]
                      (--signed --signed-on DATE --signed-by 姓名 --photo 承诺授权书.jpg [--scope income ...]
                       [--paper-holder 村委会] | --unsigned)
    self_apply status 受理编号 (--as USER | --id-tail 1234)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound
from fangpin.monitoring.management.commands._household import command_household
from fangpin.registry.management.commands._actor import command_actor
from fangpin.trust.services.self_application import self_application_lookup, self_application_receive


class Command(BaseCommand):
    help = "农户自主申报：submit 代为申报（受理编号）；status 按受理编号查询进度"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        s = sub.add_parser("submit", help="提交申报")
        s.add_argument("household_no")
        s.add_argument("--as", dest="username", required=True)
        s.add_argument("--applicant", required=True, help="申请人姓名")
        s.add_argument("--phone", default="", help="申请人联系电话")
        s.add_argument("--on-behalf", action="store_true", help="村干部代为申报")
        s.add_argument("--difficulties", required=True, help="遇到的困难")
        s.add_argument("--risk", action="append", default=[], help="风险类型（可多次）")
        s.add_argument("--note", default="")
        s.add_argument("--on", default="", help="受理日期 YYYY-MM-DD，默认今天")
        signed = s.add_mutually_exclusive_group(required=True)
        signed.add_argument("--signed", action="store_true", help="已签署《承诺授权书》")
        signed.add_argument("--unsigned", action="store_true", help="未签署")
        s.add_argument("--signed-on", default="", help="签署日期")
        s.add_argument("--signed-by", default="", help="签署人")
        s.add_argument("--scope", action="append", default=[], help="授权核查范围（可多次，默认 all）")
        s.add_argument("--paper-holder", default="", help="纸质件保管处")
        s.add_argument("--photo", default="", help="已签署的承诺授权书照片（JPEG/PNG）")
        q = sub.add_parser("status", help="查询进度")
        q.add_argument("ack_no")
        q.add_argument("--as", dest="username", default="")
        q.add_argument("--id-tail", default="", help="未登录时：户内成员身份证号后四位")

    def handle(self, *args: Any, **o: Any) -> None:
        try:
            getattr(self, f"_{o['action']}")(o)
        except NotFound:
            raise CommandError("未找到该受理编号（或无权查看）") from None
        except DomainError as e:
            raise CommandError(e.message) from None
        except (ValueError, OSError) as e:
            raise CommandError(f"参数有误：{e}") from None

    def _submit(self, o: dict) -> None:
        actor = command_actor(o["username"])
        on = dt.date.fromisoformat(o["on"]) if o["on"] else clock.today()
        hh = command_household(actor, o["household_no"], on)
        photo = Path(o["photo"]).read_bytes() if o["photo"] else None
        consent: dict[str, Any] = {"signed": bool(o["signed"])}
        if o["signed"]:
            if not o["signed_on"]:
                raise CommandError("已签署时须给出 --signed-on 签署日期")
            consent.update(
                signed_on=dt.date.fromisoformat(o["signed_on"]),
                signed_by_name=o["signed_by"],
                scope=o["scope"] or ["all"],
                paper_holder=o["paper_holder"],
            )
        receipt = self_application_receive(
            actor=actor,
            household_id=hh.pk,
            form={
                "applicant": o["applicant"][:50],
                "applicant_phone": o["phone"][:20],
                "on_behalf": bool(o["on_behalf"]),
                "difficulties": o["difficulties"][:1000],
                "risk_types": o["risk"],
                "note": o["note"][:1000],
            },
            consent=consent,
            photo=photo,
            on=on,
        )
        self.stdout.write(f"申报已受理，受理编号：{receipt.ack_no}（风险线索#{receipt.lead_id}）")

    def _status(self, o: dict) -> None:
        actor = command_actor(o["username"]) if o["username"] else None
        if actor is None and not o["id_tail"]:
            raise CommandError("请用 --as 登录用户查询，或给出 --id-tail 户内成员身份证号后四位")
        st = self_application_lookup(ack_no=o["ack_no"], actor=actor, id_tail=o["id_tail"])
        closed = f"，{st.closed_on} 办结：{st.outcome}" if st.closed_on else ""
        self.stdout.write(f"{st.ack_no}：{st.submitted_on} 受理（{st.village}），{st.status}{closed}")
