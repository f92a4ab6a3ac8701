"""What each step records and checks, and what the last step does (HANDLERS / FINALIZERS / REJECTERS).

Handlers receive the locked case and step row and the data the user entered; they return what the step
stores, or raise DomainError with a code when the step may not pass (the user must then reject)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError

from ..models import (
    Case,
    CaseKind,
    CaseStep,
    Category,
    EliminationMethod,
    LeadChannel,
    LeadOutcome,
    LeadStatus,
    Measure,
    MeasureStatus,
    MonitoringObject,
    ObjectOrigin,
    ObjectStatus,
)
from ..rules import derive_category
from ._common import Params, validate_risk_types
from .enrolment import E_ALREADY_ACTIVE, gradual_exit_end, monitoring_object_create
from .facts import elimination_check, household_snapshot
from .leads import lead_finish

E_INCOME_MISSING = "income_data_incomplete"
E_NOT_ELIGIBLE = "income_not_eligible"
E_OVERRIDE_REASON = "category_override_reason_required"
E_EXCLUDED = "exclusion_criteria_met"
E_EXCLUSION_UNKNOWN = "exclusion_unknown"
E_MEETING = "meeting_invalid"
E_VOTE_FAILED = "deliberation_not_passed"
E_PUBLICITY_SHORT = "publicity_too_short"
E_REVERSAL_REASON = "reversal_reason_required"

Data = dict[str, Any]


def _date(v: Any, default: dt.date) -> dt.date:
    if v in (None, ""):
        return default
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def _merge_params(case: Case, refs: list[dict[str, Any]]) -> None:
    seen = {(r["key"], r["id"]) for r in case.params}
    case.params = case.params + [r for r in refs if (r["key"], r["id"]) not in seen]


def _choose_category(
    case: Case, data: Data, derived: str, *, income_missing: bool = False
) -> tuple[str, str]:
    """The derived category unless the actor overrides it with a reason."""
    wanted = data.get("category") or ""
    if wanted and wanted not in Category.values:
        raise DomainError("category_unknown", f"监测对象类别“{wanted}”无效")
    if wanted and wanted != derived:
        reason = (data.get("override_reason") or "").strip()
        if not reason:
            raise DomainError(
                E_OVERRIDE_REASON, f"调整系统判定类别（{derived or '不符合'}→{wanted}）须填写理由"
            )
        return wanted, reason
    if not derived and income_missing:
        raise DomainError(
            E_INCOME_MISSING,
            "收入数据不完整（计算期间没有收入记录）：无法判定是否低于监测范围，请先补充收入记录，或说明理由选择类别",
        )
    if not derived:
        raise DomainError(
            E_NOT_ELIGIBLE,
            "人均纯收入（含扣除合规自付支出后）高于监测范围，系统无法判定类别：请作出不予纳入决定，或说明理由调整类别",
        )
    return derived, ""


# ---- identification -------------------------------------------------------------------------------


def verify_identification(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    hh = case.household
    snap = household_snapshot(hh, on=on)
    inc = snap["income"]
    decision = derive_category(
        household_type=hh.household_type,
        below_line=inc["below_line"],
        below_line_after_rigid=inc["below_line_after_rigid"],
    )
    p = Params(hh.village_id, on.year)
    risk_types = validate_risk_types(data.get("risk_types") or case.lead.risk_types, p, minimum=1)
    category, override = _choose_category(case, data, decision.category, income_missing=inc["missing"])
    case.facts = {**case.facts, "verify": snap}
    case.proposal = {
        **case.proposal,
        "category_derived": decision.category,
        "category_reason": decision.reason,
        "category": category,
        "override_reason": override,
        "risk_types": risk_types,
    }
    _merge_params(case, snap["params"] + p.refs())
    return {"findings": data.get("findings", ""), "snapshot": snap, "proposal": case.proposal}


def compare(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    """信息比对: red flags from department data and the 不予纳入 criteria (catalogue parameter)."""
    p = Params(case.household.village_id, on.year)
    catalogue = p("identification.exclusion_criteria")
    exclusions = list(data.get("exclusions") or [])
    unknown = [x for x in exclusions if x not in catalogue]
    if unknown:
        raise DomainError(E_EXCLUSION_UNKNOWN, f"不予纳入情形“{'、'.join(unknown)}”不在目录中")
    if exclusions:
        raise DomainError(E_EXCLUDED, f"符合不予纳入情形：{'、'.join(exclusions)}；请作出不予纳入决定")
    consent = None
    if case.lead_id:
        apps = case.lead.sources.filter(channel=LeadChannel.SELF_APPLICATION)
        if apps.exists():
            consent = apps.filter(consent_signed=True).exists()
    _merge_params(case, p.refs())
    return {
        "asset_red_flags": list(data.get("asset_red_flags") or []),
        "exclusions_checked": catalogue,
        "consent_signed": consent,
        "asset_check_run": consent is not False,
        "note": data.get("note", ""),
    }


def deliberate(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    """民主评议: one meeting (村民代表会议 or 扩大的村两委会议), attendance and votes."""
    meeting_on = _date(data.get("meeting_on"), on)
    try:
        attendance = int(data["attendance"])
        votes_for = int(data["votes_for"])
        votes_against = int(data.get("votes_against", 0))
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(E_MEETING, "民主评议须记录出席人数、赞成票和反对票") from exc
    if not row.started_on <= meeting_on <= on:
        raise DomainError(E_MEETING, "评议会议日期须在本环节开始之后、办理日期之前")
    if attendance <= 0 or votes_for < 0 or votes_against < 0 or votes_for + votes_against > attendance:
        raise DomainError(E_MEETING, "票数与出席人数不符")
    p = Params(case.household.village_id, on.year)
    share = float(p("procedure.deliberation_pass_share"))
    _merge_params(case, p.refs())
    if votes_for <= attendance * share:
        raise DomainError(
            E_VOTE_FAILED,
            f"赞成票{votes_for}票未超过出席人数{attendance}的{share:.0%}，评议未通过，请作出不予通过决定",
        )
    return {
        "meeting_on": meeting_on.isoformat(),
        "meeting_kind": data.get("meeting_kind", "村民代表会议"),
        "attendance": attendance,
        "votes_for": votes_for,
        "votes_against": votes_against,
        "minutes": data.get("minutes", ""),
    }


def publicize(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    """村内公示: at least procedure.publicity_days calendar days, days paused by objections excluded."""
    start = _date(data.get("start_on"), row.started_on)
    if start < row.started_on or start > on:
        raise DomainError("step_date_invalid", "公示开始日期须在评议之后、办理日期之前")
    p = Params(case.household.village_id, on.year)
    need = int(p("procedure.publicity_days"))
    _merge_params(case, p.refs())
    served = (on - start).days - row.paused_days
    if served < need:
        raise DomainError(
            E_PUBLICITY_SHORT, f"公示期不少于{need}天，目前仅{max(served, 0)}天，请公示期满后再办理"
        )
    return {
        "start_on": start.isoformat(),
        "end_on": on.isoformat(),
        "days": served,
        "place": data.get("place", ""),
    }


def review(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    return {"opinion": data.get("opinion", "同意")}


def county_identification(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    """县级审定 may change category (with reason) or risk types; the result is enrolled by the finalizer."""
    out: Data = {"opinion": data.get("opinion", "同意纳入")}
    if data.get("category") and data["category"] != case.proposal.get("category"):
        category, reason = _choose_category(case, data, case.proposal.get("category_derived", ""))
        case.proposal = {**case.proposal, "category": category, "override_reason": reason}
        out.update(category=category, override_reason=reason)
    if data.get("risk_types"):
        p = Params(case.household.village_id, on.year)
        case.proposal = {**case.proposal, "risk_types": validate_risk_types(data["risk_types"], p, minimum=1)}
        out["risk_types"] = case.proposal["risk_types"]
    return out


def finalize_identification(case: Case, *, actor, on: dt.date, data: Data) -> None:
    prop = case.proposal
    decision = {
        "case": case.pk,
        "verify": case.facts.get("verify", {}),
        "category_reason": prop.get("category_reason", ""),
        "params": case.params,
    }
    obj = case.monitoring_object
    current = MonitoringObject.objects.filter(household=case.household, status=ObjectStatus.ACTIVE).first()
    if obj is None and current is not None:  # 再标注: the monitored household's new risk joins its object
        before = {"category": current.category, "risk_types": list(current.risk_types)}
        current.risk_types = before["risk_types"] + [
            r for r in prop["risk_types"] if r not in before["risk_types"]
        ]
        remarks = [
            *current.decision.get("remarked", []),
            {**decision, "on": on.isoformat(), "lead": case.lead_id},
        ]
        current.decision = {**current.decision, "remarked": remarks}
        current.save(update_fields=["risk_types", "decision"])
        audit_record(
            actor=actor,
            event_type="monitoring.object_remark",
            obj=current,
            region_code=case.household.village_id,
            household_id=case.household_id,
            data={
                "before": before,
                "after": {"category": current.category, "risk_types": current.risk_types},
            },
        )
        case.monitoring_object = obj = current
        case.save(update_fields=["monitoring_object"])
    elif obj is not None:  # green channel: already enrolled, the procedure confirms it
        before = {"category": obj.category, "risk_types": obj.risk_types}
        obj.category = prop["category"]
        obj.category_derived = prop.get("category_derived", "")
        obj.category_override_reason = prop.get("override_reason", "")
        obj.risk_types = prop["risk_types"]
        obj.decision = {**obj.decision, **decision, "procedure_completed_on": on.isoformat()}
        obj.save()
        audit_record(
            actor=actor,
            event_type="monitoring.object_confirm",
            obj=obj,
            region_code=case.household.village_id,
            household_id=case.household_id,
            data={"before": before, "after": {"category": obj.category, "risk_types": obj.risk_types}},
        )
    else:
        obj = monitoring_object_create(
            actor=actor,
            household=case.household,
            category=prop["category"],
            risk_types=prop["risk_types"],
            identified_on=on,
            origin=ObjectOrigin.PROCEDURE,
            lead=case.lead,
            category_derived=prop.get("category_derived", ""),
            category_override_reason=prop.get("override_reason", ""),
            decision=decision,
        )
        case.monitoring_object = obj
        case.save(update_fields=["monitoring_object"])
    if case.lead and case.lead.status != LeadStatus.CLOSED:
        lead_finish(
            case.lead,
            actor=actor,
            outcome=LeadOutcome.CONFIRMED,
            reason=f"县级审定纳入：{obj.category}",
            on=on,
        )


def reject_identification(case: Case, *, actor, on: dt.date, reason: str) -> None:
    if case.lead and case.lead.status != LeadStatus.CLOSED:
        lead_finish(
            case.lead, actor=actor, outcome=LeadOutcome.NOT_A_RISK, reason=f"不予纳入。{reason}", on=on
        )
    obj = case.monitoring_object
    if obj is not None and obj.status == ObjectStatus.ACTIVE:  # green channel enrolment withdrawn
        obj.status = ObjectStatus.REVOKED
        obj.save(update_fields=["status"])
        audit_record(
            actor=actor,
            event_type="monitoring.object_revoke",
            obj=obj,
            region_code=case.household.village_id,
            household_id=case.household_id,
            reason=reason,
        )


# ---- elimination and reversal --------------------------------------------------------------------


def _raise_refusals(refusals: list) -> None:
    if refusals:
        first = refusals[0]
        raise DomainError(
            first.code,
            "；".join(r.message for r in refusals),
            details={"refusals": [{"code": r.code, "message": r.message} for r in refusals]},
        )


def verify_elimination(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    refusals, facts, refs = elimination_check(case.monitoring_object, on=on)
    _raise_refusals(refusals)
    case.facts = {**case.facts, "verify": facts}
    _merge_params(case, refs)
    return {"findings": data.get("findings", ""), "facts": facts}


def finalize_elimination(case: Case, *, actor, on: dt.date, data: Data) -> None:
    obj = MonitoringObject.objects.select_for_update().get(pk=case.monitoring_object_id)
    refusals, facts, refs = elimination_check(obj, on=on)
    _raise_refusals(refusals)
    _merge_params(case, refs)
    case.save(update_fields=["params"])
    method = case.proposal.get("method", EliminationMethod.ASSISTED)
    until, gref = gradual_exit_end(obj.household, on)
    p = Params(obj.household.village_id, on.year)
    continuing = set(p("elimination.continuing_measures"))
    live = Measure.objects.filter(
        monitoring_object=obj, status__in=[MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS]
    )
    stopped = list(live.exclude(name__in=continuing).values_list("id", flat=True))
    Measure.objects.filter(id__in=stopped).update(
        status=MeasureStatus.STOPPED, end_on=on, outcome="风险消除后停止"
    )
    kept = list(live.filter(name__in=continuing).values_list("id", flat=True))
    Measure.objects.filter(id__in=kept).update(continues_after_elimination=True)
    obj.status = ObjectStatus.ELIMINATED
    obj.eliminated_on = on
    obj.elimination_method = method
    obj.gradual_exit_until = until
    obj.decision = {
        **obj.decision,
        "elimination": {"case": case.pk, "facts": facts, "params": case.params + [gref] + p.refs()},
    }
    obj.save()
    audit_record(
        actor=actor,
        event_type="monitoring.object_eliminate",
        obj=obj,
        region_code=obj.household.village_id,
        household_id=obj.household_id,
        data={
            "on": on.isoformat(),
            "method": method,
            "gradual_exit_until": until.isoformat(),
            "measures_stopped": stopped,
            "measures_continuing": kept,
            "case": case.pk,
        },
    )


def verify_reversal(case: Case, row: CaseStep, *, actor, on: dt.date, data: Data) -> Data:
    snap = household_snapshot(case.household, on=on)
    case.facts = {**case.facts, "verify": snap}
    _merge_params(case, snap["params"])
    return {"findings": data.get("findings", ""), "snapshot": snap}


def reverse_object(
    obj: MonitoringObject, *, actor, on: dt.date, reason: str, case: Case | None = None
) -> None:
    """风险消除回退: the object is monitored again, with its elimination kept in ``decision``."""
    if MonitoringObject.objects.filter(household=obj.household, status=ObjectStatus.ACTIVE).exists():
        raise DomainError(E_ALREADY_ACTIVE, "该户已有在监测的记录，不能回退")
    before = {"eliminated_on": obj.eliminated_on, "method": obj.elimination_method}
    history = [
        *obj.decision.get("reversed", []),
        {
            **{k: str(v) for k, v in before.items()},
            "on": on.isoformat(),
            "reason": reason,
            "case": case.pk if case else None,
        },
    ]
    obj.status = ObjectStatus.ACTIVE
    obj.eliminated_on = None
    obj.elimination_method = ""
    obj.gradual_exit_until = None
    obj.village_id = obj.household.village_id  # monitored again: current work, where the household lives
    obj.reversals += 1
    obj.decision = {**obj.decision, "reversed": history}
    obj.save()
    Measure.objects.filter(monitoring_object=obj, continues_after_elimination=True).update(
        continues_after_elimination=False
    )
    audit_record(
        actor=actor,
        event_type="monitoring.object_reverse",
        obj=obj,
        region_code=obj.household.village_id,
        household_id=obj.household_id,
        data={"before": before, "on": on.isoformat(), "case": case.pk if case else None},
        reason=reason,
    )


def finalize_reversal(case: Case, *, actor, on: dt.date, data: Data) -> None:
    obj = MonitoringObject.objects.select_for_update().get(pk=case.monitoring_object_id)
    reverse_object(obj, actor=actor, on=on, reason=case.proposal.get("reason", ""), case=case)


def reject_noop(case: Case, *, actor, on: dt.date, reason: str) -> None:
    """Elimination or reversal refused: the object keeps its state; the case event records why."""


HANDLERS = {
    (CaseKind.IDENTIFICATION, "verify"): verify_identification,
    (CaseKind.IDENTIFICATION, "compare"): compare,
    (CaseKind.IDENTIFICATION, "county"): county_identification,
    (CaseKind.ELIMINATION, "verify"): verify_elimination,
    (CaseKind.REVERSAL, "verify"): verify_reversal,
    ("*", "deliberate"): deliberate,
    ("*", "publicize"): publicize,
    ("*", "township"): review,
    ("*", "county"): review,
}
FINALIZERS = {
    CaseKind.IDENTIFICATION: finalize_identification,
    CaseKind.ELIMINATION: finalize_elimination,
    CaseKind.REVERSAL: finalize_reversal,
}
REJECTERS = {
    CaseKind.IDENTIFICATION: reject_identification,
    CaseKind.ELIMINATION: reject_noop,
    CaseKind.REVERSAL: reject_noop,
}
