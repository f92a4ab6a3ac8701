"""Change requests instead of silent edits.

A request carries the change (``payload``), its evidence and a reason. The approval level comes from the
parameter ``trust.approval_levels``: low-risk edits (a phone number) apply at once; changes that can alter
the category, the income-line status or eligibility wait for a second person (maker-checker) at the
configured level. Approval applies the change through ``fangpin.registry.services.changes``.

``change_plan`` computes exactly what a request would change (field, old, new) from the current registry;
the bulk approval's dry run lists those plans, and the real run applies them — the registry functions return
the same list shape, so a test can hold the two side by side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import in_scope, require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household, Person
from fangpin.registry.services import changes as reg
from fangpin.registry.services import households as reg_households
from fangpin.registry.services import members as reg_members

from ..models import (
    Appeal,
    AppealStatus,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    Discrepancy,
    DiscrepancyStatus,
)
from ..models.base import next_number
from . import integrations
from .common import LEVEL_NAMES, level_satisfied, param

E_KIND = "change_bad_kind"
E_EVIDENCE = "change_evidence_required"
E_NOT_PENDING = "change_not_pending"
E_SELF = "self_approval"
E_LEVEL = "approval_level"
E_REASON = "reason_required"
E_PERSON = "change_bad_person"

CONDITION_FIELDS = reg.HOUSEHOLD_FIELDS
HOUSEHOLD_CONTACT = {"phone", "address", "group_name"}


FIELD_KINDS = {ChangeKind.CONTACT, ChangeKind.CONDITION, ChangeKind.PERSON}
DATED_KINDS = {
    ChangeKind.MEMBER_ADD,
    ChangeKind.MEMBER_REMOVE,
    ChangeKind.MOVE,
    ChangeKind.SPLIT,
    ChangeKind.MERGE,
}


def _date(value: Any, default: dt.date | None = None) -> dt.date:
    if value in (None, "") and default is not None:
        return default
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError(reg.E_VALUE, f"日期“{value}”无效") from exc


def _person(household: Household, person_id: Any) -> Person:
    p = Person.objects.filter(pk=person_id, household=household).first()
    if p is None:
        raise DomainError(E_PERSON, "所选成员不属于此户")
    return p


def required_level(kind: str, payload: dict[str, Any], region_code: str, on: dt.date) -> str:
    cfg = param("trust.approval_levels", region_code, on).value
    low = set(cfg.get("low_risk_fields", []))
    if kind in (ChangeKind.PERSON, ChangeKind.CONDITION) and set(payload.get("fields", {})) <= low:
        return "none"
    return cfg["kinds"].get(kind, "county")


def change_plan(request: ChangeRequest) -> list[dict[str, Any]]:
    """Exactly what applying ``request`` would change now: [{entity, entity_id, field, label, old, new}]."""
    hh = Household.objects.get(pk=request.household_id)
    p = request.payload
    kind = request.kind
    if kind == ChangeKind.CONTACT or kind == ChangeKind.CONDITION:
        allowed = HOUSEHOLD_CONTACT if kind == ChangeKind.CONTACT else CONDITION_FIELDS
        if p.get("person_id"):
            return reg.plan_fields("person", _person(hh, p["person_id"]), p["fields"])
        bad = set(p.get("fields", {})) - allowed
        if bad:
            raise DomainError(reg.E_FIELD, f"字段“{'、'.join(sorted(bad))}”不能通过此类申请修改")
        return reg.plan_fields("household", hh, p["fields"])
    if kind == ChangeKind.PERSON:
        return reg.plan_fields("person", _person(hh, p["person_id"]), p["fields"])
    if kind == ChangeKind.MEMBER_ADD:
        return reg_members.member_add_plan(hh, p["person"], p["kind"], _date(p["date"]))
    if kind == ChangeKind.MEMBER_REMOVE:
        return reg_members.member_remove_plan(_person(hh, p["person_id"]), p["kind"], _date(p["date"]))
    if kind == ChangeKind.INCOME:
        return reg.income_plan(hh, p)
    if kind == ChangeKind.MOVE:
        return reg_households.move_plan(hh, p["to_village"])
    if kind == ChangeKind.SPLIT:
        return reg_households.split_plan(hh, p)
    if kind == ChangeKind.MERGE:
        return reg_households.merge_plan(hh, Household.objects.get(pk=p["source_household_id"]))
    raise DomainError(E_KIND, "不支持的变更类型")


def _apply(actor, request: ChangeRequest) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Carries the request out; its dates are the ones it states (``change_request_submit`` records the
    business date it was filed on as the date of a change that names none)."""
    hh = Household.objects.get(pk=request.household_id)
    p = request.payload
    ref = f"变更申请{request.number}"
    src = request.source_kind
    kind = request.kind
    result: dict[str, Any] = {}
    if kind in FIELD_KINDS:
        entity, obj_id = ("person", int(p["person_id"])) if p.get("person_id") else ("household", hh.pk)
        done = reg.do_fields_update(
            actor=actor,
            entity=entity,
            obj_id=obj_id,
            changes=p["fields"],
            source_kind=src,
            source_ref=ref,
            observed_on=_date(p["date"]) if p.get("date") else None,  # filed before dates were recorded
            reason=request.reason,
        )
    elif kind == ChangeKind.MEMBER_ADD:
        person, done = reg_members.do_member_add(
            actor=actor,
            household=hh,
            person=p["person"],
            kind=p["kind"],
            date=_date(p["date"]),
            source_kind=src,
            source_ref=ref,
            note=request.reason,
        )
        result["person_id"] = person.pk
    elif kind == ChangeKind.MEMBER_REMOVE:
        done = reg_members.do_member_remove(
            actor=actor,
            person=_person(hh, p["person_id"]),
            kind=p["kind"],
            date=_date(p["date"]),
            source_kind=src,
            source_ref=ref,
            note=request.reason,
        )
    elif kind == ChangeKind.INCOME:
        rec, done = reg.do_income_record_save(
            actor=actor, household=hh, payload=p, source_kind=src, source_ref=ref, reason=request.reason
        )
        result["income_record_id"] = rec.pk
    elif kind == ChangeKind.MOVE:
        old_village, moved_on = hh.village_id, _date(p["date"])
        done = reg_households.do_household_move(
            actor=actor,
            household=hh,
            to_village=p["to_village"],
            date=moved_on,
            reason=request.reason,
            source_kind=src,
            source_ref=ref,
        )
        open_items_follow(hh)
        # registry must not depend on monitoring (monitoring's models point at the registry), so the layer
        # that carries out the move also moves monitoring's open work, in the same transaction
        followed = integrations.monitoring_follow_move(
            actor=actor, household=hh, old_village=old_village, new_village=hh.village_id, on=moved_on
        )
        if followed is not None:
            result["monitoring_followed"] = followed
    elif kind == ChangeKind.SPLIT:
        new, done = reg_households.do_household_split(
            actor=actor,
            household=hh,
            payload=p,
            date=_date(p["date"]),
            reason=request.reason,
            source_kind=src,
            source_ref=ref,
        )
        result["new_household_id"] = new.pk
    elif kind == ChangeKind.MERGE:
        done = reg_households.do_household_merge(
            actor=actor,
            target=hh,
            source=Household.objects.get(pk=p["source_household_id"]),
            date=_date(p["date"]),
            reason=request.reason,
            source_kind=src,
        )
    else:
        raise DomainError(E_KIND, "不支持的变更类型")
    return done, result


