"""Moves (易地搬迁/迁居), splits (分户) and merges (合户): the household's past stays where it was."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.regions.models import Level, Region

from ..choices import HouseholdStatus, MemberChangeKind, Relation, SourceKind
from ..models import Household, MemberChange, Person
from .changes import E_MERGE, E_SPLIT, E_VILLAGE, HOUSEHOLD_FIELDS, _count, _provenance, _user, change


def _village(code: str) -> Region:
    r = Region.objects.filter(code=code, level=Level.VILLAGE).first()
    if r is None:
        raise DomainError(E_VILLAGE, f"“{code}”不是有效的行政村代码")
    return r


def move_plan(household: Household, to_village: str) -> list[dict]:
    v = _village(to_village)
    if v.code == household.village_id:
        raise DomainError(E_VILLAGE, "迁入村与现居住村相同")
    return [change("household", household.pk, "village", household.village_id, v.code)]


def do_household_move(
    *,
    actor,
    household: Household,
    to_village: str,
    date: dt.date,
    reason: str,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
) -> list[dict]:
    """易地搬迁 / 迁居: the row moves; its history (simple_history, audit region codes, records that carry
    their own village) stays where it was."""
    planned = move_plan(household, to_village)
    with transaction.atomic():
        hh = Household.objects.select_for_update().get(pk=household.pk)
        old = hh.village_id
        hh.village_id = to_village
        hh.version += 1
        hh.updated_by = _user(actor)
        hh._change_reason = f"迁移 {old}→{to_village}：{reason}"[:100]
        hh.take_effect(date)
        hh.save()
        _provenance(
            actor=actor,
            household=hh,
            entity="household",
            entity_id=hh.pk,
            field="village",
            value=to_village,
            source_kind=source_kind,
            source_ref=source_ref or "迁移",
            observed_on=date,
            note=reason,
        )
        audit_record(
            actor=actor,
            event_type="registry.household_move",
            obj=hh,
            region_code=old,
            household_id=hh.pk,
            data={"from": old, "to": to_village, "date": date},
            reason=reason,
        )
    household.refresh_from_db()
    return planned


def split_plan(household: Household, payload: dict[str, Any]) -> list[dict]:
    ids = [int(i) for i in payload.get("person_ids", [])]
    members = {p.pk: p for p in household.persons.filter(is_member=True)}
    if not ids or any(i not in members for i in ids):
        raise DomainError(E_SPLIT, "分出的成员须为本户现有成员")
    if len(ids) >= len(members):
        raise DomainError(E_SPLIT, "分户后原户须至少保留一名成员")
    new_no = str(payload.get("new_household_no", "")).strip()
    if not new_no or Household.objects.filter(household_no=new_no).exists():
        raise DomainError(E_SPLIT, "新户编号为空或已存在")
    head = int(payload.get("new_head_id", ids[0]))
    if head not in ids:
        raise DomainError(E_SPLIT, "新户户主须在分出的成员中")
    village = payload.get("to_village") or household.village_id
    _village(village)
    out = [change("household", None, "household_no", "", new_no)]
    for i in sorted(ids):
        out.append(change("person", i, "household", household.household_no, new_no))
    out.append(change("household", household.pk, "member_count", len(members), len(members) - len(ids)))
    return out


def do_household_split(
    *,
    actor,
    household: Household,
    payload: dict[str, Any],
    date: dt.date,
    reason: str,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
) -> tuple[Household, list[dict]]:
    """分户: a new household with the chosen members; both sides get MemberChange rows (其他减少/增加)."""
    planned = split_plan(household, payload)
    ids = sorted(int(i) for i in payload["person_ids"])
    head = int(payload.get("new_head_id", ids[0]))
    copy = {f: getattr(household, f) for f in HOUSEHOLD_FIELDS}
    with transaction.atomic():
        new = Household.objects.create(
            household_no=payload["new_household_no"],
            village_id=payload.get("to_village") or household.village_id,
            source_kind=source_kind,
            source_ref=(source_ref or f"由{household.household_no}分户")[:200],
            source_at=clock.now(),
            updated_by=_user(actor),
            effective_on=date,  # the split-off household exists from the split
            **copy,
        )
        for p in Person.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
            _transfer_member(
                actor=actor,
                person=p,
                old=household,
                new=new,
                date=date,
                source_kind=source_kind,
                why="分户",
                note_out=f"分户至{new.household_no}",
                note_in=f"由{household.household_no}分户",
                relation=Relation.HEAD if p.pk == head else None,
            )
        audit_record(
            actor=actor,
            event_type="registry.household_split",
            obj=household,
            region_code=household.village_id,
            household_id=household.pk,
            data={"new": new.household_no, "persons": ids},
            reason=reason,
        )
    return new, planned


def merge_plan(target: Household, source: Household) -> list[dict]:
    if source.pk == target.pk or source.status != HouseholdStatus.ACTIVE:
        raise DomainError(E_MERGE, "并入的户须为另一个正常状态的户")
    members = list(source.persons.filter(is_member=True).order_by("pk"))
    out = [change("person", p.pk, "household", source.household_no, target.household_no) for p in members]
    out.append(change("household", source.pk, "status", source.status, HouseholdStatus.CANCELLED))
    out.append(change("household", target.pk, "member_count", _count(target), _count(target) + len(members)))
    return out


def do_household_merge(
    *,
    actor,
    target: Household,
    source: Household,
    date: dt.date,
    reason: str,
    source_kind: str = SourceKind.MANUAL,
) -> list[dict]:
    """合户: the members of ``source`` join ``target``; ``source`` is cancelled (never deleted)."""
    planned = merge_plan(target, source)
    with transaction.atomic():
        for p in Person.objects.select_for_update().filter(household=source, is_member=True).order_by("pk"):
            _transfer_member(
                actor=actor,
                person=p,
                old=source,
                new=target,
                date=date,
                source_kind=source_kind,
                why="合户",
                note_out=f"合户并入{target.household_no}",
                note_in=f"由{source.household_no}合户",
                relation=Relation.OTHER if p.relation == Relation.HEAD else None,
            )
        src = Household.objects.select_for_update().get(pk=source.pk)
        src.status = HouseholdStatus.CANCELLED
        src.status_reason = f"合户并入{target.household_no}"
        src.version += 1
        src._change_reason = "合户"
        src.take_effect(date)
        src.save()
        audit_record(
            actor=actor,
            event_type="registry.household_merge",
            obj=target,
            region_code=target.village_id,
            household_id=target.pk,
            data={"source": source.household_no},
            reason=reason,
        )
    return planned


def _transfer_member(
    *,
    actor,
    person: Person,
    old: Household,
    new: Household,
    date: dt.date,
    source_kind: str,
    why: str,
    note_out: str,
    note_in: str,
    relation: str | None,
) -> None:
    """A person leaves ``old`` and joins ``new`` (分户/合户): 其他减少 and 其他增加 rows, one person version."""
    MemberChange.objects.create(
        household=old,
        person=person,
        kind=MemberChangeKind.OTHER_OUT,
        date=date,
        note=note_out,
        recorded_by=_user(actor),
        source_kind=source_kind,
    )
    person.household = new
    if relation is not None:
        person.relation = relation
    person.version += 1
    person._change_reason = why
    person.take_effect(date)
    person.save()
    MemberChange.objects.create(
        household=new,
        person=person,
        kind=MemberChangeKind.OTHER_IN,
        date=date,
        note=note_in,
        recorded_by=_user(actor),
        source_kind=source_kind,
    )
