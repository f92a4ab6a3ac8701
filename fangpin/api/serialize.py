"""Model rows → response dicts, masked. One place, so no route can forget a mask."""

from __future__ import annotations

import datetime as dt

from fangpin.core import clock
from fangpin.core.masking import mask_id_number, mask_phone
from fangpin.monitoring.models import MonitoringObject, ObjectStatus
from fangpin.registry.models import Household, Person


def age(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def monitoring_status(hh: Household) -> str:
    obj = MonitoringObject.objects.filter(household=hh).order_by("-identified_on", "-id").first()
    if obj is None:
        return ""
    return ObjectStatus(obj.status).label


def monitoring_statuses(households: list[Household]) -> dict[int, str]:
    """``monitoring_status`` for a page of households in one query."""
    out: dict[int, str] = {}
    rows = MonitoringObject.objects.filter(household__in=households).order_by(
        "household_id", "-identified_on", "-id"
    )
    for hid, status in rows.values_list("household_id", "status"):
        out.setdefault(hid, ObjectStatus(status).label)
    return out


def household_row(
    hh: Household, *, head: Person | None = None, members: int | None = None, monitoring: str | None = None
) -> dict:
    if head is None:
        head = hh.persons.filter(relation="户主", is_member=True).first()
    return {
        "id": hh.id,
        "household_no": hh.household_no,
        "village_code": hh.village_id,
        "village_name": hh.village.name,
        "household_type": hh.household_type,
        "status": hh.status,
        "head_name": head.name if head else "",
        "phone_masked": mask_phone(hh.phone),
        "members": members if members is not None else hh.persons.filter(is_member=True).count(),
        "monitoring_status": monitoring if monitoring is not None else monitoring_status(hh),
    }


def member(p: Person, *, on: dt.date | None = None) -> dict:
    return {
        "id": p.id,
        "name": p.name,
        "relation": p.relation,
        "gender": p.gender,
        "age": age(p.birth_date, on or clock.today()),
        "id_number_masked": mask_id_number(p.id_number),
        "phone_masked": mask_phone(p.phone),
        "health": p.health,
        "labour_skill": p.labour_skill,
        "school_status": p.school_status,
    }


def lead(obj, *, with_sources: bool = False) -> dict:
    out = {
        "id": obj.id,
        "household_id": obj.household_id,
        "household_no": obj.household.household_no,
        "village_code": obj.village_id,
        "status": obj.status,
        "outcome": obj.outcome,
        "risk_types": list(obj.risk_types or []),
        "opened_on": obj.opened_on,
        "closed_on": obj.closed_on,
        "sources": [],
    }
    if with_sources:
        out["sources"] = [
            {
                "channel": s.channel,
                "submitted_on": s.submitted_on,
                "risk_types": list(s.risk_types or []),
                "note": s.note,
                "outcome": s.outcome,
            }
            for s in obj.sources.order_by("id")
        ]
    return out


def case(obj, *, with_steps: bool = False) -> dict:
    out = {
        "id": obj.id,
        "kind": obj.kind,
        "household_id": obj.household_id,
        "household_no": obj.household.household_no,
        "village_code": obj.village_id,
        "status": obj.status,
        "current_step": obj.current_step,
        "green_channel": obj.green_channel,
        "started_on": obj.started_on,
        "due_on": obj.due_on,
        "closed_on": obj.closed_on,
        "version": obj.version,
        "steps": [],
    }
    if with_steps:
        out["steps"] = [
            {
                "code": s.code,
                "name": s.name,
                "status": s.status,
                "started_on": s.started_on,
                "due_on": s.due_on,
                "completed_on": s.completed_on,
            }
            for s in obj.steps.order_by("seq")
        ]
    return out
