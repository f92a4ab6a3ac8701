"""Reads of the trust part. Each takes the actor and starts from ``scoped`` (or ``access_object``)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import scoped
from fangpin.audit.record import audit_record
from fangpin.core.masking import mask_birth_date, mask_id_number, mask_phone
from fangpin.core.precompiled import precompiled_list
from fangpin.regions.models import Region
from fangpin.regions.selectors import region_path_names
from fangpin.registry.models import FactProvenance, Household, IncomeRecord, Person
from fangpin.registry.models.provenance import FactStatus
from fangpin.registry.services import changes as reg

from .models import (
    Appeal,
    AppealStatus,
    ChangeRequest,
    ChangeStatus,
    DisasterEvent,
    DisasterVillage,
    Discrepancy,
    DiscrepancyStatus,
    Task,
    TaskStatus,
)
from .services import integrations
from .services.common import level_satisfied
from .services.recert import recert_statuses

HOUSEHOLD_FILE_FIELDS = [
    "household_type",
    "phone",
    "address",
    "house_grade",
    "house_appraised_on",
    "food_ok",
    "clothing_ok",
    "water_piped",
    "water_litres_per_day",
    "water_quality_ok",
    "water_interruption_days",
]
PERSON_FILE_FIELDS = [
    "name",
    "id_number",
    "relation",
    "birth_date",
    "health",
    "chronic_disease",
    "disability_category",
    "disability_grade",
    "labour_skill",
    "work_status",
    "school_status",
    "medical_resident",
    "medical_employee",
    "dibao",
    "tekun",
    "phone",
    "death_date",
]
INCOME_FILE_FIELDS = [
    "wage",
    "production_business",
    "property_income",
    "transfer_pension",
    "transfer_dibao",
    "production_expense",
    "insurance_payout",
    "compliant_out_of_pocket",
]


@dataclass
class FieldView:
    field: str
    label: str
    value: str
    source: str
    source_ref: str
    since: str
    pending: list[dict[str, str]] = field(default_factory=list)


def _views(entity: str, obj, fields: list[str], facts: dict, pend: dict) -> list[FieldView]:
    out = []
    row_source = None  # the row's own source, the same for each of its fields without a fact: made once
    for f in fields:
        text = reg.fmt(getattr(obj, f))
        if f == "id_number":
            text = mask_id_number(text)
        elif f == "phone":
            text = mask_phone(text)
        elif f == "birth_date":  # next to the masked ID a full date would rebuild the number
            text = mask_birth_date(getattr(obj, f))
        fact = facts.get((entity, obj.pk, f))
        if fact is not None:
            src, ref, since = fact.get_source_kind_display(), fact.source_ref, reg.fmt(fact.observed_on)
        else:
            if row_source is None:
                row_source = (
                    obj.get_source_kind_display(),
                    obj.source_ref,
                    reg.fmt(obj.source_at.date() if obj.source_at else obj.created_at.date()),
                )
            src, ref, since = row_source
        out.append(
            FieldView(f, reg.field_label(entity, f), text, src, ref, since, pend.get((entity, obj.pk, f), []))
        )
    return out


def household_file(
    *, actor, household_id: int, incomes: bool = True, village_history: bool = True
) -> dict[str, Any]:
    """The household file: each field's current value with its source and date (latest accepted
    FactProvenance, else the row's own source), values waiting for verification, and members. Audited.
    ``incomes=False`` / ``village_history=False``: those two parts left out (empty), for a page that shows
    neither (each is a query)."""
    hh = access_object(actor, Household, household_id, what="户")
    facts: dict[tuple, FactProvenance] = {}
    # the household passed the gate: its rows by its id, each list's SQL compiled once per process
    for fp in precompiled_list("trust.file.facts", _accepted_facts, hh.pk):
        facts[(fp.entity, fp.entity_id, fp.field)] = fp
    pend: dict[tuple, list] = defaultdict(list)
    open_discrepancies = precompiled_list("trust.file.open_discrepancies", _open_discrepancies, hh.pk)
    for d in open_discrepancies:
        pend[(d.entity, d.entity_id, d.field)].append(
            {
                "value": d.proposed_value,
                "source": d.department or d.source_kind,
                "source_ref": d.source_ref,
                "since": reg.fmt(d.observed_on),
                "discrepancy_id": str(d.pk),
            }
        )
    members = precompiled_list("trust.file.persons", _persons, hh.pk)
    for p in members:
        p.household = hh  # as ``hh.persons`` would have set it
    income_rows = precompiled_list("trust.file.incomes", _last_incomes, hh.pk) if incomes else []
    audit_record(
        actor=actor,
        event_type="trust.household_file_view",
        obj=hh,
        region_code=hh.village_id,
        household_id=hh.pk,
    )
    return {
        "household": hh,
        "village_path": region_path_names(hh.village_id),
        "fields": _views("household", hh, HOUSEHOLD_FILE_FIELDS, facts, pend),
        "members": [
            {
                "person": p,
                "is_member": p.is_member,
                "fields": _views("person", p, PERSON_FILE_FIELDS, facts, pend),
            }
            for p in members
        ],
        "incomes": [
            {
                "record": r,
                "period": f"{r.period_start}～{r.period_end}",
                "fields": _views("income", r, INCOME_FILE_FIELDS, facts, pend),
            }
            for r in income_rows
        ],
        "open_discrepancies": len(open_discrepancies),
        "village_history": _village_history(hh) if village_history else [],
    }


def _accepted_facts(h: int):
    return FactProvenance.objects.filter(household_id=h, status=FactStatus.ACCEPTED).order_by(
        "recorded_at", "id"
    )


def _open_discrepancies(h: int):
    return Discrepancy.objects.filter(household_id=h, status=DiscrepancyStatus.OPEN)


def _persons(h: int):
    return Person.objects.filter(household_id=h).order_by("-is_member", "id")


def _last_incomes(h: int):
    return IncomeRecord.objects.filter(household_id=h).order_by("-period_end")[:3]


def _village_history(hh: Household) -> list[dict[str, Any]]:
    """Where the household lived, from its history: one row per village with the date it arrived."""
    out: list[dict[str, Any]] = []
    for h in hh.history.order_by("history_date", "history_id"):
        if not out or out[-1]["village"] != h.village_id:
            out.append(
                {"village": h.village_id, "from": h.history_date, "reason": h.history_change_reason or ""}
            )
    return out


def discrepancy_list(*, actor, status: str | None = DiscrepancyStatus.OPEN) -> QuerySet[Discrepancy]:
    qs = scoped(actor, Discrepancy.objects.select_related("household"))
    return qs.filter(status=status) if status else qs


def change_request_list(*, actor, status: str | None = ChangeStatus.PENDING) -> QuerySet[ChangeRequest]:
    qs = scoped(actor, ChangeRequest.objects.select_related("household"))
    return qs.filter(status=status) if status else qs


def appeal_list(*, actor, status: str | None = AppealStatus.OPEN) -> QuerySet[Appeal]:
    qs = scoped(actor, Appeal.objects.select_related("household"))
    return qs.filter(status=status) if status else qs


def disaster_list(*, actor) -> QuerySet[DisasterEvent]:
    ids = scoped(actor, DisasterVillage.objects.all()).values("event_id")
    return DisasterEvent.objects.filter(pk__in=ids)


@dataclass(frozen=True)
class TaskItem:
    kind: str
    title: str
    due_on: dt.date
    overdue: bool
    household_no: str = ""
    ref: str = ""


def my_tasks(actor, *, on: dt.date) -> list[TaskItem]:
    """What is due and overdue for this user: their own tasks (discrepancies to verify, recertifications,
    disaster visits), overdue tasks of their area for supervisors, appeals their office owns, change requests
    waiting for them, and monitoring's visits and steps when monitoring provides them."""
    items: list[TaskItem] = []
    tasks = scoped(actor, Task.objects.filter(status=TaskStatus.OPEN).select_related("household"))
    if actor.role != Role.VILLAGE_CADRE:
        tasks = (
            tasks.filter(due_on__lt=on)
            if actor.role in (Role.TOWNSHIP_REVIEWER, Role.COUNTY_ADMIN)
            else tasks.none()
        )
    for t in tasks.order_by("due_on", "id")[:500]:
        kind = t.kind if actor.role == Role.VILLAGE_CADRE else f"supervise_{t.kind}"
        items.append(
            TaskItem(kind, t.title, t.due_on, t.due_on < on, t.household.household_no, f"task:{t.pk}")
        )
    if actor.can(Cap.APPEAL_HANDLE) and actor.region_id:
        for a in Appeal.objects.filter(
            status=AppealStatus.OPEN, owner_region_id=actor.region_id
        ).select_related("household"):
            if a.owner_id in (None, actor.pk):
                items.append(
                    TaskItem(
                        "appeal",
                        f"办理异议{a.number}（{a.get_kind_display()}）",
                        a.deadline,
                        a.deadline < on,
                        a.household.household_no,
                        f"appeal:{a.pk}",
                    )
                )
    if actor.can(Cap.CHANGE_APPROVE):
        for r in change_request_list(actor=actor).exclude(maker=actor):
            if level_satisfied(actor, r.required_level):
                due = r.created_at.date() + dt.timedelta(days=5)
                items.append(
                    TaskItem(
                        "change_request",
                        f"审批变更申请{r.number}（{r.get_kind_display()}）",
                        due,
                        due < on,
                        r.household.household_no,
                        f"change:{r.pk}",
                    )
                )
    for m in integrations.monitoring_tasks(actor, on):
        due = m.get("due_on") or on
        items.append(
            TaskItem(
                m.get("kind", "monitoring"),
                m.get("title", ""),
                due,
                due < on,
                m.get("household_no", ""),
                m.get("ref", ""),
            )
        )
    return sorted(items, key=lambda i: (not i.overdue, i.due_on, i.kind))


@dataclass(frozen=True)
class CoverageRow:
    village_code: str
    village_name: str
    households: int
    current: int
    stale: int

    @property
    def coverage(self) -> float:
        return round(self.current / self.households, 4) if self.households else 1.0


def recert_coverage(*, actor, on: dt.date) -> list[CoverageRow]:
    """Per village in the actor's area: households, re-verified within their cycle, stale."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in recert_statuses(scoped(actor, Household.objects.all()), on=on):
        counts[s.village_id][0] += 1
        counts[s.village_id][1] += 0 if s.stale(on) else 1
    names = dict(Region.objects.filter(code__in=counts).values_list("code", "name"))
    return [CoverageRow(v, names.get(v, v), n, cur, n - cur) for v, (n, cur) in sorted(counts.items())]


def change_preview(req: ChangeRequest) -> list[dict[str, Any]]:
    """What a pending request would change now (field, old, new), or one line saying why it cannot be
    previewed (e.g. the member it names has left meanwhile) — for the approver's list."""
    from fangpin.core.errors import DomainError

    from .services.changes import change_plan

    try:
        return change_plan(req)
    except DomainError as e:
        return [{"label": "无法预览", "old": "", "new": e.message}]
