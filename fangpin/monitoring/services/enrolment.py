"""Enrolment as 监测对象: the one place a MonitoringObject is created.

``enrol_existing`` loads objects that already exist in the national system (importer, demo generator);
``monitoring_object_create`` is used by the identification workflow (county approval, green channel).
Public interface (keep the signature):
    enrol_existing(*, actor, household, category, risk_types, identified_on, eliminated_on=None,
                   elimination_method="", source_ref="") -> MonitoringObject
    enrol_existing_many(*, actor, items: Sequence[ExistingEnrolment]) -> list[MonitoringObject]
        the same for many households at once (an import's hand-over): the same checks, rows and audit
        events as calling ``enrol_existing`` for each in turn, with parameters read once per (village,
        year), households locked in one query and rows and audit events written in bulk. All or nothing:
        any refusal raises ``EnrolmentRefused`` listing every refused item, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.audit.record import audit_record, audit_record_many
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.policy.models import Parameter
from fangpin.policy.params import ParamValue, param_get
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
E_REFUSED = "enrolment_refused"


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


def _check_existing_args(
    category: str, identified_on: dt.date, eliminated_on: dt.date | None, elimination_method: str
) -> None:
    _check_category(category)
    if eliminated_on is not None:
        if eliminated_on < identified_on:
            raise DomainError(E_DATES, "风险消除时间早于识别监测时间", field="eliminated_on")
        if elimination_method not in EliminationMethod.values:
            raise DomainError(E_METHOD, "已消除风险的监测对象须填写风险消除方式（帮扶消除/自然消除）")


def _import_lead(hh: Household, *, actor, risk_types: list[str], identified_on: dt.date) -> Lead:
    return Lead(
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


def _import_lead_source(lead: Lead, *, source_ref: str, risk_types: list[str], identified_on: dt.date):
    return LeadSource(
        lead=lead,
        village_id=lead.household.village_id,  # the snapshot save() would take (bulk_create skips save)
        channel=LeadChannel.IMPORT,
        source_ref=source_ref,
        risk_types=risk_types,
        outcome=LeadOutcome.CONFIRMED,
        submitted_on=identified_on,
        submitted_by=lead.created_by,
    )


def _imported_object(
    hh: Household,
    *,
    lead: Lead,
    category: str,
    risk_types: list[str],
    identified_on: dt.date,
    eliminated_on: dt.date | None,
    elimination_method: str,
    source_ref: str,
    param_refs: list[dict[str, Any]],
    gradual_exit: tuple[dt.date, dict[str, Any]] | None,
) -> MonitoringObject:
    decision: dict[str, Any] = {"params": param_refs, "note": "导入：类别以国家系统为准"}
    extra: dict[str, Any] = {}
    if eliminated_on:
        until, ref = gradual_exit  # type: ignore[misc]
        decision["elimination"] = {"via": "import", "gradual_exit": ref}
        extra = {
            "status": ObjectStatus.ELIMINATED,
            "eliminated_on": eliminated_on,
            "elimination_method": elimination_method,
            "gradual_exit_until": until,
        }
    return MonitoringObject(
        household=hh,
        village_id=hh.village_id,  # the snapshot save() would take (bulk_create skips save)
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


def _import_event(obj: MonitoringObject, *, actor) -> dict[str, Any]:
    return {
        "actor": actor,
        "event_type": "monitoring.object_import",
        "obj": obj,
        "region_code": obj.household.village_id,
        "household_id": obj.household_id,
        "data": {
            "category": obj.category,
            "risk_types": obj.risk_types,
            "identified_on": obj.identified_on.isoformat(),
            "eliminated_on": obj.eliminated_on.isoformat() if obj.eliminated_on else None,
            "source_ref": obj.source_ref,
        },
    }


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
    _check_existing_args(category, identified_on, eliminated_on, elimination_method)
    p = Params(hh.village_id, identified_on.year)
    risk_types = validate_risk_types(risk_types, p, minimum=1)

    existing = MonitoringObject.objects.filter(household=hh, identified_on=identified_on).first()
    if existing is not None:
        if eliminated_on and existing.status == ObjectStatus.ACTIVE:
            _mark_eliminated(existing, actor=actor, on=eliminated_on, method=elimination_method, via="import")
        return existing

    lead = _import_lead(hh, actor=actor, risk_types=risk_types, identified_on=identified_on)
    lead.save()
    _import_lead_source(
        lead, source_ref=source_ref, risk_types=risk_types, identified_on=identified_on
    ).save()
    if (
        eliminated_on is None
        and MonitoringObject.objects.filter(household=hh, status=ObjectStatus.ACTIVE).exists()
    ):
        raise DomainError(E_ALREADY_ACTIVE, "该户已有另一条在监测的记录（识别时间不同），请核对")
    obj = _imported_object(
        hh,
        lead=lead,
        category=category,
        risk_types=risk_types,
        identified_on=identified_on,
        eliminated_on=eliminated_on,
        elimination_method=elimination_method,
        source_ref=source_ref,
        param_refs=p.refs(),
        gradual_exit=gradual_exit_end(hh, eliminated_on) if eliminated_on else None,
    )
    obj.save()
    audit_record(**_import_event(obj, actor=actor))
    return obj


@dataclass(frozen=True)
class ExistingEnrolment:
    """One household's monitoring facts as the national system holds them (``enrol_existing``'s
    arguments)."""

    household: Household
    category: str
    risk_types: list[str]
    identified_on: dt.date
    eliminated_on: dt.date | None = None
    elimination_method: str = ""
    source_ref: str = ""


class EnrolmentRefused(DomainError):
    """``enrol_existing_many`` refused some items; ``errors`` = [(position in items, DomainError)]."""

    def __init__(self, errors: list[tuple[int, DomainError]]) -> None:
        super().__init__(E_REFUSED, f"{len(errors)}户监测对象未能纳入：{errors[0][1].message}")
        self.errors = errors


class _SharedParams:
    """Parameter values shared by a batch. ``param_get`` picks among the active parameters whose region
    code is a prefix of the village (全国, province, city, county, township, village), so two villages
    with the same such prefixes that carry the key get the same value: one read per key, year and class."""

    def __init__(self) -> None:
        self._codes: dict[str, set[str]] = {}
        self._values: dict[tuple[str, int, tuple[str, ...]], ParamValue] = {}

    def get(self, key: str, region_code: str, year: int) -> ParamValue:
        codes = self._codes.get(key)
        if codes is None:
            codes = self._codes[key] = set(
                Parameter.objects.filter(key=key, is_active=True).values_list("region_code", flat=True)
            )
        prefixes = tuple(region_code[:n] for n in (0, 2, 4, 6, 9, 12) if len(region_code) >= n)
        k = (key, year, tuple(c for c in prefixes if c in codes))
        pv = self._values.get(k)
        if pv is None:
            pv = self._values[k] = param_get(key, region_code=region_code, year=year)
        return pv


class _MemoParams(Params):
    """``Params`` whose reads go through a batch's ``_SharedParams``."""

    def __init__(self, region_code: str, year: int, shared: _SharedParams) -> None:
        super().__init__(region_code, year)
        self._shared = shared

    def __call__(self, key: str) -> Any:
        pv = self.used.get(key)
        if pv is None:
            pv = self.used[key] = self._shared.get(key, self.region_code, self.year)
        return pv.value


