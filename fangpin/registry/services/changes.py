"""The registry's own edit services. Every write to a household, member or income record goes through here:
optimistic locking on ``version``, field-level provenance (FactProvenance) for every changed value, a
MemberChange row for every member entering or leaving, simple_history for "as of month M", and an audit
event in the same transaction.

Two layers (Zulip's naming): ``do_*`` writes without checking who asks (callers that already authorised:
an approved change request, the conflict policy); the plain names check capability and scope first.
Every function returns the list of changes it made as ``{"entity", "entity_id", "field", "label", "old",
"new"}`` dicts — the same shape the change-request dry run predicts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models, transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.core.masking import mask_id_number, mask_phone, mask_text_field
from fangpin.core.text import check_text

from ..choices import SourceKind
from ..models import FactProvenance, Household, IncomeRecord, Person
from ..models.provenance import FactStatus

E_STALE = "stale_version"
E_FIELD = "field_not_editable"
E_VALUE = "invalid_value"
E_NOT_MEMBER = "not_member"
E_KIND = "bad_change_kind"
E_VILLAGE = "bad_village"
E_SPLIT = "bad_split"
E_MERGE = "bad_merge"

MSG_STALE = "该记录已被他人修改，请刷新后重试"

# Fields a change may set. Identity, location, status and bookkeeping columns are moved only by their own
# services (household_move, member_*; ACL-03).
_BOOKKEEPING = {"id", "version", "created_at", "updated_at", "updated_by", "source_kind", "source_ref",
                "source_at", "effective_on"}  # fmt: skip


def _editable(model: type[models.Model], moved_elsewhere: set[str]) -> frozenset[str]:
    """The fields a change may set: editable ones (never a blind index: core.fields derives it from its
    encrypted field), without the bookkeeping columns and those only their own services move."""
    return frozenset(
        f.name
        for f in model._meta.concrete_fields
        if f.editable and f.name not in _BOOKKEEPING | moved_elsewhere
    )


HOUSEHOLD_FIELDS = _editable(Household, {"household_no", "village", "status", "status_reason"})
PERSON_FIELDS = _editable(Person, {"household", "is_member"})
INCOME_FIELDS = frozenset(
    f.name
    for f in IncomeRecord._meta.concrete_fields
    if isinstance(f, models.DecimalField) or f.name in {"excluded", "note"}
)
MODELS = {"household": Household, "person": Person, "income": IncomeRecord}
EDITABLE = {"household": HOUSEHOLD_FIELDS, "person": PERSON_FIELDS, "income": INCOME_FIELDS}


# ---------------------------------------------------------------- values


def field_label(entity: str, field: str) -> str:
    if field == "replaced_months":
        return "被替代的收入月份"
    try:
        return str(MODELS[entity]._meta.get_field(field).verbose_name)
    except Exception:
        return field


def coerce(entity: str, field: str, value: Any) -> Any:
    """Text (from a file, a form or a department) → the model field's Python value; refuses bad values."""
    if field not in EDITABLE[entity]:
        raise DomainError(E_FIELD, f"字段“{field}”不能通过此方式修改", field=field)
    f = MODELS[entity]._meta.get_field(field)
    if isinstance(value, str):  # core/text.py: no control or bidi-override characters
        check_text(
            value, field=field, label=field_label(entity, field), multiline=isinstance(f, models.TextField)
        )
    if value == "" and (f.null or isinstance(f, models.DateField)):
        return None
    try:
        if isinstance(f, models.BooleanField) and isinstance(value, str):
            v = {"是": True, "否": False, "true": True, "false": False, "1": True, "0": False}.get(
                value.strip()
            )
            if v is None and not (f.null and value.strip() == ""):
                raise ValueError(value)
            return v
        v = f.to_python(value)
        if f.choices and v not in ("", None) and v not in {c[0] for c in f.choices}:
            raise ValueError(value)
    except Exception as exc:
        raise DomainError(E_VALUE, f"“{field_label(entity, field)}”的值“{value}”无效", field=field) from exc
    limit = getattr(f, "plain_max_length", None) or f.max_length  # encrypted fields: the plaintext's limit
    if isinstance(v, str) and limit and len(v) > limit:
        raise DomainError(
            E_VALUE, f"“{field_label(entity, field)}”最多{limit}个字（现为{len(v)}个）", field=field
        )
    return v


