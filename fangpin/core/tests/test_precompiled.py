"""Querysets compiled once per process (``core.precompiled``): the same rows, fields and related rows as the
queryset itself for every argument, the SQL compiled once, and builders it cannot serve refused loudly."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from fangpin.core import precompiled as pc
from fangpin.registry.models import MemberChange, Person
from fangpin.testing import factories as f


@pytest.fixture(autouse=True)
def _fresh():
    pc.precompiled_clear()
    yield
    pc.precompiled_clear()


def _persons(h: int):
    return Person.objects.filter(household_id=h).order_by("-is_member", "id")


def _changes(h: int):
    return MemberChange.objects.filter(household_id=h).select_related("person").order_by("date", "id")


def _fields(obj) -> dict:
    return {fl.attname: getattr(obj, fl.attname) for fl in obj._meta.concrete_fields}


def test_rows_and_fields_are_the_querysets_own_for_each_argument(db):
    one, two = f.household(), f.household()
    a = f.person(one, name="张一", phone="13800000001")
    f.person(one, name="张二")
    b = f.person(two, name="李一")
    for hh in (one, two, one):  # compiled with the first, run with the others
        got = pc.precompiled_list("test.persons", _persons, hh.pk)
        want = list(_persons(hh.pk))
        assert [p.pk for p in got] == [p.pk for p in want] and got
        assert [_fields(p) for p in got] == [_fields(p) for p in want]
    first = pc.precompiled_list("test.persons", _persons, one.pk)[0]
    assert first.pk == a.pk and first.id_number == Person.objects.get(pk=a.pk).id_number != ""
    assert first.phone == "13800000001"
    assert [p.pk for p in pc.precompiled_list("test.persons", _persons, two.pk)] == [b.pk]
    assert pc.precompiled_list("test.persons", _persons, 0) == []


def test_related_rows_come_with_the_query(db):
    hh = f.household()
    p = f.person(hh, name="王五")
    MemberChange.objects.create(household=hh, person=p, kind="birth", date="2024-05-01")
    with CaptureQueriesContext(connection) as cq:
        rows = pc.precompiled_list("test.changes", _changes, hh.pk)
        names = [r.person.name for r in rows]
    assert names == ["王五"] and len(cq.captured_queries) == 1


def test_the_sql_is_compiled_once(db):
    one, two = f.household(), f.household()
    f.person(one)
    f.person(two)
    with mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql) as compiled:
        pc.precompiled_list("test.persons", _persons, one.pk)
        pc.precompiled_list("test.persons", _persons, two.pk)
        pc.precompiled_list("test.persons", _persons, one.pk)
    assert compiled.call_count == 1


def test_builders_it_cannot_serve_are_refused(db):
    hh = f.household()
    with pytest.raises(ValueError, match="not a parameter"):  # the argument ignored
        pc.precompiled_list("test.ignored", lambda h: Person.objects.order_by("id"), hh.pk)
    with pytest.raises(ValueError, match="plain model querysets"):
        pc.precompiled_list(
            "test.values", lambda h: Person.objects.filter(household_id=h).values("id"), hh.pk
        )
    with pytest.raises(ValueError, match="plain model querysets"):
        pc.precompiled_list("test.related", lambda h: hh.persons.filter(id__gte=h), hh.pk)


def test_a_flat_column_and_an_argument_at_several_places(db):
    one, two = f.household(), f.household()
    a, b = f.person(one), f.person(two)
    MemberChange.objects.create(household=two, person=a, kind="marriage_in", date="2024-05-01")

    def ids(h: int):  # the persons of the household, or who joined it (the argument twice in the SQL)
        return (
            Person.objects.filter(Q(household_id=h) | Q(member_changes__household_id=h))
            .values_list("id", flat=True)
            .order_by("id")
            .distinct()
        )

    assert pc.precompiled_list("test.ids", ids, one.pk) == [a.pk]
    assert pc.precompiled_list("test.ids", ids, two.pk) == sorted([a.pk, b.pk]) == list(ids(two.pk))


def test_several_arguments_of_each_kind_text_and_date_included(db):
    """An int, a text and a date in one statement (a date twice): the queryset's own rows for each set."""
    import datetime as dt

    one, two = f.household(), f.household()
    a = f.person(one, name="张一")
    f.person(two, name="李一")
    MemberChange.objects.create(household=one, person=a, kind="birth", date="2024-05-01")
    MemberChange.objects.create(household=one, person=a, kind="death", date="2024-09-01")

    def build(h: int, village: str, on: dt.date):
        return (
            MemberChange.objects.filter(household_id=h, household__village_id=village)
            .filter(Q(date__lte=on) | Q(date__gt=on, kind="never"))
            .order_by("date", "id")
        )

    for h, village, on in [
        (one.pk, one.village_id, dt.date(2024, 6, 1)),
        (one.pk, one.village_id, dt.date(2024, 12, 1)),
        (one.pk, two.village_id if two.village_id != one.village_id else "999999999999", dt.date(2025, 1, 1)),
        (two.pk, two.village_id, dt.date(2025, 1, 1)),
    ]:
        got = pc.precompiled_list("test.three", build, h, village, on)
        assert [c.pk for c in got] == [c.pk for c in build(h, village, on)]
    assert len(pc.precompiled_list("test.three", build, one.pk, one.village_id, dt.date(2024, 6, 1))) == 1
    with pytest.raises(TypeError):
        pc.precompiled_list("test.three", build, one.pk, None, dt.date(2024, 6, 1))


def test_a_text_inside_a_like_is_refused(db):
    with pytest.raises(ValueError, match="not a parameter"):
        pc.precompiled_list("test.like", lambda q: Person.objects.filter(name__startswith=q), "张")


def test_the_converters_are_worked_out_once_per_connection(db):
    hh = f.household()
    f.person(hh, name="王五", phone="13800000009")
    with mock.patch.object(
        SQLCompiler, "get_converters", autospec=True, side_effect=SQLCompiler.get_converters
    ) as conv:
        rows = [pc.precompiled_list("test.persons", _persons, hh.pk) for _ in range(3)]
    assert conv.call_count == 1
    assert [_fields(r[0]) for r in rows] == [_fields(list(_persons(hh.pk))[0])] * 3
    assert rows[0][0].phone == "13800000009"  # the field's own converter (decryption) applied every time
