"""fangpin case ACTION … --as USER [--on DATE]: the case screens from the command line.

case awaiting --as USER                          steps awaiting this user (like 工作台 "待我办理")
case report 户编号 --risk 因病 [--note …]           report a risk (基层干部排查) → a lead
case open LEAD_ID                                 start 入户核查 on a lead
case green LEAD_ID --risk 因意外事故 --reason …      绿色通道 (township/county)
case step CASE_ID STEP [--data '{"attendance": 12, …}']   complete the current step
case reject CASE_ID --reason …                     不予通过
case batch STEP CASE_ID… [--preview]               batch review (all or nothing), or only the preview
case assign 户编号 USERNAME [--kind helper|cadre]   指定帮扶责任人 / 包户干部"""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring import selectors as mon
from fangpin.monitoring.management.commands._household import command_household
from fangpin.monitoring.services import assistance, batch, cases, elimination, identification, leads
from fangpin.monitoring.workbench import assignable_users, awaiting_steps
from fangpin.registry.management.commands._actor import command_actor
from fangpin.registry.models import Household


class Command(BaseCommand):
    help = "识别办理：待办、上报线索、启动程序、绿色通道、办理环节、不予通过、批量审核、指定责任人"

    def add_arguments(self, parser):
        parser.add_argument(
            "action",
            choices=[
                "awaiting",
                "report",
                "open",
                "green",
                "step",
                "reject",
                "batch",
                "assign",
                "measure",
                "measure_done",
                "eliminate",
                "reverse",
            ],  # fmt: skip
        )
        parser.add_argument("params", nargs="*")
        parser.add_argument("--as", dest="username", default=None)
        parser.add_argument("--on", default="", help="办理日期 YYYY-MM-DD，默认今天")
        parser.add_argument("--risk", action="append", default=[])
        parser.add_argument("--note", default="")
        parser.add_argument("--reason", default="")
        parser.add_argument("--category", default="")
        parser.add_argument("--data", default="{}", help="环节记录（JSON）")
        parser.add_argument("--kind", default="helper")
        parser.add_argument("--preview", action="store_true")
        parser.add_argument("--amount", default="0")
        parser.add_argument("--method", default="帮扶消除")

    def _household(self, actor, household_no: str) -> Household:
        return command_household(actor, household_no, clock.today())

    def handle(self, *a, action: str, params: list[str], username: str | None, on: str, **o):
        actor = command_actor(username)
        day = dt.date.fromisoformat(on) if on else clock.today()
        try:
            self._run(actor, action, params, day, o)
        except DomainError as e:
            raise CommandError(e.message) from None
        except (IndexError, ValueError) as e:
            raise CommandError(f"参数有误：{e}；用法见 fangpin help case") from None

    def _run(self, actor, action: str, params: list[str], day: dt.date, o: dict) -> None:
        out = self.stdout.write
        if action == "awaiting":
            for s in awaiting_steps(actor=actor).order_by("due_on"):
                over = f"（逾期{(day - s.due_on).days}天）" if s.due_on and s.due_on < day else ""
                out(f"{s.case_id:>6} {s.case.household.household_no} {s.name} 时限{s.due_on}{over}")
        elif action == "report":
            lead = leads.lead_submit(
                actor=actor,
                household=self._household(actor, params[0]),
                channel="cadre_visit",
                risk_types=o["risk"],
                note=o["note"],
                on=day,
            )
            out(f"线索{lead.pk}：{lead.get_status_display()}")
        elif action == "open":
            case = identification.case_open(
                actor=actor, lead=mon.lead_get(actor=actor, lead_id=int(params[0])), on=day
            )
            out(f"程序{case.pk}：{case.get_kind_display()}，当前环节 {case.current_step}")
        elif action == "green":
            case = identification.green_channel_enrol(
                actor=actor,
                lead=mon.lead_get(actor=actor, lead_id=int(params[0])),
                risk_types=o["risk"],
                reason=o["reason"],
                category=o["category"],
                on=day,
            )
            out(f"程序{case.pk}：绿色通道已先行纳入，须于{case.due_on}前补办")
        elif action == "step":
            case = mon.case_get(actor=actor, case_id=int(params[0]))
            case = cases.case_step_complete(
                actor=actor, case=case, step=params[1], on=day, data=json.loads(o["data"])
            )
            out(f"程序{case.pk}：{case.get_status_display()}，当前环节 {case.current_step}")
        elif action == "reject":
            case = cases.case_reject(
                actor=actor,
                case=mon.case_get(actor=actor, case_id=int(params[0])),
                reason=o["reason"],
                on=day,
            )
            out(f"程序{case.pk}：{case.get_status_display()}")
        elif action == "batch":
            step, ids = params[0], [int(x) for x in params[1:]]
            for r in batch.case_batch_preview(actor=actor, case_ids=ids, step=step):
                out(f"{r.case_id:>6} {r.household_no} {r.kind}：{r.outcome}")
            if not o["preview"]:
                done = batch.case_batch_complete(actor=actor, case_ids=ids, step=step, on=day)
                out(f"已批量办理{len(done)}件")
        elif action == "assign":
            hh = self._household(actor, params[0])
            user = next(
                (u for u in assignable_users(actor=actor, household=hh) if u.username == params[1]), None
            )
            if user is None:
                raise CommandError(
                    f"用户{params[1]}不能指派到户{params[0]}（须为本村范围内的村干部或帮扶责任人）"
                )
            assistance.assignment_set(actor=actor, household=hh, user=user, kind=o["kind"], on=day)
            out(f"已指定{user}为户{hh.household_no}的{'帮扶责任人' if o['kind'] == 'helper' else '包户干部'}")
        elif action == "measure":
            obj = mon.object_get(actor=actor, object_id=int(params[0]))
            m = assistance.measure_add(
                actor=actor,
                monitoring_object=obj,
                name=params[1],
                start_on=day,
                amount=o["amount"],
                status="in_progress",
            )
            out(f"措施{m.pk}：{m.name}（{m.get_status_display()}）")
        elif action == "measure_done":
            m = mon.measure_list(actor=actor).filter(pk=int(params[0])).first()
            if m is None:
                raise CommandError("帮扶措施不存在或无权访问")
            assistance.measure_update(actor=actor, measure=m, status="done", end_on=day)
            out(f"措施{m.pk}：已落实")
        elif action == "eliminate":
            obj = mon.object_get(actor=actor, object_id=int(params[0]))
            case = elimination.elimination_propose(
                actor=actor, monitoring_object=obj, method=o["method"], on=day
            )
            out(f"程序{case.pk}：{case.get_kind_display()}，当前环节 {case.current_step}")
        elif action == "reverse":
            obj = mon.object_get(actor=actor, object_id=int(params[0]))
            case = elimination.reversal_propose(
                actor=actor, monitoring_object=obj, reason=o["reason"], on=day
            )
            out(f"程序{case.pk}：{case.get_kind_display()}，当前环节 {case.current_step}")