def fmt(value: Any) -> str:
    """One text form for every value: what FactProvenance stores and what change lists show."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def shown(field: str, text: str) -> str:
    """Masked form for change lists (approvers see what changes, not the full identifier)."""
    if "id_number" in field:
        return mask_id_number(text)
    if "phone" in field:
        return mask_phone(text)
    return text


def change(entity: str, entity_id: int | None, field: str, old: Any, new: Any) -> dict[str, Any]:
    return {
        "entity": entity,
        "entity_id": entity_id,
        "field": field,
        "label": field_label(entity, field) if entity in MODELS else field,
        "old": shown(field, fmt(old)),
        "new": shown(field, fmt(new)),
    }


def _provenance(
    *,
    actor,
    household: Household,
    entity: str,
    entity_id: int,
    field: str,
    value: Any,
    source_kind: str,
    source_ref: str,
    observed_on: dt.date | None,
    note: str = "",
) -> FactProvenance:
    """The accepted value of one field from now on; the previously accepted one becomes superseded."""
    FactProvenance.objects.filter(
        entity=entity, entity_id=entity_id, field=field, status=FactStatus.ACCEPTED
    ).update(status=FactStatus.SUPERSEDED)
    return FactProvenance.objects.create(
        household=household,
        entity=entity,
        entity_id=entity_id,
        field=field,
        value=mask_text_field(field, fmt(value)),
        source_kind=source_kind,
        source_ref=source_ref[:200],
        observed_on=observed_on or clock.today(),
        status=FactStatus.ACCEPTED,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        note=note[:200],
    )


def _count(household: Household) -> int:
    return household.persons.filter(is_member=True).count()


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


# ---------------------------------------------------------------- field updates


def plan_fields(entity: str, obj: models.Model, changes: dict[str, Any]) -> list[dict[str, Any]]:
    """What ``do_fields_update`` would change (coerced values; unchanged fields left out)."""
    out = []
    for field, raw in changes.items():
        new = coerce(entity, field, raw)
        old = getattr(obj, field)
        if fmt(old) != fmt(new):
            out.append(change(entity, obj.pk, field, old, new))
    return out


def do_fields_update(
    *,
    actor,
    entity: str,
    obj_id: int,
    changes: dict[str, Any],
    expected_version: int | None = None,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
    observed_on: dt.date | None = None,
    reason: str = "",
) -> list[dict[str, Any]]:
    """Sets fields of a household / person / income record under a row lock; stale version → refused."""
    model = MODELS[entity]
    with transaction.atomic():
        obj = model.objects.select_for_update().get(pk=obj_id)
        if expected_version is not None and obj.version != expected_version:
            raise DomainError(E_STALE, MSG_STALE)
        done = plan_fields(entity, obj, changes)
        if not done:
            return []
        for c in done:
            setattr(obj, c["field"], coerce(entity, c["field"], changes[c["field"]]))
        obj.version += 1
        obj.updated_by = _user(actor)
        obj._change_reason = reason[:100]
        if hasattr(obj, "take_effect"):
            obj.take_effect(observed_on)  # the version holds from the fact's date (None: when recorded)
        obj.save()
        hh = obj if entity == "household" else obj.household
        for c in done:
            _provenance(
                actor=actor,
                household=hh,
                entity=entity,
                entity_id=obj.pk,
                field=c["field"],
                value=getattr(obj, c["field"]),
                source_kind=source_kind,
                source_ref=source_ref or f"用户#{getattr(actor, 'pk', '') or '系统'}",
                observed_on=observed_on,
                note=reason,
            )
        audit_record(
            actor=actor,
            event_type=f"registry.{entity}_update",
            obj=obj,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"changes": {c["field"]: [c["old"], c["new"]] for c in done}, "source": source_kind},
            reason=reason,
        )
    return done


def household_update(
    *, actor, household_id: int, changes: dict[str, Any], expected_version: int, reason: str = ""
) -> list[dict[str, Any]]:
    """Direct edit by a user with edit rights (optimistic lock: pass the version the user saw)."""
    require(actor, Cap.REGISTRY_EDIT)
    hh = access_object(actor, Household, household_id, what="户")
    return do_fields_update(
        actor=actor,
        entity="household",
        obj_id=hh.pk,
        changes=changes,
        expected_version=expected_version,
        reason=reason,
    )


# ---------------------------------------------------------------- income


def _period(payload: dict[str, Any]) -> tuple[dt.date, dt.date]:
    try:
        start = dt.date.fromisoformat(str(payload["period_start"]))
        end = dt.date.fromisoformat(str(payload["period_end"]))
    except Exception as exc:
        raise DomainError(E_VALUE, "收入期间的起止日期无效") from exc
    if end < start:
        raise DomainError(E_VALUE, "收入期间的止日早于起日")
    return start, end


def income_overlaps(household: Household, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """The household's other income records sharing months with [start, end]. The rule (also the one
    ``policy.rules.income`` computes with): records never add up — for each month the latest recorded
    record counts, so a new record replaces the shared months of these, which stay as history."""
    out = []
    qs = IncomeRecord.objects.filter(household=household, period_start__lte=end, period_end__gte=start)
    for r in qs.exclude(period_start=start, period_end=end).order_by("period_start", "id"):
        lo, hi = max(r.period_start, start), min(r.period_end, end)
        out.append({"id": r.pk, "period": [r.period_start, r.period_end], "replaced": [lo, hi]})
    return out


def _replaced(overlaps: list[dict[str, Any]]) -> list[dict]:
    return [
        change(
            "income",
            o["id"],
            "replaced_months",
            f"{o['period'][0]:%Y年%m月}至{o['period'][1]:%Y年%m月}",
            f"其中{o['replaced'][0]:%Y年%m月}至{o['replaced'][1]:%Y年%m月}由本条记录替代（不相加，原记录保留）",
        )
        for o in overlaps
    ]


def income_plan(household: Household, payload: dict[str, Any]) -> list[dict]:
    start, end = _period(payload)
    rec = IncomeRecord.objects.filter(household=household, period_start=start, period_end=end).first()
    comps = payload.get("components", {})
    replaced = _replaced(income_overlaps(household, start, end))
    if rec is None:
        return (
            [
                change("income", None, f, None, coerce("income", f, v))
                for f, v in sorted(comps.items())
                if coerce("income", f, v) not in (None, Decimal(0), "", {})
            ]
            or [change("income", None, "period", "", f"{start}～{end}")]
        ) + replaced
    done = plan_fields("income", rec, dict(sorted(comps.items())))
    return done + replaced if done else done


def do_income_record_save(
    *,
    actor,
    household: Household,
    payload: dict[str, Any],
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
    reason: str = "",
) -> tuple[IncomeRecord, list[dict]]:
    """Upsert of the household's income record for one period (by period start and end)."""
    planned = income_plan(household, payload)
    start, end = _period(payload)
    comps = payload.get("components", {})
    with transaction.atomic():
        rec = (
            IncomeRecord.objects.select_for_update()
            .filter(household=household, period_start=start, period_end=end)
            .first()
        )
        if rec is not None:
            done = do_fields_update(
                actor=actor,
                entity="income",
                obj_id=rec.pk,
                changes=dict(sorted(comps.items())),
                source_kind=source_kind,
                source_ref=source_ref,
                reason=reason,
            )
            return rec, done
        rec = IncomeRecord(household=household, period_start=start, period_end=end)
        for f, v in comps.items():
            setattr(rec, f, coerce("income", f, v))
        rec.source_kind, rec.source_ref, rec.source_at = source_kind, source_ref[:200], clock.now()
        rec.updated_by = _user(actor)
        rec.save()
        audit_record(
            actor=actor,
            event_type="registry.income_create",
            obj=rec,
            region_code=household.village_id,
            household_id=household.pk,
            data={
                "period": [start, end],
                "components": comps,
                "replaces": income_overlaps(household, start, end),
            },
            reason=reason,
        )
    return rec, planned