def open_items_follow(household: Household) -> None:
    """After a move, work still to do (pending requests, open appeals and discrepancies) belongs to the new
    village; decided ones stay where they were decided. Tasks follow the household by their region path."""
    v = Household.objects.values_list("village_id", flat=True).get(pk=household.pk)
    ChangeRequest.objects.filter(household=household, status=ChangeStatus.PENDING).update(village_id=v)
    Appeal.objects.filter(household=household, status=AppealStatus.OPEN).update(village_id=v)
    Discrepancy.objects.filter(household=household, status=DiscrepancyStatus.OPEN).update(village_id=v)


def change_request_submit(
    *,
    actor,
    household_id: int,
    kind: str,
    payload: dict[str, Any],
    reason: str,
    on: dt.date,
    evidence: list[dict[str, str]] | None = None,
    source_kind: str = "manual",
) -> ChangeRequest:
    """Files a change request on the business day ``on``; applies it at once when the configured level is
    "none" (low risk). A field change, member change, move, split or merge that names no date takes effect
    on ``on`` (the version of the record holds from that date, whenever it is approved)."""
    require(actor, Cap.REGISTRY_EDIT)
    if kind not in ChangeKind.values:
        raise DomainError(E_KIND, "不支持的变更类型")
    if len((reason or "").strip()) < 2:
        raise DomainError(E_REASON, "请填写变更理由")
    with transaction.atomic():
        hh = access_object(actor, Household, household_id, what="户", for_update=True)
        if kind == ChangeKind.MERGE:  # ACL-04: every referenced household must be in scope too
            access_object(actor, Household, payload.get("source_household_id"), what="户")
        if (kind in DATED_KINDS or kind in FIELD_KINDS) and not payload.get("date"):
            payload = {**payload, "date": on.isoformat()}
        level = required_level(kind, payload, hh.village_id, on)
        if level != "none" and not evidence:
            raise DomainError(E_EVIDENCE, "此类变更须附佐证材料（如出生证明、死亡证明、收入凭证）")
        req = ChangeRequest(
            number=next_number("BG", hh.village_id[:6], on.year),
            household=hh,
            village_id=hh.village_id,
            kind=kind,
            payload=payload,
            evidence=evidence or [],
            reason=reason[:300],
            source_kind=source_kind,
            required_level=level,
            maker=actor,
        )
        plan = change_plan(req)  # validates the payload against the registry before anything is stored
        req.save()
        audit_record(
            actor=actor,
            event_type="trust.change_submit",
            obj=req,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"kind": kind, "level": level, "plan": plan},
            reason=reason,
        )
        if level == "none":
            done, result = _apply(actor, req)
            req.status, req.applied_changes, req.result = ChangeStatus.APPLIED, done, result
            req.decided_at, req.decision_reason = timezone.now(), "低风险变更，即时生效"
            req.save()
    return req