class _ParamCache:
    """Parameter reads of a batch: the same values and refs a fresh ``Params`` per call reads."""

    def __init__(self) -> None:
        self._shared = _SharedParams()

    def risk_types(self, village: str, year: int, risk_types: list[str]) -> tuple[list[str], list[dict]]:
        p = _MemoParams(village, year, self._shared)
        return validate_risk_types(risk_types, p, minimum=1), p.refs()

    def gradual_exit_end(self, village: str, on: dt.date) -> tuple[dt.date, dict[str, Any]]:
        p = _MemoParams(village, on.year, self._shared)
        months = int(p("elimination.gradual_exit_months"))
        return clock.add_months(on, months), p.refs()[0]


@transaction.atomic
def enrol_existing_many(*, actor, items: Sequence[ExistingEnrolment]) -> list[MonitoringObject]:
    """``enrol_existing`` for many households (see the module docstring); objects in the order of items."""
    require_any(actor, Cap.REGISTRY_IMPORT)
    if not items:
        return []
    ids = [it.household.pk for it in items]
    if len(set(ids)) != len(ids):  # a household twice: each call must see the one before it
        return [
            enrol_existing(
                actor=actor,
                household=it.household,
                category=it.category,
                risk_types=it.risk_types,
                identified_on=it.identified_on,
                eliminated_on=it.eliminated_on,
                elimination_method=it.elimination_method,
                source_ref=it.source_ref,
            )
            for it in items
        ]
    households = Household.objects.select_for_update().in_bulk(ids)
    existing: dict[tuple[int, dt.date], MonitoringObject] = {}
    active: set[int] = set()
    for obj in MonitoringObject.objects.filter(household_id__in=ids).select_related("household"):
        key = (obj.household_id, obj.identified_on)
        if key not in existing or obj.pk > existing[key].pk:  # .first() in the model's order: newest id
            existing[key] = obj
        if obj.status == ObjectStatus.ACTIVE:
            active.add(obj.household_id)
    params = _ParamCache()
    errors: list[tuple[int, DomainError]] = []
    exits: dict[int, tuple[dt.date, dict[str, Any]]] = {}  # item → (渐退期 end, parameter ref)
    planned: list[tuple[int, Household, list[str], list[dict]] | tuple[int, MonitoringObject]] = []
    for k, it in enumerate(items):
        try:
            hh = households.get(it.household.pk)
            if hh is None:
                raise Household.DoesNotExist(f"Household {it.household.pk} does not exist")
            ensure_in_scope(actor, hh)
            _check_existing_args(it.category, it.identified_on, it.eliminated_on, it.elimination_method)
            risk_types, refs = params.risk_types(hh.village_id, it.identified_on.year, it.risk_types)
            found = existing.get((hh.pk, it.identified_on))
            if found is not None:
                if it.eliminated_on and found.status == ObjectStatus.ACTIVE:  # reported eliminated now
                    exits[k] = params.gradual_exit_end(found.household.village_id, it.eliminated_on)
                planned.append((k, found))
                continue
            if it.eliminated_on is None and hh.pk in active:
                raise DomainError(E_ALREADY_ACTIVE, "该户已有另一条在监测的记录（识别时间不同），请核对")
            if it.eliminated_on:
                exits[k] = params.gradual_exit_end(hh.village_id, it.eliminated_on)
            planned.append((k, hh, risk_types, refs))
        except DomainError as e:
            errors.append((k, e))
    if errors:
        raise EnrolmentRefused(errors)

    out: list[MonitoringObject | None] = [None] * len(items)
    new = [pl for pl in planned if len(pl) == 4]
    leads = Lead.objects.bulk_create(
        [
            _import_lead(hh, actor=actor, risk_types=rt, identified_on=items[k].identified_on)
            for k, hh, rt, _ in new  # type: ignore[misc]
        ]
    )
    LeadSource.objects.bulk_create(
        [
            _import_lead_source(
                lead, source_ref=items[k].source_ref, risk_types=rt, identified_on=items[k].identified_on
            )
            for lead, (k, _, rt, _) in zip(leads, new, strict=True)  # type: ignore[misc]
        ]
    )
    objs = MonitoringObject.objects.bulk_create(
        [
            _imported_object(
                hh,
                lead=lead,
                category=items[k].category,
                risk_types=rt,
                identified_on=items[k].identified_on,
                eliminated_on=items[k].eliminated_on,
                elimination_method=items[k].elimination_method,
                source_ref=items[k].source_ref,
                param_refs=refs,
                gradual_exit=exits.get(k),
            )
            for lead, (k, hh, rt, refs) in zip(leads, new, strict=True)  # type: ignore[misc]
        ]
    )
    for obj, (k, *_rest) in zip(objs, new, strict=True):
        out[k] = obj
    events: list[dict[str, Any]] = []
    for pl in planned:
        k = pl[0]
        if len(pl) == 2:
            obj = pl[1]  # type: ignore[assignment]
            it = items[k]
            if k in exits:
                events.append(
                    _eliminate(
                        obj,
                        actor=actor,
                        on=it.eliminated_on,  # type: ignore[arg-type]
                        method=it.elimination_method,
                        via="import",
                        gradual_exit=exits[k],
                    )
                )
            out[k] = obj
        else:
            events.append(_import_event(out[k], actor=actor))  # type: ignore[arg-type]
    audit_record_many(events)
    return out  # type: ignore[return-value]


