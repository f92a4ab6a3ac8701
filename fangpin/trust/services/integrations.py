"""The trust part's only doors into the monitoring lifecycle (fangpin.monitoring, built in parallel).

Each function imports monitoring lazily and degrades to "not available" (None / empty) when the piece does
not exist yet, so trust works — and says what it could not do — before monitoring lands. Tests replace
these functions with fakes to prove the calls are made with the stated interface.
"""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

from fangpin.registry.models import Household


def _func(module: str, name: str):
    try:
        return getattr(import_module(module), name)
    except (ImportError, AttributeError):
        return None


def lead_submit(
    *,
    actor,
    household: Household,
    channel: str,
    source_ref: str = "",
    evidence=None,
    risk_types=None,
    note: str = "",
) -> Any | None:
    """monitoring.services.leads.lead_submit; None when monitoring is not installed yet."""
    fn = _func("fangpin.monitoring.services.leads", "lead_submit")
    if fn is None:
        return None
    return fn(
        actor=actor,
        household=household,
        channel=channel,
        source_ref=source_ref,
        evidence=evidence,
        risk_types=risk_types,
        note=note,
    )


def _case(case_id: int):
    model = _func("fangpin.monitoring.models", "Case")
    return model.objects.filter(pk=case_id).first() if model is not None else None


def case_pause(
    *, actor, case_id: int, reason: str, appeal_number: str, raised_by: str = "", on: dt.date | None = None
) -> bool:
    """Pauses the case step an appeal concerns. During 村内公示 the objection is recorded on the step
    (monitoring's ``publicity_objection_record``, which pauses); otherwise ``case_pause``. False when
    monitoring (or the case) is not there, or the case is not open — the appeal then records that it did
    not pause anything."""
    case = _case(case_id)
    if case is None or case.status != "open":
        return False
    if case.current_step == "publicize":
        fn = _func("fangpin.monitoring.services.cases", "publicity_objection_record")
        if fn is None:
            return False
        fn(actor=actor, case=case, text=reason, raised_by=raised_by, ref=appeal_number, on=on)
        return True
    fn = _func("fangpin.monitoring.services.cases", "case_pause")
    if fn is None:
        return False
    fn(actor=actor, case=case, reason=reason, ref=appeal_number, on=on)
    return True


def case_resume(*, actor, case_id: int, reason: str, appeal_number: str, on: dt.date | None = None) -> bool:
    case = _case(case_id)
    fn = _func("fangpin.monitoring.services.cases", "case_resume")
    if case is None or fn is None or case.status != "paused":
        return False
    fn(actor=actor, case=case, reason=reason, ref=appeal_number, on=on)
    return True


def monitoring_follow_move(
    *, actor, household: Household, old_village: str, new_village: str, on: dt.date
) -> dict[str, list[int]] | None:
    """After a household move: monitoring's open work (open leads and cases, the current monitoring object,
    live measures, assignments) follows the household; its finished records stay in the old village
    (monitoring ``services.moves.open_work_follow_household``). Runs in the caller's transaction. Returns
    the ids of what moved, or None when monitoring is not installed."""
    fn = _func("fangpin.monitoring.services.moves", "open_work_follow_household")
    if fn is None:
        return None
    res = fn(actor=actor, household=household, old_village=old_village, new_village=new_village, on=on)
    return res.as_dict()


def _objects_on(on: dt.date):
    """Monitoring objects current on ``on``: enrolled, and not eliminated (or still in 渐退期)."""
    from django.db.models import Q

    model = _func("fangpin.monitoring.models", "MonitoringObject")
    if model is None:
        return None
    return model.objects.filter(identified_on__lte=on).filter(
        Q(status="active") | Q(status="eliminated", gradual_exit_until__gte=on)
    )


def monitored_household_ids(on: dt.date) -> set[int]:
    """Households that are monitoring objects (监测对象, incl. 渐退期) on ``on``; empty without monitoring.
    Prefers monitoring's own selector when it provides one."""
    fn = _func("fangpin.monitoring.selectors", "monitored_household_ids")
    if fn is not None:
        return set(fn(on=on))
    qs = _objects_on(on)
    return set(qs.values_list("household_id", flat=True)) if qs is not None else set()


def household_monitoring_summary(household: Household, on: dt.date) -> dict[str, Any] | None:
    """{status, category, risk_types, identified_on, measures: [{name, detail, status}]} for the 明白纸;
    None when the household is not a monitoring object or monitoring is not installed."""
    fn = _func("fangpin.monitoring.selectors", "household_monitoring_summary")
    if fn is not None:
        return fn(household=household, on=on)
    qs = _objects_on(on)
    obj = qs.filter(household=household).order_by("-identified_on").first() if qs is not None else None
    if obj is None:
        return None
    measure = _func("fangpin.monitoring.models", "Measure")
    measures = []
    if measure is not None:
        for m in measure.objects.filter(monitoring_object=obj).order_by("start_on", "id"):
            detail = f"{m.start_on:%Y年%m月}起" + (f"，{m.amount}元" if m.amount else "")
            measures.append({"name": m.name, "detail": detail, "status": m.get_status_display()})
    in_exit = obj.status == "eliminated"
    return {
        "status": "风险已消除（渐退期观察）" if in_exit else "监测帮扶中",
        "category": obj.category,
        "risk_types": list(obj.risk_types),
        "identified_on": f"{obj.identified_on:%Y年%m月}",
        "measures": measures,
    }


def monitoring_tasks(actor, on: dt.date) -> list[dict[str, Any]]:
    """Monitoring's due items for this user → [{kind, title, household_no, due_on, ref}]:
    a village cadre or helper gets the visits due this month (monitoring ``visits_due``, skipping households
    assigned to another cadre) and the overdue steps in their village; township and county users get the
    overdue steps and procedures of their area (``overdue_items`` without visits). Empty without monitoring."""
    import calendar

    own = _func("fangpin.monitoring.selectors", "my_due_items")
    if own is not None:
        return list(own(actor=actor, on=on))
    visits_due = _func("fangpin.monitoring.selectors", "visits_due")
    overdue = _func("fangpin.monitoring.selectors", "overdue_items")
    out: list[dict[str, Any]] = []
    if visits_due is not None and actor.role in ("village_cadre", "helper"):
        month_end = on.replace(day=calendar.monthrange(on.year, on.month)[1])
        for v in visits_due(actor=actor, month=on):
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
    if overdue is not None and actor.role != "helper":
        for o in overdue(actor=actor, on=on, include_visits=False):
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
