"""Provenance and conflicts. ``fact_record`` is the one door for a fact arriving from any source
(department file row, cadre visit, self-declaration, import). It records the fact (FactProvenance) and
applies the county's written conflict policy (parameter ``trust.conflict_policy``):

* same value as the registry → recorded as a corroboration (accepted), nothing changes;
* the source outranks the registry value's source and the field's policy lets it apply directly
  (e.g. 公安 death, 住建 house grade) → applied through the registry services, and a Discrepancy with
  status "按冲突规则采用" keeps both values and sources visible;
* a department value otherwise → pending + open Discrepancy + a verification task for the village cadre;
* any other source outranked by the registry value's source → rejected with the rule that decided.

Nothing is ever overwritten silently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import is_system
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import in_scope, require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.core.masking import mask_text_field
from fangpin.registry.choices import MemberChangeKind, SourceKind
from fangpin.registry.models import FactProvenance, Household
from fangpin.registry.models.provenance import FactStatus
from fangpin.registry.services import changes as reg
from fangpin.registry.services import members as reg_members

from ..models import Discrepancy, DiscrepancyStatus, TaskKind
from .common import param, task_open, tasks_close

E_ENTITY = "fact_bad_entity"
E_RESOLVED = "discrepancy_resolved"
E_REASON = "reason_required"

CONFIRMED, APPLIED, PENDING, REJECTED = "confirmed", "applied", "pending", "rejected"


@dataclass
class FactOutcome:
    outcome: str  # confirmed / applied / pending / rejected
    fact: FactProvenance
    discrepancy: Discrepancy | None
    rule: str


def _department(source_kind: str, source_ref: str, department: str, policy: dict[str, Any]) -> str:
    if source_kind != SourceKind.DEPARTMENT:
        return ""
    if department:
        return department
    for d in sorted(policy.get("departments", []), key=len, reverse=True):
        if source_ref.startswith(d):
            return d
    return ""


def source_label(source_kind: str, department: str = "") -> str:
    return f"department:{department}" if source_kind == SourceKind.DEPARTMENT and department else source_kind


def _rank(order: list[str], label: str) -> int:
    if label in order:
        return order.index(label)
    base = label.split(":", 1)[0]
    return order.index(base) if base in order else len(order)


def _target(household: Household, entity: str, entity_id: int):
    model = reg.MODELS.get(entity)
    if model is None:
        raise DomainError(E_ENTITY, f"不支持的对象类型“{entity}”")
    obj = model.objects.filter(pk=entity_id).first()
    hh_id = obj.pk if entity == "household" and obj else getattr(obj, "household_id", None)
    if obj is None or hh_id != household.pk:
        raise DomainError(E_ENTITY, "该事实指向的对象不属于此户")
    return obj


def current_source(entity: str, entity_id: int, field: str, obj) -> tuple[str, str, str]:
    """(source label, description, date) of the value the registry holds now."""
    fact = (
        FactProvenance.objects.filter(
            entity=entity, entity_id=entity_id, field=field, status=FactStatus.ACCEPTED
        )
        .order_by("-recorded_at", "-id")
        .first()
    )
    policy_depts = []
    if fact is not None:
        dept = ""
        if fact.source_kind == SourceKind.DEPARTMENT:
            on = fact.observed_on or timezone.localdate(fact.recorded_at)
            policy_depts = param("trust.conflict_policy", fact.household.village_id, on).value.get(
                "departments", []
            )
            dept = next(
                (d for d in sorted(policy_depts, key=len, reverse=True) if fact.source_ref.startswith(d)), ""
            )
        return (
            source_label(fact.source_kind, dept),
            f"{fact.get_source_kind_display()} {fact.source_ref}".strip(),
            reg.fmt(fact.observed_on),
        )
    row = obj
    return (
        row.source_kind,
        f"{row.get_source_kind_display()} {row.source_ref}".strip(),
        reg.fmt(row.source_at.date() if row.source_at else None),
    )


def _authorise(actor, household: Household, source_kind: str) -> None:
    if is_system(actor):  # batch jobs and the screening engine running as the system (None refused)
        return
    if not any(
        actor.can(c) for c in (Cap.REGISTRY_EDIT, Cap.REGISTRY_IMPORT, Cap.SCREEN_RUN, Cap.DEPT_UPLOAD)
    ):
        raise PermissionDenied()
    if actor.scope_prefix is None:
        if source_kind != SourceKind.DEPARTMENT or not actor.can(Cap.DEPT_UPLOAD):
            raise NotFound("户")
    elif not in_scope(actor, household.village_id):
        raise NotFound("户")


def fact_record(
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
    on: dt.date,
    department: str = "",
) -> FactOutcome:
    """Records one fact about a household, person or income record on the business day ``on`` and applies
    the conflict policy. ``observed_on`` is the date the fact took effect (None: ``on``); a discrepancy's
    verification deadline counts from ``on``.
    ``source_ref`` for department facts starts with the department (e.g. "公安 批次#3 第7行") unless
    ``department`` is given."""
    _authorise(actor, household, source_kind)
    observed_on = observed_on or on
    policy = param("trust.conflict_policy", household.village_id, observed_on).value
    rule = policy.get("fields", {}).get(f"{entity}.{field}") or policy["default"]
    dept = _department(source_kind, source_ref, department, policy)
    incoming = source_label(source_kind, dept)
    with transaction.atomic():
        obj = _target(household, entity, entity_id)
        new_value = reg.coerce(entity, field, value)
        new_text = reg.fmt(new_value)
        old_text = reg.fmt(getattr(obj, field))
        cur_label, cur_desc, cur_date = current_source(entity, entity_id, field, obj)
        base = {
            "household": household,
            "entity": entity,
            "entity_id": entity_id,
            "field": field,
            "value": mask_text_field(field, new_text),  # the full value lives on the registry row only
            "source_kind": source_kind,
            "source_ref": source_ref[:200],
            "observed_on": observed_on,
            "recorded_by": actor if getattr(actor, "pk", None) else None,
        }
        if new_text == old_text:
            fact = FactProvenance.objects.create(**base, status=FactStatus.ACCEPTED, note="与户档案一致")
            return FactOutcome(CONFIRMED, fact, None, "")
        order = rule.get("order", policy["default"]["order"])
        outranks = _rank(order, incoming) <= _rank(order, cur_label)
        applies = outranks and (incoming in rule.get("apply", []) or source_kind in rule.get("apply", []))
        rule_text = rule.get("rule", "")
        disc_fields = {
            "household": household,
            "village_id": household.village_id,
            "entity": entity,
            "entity_id": entity_id,
            "field": field,
            "field_label": reg.field_label(entity, field),
            "registry_value": old_text,
            "registry_source": f"{cur_desc}（{cur_date}）" if cur_date else cur_desc,
            "proposed_value": new_text,
            "source_kind": source_kind,
            "source_ref": source_ref[:200],
            "department": dept,
            "observed_on": observed_on,
            "policy_rule": rule_text[:300],
        }
        if applies:
            fact = _apply(
                actor,
                household,
                entity,
                obj,
                field,
                new_value,
                source_kind,
                source_ref,
                observed_on,
                note=f"按冲突规则采用：{rule_text}",
            )
            disc = Discrepancy.objects.create(
                **disc_fields,
                fact=fact,
                status=DiscrepancyStatus.APPLIED_BY_POLICY,
                resolved_at=timezone.now(),
                resolution_reason=rule_text[:300],
            )
            outcome = APPLIED
        elif source_kind == SourceKind.DEPARTMENT or outranks:
            dup = Discrepancy.objects.filter(
                entity=entity,
                entity_id=entity_id,
                field=field,
                proposed_value=new_text,
                status=DiscrepancyStatus.OPEN,
            ).first()
            fact = FactProvenance.objects.create(
                **base, status=FactStatus.PENDING, note="与户档案不一致，待核实"
            )
            if dup is not None:
                return FactOutcome(PENDING, fact, dup, rule_text)
            days = int(param("trust.discrepancy_verify_days", household.village_id, on).value)
            due = clock.add_working_days(on, days)
            disc = Discrepancy.objects.create(**disc_fields, fact=fact, due_on=due)
            task_open(
                kind=TaskKind.DISCREPANCY,
                household=household,
                due_on=due,
                ref_type="discrepancy",
                ref_id=disc.pk,
                title=f"核实{disc.field_label}：户档案“{old_text or '空'}”，{dept or fact.get_source_kind_display()}为“{new_text or '空'}”",
            )
            outcome = PENDING
        else:
            fact = FactProvenance.objects.create(
                **base, status=FactStatus.REJECTED, note=f"来源优先级低于现值来源：{rule_text}"[:200]
            )
            disc, outcome = None, REJECTED
        audit_record(
            actor=actor,
            event_type="trust.fact_record",
            obj=fact,
            region_code=household.village_id,
            household_id=household.pk,
            data={
                "entity": entity,
                "field": field,
                "outcome": outcome,
                "source": incoming,
                "current_source": cur_label,
            },
        )
    return FactOutcome(outcome, fact, disc, rule_text)


def _apply(
    actor, household, entity, obj, field, new_value, source_kind, source_ref, observed_on, note
) -> FactProvenance:
    """Applies a value through the registry services; a death goes through member_remove (自然减少)."""
    if entity == "person" and field == "death_date" and new_value is not None and obj.is_member:
        reg_members.do_member_remove(
            actor=actor,
            person=obj,
            kind=MemberChangeKind.DEATH,
            date=new_value,
            source_kind=source_kind,
            source_ref=source_ref,
            note=note,
        )
    else:
        reg.do_fields_update(
            actor=actor,
            entity=entity,
            obj_id=obj.pk,
            changes={field: new_value},
            source_kind=source_kind,
            source_ref=source_ref,
            observed_on=observed_on,
            reason=note[:100],
        )
    return (
        FactProvenance.objects.filter(
            entity=entity, entity_id=obj.pk, field=field, status=FactStatus.ACCEPTED
        )
        .order_by("-id")
        .first()
    )


def discrepancy_resolve(*, actor, discrepancy_id: int, accept: bool, reason: str) -> Discrepancy:
    """The cadre's check: accept (the department was right → applied) or reject (registry stays)."""
    require(actor, Cap.REGISTRY_EDIT)
    if len((reason or "").strip()) < 2:
        raise DomainError(E_REASON, "请填写核实理由")
    with transaction.atomic():
        d = access_object(actor, Discrepancy, discrepancy_id, what="数据差异", for_update=True)
        if d.status != DiscrepancyStatus.OPEN:
            raise DomainError(E_RESOLVED, "该差异已处理")
        fact = d.fact
        if accept:
            obj = _target(d.household, d.entity, d.entity_id)
            value = reg.coerce(d.entity, d.field, d.proposed_value)
            applied = _apply(
                actor,
                d.household,
                d.entity,
                obj,
                d.field,
                value,
                fact.source_kind,
                fact.source_ref,
                fact.observed_on,
                note=f"核实后采用：{reason}",
            )
            FactProvenance.objects.filter(pk=fact.pk).update(
                status=FactStatus.SUPERSEDED, note="核实后采用（见后续记录）"
            )
            FactProvenance.objects.filter(pk=applied.pk).update(note=f"核实后采用：{reason}"[:200])
            d.status = DiscrepancyStatus.ACCEPTED
        else:
            FactProvenance.objects.filter(pk=fact.pk).update(
                status=FactStatus.REJECTED, note=f"核实后不采用：{reason}"[:200]
            )
            d.status = DiscrepancyStatus.REJECTED
        d.resolved_by, d.resolved_at, d.resolution_reason = actor, timezone.now(), reason[:300]
        d.save()
        tasks_close(actor=actor, kind=TaskKind.DISCREPANCY, ref_type="discrepancy", ref_id=d.pk, note=reason)
        audit_record(
            actor=actor,
            event_type="trust.discrepancy_resolve",
            obj=d,
            region_code=d.household.village_id,
            household_id=d.household_id,
            data={"accept": accept, "field": d.field},
            reason=reason,
        )
    return d
