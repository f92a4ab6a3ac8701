"""自然增加 / 自然减少: members entering and leaving a household, each with a MemberChange row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.core.masking import mask_name

from ..choices import MEMBER_IN_KINDS, MemberChangeKind, SourceKind
from ..models import Household, MemberChange, Person
from .changes import (
    E_KIND,
    E_NOT_MEMBER,
    E_VALUE,
    _count,
    _provenance,
    _user,
    change,
    coerce,
    field_label,
    fmt,
)


def member_add_plan(household: Household, person: dict[str, Any], kind: str, date: dt.date) -> list[dict]:
    if kind not in MEMBER_IN_KINDS:
        raise DomainError(E_KIND, "成员增加的类型须为出生、婚入、迁入或其他增加")
    for k, v in person.items():
        coerce("person", k, v)
    for k in ("name", "gender", "relation"):
        if not person.get(k):
            raise DomainError(E_VALUE, f"新增成员缺少“{field_label('person', k)}”", field=k)
    label = MemberChangeKind(kind).label
    return [
        change("person", None, "member", "", f"{mask_name(person['name'])}（{label}，{fmt(date)}）"),
        change("household", household.pk, "member_count", _count(household), _count(household) + 1),
    ]


def do_member_add(
    *,
    actor,
    household: Household,
    person: dict[str, Any],
    kind: str,
    date: dt.date,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
    note: str = "",
) -> tuple[Person, list[dict]]:
    """自然增加: a new Person row (or, for a person already registered elsewhere, a move) + MemberChange."""
    planned = member_add_plan(household, person, kind, date)
    with transaction.atomic():
        values = {k: coerce("person", k, v) for k, v in person.items()}
        existing = (
            Person.objects.filter(id_number=values.get("id_number")).first()
            if values.get("id_number")
            else None
        )
        if existing is not None:
            if existing.is_member and existing.household_id != household.pk:
                do_member_remove(
                    actor=actor,
                    person=existing,
                    kind=MemberChangeKind.OTHER_OUT,
                    date=date,
                    source_kind=source_kind,
                    source_ref=source_ref,
                    note=f"转入户{household.household_no}",
                )
                existing.refresh_from_db()
            for k, v in values.items():
                setattr(existing, k, v)
            existing.household = household
            existing.is_member = True
            existing.version += 1
            p = existing
        else:
            p = Person(household=household, **values)
        p.source_kind, p.source_ref, p.source_at = source_kind, source_ref[:200], clock.now()
        _save_with_member_change(
            actor=actor,
            person=p,
            household=household,
            kind=kind,
            date=date,
            note=note,
            source_kind=source_kind,
            source_ref=source_ref,
            event_type="registry.member_add",
        )
    return p, planned


def member_remove_plan(person: Person, kind: str, date: dt.date) -> list[dict]:
    if kind in MEMBER_IN_KINDS or kind not in MemberChangeKind.values:
        raise DomainError(E_KIND, "成员减少的类型须为死亡、婚出、迁出或其他减少")
    if not person.is_member:
        raise DomainError(E_NOT_MEMBER, f"{mask_name(person.name)}已不是本户成员")
    out = [change("person", person.pk, "is_member", True, False)]
    if kind == MemberChangeKind.DEATH and person.death_date != date:
        out.append(change("person", person.pk, "death_date", person.death_date, date))
    hh = person.household
    out.append(change("household", hh.pk, "member_count", _count(hh), _count(hh) - 1))
    return out


def do_member_remove(
    *,
    actor,
    person: Person,
    kind: str,
    date: dt.date,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
    note: str = "",
) -> list[dict]:
    """自然减少: the person stays in the registry (history, income of past months), no longer a member."""
    with transaction.atomic():
        p = Person.objects.select_for_update().get(pk=person.pk)
        planned = member_remove_plan(p, kind, date)
        hh = p.household
        p.is_member = False
        if kind == MemberChangeKind.DEATH:
            p.death_date = date
            _provenance(
                actor=actor,
                household=hh,
                entity="person",
                entity_id=p.pk,
                field="death_date",
                value=date,
                source_kind=source_kind,
                source_ref=source_ref or "成员减少",
                observed_on=date,
                note=note,
            )
        p.version += 1
        _save_with_member_change(
            actor=actor,
            person=p,
            household=hh,
            kind=kind,
            date=date,
            note=note,
            source_kind=source_kind,
            source_ref=source_ref,
            event_type="registry.member_remove",
        )
    return planned


def _save_with_member_change(
    *,
    actor,
    person,
    household,
    kind: str,
    date,
    note: str,
    source_kind: str,
    source_ref: str,
    event_type: str,
) -> None:
    """Saves the person (one history version, in effect from ``date`` however late it is recorded),
    records why they came or went (MemberChange: effective ``date``, recorded ``created_at``), audits it."""
    person.take_effect(date)
    person.updated_by = _user(actor)
    person._change_reason = note[:100]
    person.save()
    MemberChange.objects.create(
        household=household,
        person=person,
        kind=kind,
        date=date,
        note=note[:200],
        recorded_by=_user(actor),
        source_kind=source_kind,
        source_ref=source_ref[:200],
        source_at=clock.now(),
    )
    audit_record(
        actor=actor,
        event_type=event_type,
        obj=person,
        region_code=household.village_id,
        household_id=household.pk,
        data={"kind": kind, "date": date},
        reason=note,
    )


MOVE_KINDS = {
    # 成员变更 as a file states it → (kind in the old household, kind in the new one)
    "迁移": (MemberChangeKind.MIGRATION_OUT, MemberChangeKind.MIGRATION_IN),
    "分户": (MemberChangeKind.OTHER_OUT, MemberChangeKind.OTHER_IN),
}


def do_member_move(
    *,
    actor,
    person: Person,
    to_household: Household,
    how: str,
    date: dt.date,
    source_kind: str = SourceKind.MANUAL,
    source_ref: str = "",
    note: str = "",
) -> tuple[MemberChange, MemberChange]:
    """A registered person leaves their household and joins ``to_household`` (``how`` = 迁移 or 分户):
    a 减少 row in the old household and an 增加 row in the new one, one person version (change reason
    names both 户编号), provenance of the household field and one ``registry.member_move`` audit event."""
    if how not in MOVE_KINDS:
        raise DomainError(E_KIND, "成员迁移的类型须为迁移或分户")
    out_kind, in_kind = MOVE_KINDS[how]
    with transaction.atomic():
        p = Person.objects.select_for_update().get(pk=person.pk)
        old = p.household
        if old.pk == to_household.pk:
            raise DomainError(E_VALUE, f"{mask_name(p.name)}已是户{to_household.household_no}的成员")
        why = f"{how}：户{old.household_no}→户{to_household.household_no}"
        now = clock.now()
        left = MemberChange.objects.create(
            household=old,
            person=p,
            kind=out_kind,
            date=date,
            note=(note or why)[:200],
            recorded_by=_user(actor),
            source_kind=source_kind,
            source_ref=source_ref[:200],
            source_at=now,
        )
        p.household = to_household
        p.is_member = True
        p.version += 1
        p.updated_by = _user(actor)
        p.source_kind, p.source_ref, p.source_at = source_kind, source_ref[:200], now
        p._change_reason = why[:100]
        p.save()
        joined = MemberChange.objects.create(
            household=to_household,
            person=p,
            kind=in_kind,
            date=date,
            note=(note or why)[:200],
            recorded_by=_user(actor),
            source_kind=source_kind,
            source_ref=source_ref[:200],
            source_at=now,
        )
        _provenance(
            actor=actor,
            household=to_household,
            entity="person",
            entity_id=p.pk,
            field="household",
            value=to_household.household_no,
            source_kind=source_kind,
            source_ref=source_ref or why,
            observed_on=date,
            note=why,
        )
        audit_record(
            actor=actor,
            event_type="registry.member_move",
            obj=p,
            region_code=old.village_id,
            household_id=old.pk,
            data={
                "how": how,
                "from": old.household_no,
                "to": to_household.household_no,
                "to_village": to_household.village_id,
                "date": date,
            },
            reason=note or why,
        )
    return left, joined