def _eliminate(
    obj: MonitoringObject,
    *,
    actor,
    on: dt.date,
    method: str,
    via: str,
    gradual_exit: tuple[dt.date, dict[str, Any]],
) -> dict[str, Any]:
    """Saves the elimination; returns its audit event (``audit_record`` keyword arguments)."""
    until, ref = gradual_exit
    obj.status = ObjectStatus.ELIMINATED
    obj.eliminated_on = on
    obj.elimination_method = method
    obj.gradual_exit_until = until
    obj.decision = {**obj.decision, "elimination": {"via": via, "gradual_exit": ref}}
    obj.save(
        update_fields=["status", "eliminated_on", "elimination_method", "gradual_exit_until", "decision"]
    )
    return {
        "actor": actor,
        "event_type": "monitoring.object_eliminate",
        "obj": obj,
        "region_code": obj.household.village_id,
        "household_id": obj.household_id,
        "data": {"on": on.isoformat(), "method": method, "via": via, "gradual_exit_until": until.isoformat()},
    }


def _mark_eliminated(obj: MonitoringObject, *, actor, on: dt.date, method: str, via: str) -> None:
    ev = _eliminate(
        obj, actor=actor, on=on, method=method, via=via, gradual_exit=gradual_exit_end(obj.household, on)
    )
    audit_record(**ev)
