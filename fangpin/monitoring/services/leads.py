"""风险线索: the single entry point of every discovery channel (self-application, cadre visit,
department screening, disasters, appeals) and the outcome that flows back to each source.

Public interface used by other parts (keep the signatures):
    lead_submit(*, actor, household, channel, source_ref="", evidence=None, risk_types=None, note="", on) -> Lead
    lead_close(*, actor, lead, outcome, reason, on=None) -> Lead
Screening passes ``source_ref="screening_run:<id>:rule:<code>"`` and reads ``LeadSource.outcome`` back
(``selectors.lead_source_outcomes``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.accounts.actors import is_system
from fangpin.accounts.roles import Cap
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.registry.models import Household

from ..models import Lead, LeadChannel, LeadOutcome, LeadSource, LeadStatus, MonitoringObject, ObjectStatus
from ._common import Params, ensure_in_scope, require_any, township_code, validate_risk_types

E_CHANNEL = "lead_channel_unknown"
E_CONSENT = "lead_consent_required"
E_OUTCOME = "lead_outcome_unknown"
E_REASON = "lead_reason_required"
E_LEAD_CLOSED = "lead_already_closed"
E_LEAD_IN_CASE = "lead_in_case"
E_CONFIRM_NEEDS_CASE = "lead_confirm_needs_case"

SUBMIT_CHANNELS = {
    LeadChannel.SELF_APPLICATION,
    LeadChannel.CADRE_VISIT,
    LeadChannel.DEPARTMENT_SCREENING,
    LeadChannel.DISASTER,
    LeadChannel.APPEAL,
    LeadChannel.OTHER,
}
# Channels a batch job may submit as the system (accounts.actors.system_actor): machine-produced leads.
SYSTEM_CHANNELS = {LeadChannel.DEPARTMENT_SCREENING, LeadChannel.DISASTER}
CLOSE_OUTCOMES = {LeadOutcome.CONFIRMED, LeadOutcome.NOT_A_RISK, LeadOutcome.DATA_ERROR}


def _authorise_submit(actor, channel: str) -> None:
    if is_system(actor):
        if channel not in SYSTEM_CHANNELS:
            raise PermissionDenied("只有部门筛查、灾害事件线索可由系统任务提交")
        return
    if actor.can(Cap.LEAD_SUBMIT):
        return
    if channel == LeadChannel.DEPARTMENT_SCREENING and actor.can(Cap.SCREEN_RUN):
        return
    raise PermissionDenied()


def _consent(channel: str, evidence: dict[str, Any]) -> tuple[bool, dt.date | None]:
    """农户自主申报 must carry the 承诺授权书 answer (signed or not); the asset check depends on it."""
    consent = evidence.get("consent")
    if channel != LeadChannel.SELF_APPLICATION:
        return False, None
    if not isinstance(consent, dict) or "signed" not in consent:
        raise DomainError(
            E_CONSENT, "农户自主申报须记录是否签署《承诺授权书》（授权查询家庭资产）", field="evidence"
        )
    signed_on = consent.get("signed_on")
    if isinstance(signed_on, str) and signed_on:
        signed_on = dt.date.fromisoformat(signed_on)
    return bool(consent["signed"]), signed_on or None


@transaction.atomic
def lead_submit(
    *,
    actor,
    household: Household,
    channel: str,
    source_ref: str = "",
    evidence: dict | None = None,
    risk_types: list[str] | None = None,
    note: str = "",
    on: dt.date,
) -> Lead:
    """Adds a report to the household's one open lead, or to its monitoring object's lead when the
    household is already monitored (marked 已是监测对象), or opens a new lead routed to its village and
    township. Re-submitting the same non-empty ``source_ref`` for the same lead changes nothing."""
    if channel not in SUBMIT_CHANNELS:
        raise DomainError(E_CHANNEL, f"未知的线索渠道“{channel}”", field="channel")
    _authorise_submit(actor, channel)
    hh = Household.objects.select_for_update().get(pk=household.pk)
    ensure_in_scope(actor, hh)
    evidence = dict(evidence or {})
    p = Params(hh.village_id, on.year)
    risk_types = validate_risk_types(risk_types, p)
    consent_signed, consent_on = _consent(channel, evidence)
    user = actor if getattr(actor, "pk", None) else None

    active = MonitoringObject.objects.filter(household=hh, status=ObjectStatus.ACTIVE).first()
    lead = Lead.objects.filter(household=hh, status__in=[LeadStatus.OPEN, LeadStatus.IN_CASE]).first()
    # A monitored household's report of risks the object already has is recorded on the object's lead
    # (已是监测对象). A risk it does not have is 再标注 — also right after a 风险消除回退 brought the object
    # back: it never joins the old, closed lead; it opens (or joins) an open lead that can start an
    # identification, whose county approval adds the risk to the object (steps.finalize_identification).
    new_risk = active is not None and bool(set(risk_types) - set(active.risk_types))
    already = active is not None and not new_risk
    if already and active.lead_id:
        lead = active.lead
    created = lead is None
    if created:
        lead = Lead.objects.create(
            household=hh,
            village_id=hh.village_id,
            township_id=township_code(hh.village_id),
            risk_types=risk_types,
            opened_on=on,
            created_by=user,
        )
    elif source_ref and lead.sources.filter(source_ref=source_ref).exists():
        return lead
    src = LeadSource.objects.create(
        lead=lead,
        channel=channel,
        source_ref=source_ref,
        evidence=evidence,
        risk_types=risk_types,
        note=note,
        consent_signed=consent_signed,
        consent_on=consent_on,
        already_monitored=already,
        monitoring_object=active if already else None,
        outcome=LeadOutcome.ALREADY_MONITORED if already else "",
        submitted_on=on,
        submitted_by=user,
    )
    if not created and not already:
        merged = list(lead.risk_types) + [r for r in risk_types if r not in lead.risk_types]
        if merged != lead.risk_types:
            lead.risk_types = merged
            lead.save(update_fields=["risk_types"])
    audit_record(
        actor=actor,
        event_type="monitoring.lead_submit",
        obj=lead,
        region_code=hh.village_id,
        household_id=hh.id,
        data={
            "source_id": src.id,
            "channel": channel,
            "source_ref": source_ref,
            "risk_types": risk_types,
            "new_lead": created,
            "already_monitored": already,
            "on": on.isoformat(),  # the business date (when it was found), shown on the case history
        },
    )
    return lead


def lead_finish(lead: Lead, *, actor, outcome: str, reason: str, on: dt.date) -> None:
    """Closes a lead and stamps the outcome on every source that has none (the screening feedback)."""
    lead.status = LeadStatus.CLOSED
    lead.outcome = outcome
    lead.outcome_reason = reason
    lead.closed_on = on
    lead.closed_by = actor if getattr(actor, "pk", None) else None
    lead.save(update_fields=["status", "outcome", "outcome_reason", "closed_on", "closed_by"])
    lead.sources.filter(outcome="").update(outcome=outcome)
    audit_record(
        actor=actor,
        event_type="monitoring.lead_close",
        obj=lead,
        region_code=lead.village_id,
        household_id=lead.household_id,
        data={"outcome": outcome, "on": on.isoformat()},
        reason=reason,
    )


@transaction.atomic
def lead_close(*, actor, lead: Lead, outcome: str, reason: str, on: dt.date) -> Lead:
    """Closes a lead after verification without a full procedure: 核实无风险 or 数据错误.

    ``confirmed`` is normally set by the identification case when the county enrols the household; it is
    accepted here only when the household is already an active monitoring object."""
    from fangpin.accounts.access import access_object

    require_any(actor, Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY)
    lead = access_object(actor, Lead, lead.pk, what="线索", for_update=True)
    if outcome not in CLOSE_OUTCOMES:
        raise DomainError(E_OUTCOME, f"未知的核实结果“{outcome}”", field="outcome")
    if not (reason or "").strip():
        raise DomainError(E_REASON, "办结线索须填写核实说明", field="reason")
    if lead.status == LeadStatus.CLOSED:
        raise DomainError(E_LEAD_CLOSED, "该线索已办结")
    if lead.status == LeadStatus.IN_CASE:
        raise DomainError(E_LEAD_IN_CASE, "该线索已进入识别程序，请在程序中作出不予纳入或审定决定")
    if (
        outcome == LeadOutcome.CONFIRMED
        and not MonitoringObject.objects.filter(household=lead.household, status=ObjectStatus.ACTIVE).exists()
    ):
        raise DomainError(E_CONFIRM_NEEDS_CASE, "核实有风险的线索须经识别程序审定后纳入监测，不能直接办结")
    lead_finish(lead, actor=actor, outcome=outcome, reason=reason, on=on)
    return lead