def _check_approver(actor, req: ChangeRequest) -> None:
    require(actor, Cap.CHANGE_APPROVE)
    if req.status != ChangeStatus.PENDING:
        raise DomainError(E_NOT_PENDING, "该申请不在待审批状态")
    if req.maker_id == actor.pk:
        raise DomainError(E_SELF, "不能审批本人提交的申请")
    if not level_satisfied(actor, req.required_level):
        raise DomainError(E_LEVEL, f"此类变更须由{LEVEL_NAMES[req.required_level]}审核人审批")
    if not in_scope(actor, req.household.village_id):
        raise DomainError("not_found", "变更申请不存在或无权访问")


def change_request_approve(*, actor, request_id: int, reason: str = "") -> ChangeRequest:
    with transaction.atomic():
        req = access_object(actor, ChangeRequest, request_id, what="变更申请", for_update=True)
        _check_approver(actor, req)
        done, result = _apply(actor, req)
        req.status, req.checker, req.decided_at = ChangeStatus.APPLIED, actor, timezone.now()
        req.decision_reason, req.applied_changes, req.result = reason[:300], done, result
        req.save()
        audit_record(
            actor=actor,
            event_type="trust.change_approve",
            obj=req,
            region_code=req.village_id,
            household_id=req.household_id,
            data={"changes": done},
            reason=reason,
        )
    return req


def change_request_reject(*, actor, request_id: int, reason: str) -> ChangeRequest:
    if len((reason or "").strip()) < 2:
        raise DomainError(E_REASON, "驳回须填写理由")
    with transaction.atomic():
        req = access_object(actor, ChangeRequest, request_id, what="变更申请", for_update=True)
        _check_approver(actor, req)
        req.status, req.checker, req.decided_at, req.decision_reason = (
            ChangeStatus.REJECTED,
            actor,
            timezone.now(),
            reason[:300],
        )
        req.save()
        audit_record(
            actor=actor,
            event_type="trust.change_reject",
            obj=req,
            region_code=req.village_id,
            household_id=req.household_id,
            reason=reason,
        )
    return req


@dataclass
class BulkItem:
    request_id: int
    number: str
    household_no: str
    ok: bool
    changes: list[dict[str, Any]] = field(default_factory=list)
    error_code: str = ""
    error: str = ""


@dataclass
class BulkResult:
    dry_run: bool
    items: list[BulkItem]

    @property
    def applied(self) -> int:
        return sum(1 for i in self.items if i.ok)

    def changes_by_household(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for i in self.items:
            if i.ok:
                out.setdefault(i.household_no, []).extend(i.changes)
        return out


def change_requests_bulk_approve(
    *, actor, request_ids: list[int], dry_run: bool, reason: str = ""
) -> BulkResult:
    """Approves many requests. ``dry_run=True`` writes nothing and lists, per request, exactly the changes
    (field, old, new) the real run will make — or why it would be refused. Requests are taken in id order,
    so a later request on the same household is planned on top of the earlier one's result."""
    items: list[BulkItem] = []
    with transaction.atomic():
        sid = transaction.savepoint()
        for rid in sorted(set(request_ids)):
            req = ChangeRequest.objects.select_related("household").filter(pk=rid).first()
            if req is None or not in_scope(actor, req.village_id):
                items.append(
                    BulkItem(rid, "", "", False, error_code="not_found", error="变更申请不存在或无权访问")
                )
                continue
            base = BulkItem(req.pk, req.number, req.household.household_no, False)
            try:
                with transaction.atomic():
                    _check_approver(actor, req)
                    if dry_run:
                        # The real code path inside a savepoint that is rolled back: what is listed is what
                        # the registry functions did, and later requests see earlier ones' effect.
                        base.changes, _ = _apply(actor, req)
                    else:
                        base.changes = change_request_approve(
                            actor=actor, request_id=req.pk, reason=reason
                        ).applied_changes
                    base.ok = True
            except DomainError as e:
                base.error_code, base.error = e.code, e.message
            items.append(base)
        if dry_run:
            transaction.savepoint_rollback(sid)
        else:
            transaction.savepoint_commit(sid)
            audit_record(
                actor=actor,
                event_type="trust.change_bulk_approve",
                object_type="trust.changerequest",
                data={"requested": len(request_ids), "applied": sum(1 for i in items if i.ok)},
                reason=reason,
            )
    return BulkResult(dry_run, items)
