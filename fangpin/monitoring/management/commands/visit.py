"""fangpin visit due|log|list … --as USER: the visit screen from the command line (走访排查).

visit due [--month YYYY-MM] --as USER              who must be visited that month (重点户 first, overdue marked)
visit log 户编号 --on DATE --as USER [--problem 方面=说明 ...] [--risk 因病 ...] [--note ...]
                                                    every aspect not named by --problem is recorded as fine;
                                                    a problem or a risk type makes it a visit with a risk
                                                    finding (which files a lead, as on the phone)
visit list --as USER                                my recent visits
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring.selectors import visit_list, visits_due
from fangpin.monitoring.services.visits import visit_log
from fangpin.policy.params import param_value
from fangpin.registry.management.commands._actor import command_actor

from ._household import command_household


class Command(BaseCommand):
    help = "走访：due 本月应走访户；log 记录一次走访（九个方面）；list 我的走访记录"

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["due", "log", "list"])
        parser.add_argument("household_no", nargs="?", default="")
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--month", default="", help="YYYY-MM，默认本月")
        parser.add_argument("--on", default="", help="走访日期 YYYY-MM-DD，默认今天")
        parser.add_argument("--problem", action="append", default=[], help="发现问题的方面=说明（可多次）")
        parser.add_argument("--risk", action="append", default=[], help="风险类型（可多次）")
        parser.add_argument("--note", default="")

    def handle(self, *args: Any, action: str, username: str, **o: Any) -> None:
        actor = command_actor(username)
        try:
            getattr(self, f"_{action}")(actor, o)
        except DomainError as e:
            raise CommandError(e.message) from None
        except ValueError as e:
            raise CommandError(f"参数有误：{e}") from None

    def _due(self, actor, o: dict) -> None:
        month = dt.date.fromisoformat(f"{o['month']}-01") if o["month"] else clock.month_start(clock.today())
        due = visits_due(actor=actor, month=month)
        self.stdout.write(f"{month:%Y年%m月}应走访 {len(due)} 户（逾期 {sum(d.overdue for d in due)} 户）：")
        for d in sorted(due, key=lambda d: (not d.overdue, not d.key, d.household_no)):
            tag = "【逾期】" if d.overdue else ""
            kind = "重点户" if d.key else "一般户"
            last = d.last_visit.isoformat() if d.last_visit else "从未走访"
            self.stdout.write(f"  {tag}{d.household_no} {kind} 每{d.cycle_months}个月 上次：{last}")

    def _log(self, actor, o: dict) -> None:
        if not o["household_no"]:
            raise CommandError("请给出户编号：fangpin visit log 户编号 --as 用户")
        on = dt.date.fromisoformat(o["on"]) if o["on"] else clock.today()
        hh = command_household(actor, o["household_no"], on)
        aspects: dict[str, str] = param_value(
            "visits.checklist_aspects", region_code=hh.village_id, year=on.year
        )
        by_label = {label: key for key, label in aspects.items()}
        problems: dict[str, str] = {}
        for item in o["problem"]:
            name, _, note = item.partition("=")
            key = name if name in aspects else by_label.get(name)
            if key is None:
                raise CommandError(f"未知的走访方面“{name}”，应为：{'、'.join(aspects.values())}")
            problems[key] = note
        checklist = {a: {"ok": a not in problems, "note": problems.get(a, "")} for a in aspects}
        v = visit_log(
            actor=actor,
            household=hh,
            visited_on=on,
            checklist=checklist,
            has_risk=bool(problems or o["risk"]),
            risk_types=o["risk"],
            note=o["note"],
        )
        lead = f"，已生成风险线索#{v.lead_id}" if v.lead_id else ""
        self.stdout.write(f"走访已保存（记录号 {v.pk}，{hh.household_no}，{on}）{lead}")

    def _list(self, actor, o: dict) -> None:
        for v in visit_list(actor=actor).filter(visitor=actor).select_related("household")[:50]:
            risk = "有风险：" + "、".join(v.risk_types or []) if v.has_risk else "无风险"
            self.stdout.write(f"  #{v.pk} {v.visited_on} {v.household.household_no} {risk}")
