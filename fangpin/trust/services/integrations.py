"""The trust part's doors into the monitoring lifecycle, in one module (trust depends on monitoring, never
the reverse). Plain calls of monitoring's services and selectors; tests replace these functions to prove
the calls are made with the stated interface."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from fangpin.monitoring import selectors as mon_selectors
from fangpin.monitoring.models import Case, CaseStatus
from fangpin.monitoring.services import cases as mon_cases
from fangpin.monitoring.services import leads as mon_leads
from fangpin.monitoring.services.moves import open_work_follow_household
from fangpin.registry.models import Household


def lead_submit(
    *,
    actor,
    household: Household,
    channel: str,
    on: dt.date,
    source_ref: str = "",
    evidence=None,
    risk_types=None,
    note: str = "",
) -> Any:
    """monitoring.services.leads.lead_submit, dated on the business day ``on``."""
    return mon_leads.lead_submit(
        actor=actor,
        household=household,
        channel=channel,
        source_ref=source_ref,
        evidence=evidence,
        risk_types=risk_types,
        note=note,
        on=on,
    )


def case_pause(
    *, actor, case_id: int, reason: str, appeal_number: str, on: dt.date, raised_by: str = ""
) -> bool:
    """Pauses the case step an appeal concerns. During 村内公示 the objection is recorded on the step
    (monitoring's ``publicity_objection_record``, which pauses); otherwise ``case_pause``. False when the
    case does not exist or is not open — the appeal then records that it did not pause anything."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.OPEN:
        return False
    if case.current_step == "publicize":
        mon_cases.publicity_objection_record(
            actor=actor, case=case, text=reason, raised_by=raised_by, ref=appeal_number, on=on
        )
    else:
        mon_cases.case_pause(actor=actor, case=case, reason=reason, ref=appeal_number, on=on)
    return True


def case_resume(*, actor, case_id: int, reason: str, appeal_number: str, on: dt.date) -> bool:
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.PAUSED:
        return False
    mon_cases.case_resume(actor=actor, case=case, reason=reason, ref=appeal_number, on=on)
    return True


def monitoring_follow_move(
    *, actor, household: Household, old_village: str, new_village: str, on: dt.date
) -> dict[str, list[int]]:
    """After a household move: monitoring's open work (open leads and cases, the current monitoring object,
    live measures, assignments) follows the household; its finished records stay in the old village.
    Runs in the caller's transaction. Returns the ids of what moved."""
    res = open_work_follow_household(
        actor=actor, household=household, old_village=old_village, new_village=new_village, on=on
    )
    return res.as_dict()


def monitored_household_ids(on: dt.date) -> set[int]:
    """Households that are monitoring objects (监测对象, incl. 渐退期) on ``on`` — monitoring's one answer."""
    return mon_selectors.monitored_household_ids(on=on)


def household_monitoring_summary(household: Household, on: dt.date) -> dict[str, Any] | None:
    """{status, current, category, risk_types, identified_on, measures} for the 明白纸; None when the
    household never was a monitoring object by ``on``."""
    return mon_selectors.household_monitoring_summary(household=household, on=on)


def monitoring_tasks(actor, on: dt.date) -> list[dict[str, Any]]:
    """Monitoring's due items for this user → [{kind, title, household_no, due_on, ref}]:
    a village cadre or helper gets the visits due this month (``visits_due``, skipping households
    assigned to another cadre) and the overdue steps in their village; township and county users get the
    overdue steps and procedures of their area (``overdue_items`` without visits)."""
    out: list[dict[str, Any]] = []
    if actor.role in ("village_cadre", "helper"):
        month_end = on.replace(day=calendar.monthrange(on.year, on.month)[1])
        for v in mon_selectors.visits_due(actor=actor, month=on):
            if v.cadre_id not in (None, actor.pk):
                continue
            out.append(
                {
                    "kind": "visit",
                    "household_no": v.household_no,
                    "ref": f"visit:{v.household_id}",
                    "due_on": on - dt.timedelta(days=1) if v.overdue else month_end,
                    "title": f"走访{'重点户' if v.key else '一般户'}（上次走访 {v.last_visit or '无'}）",
                }
            )
    if actor.role != "helper":
        for o in mon_selectors.overdue_items(actor=actor, on=on, include_visits=False):
            out.append(
                {
                    "kind": f"case_{o.kind}",
                    "household_no": o.household_no,
                    "ref": f"case:{o.case_id}",
                    "due_on": o.due_on or on,
                    "title": o.message,
                }
            )
    return out
