"""``registry.selectors._in_effect`` works out what each version changed once per request and keeps the outcome
for days on which the same versions are in effect: the same facts as the earlier per-call loop (kept here as
the reference) for every day, inside and outside a request's memo, and every call its own instance."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from fangpin.core.memo import request_memo
from fangpin.registry import selectors
from fangpin.registry.choices import MemberChangeKind
from fangpin.registry.models import Household, Person
from fangpin.registry.services.changes import do_fields_update
from fangpin.registry.services.members import do_member_add, do_member_remove
from fangpin.testing import factories as f


def _reference(versions, on):
    """The eighth round's ``_in_effect``, unchanged."""
    if not versions:
        return None
    tracked = {fl.attname for fl in type(versions[0])._meta.concrete_fields}
    names = [fl.attname for fl in versions[0].instance_type._meta.concrete_fields if fl.attname in tracked]
    best = {}
    prev = None
    for i, v in enumerate(versions):
        eff = v.effective_on if v.effective_on is not None or i == 0 else timezone.localdate(v.history_date)
        if i == 0 and eff is not None and eff > on:
            return None
        if eff is None or eff <= on:
            key = (eff or dt.date.min, v.history_date, v.history_id)
            changed = names if prev is None else [n for n in names if getattr(v, n) != getattr(prev, n)]
            for n in [*changed, "_deleted"]:
                value = v.history_type == "-" if n == "_deleted" else getattr(v, n)
                if n == "_deleted" and prev is not None and value == (prev.history_type == "-"):
                    continue
                if n not in best or key > best[n][0]:
                    best[n] = (key, value)
        prev = v
    if best.get("_deleted", (None, False))[1]:
        return None
    obj = selectors.history_instance(versions[-1])
    for n, (_key, value) in best.items():
        if n != "_deleted" and n not in selectors._BOOKKEEPING:
            setattr(obj, n, value)
    return obj


def _facts(obj) -> dict | None:
    if obj is None:
        return None
    return {fl.attname: getattr(obj, fl.attname) for fl in obj._meta.concrete_fields}


DAYS = [dt.date(2024, 12, 31)] + [dt.date(2025, m, d) for m in range(1, 13) for d in (1, 2, 15)]


def _history(personas):
    cadre = personas["cadre_a1"]
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        hh = f.household()
        head = f.person(hh, name="王建国")
        grandpa = f.person(hh, name="王德福", birth=dt.date(1940, 2, 3), relation="之父")
    with time_machine.travel(dt.datetime(2025, 9, 20, tzinfo=dt.UTC), tick=False):
        do_member_add(
            actor=cadre,
            household=hh,
            person={"name": "王小宝", "gender": "M", "relation": "之孙子", "birth_date": "2025-07-02"},
            kind=MemberChangeKind.BIRTH,
            date=dt.date(2025, 7, 2),
        )
    with time_machine.travel(dt.datetime(2025, 10, 5, tzinfo=dt.UTC), tick=False):
        do_fields_update(actor=cadre, entity="person", obj_id=head.pk, changes={"phone": "13900001111"})
        do_fields_update(actor=cadre, entity="household", obj_id=hh.pk, changes={"address": "新村12号"})
    with time_machine.travel(dt.datetime(2025, 12, 10, 10, 0, tzinfo=dt.UTC), tick=False):
        do_fields_update(
            actor=cadre,
            entity="person",
            obj_id=head.pk,
            changes={"medical_resident": False},
            observed_on=dt.date(2025, 8, 1),
        )
        do_fields_update(
            actor=cadre,
            entity="household",
            obj_id=hh.pk,
            changes={"house_grade": "D"},
            observed_on=dt.date(2025, 6, 1),
        )
        do_member_remove(actor=cadre, person=grandpa, kind=MemberChangeKind.DEATH, date=dt.date(2025, 11, 8))
    return hh


@pytest.mark.django_db
def test_the_same_facts_as_the_reference_on_every_day_inside_and_outside_a_request(personas):
    hh = _history(personas)
    lists = [list(Household.history.filter(id=hh.pk).order_by("id", "history_date", "history_id"))]
    for p in Person.objects.filter(household=hh):
        lists.append(list(Person.history.filter(id=p.pk).order_by("id", "history_date", "history_id")))
    lists += [vs[: i + 1] for vs in lists for i in range(len(vs))]  # every prefix, as the risk facts ask
    assert max(len(vs) for vs in lists) >= 3
    want = [[_facts(_reference(vs, d)) for d in DAYS] for vs in lists]
    assert [[_facts(selectors._in_effect(vs, d)) for d in DAYS] for vs in lists] == want
    with request_memo():
        for _ in range(2):  # the second pass from the kept steps and outcomes
            assert [[_facts(selectors._in_effect(vs, d)) for d in DAYS] for vs in lists] == want
        names = {d: sorted(p.name for p in selectors.members_as_of(hh.pk, d)) for d in DAYS}
    assert names == {d: sorted(p.name for p in selectors.members_as_of(hh.pk, d)) for d in DAYS}
    assert names[dt.date(2025, 7, 2)] == ["王小宝", "王建国", "王德福"]
    assert names[dt.date(2025, 12, 1)] == ["王小宝", "王建国"]


@pytest.mark.django_db
def test_each_call_gets_its_own_instance(personas):
    hh = _history(personas)
    with request_memo():
        a = selectors.household_as_of(hh.pk, dt.date(2025, 10, 6))
        b = selectors.household_as_of(hh.pk, dt.date(2025, 10, 7))  # the same versions in effect
        assert a is not b and _facts(a) == _facts(b)
        assert a.address == "新村12号" and a.house_grade == "D"
        a.address = "改过"
        a._state.fields_cache["x"] = 1
        c = selectors.household_as_of(hh.pk, dt.date(2025, 10, 8))
        assert c.address == "新村12号" and "x" not in c._state.fields_cache
        members = selectors.members_as_of(hh.pk, dt.date(2025, 12, 1))
        for p in members:
            p.is_member = False  # a caller's change stays in its own instance
        again = selectors.member_counts_as_of(hh.pk, [dt.date(2025, 12, 1), dt.date(2025, 12, 2)])
        assert again == {dt.date(2025, 12, 1): 2, dt.date(2025, 12, 2): 2}
