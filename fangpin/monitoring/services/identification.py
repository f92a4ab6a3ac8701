"""识别纳入: opening the procedure from a lead, and the 绿色通道 (enrol first, procedure afterwards).
The steps themselves are worked with ``services.cases.case_step_complete`` / ``case_reject``."""

from __future__ import annotations

import datetime as dt

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import is_system
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audited_atomic
from fangpin.core.errors import DomainError

from ..models import Case, CaseKind, Lead, LeadStatus, ObjectOrigin
from ..rules import derive_category
from ._common import Params, require_any, validate_risk_types
from .cases import case_create, case_event
from .enrolment import monitoring_object_create
from .facts import household_snapshot

E_LEAD_NOT_OPEN = "lead_not_open"
E_GREEN_NOT_ELIGIBLE = "green_channel_not_eligible"
E_GREEN_REASON = "green_channel_reason_required"


@audited_atomic
def case_open(*, actor, lead: Lead, on: dt.date) -> Case:
    """The village starts 入户核查 on an open lead; the lead is then 识别程序中 until the case ends."""
    require(actor, Cap.CASE_VILLAGE)
    lead = access_object(actor, Lead, lead.pk, what="线索", for_update=True)
    if lead.status != LeadStatus.OPEN:
        raise DomainError(E_LEAD_NOT_OPEN, "只有待核实的线索可以启动识别程序")
    lead.status = LeadStatus.IN_CASE
    lead.save(update_fields=["status"])
    return case_create(
        actor=actor,
        kind=CaseKind.IDENTIFICATION,
        household=lead.household,
        lead=lead,
        on=on,
        proposal={"risk_types": lead.risk_types},
    )


@audited_atomic
def green_channel_enrol(
    *,
    actor,
    lead: Lead,
    risk_types: list[str],
    reason: str,
    category: str = "",
    on: dt.date,
) -> Case:
    """先帮后认: a township or county reviewer enrols at once for a sudden disaster, accident or serious
    illness; the identification steps must then be completed within procedure.green_channel_complete_days
    (the case's due date). A later 不予纳入 revokes the enrolment."""
    require_any(actor, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY)
    if is_system(actor):
        raise DomainError("permission_denied", "绿色通道须由乡镇或县级审核人启动")
    lead = access_object(actor, Lead, lead.pk, what="线索", for_update=True)
    if lead.status != LeadStatus.OPEN:
        raise DomainError(E_LEAD_NOT_OPEN, "只有待核实的线索可以启动绿色通道")
    if not (reason or "").strip():
        raise DomainError(E_GREEN_REASON, "启动绿色通道须说明突发情况", field="reason")
    hh = lead.household
    p = Params(hh.village_id, on.year)
    risk_types = validate_risk_types(risk_types, p, minimum=1)
    allowed = p("procedure.green_channel_risk_types")
    if not set(risk_types) & set(allowed):
        raise DomainError(E_GREEN_NOT_ELIGIBLE, f"绿色通道仅适用于{'、'.join(allowed)}等突发情况")
    snap = household_snapshot(hh, on=on)
    derived = derive_category(
        household_type=hh.household_type,
        below_line=snap["income"]["below_line"],
        below_line_after_rigid=snap["income"]["below_line_after_rigid"],
    )
    chosen = category or derived.category or "突发严重困难户"
    lead.status = LeadStatus.IN_CASE
    lead.save(update_fields=["status"])
    case = case_create(
        actor=actor,
        kind=CaseKind.IDENTIFICATION,
        household=hh,
        lead=lead,
        on=on,
        green_channel=True,
        proposal={"risk_types": risk_types, "category": chosen, "category_derived": derived.category},
        facts={"green_channel": snap},
        params=snap["params"] + p.refs(),
    )
    obj = monitoring_object_create(
        actor=actor,
        household=hh,
        category=chosen,
        risk_types=risk_types,
        identified_on=on,
        origin=ObjectOrigin.GREEN_CHANNEL,
        lead=lead,
        category_derived=derived.category,
        category_override_reason="" if chosen == derived.category else f"绿色通道：{reason}",
        decision={"green_channel": True, "case": case.pk, "params": case.params, "snapshot": snap},
    )
    case.monitoring_object = obj
    case.save(update_fields=["monitoring_object"])
    case_event(
        case,
        actor=actor,
        kind="green_channel_enrol",
        on=on,
        data={"object": obj.pk, "category": chosen},
        reason=reason,
    )
    return case
