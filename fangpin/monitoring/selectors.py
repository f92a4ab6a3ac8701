"""Reads of the monitoring lifecycle. Every function that serves a user takes the actor and starts from
``scoped`` (lists) or ``access_object`` (one object: NotFound for missing and out-of-scope alike)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from fangpin.accounts.access import access_object
from fangpin.accounts.scope import scoped
from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.core.precompiled import precompiled_list
from fangpin.policy.params import param_value
from fangpin.registry.choices import HouseholdStatus
from fangpin.registry.models import Household

from .models import (
    Assignment,
    AssignmentKind,
    Case,
    CaseStatus,
    CaseStep,
    Lead,
    LeadSource,
    LeadStatus,
    Measure,
    MonitoringObject,
    ObjectStatus,
    StepStatus,
    Visit,
)


def lead_list(*, actor, status: str | None = None) -> QuerySet[Lead]:
    qs = scoped(actor, Lead.objects.select_related("household", "village", "township"))
    return qs.filter(status=status) if status else qs


def lead_get(*, actor, lead_id: int) -> Lead:
    return access_object(actor, Lead, lead_id, what="线索")


def case_list(*, actor, status: str | None = None, kind: str | None = None) -> QuerySet[Case]:
    qs = scoped(actor, Case.objects.select_related("household"))
    if status:
        qs = qs.filter(status=status)
    return qs.filter(kind=kind) if kind else qs


def case_get(*, actor, case_id: int) -> Case:
    return access_object(actor, Case, case_id, what="办理程序")


def object_list(*, actor, status: str | None = None) -> QuerySet[MonitoringObject]:
    qs = scoped(actor, MonitoringObject.objects.select_related("household"))
    return qs.filter(status=status) if status else qs


def object_get(*, actor, object_id: int) -> MonitoringObject:
    return access_object(actor, MonitoringObject, object_id, what="监测对象")


def visit_list(*, actor) -> QuerySet[Visit]:
    return scoped(actor, Visit.objects.select_related("household"))


def measure_list(*, actor, monitoring_object_id: int | None = None) -> QuerySet[Measure]:
    qs = scoped(actor, Measure.objects.all())
    return qs.filter(monitoring_object_id=monitoring_object_id) if monitoring_object_id else qs


def household_monitoring_history(*, actor, household_id: int) -> dict[str, Any]:
    """The monitoring section of the household file: every lead, case, monitoring object, measure, visit and
    assignment of the household, wherever it happened, each row carrying the village it belongs to.

    Lists, queues and counts are per village (each record's own village, see models/snapshot.py); this is
    the one read through which the village a household lives in now sees its monitoring past from before a
    move (category history, earlier eliminations and returns, measures already done). Access goes by the
    household's current village: the village the household left keeps only its own records."""
    hh = access_object(actor, Household, household_id, what="户")
    # the household passed the gate: its rows by its id, each list's SQL compiled once per process
    return {
        "household_id": hh.pk,
        "village": hh.village_id,
        **{
            name: precompiled_list(f"monitoring.history.{name}", build, hh.pk)
            for name, build in _HISTORY.items()
        },
    }


_HISTORY = {
    "leads": lambda h: Lead.objects.filter(household_id=h).order_by("opened_on", "id"),
    "cases": lambda h: Case.objects.filter(household_id=h).order_by("started_on", "id"),
    "objects": lambda h: MonitoringObject.objects.filter(household_id=h).order_by("identified_on", "id"),
    "measures": lambda h: Measure.objects.filter(household_id=h).order_by("start_on", "id"),
    "visits": lambda h: Visit.objects.filter(household_id=h).order_by("visited_on", "id"),
    "assignments": lambda h: Assignment.objects.filter(household_id=h).order_by("start_on", "id"),
}


# ---- timeline ------------------------------------------------------------------------------------


def _as_date(v) -> dt.date | None:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(v) if v else None
    except (TypeError, ValueError):
        return None


def case_timeline(*, actor, case: Case) -> list[dict[str, Any]]:
    """The case's history from its CaseEvents, each joined to the audit event written with it, plus the
    audit events of its lead (each report) and of the monitoring object it produced or changed — those
    recorded in the actor's region: after a move the old village does not read what the new one did with
    the object, nor the reverse."""
    case = access_object(actor, Case, case.pk, what="办理程序")
    events = list(case.events.select_related("actor").order_by("id"))
    audits = {
        a.seq: a for a in AuditEvent.objects.filter(seq__in=[e.audit_seq for e in events if e.audit_seq])
    }
    rows: list[dict[str, Any]] = []
    for e in events:
        a = audits.get(e.audit_seq)
        rows.append(
            {
                "source": "case",
                "at": e.at,
                "on": e.on,
                "actor": str(e.actor) if e.actor else "系统",
                "role": e.actor_role,
                "kind": e.kind,
                "step": e.step,
                "data": e.data,
                "audit_seq": e.audit_seq,
                "audit_type": a.event_type if a else "",
                "audit_hash": a.hash if a else "",
            }
        )
    related = Q()
    if case.lead_id:
        related |= Q(object_type="monitoring.lead", object_id=str(case.lead_id))
    if case.monitoring_object_id:
        related |= Q(object_type="monitoring.monitoringobject", object_id=str(case.monitoring_object_id))
    if related:
        mine = AuditEvent.objects.filter(related, region_code__startswith=actor.scope_prefix)
        for a in mine.select_related("actor").order_by("seq"):
            rows.append(
                {
                    "source": a.object_type.split(".")[-1],
                    "at": a.at,
                    "on": _as_date((a.data or {}).get("on")) or a.at.date(),
                    "actor": str(a.actor) if a.actor else "系统",
                    "role": a.actor_role,
                    "kind": a.event_type,
                    "step": "",
                    "data": a.data,
                    "audit_seq": a.seq,
                    "audit_type": a.event_type,
                    "audit_hash": a.hash,
                }
            )
    rows.sort(key=lambda r: r["audit_seq"] or 0)
    return rows


# ---- overdue and visits --------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueItem:
    kind: str  # step / procedure / green_channel / visit
    township: str
    village: str
    household_id: int
    household_no: str
    case_id: int | None
    step: str
    due_on: dt.date | None
    days_over: int
    message: str


def overdue_items(*, actor, on: dt.date, include_visits: bool = True) -> list[OverdueItem]:
    """Steps past their deadline, procedures past procedure.total_days (or the green-channel
    completion deadline), and households whose visit is overdue — for the township and county lists."""
    out: list[OverdueItem] = []
    steps = scoped(actor, CaseStep.objects.select_related("case__household")).filter(
        status__in=[StepStatus.ACTIVE, StepStatus.PAUSED], due_on__lt=on, case__status=CaseStatus.OPEN
    )
    for s in steps:
        hh = s.case.household
        out.append(
            OverdueItem(
                "step",
                s.case.township_code,
                s.case.village_id,
                hh.id,
                hh.household_no,
                s.case_id,
                s.code,
                s.due_on,
                (on - s.due_on).days,
                f"“{s.name}”环节超过时限{(on - s.due_on).days}天",
            )
        )
    for c in scoped(actor, Case.objects.select_related("household")).filter(
        status=CaseStatus.OPEN, due_on__lt=on
    ):
        hh = c.household
        kind = "green_channel" if c.green_channel else "procedure"
        label = "绿色通道补办程序" if c.green_channel else f"{c.get_kind_display()}程序"
        out.append(
            OverdueItem(
                kind,
                c.township_code,
                c.village_id,
                hh.id,
                hh.household_no,
                c.pk,
                c.current_step,
                c.due_on,
                (on - c.due_on).days,
                f"{label}超过总时限{(on - c.due_on).days}天",
            )
        )
    if include_visits:
        for v in visits_due(actor=actor, month=on):
            if v.overdue:
                out.append(
                    OverdueItem(
                        "visit",
                        v.village[:9] + "000",
                        v.village,
                        v.household_id,
                        v.household_no,
                        None,
                        "",
                        None,
                        0,
                        f"走访逾期（{'重点户' if v.key else '一般户'}，上次走访 {v.last_visit or '无'}）",
                    )
                )
    return out


def overdue_by_township(*, actor, on: dt.date) -> dict[str, list[OverdueItem]]:
    grouped: dict[str, list[OverdueItem]] = defaultdict(list)
    for item in overdue_items(actor=actor, on=on):
        grouped[item.township].append(item)
    return dict(sorted(grouped.items()))


@dataclass(frozen=True)
class VisitDue:
    household_id: int
    household_no: str
    village: str
    key: bool
    cycle_months: int
    last_visit: dt.date | None
    overdue: bool
    cadre_id: int | None


def _mi(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def visits_due(*, actor, month: dt.date) -> list[VisitDue]:
    """Who must be visited in ``month``: 重点户 (active monitoring objects, open leads, households in
    their 渐退期) every visits.key_household_cycle_months, others every visits.other_household_cycle_months.
    A household is overdue when its visit fell due in an earlier month and has not happened."""
    first = clock.month_start(month)
    last_day = clock.add_months(first, 1) - dt.timedelta(days=1)
    key_q = Exists(monitoring_objects_on(first).filter(household=OuterRef("pk"))) | Exists(
        Lead.objects.filter(household=OuterRef("pk"), status__in=[LeadStatus.OPEN, LeadStatus.IN_CASE])
    )
    qs = (
        scoped(actor, Household.objects.filter(status=HouseholdStatus.ACTIVE))
        .annotate(
            is_key=key_q,
            last_visit=Max(
                "monitoring_visits__visited_on", filter=Q(monitoring_visits__visited_on__lte=last_day)
            ),
        )
        .values("id", "household_no", "village_id", "is_key", "last_visit")
        .order_by("village_id", "household_no")
    )
    cadres = dict(
        scoped(actor, Assignment.objects.filter(kind=AssignmentKind.CADRE, end_on__isnull=True)).values_list(
            "household_id", "user_id"
        )
    )
    cycles: dict[str, tuple[int, int]] = {}
    out: list[VisitDue] = []
    now = _mi(first)
    for h in qs:
        county = h["village_id"][:6].ljust(12, "0")
        if county not in cycles:
            cycles[county] = (
                int(param_value("visits.key_household_cycle_months", region_code=county, year=first.year)),
                int(param_value("visits.other_household_cycle_months", region_code=county, year=first.year)),
            )
        cycle = cycles[county][0 if h["is_key"] else 1]
        last = h["last_visit"]
        if last is None:
            overdue = False  # never visited: due, not overdue
        else:
            due_at = _mi(last) + cycle
            if _mi(last) == now or due_at > now:
                continue
            overdue = due_at < now
        out.append(
            VisitDue(
                h["id"],
                h["household_no"],
                h["village_id"],
                h["is_key"],
                cycle,
                last,
                overdue,
                cadres.get(h["id"]),
            )
        )
    return out


# ---- feedback and outcomes -----------------------------------------------------------------------


def lead_source_outcomes(*, actor, source_ref_prefix: str) -> dict[str, Counter]:
    """For the screening engine: outcome counts per source_ref (e.g. prefix ``screening_run:12:``);
    ``""`` = still being verified."""
    qs = LeadSource.objects.filter(source_ref__startswith=source_ref_prefix)
    if actor is not None:
        qs = scoped(actor, qs)
    out: dict[str, Counter] = defaultdict(Counter)
    for ref, outcome in qs.values_list("source_ref", "outcome"):
        out[ref][outcome] += 1
    return dict(out)


def exit_outcomes(*, actor, on: dt.date) -> dict[str, Any]:
    """稳定消除 vs 返贫/回退: eliminated objects whose observation window
    (elimination.sustained_months) has ended, split into sustained exits and returns (reversed, or
    enrolled again within the window). Counts also the objects still inside their window.

    Objects are counted where they happened (their own village); whether the household came back is
    judged on all its enrolments, also those in a village it moved to since."""
    fields = ("id", "household_id", "status", "eliminated_on", "identified_on", "reversals", "decision")
    objs = list(scoped(actor, MonitoringObject.objects.all()).values(*fields, "village_id"))
    by_hh: dict[int, list[dict[str, Any]]] = defaultdict(list)
    hh_ids = sorted({o["household_id"] for o in objs})
    for i in range(0, len(hh_ids), 1000):
        for x in MonitoringObject.objects.filter(household_id__in=hh_ids[i : i + 1000]).values(
            "id", "household_id", "identified_on"
        ):
            by_hh[x["household_id"]].append(x)
    res = {"sustained": 0, "returned": 0, "in_window": 0, "reversed": 0}
    months_cache: dict[str, int] = {}
    for o in objs:
        county = o["village_id"][:6].ljust(12, "0")
        if county not in months_cache:
            months_cache[county] = int(
                param_value("elimination.sustained_months", region_code=county, year=on.year)
            )
        n = months_cache[county]
        reversals = len(o["decision"].get("reversed", []))
        res["reversed"] += reversals
        res["returned"] += reversals
        if o["eliminated_on"] is None:
            continue
        end = clock.add_months(o["eliminated_on"], n)
        again = any(
            x["id"] != o["id"] and o["eliminated_on"] < x["identified_on"] <= end
            for x in by_hh[o["household_id"]]
        )
        if again:
            res["returned"] += 1
        elif end > on:
            res["in_window"] += 1
        else:
            res["sustained"] += 1
    return res


def case_warnings(*, actor, monitoring_object: MonitoringObject, on: dt.date) -> list:
    """The assistance and risk-type warnings of one monitoring object (same rules as the checks)."""
    from . import warnings as W

    obj = access_object(actor, MonitoringObject, monitoring_object.pk, what="监测对象")
    county = obj.household.village_id[:6].ljust(12, "0")
    params = {k: param_value(k, region_code=county, year=on.year) for k in W.KEYS}
    members = list(obj.household.persons.filter(is_member=True))
    return W.object_warnings(obj, on=on, members=members, measures=list(obj.measures.all()), params=params)


# ---- who is a monitoring object ------------------------------------------------------------------


def monitoring_objects_on(on: dt.date) -> QuerySet[MonitoringObject]:
    """THE answer to "is this household a monitoring object (监测对象) on ``on``", for every part
    (trust's recertification and 明白纸, screening's rules, the registry checks, visits, moves):
    identified on or before ``on``, not revoked, and either not eliminated by then or still in its
    渐退期 (``gradual_exit_until`` on or after ``on``)."""
    return (
        MonitoringObject.objects.filter(identified_on__lte=on)
        .exclude(status=ObjectStatus.REVOKED)
        .filter(Q(eliminated_on__isnull=True) | Q(eliminated_on__gt=on) | Q(gradual_exit_until__gte=on))
    )


def monitored_household_ids(*, on: dt.date) -> set[int]:
    return set(monitoring_objects_on(on).values_list("household_id", flat=True))


def household_monitoring_summary(*, household: Household, on: dt.date) -> dict[str, Any] | None:
    """The monitoring part of the 明白纸: {status, category, risk_types, identified_on, measures}. A household
    whose risk was eliminated (渐退期 over) is said as such, never as 未纳入; None only when it never was
    a monitoring object by ``on``."""
    obj = monitoring_objects_on(on).filter(household=household).order_by("-identified_on", "-id").first()
    current = obj is not None
    if obj is None:
        obj = (
            MonitoringObject.objects.filter(household=household, identified_on__lte=on, eliminated_on__lte=on)
            .exclude(status=ObjectStatus.REVOKED)
            .order_by("-eliminated_on", "-id")
            .first()
        )
        if obj is None:
            return None
    in_exit = obj.eliminated_on is not None and obj.eliminated_on <= on
    if not current:
        status = f"风险已消除（{obj.eliminated_on:%Y年%m月}），已退出监测，返贫风险可随时申报"
    elif in_exit:
        status = "风险已消除（渐退期观察）"
    else:
        status = "监测帮扶中"
    measures = [
        {
            "name": m.name,
            "detail": f"{m.start_on:%Y年%m月}起" + (f"，{m.amount}元" if m.amount else ""),
            "status": m.get_status_display(),
        }
        for m in Measure.objects.filter(monitoring_object=obj).order_by("start_on", "id")
    ]
    return {
        "status": status,
        "current": current,
        "category": obj.category,
        "risk_types": list(obj.risk_types),
        "identified_on": f"{obj.identified_on:%Y年%m月}",
        "measures": measures,
    }


def monitoring_export_facts(household_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The monitoring columns of the national export, per household: its latest non-revoked object."""
    out: dict[int, dict[str, Any]] = {}
    qs = (
        MonitoringObject.objects.filter(household_id__in=household_ids)
        .exclude(status=ObjectStatus.REVOKED)
        .order_by("household_id", "identified_on", "id")
        .values(
            "household_id",
            "category",
            "risk_types",
            "identified_on",
            "status",
            "eliminated_on",
            "elimination_method",
        )
    )
    for m in qs:  # ordered: the latest object of a household wins
        out[m["household_id"]] = {
            "category": m["category"],
            "risk_types": list(m["risk_types"] or []),
            "identified_on": m["identified_on"],
            "eliminated": m["status"] == ObjectStatus.ELIMINATED,
            "elimination_method": m["elimination_method"] or "",
            "eliminated_on": m["eliminated_on"],
        }
    return out


# ---- the phone visit form ------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitTarget:
    household_id: int
    household_no: str
    village_id: str
    head_name: str  # masked: the list travels to the phone's offline cache
    due: bool
    overdue: bool
    key: bool


def visit_targets(*, actor, on: dt.date, limit: int = 1000) -> list[VisitTarget]:
    """The households a user logs visits for, due ones first: a helper (帮扶责任人) only the households
    currently assigned to them; everyone else the active households of their region. Head names masked."""
    from fangpin.core.masking import mask_name
    from fangpin.registry.models import Person

    qs = scoped(actor, Household.objects.filter(status=HouseholdStatus.ACTIVE))  # a helper: their households
    allowed = set(qs.values_list("pk", flat=True)[: limit * 5])
    due = {v.household_id: v for v in visits_due(actor=actor, month=on) if v.household_id in allowed}
    ids = list(due)[:limit] + [i for i in sorted(allowed) if i not in due][: max(limit - len(due), 0)]
    heads = dict(
        Person.objects.filter(household_id__in=ids, relation="户主", is_member=True).values_list(
            "household_id", "name"
        )
    )
    rows = {
        h["id"]: h for h in Household.objects.filter(pk__in=ids).values("id", "household_no", "village_id")
    }
    out = []
    for i in ids:
        h, d = rows[i], due.get(i)
        out.append(
            VisitTarget(
                i,
                h["household_no"],
                h["village_id"],
                mask_name(heads.get(i, "")),
                d is not None,
                bool(d and d.overdue),
                bool(d and d.key),
            )
        )
    out.sort(key=lambda t: (not t.overdue, not t.due, t.household_no))
    return out
