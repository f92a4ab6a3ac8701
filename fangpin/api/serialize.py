"""Model rows → response dicts, masked. One place, so no route can forget a mask."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fangpin.core import clock
from fangpin.core.masking import mask_id_number, mask_phone, mask_text
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


_STATUS_LABELS = dict(ObjectStatus.choices)


def household_row_values(r: dict[str, Any]) -> dict:
    """``household_row`` of a row of ``monitoring.household_search.household_row_values`` (a list's page)."""
    return {
        "id": r["id"],
        "household_no": r["household_no"],
        "village_code": r["village_id"],
        "village_name": r["village_name"],
        "household_type": r["household_type"],
        "status": r["status"],
        "head_name": r["head_name"] or "",
        "phone_masked": mask_phone(r["phone"]),
        "members": r["n_members"] or 0,
        "monitoring_status": _STATUS_LABELS[r["mo_status"]] if r["mo_status"] else "",
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


GUARANTEE_NAMES = {
    "food_clothing": "不愁吃穿",
    "education": "义务教育",
    "medical": "基本医疗",
    "housing": "住房安全",
    "water": "饮水安全",
}


def _yuan(v: Any) -> str:
    return f"{Decimal(str(v or 0)):.2f}"


def income_year(y: dict) -> dict:
    """A row of ``registry.services.assessment.household_income_years`` with the browser's formula."""
    a, t = y["a"], {k: _yuan(v) for k, v in y["t"].items()}
    r = a.result
    payout = f" + 理赔 {t['insurance_payout']}" if Decimal(t.get("insurance_payout", "0")) else ""
    formula = (
        f"人均纯收入 =（工资性 {t.get('wage', '0.00')} + 生产经营性 {t.get('production_business', '0.00')}"
        f" + 财产性 {t.get('property_income', '0.00')} + 转移性 {t.get('transfer', '0.00')}"
        f" − 生产经营性支出 {t.get('production_expense', '0.00')}{payout}）÷ 家庭人口 {r.members}"
        f" = {_yuan(a.per_capita)} 元；扣除合规自付支出 {t.get('compliant_out_of_pocket', '0.00')} 后人均"
        f" {_yuan(r.per_capita_after_rigid)} 元；{y['label']}监测收入线 {_yuan(a.line)} 元"
    )
    return {
        "label": y["label"],
        "window_start": r.window_start,
        "window_end": r.window_end,
        "months_covered": r.months_covered,
        "members": r.members,
        "totals": t,
        "net_income": _yuan(r.net_income),
        "per_capita": _yuan(a.per_capita),
        "per_capita_after_rigid": _yuan(r.per_capita_after_rigid),
        "line": _yuan(a.line),
        "below_line": a.below_line,
        "below_line_after_rigid": a.below_line_after_rigid,
        "missing": a.missing,
        "verdict": a.verdict,
        "formula": formula,
        "warnings": [mask_text(str(w)) for w in r.warnings],
        "params": [
            {
                "key": p["key"],
                "version": p.get("version"),
                "region": str(p.get("region") or ""),
                "year": int(p.get("year") or 0),
                "value": str(p.get("value")),
            }
            for p in a.params
        ],
    }


def guarantees(result, *, on: dt.date) -> dict:
    return {
        "on": on,
        "ok": result.ok,
        "failures": [
            {
                "dimension": f.dimension,
                "dimension_name": GUARANTEE_NAMES.get(f.dimension, f.dimension),
                "code": f.code,
                "message": mask_text(f.message),
            }
            for f in result.failures
        ],
    }


def timeline_entry(e) -> dict:
    """A ``trust.timeline.TimelineEntry``, its texts masked like every API answer (a phone change's old and
    new numbers, an ID in a member change). A birth's date is a member's birth date: only its year is given
    (1 January), as a birth date is never sent next to a masked ID."""
    on = e.on
    if e.kind == "member" and "出生" in e.title and on:
        on = on.replace(month=1, day=1)
    return {
        "on": on,
        "kind": e.kind,
        "title": mask_text(e.title),
        "detail": mask_text(e.detail or ""),
        "who": e.who or "",
        "case_id": e.link_case,
    }
