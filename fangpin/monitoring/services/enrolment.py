"""Enrolment as 监测对象: the one place a MonitoringObject is created.

``enrol_existing`` loads objects that already exist in the national system (importer, demo generator);
``monitoring_object_create`` is used by the identification workflow (county approval, green channel).
Public interface (keep the signature):
    enrol_existing(*, actor, household, category, risk_types, identified_on, eliminated_on=None,
                   elimination_method="", source_ref="") -> MonitoringObject
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from ..models import (
    Category,
    EliminationMethod,
    Lead,
    LeadChannel,
    LeadOutcome,
    LeadSource,
    LeadStatus,
    MonitoringObject,
    ObjectOrigin,
    ObjectStatus,
)
from ._common import Params, ensure_in_scope, require_any, township_code, validate_risk_types

E_CATEGORY = "category_unknown"
E_METHOD = "elimination_method_unknown"
E_ALREADY_ACTIVE = "already_monitored"
E_DATES = "enrolment_dates_invalid"


def _check_category(category: str) -> None:
    if category not in Category.values:
        raise DomainError(E_CATEGORY, f"监测对象类别“{category}”无效，应为：{'、'.join(Category.values)}")


def monitoring_object_create(
    *,
    actor,
    household: Household,
    category: str,
    risk_types: list[str],
    identified_on: dt.date,
    origin: str,
    lead: Lead | None = None,
    category_derived: str = "",
    category_override_reason: str = "",
    decision: dict[str, Any] | None = None,
    source_ref: str = "",
) -> MonitoringObject:
    """Creates the object (caller holds the transaction and has checked capability and scope)."""
    _check_category(category)
    if MonitoringObject.objects.filter(household=household, status=ObjectStatus.ACTIVE).exists():
        raise DomainError(E_ALREADY_ACTIVE, "该户已是监测对象，不能重复纳入")
    obj = MonitoringObject.objects.create(
        household=household,
        category=category,
        category_derived=category_derived,
        category_override_reason=category_override_reason,
        risk_types=risk_types,
        identified_on=identified_on,
        origin=origin,
        lead=lead,
        decision=decision or {},
        source_ref=source_ref,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        event_type="monitoring.object_enrol",
        obj=obj,
        region_code=household.village_id,
        household_id=household.id,
        data={
            "category": category,
            "category_derived": category_derived,
            "risk_types": risk_types,
            "identified_on": identified_on.isoformat(),
            "origin": origin,
            "lead": lead.pk if lead else None,
            "params": (decision or {}).get("params", []),
        },
        reason=category_override_reason,
    )
    return obj


def gradual_exit_end(household: Household, eliminated_on: dt.date) -> tuple[dt.date, dict[str, Any]]:
    """渐退期 end: elimination.gradual_exit_months (region-specific, 龙安区 12) after elimination."""
    p = Params(household.village_id, eliminated_on.year)
    months = int(p("elimination.gradual_exit_months"))
    return clock.add_months(eliminated_on, months), p.refs()[0]


@transaction.atomic
def enrol_existing(
    *,
    actor,
    household: Household,
    category: str,
    risk_types: list[str],
    identified_on: dt.date,
    eliminated_on: dt.date | None = None,
    elimination_method: str = "",
    source_ref: str = "",
) -> MonitoringObject:
    """Loads a monitoring object that the national system already holds, without re-running the
    procedure. Idempotent per (household, identified_on): a second call returns the same object, and
    records an elimination the first call did not know about. A job passes ``system_actor(...)``."""
    require_any(actor, Cap.REGISTRY_IMPORT)
    hh = Household.objects.select_for_update().get(pk=household.pk)
    ensure_in_scope(actor, hh)
    _check_category(category)
    if eliminated_on is not None:
        if eliminated_on < identified_on:
            raise DomainError(E_DATES, "风险消除时间早于识别监测时间", field="eliminated_on")
        if elimination_method not in EliminationMethod.values:
            raise DomainError(E_METHOD, "已消除风险的监测对象须填写风险消除方式（帮扶消除/自然消除）")
    p = Params(hh.village_id, identified_on.year)
    risk_types = validate_risk_types(risk_types, p, minimum=1)

    existing = MonitoringObject.objects.filter(household=hh, identified_on=identified_on).first()
    if existing is not None:
        if eliminated_on and existing.status == ObjectStatus.ACTIVE:
            _mark_eliminated(existing, actor=actor, on=eliminated_on, method=elimination_method, via="import")
        return existing

    lead = Lead.objects.create(
        household=hh,
        village_id=hh.village_id,
        township_id=township_code(hh.village_id),
        status=LeadStatus.CLOSED,
        outcome=LeadOutcome.CONFIRMED,
        outcome_reason="国家防返贫监测信息系统已有监测对象",
        risk_types=risk_types,
        opened_on=identified_on,
        closed_on=identified_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    LeadSource.objects.create(
        lead=lead,
        channel=LeadChannel.IMPORT,
        source_ref=source_ref,
        risk_types=risk_types,
        outcome=LeadOutcome.CONFIRMED,
        submitted_on=identified_on,
        submitted_by=lead.created_by,
    )
    if (
        eliminated_on is None
        and MonitoringObject.objects.filter(household=hh, status=ObjectStatus.ACTIVE).exists()
    ):
        raise DomainError(E_ALREADY_ACTIVE, "该户已有另一条在监测的记录（识别时间不同），请核对")
    decision: dict[str, Any] = {"params": p.refs(), "note": "导入：类别以国家系统为准"}
    extra: dict[str, Any] = {}
    if eliminated_on:
        until, ref = gradual_exit_end(hh, eliminated_on)
        decision["elimination"] = {"via": "import", "gradual_exit": ref}
        extra = {
            "status": ObjectStatus.ELIMINATED,
            "eliminated_on": eliminated_on,
            "elimination_method": elimination_method,
            "gradual_exit_until": until,
        }
    obj = MonitoringObject.objects.create(
        household=hh,
        category=category,
        risk_types=risk_types,
        identified_on=identified_on,
        origin=ObjectOrigin.IMPORTED,
        lead=lead,
        source_ref=source_ref,
        decision=decision,
        created_by=lead.created_by,
        **extra,
    )
    audit_record(
        actor=actor,
        event_type="monitoring.object_import",
        obj=obj,
        region_code=hh.village_id,
        household_id=hh.id,
        data={
            "category": category,
            "risk_types": risk_types,
            "identified_on": identified_on.isoformat(),
            "eliminated_on": eliminated_on.isoformat() if eliminated_on else None,
            "source_ref": source_ref,
        },
    )
    return obj


def _mark_eliminated(obj: MonitoringObject, *, actor, on: dt.date, method: str, via: str) -> None:
    until, ref = gradual_exit_end(obj.household, on)
    obj.status = ObjectStatus.ELIMINATED
    obj.eliminated_on = on
    obj.elimination_method = method
    obj.gradual_exit_until = until
    obj.decision = {**obj.decision, "elimination": {"via": via, "gradual_exit": ref}}
    obj.save(
        update_fields=["status", "eliminated_on", "elimination_method", "gradual_exit_until", "decision"]
    )
    audit_record(
        actor=actor,
        event_type="monitoring.object_eliminate",
        obj=obj,
        region_code=obj.household.village_id,
        household_id=obj.household_id,
        data={"on": on.isoformat(), "method": method, "via": via, "gradual_exit_until": until.isoformat()},
    )
