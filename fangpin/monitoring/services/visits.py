"""走访记录: a visit against the nine-aspect checklist (visits.checklist_aspects); a visit that finds a
risk becomes a lead through ``lead_submit`` (channel cadre_visit, source_ref visit:<id>)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from ..models import LeadChannel, Visit
from ._common import Params, validate_risk_types
from .leads import lead_submit

E_CHECKLIST = "visit_checklist_incomplete"
E_VISIT_DATE = "visit_date_invalid"
E_RISK_WITHOUT_FINDING = "visit_risk_inconsistent"


def _normalise(checklist: dict[str, Any], aspects: dict[str, str]) -> dict[str, dict[str, Any]]:
    unknown = set(checklist) - set(aspects)
    missing = [aspects[a] for a in aspects if a not in checklist]
    if unknown or missing:
        raise DomainError(
            E_CHECKLIST,
            "走访须逐项填写九个方面"
            + (f"，缺少：{'、'.join(missing)}" if missing else "")
            + (f"，未知项：{'、'.join(sorted(unknown))}" if unknown else ""),
            field="checklist",
        )
    out = {}
    for a, v in checklist.items():
        item = v if isinstance(v, dict) else {"ok": bool(v)}
        out[a] = {"ok": bool(item.get("ok")), "note": str(item.get("note", ""))}
    return out


@transaction.atomic
def visit_log(
    *,
    actor,
    household: Household,
    visited_on: dt.date,
    checklist: dict[str, Any],
    has_risk: bool,
    risk_types: list[str] | None = None,
    note: str = "",
) -> Visit:
    require(actor, Cap.VISIT_LOG)
    hh = access_object(actor, Household, household.pk, what="户")
    if visited_on > clock.today():
        raise DomainError(E_VISIT_DATE, "走访日期不能晚于今天", field="visited_on")
    p = Params(hh.village_id, visited_on.year)
    items = _normalise(checklist, p("visits.checklist_aspects"))
    risk_types = validate_risk_types(risk_types, p)
    if risk_types and not has_risk:
        raise DomainError(E_RISK_WITHOUT_FINDING, "填写了风险类型但走访结论为无风险，请核对")
    v = Visit.objects.create(
        household=hh,
        visitor=actor,
        visited_on=visited_on,
        checklist=items,
        has_risk=has_risk,
        risk_types=risk_types,
        note=note,
    )
    audit_record(
        actor=actor,
        event_type="monitoring.visit_log",
        obj=v,
        region_code=hh.village_id,
        household_id=hh.id,
        data={"visited_on": visited_on.isoformat(), "has_risk": has_risk, "risk_types": risk_types},
    )
    if has_risk:
        problems = {a: i["note"] for a, i in items.items() if not i["ok"]}
        v.lead = lead_submit(
            actor=actor,
            household=hh,
            channel=LeadChannel.CADRE_VISIT,
            source_ref=f"visit:{v.pk}",
            evidence={"visit_id": v.pk, "problems": problems},
            risk_types=risk_types,
            note=note,
            on=visited_on,
        )
        v.save(update_fields=["lead"])
    return v
