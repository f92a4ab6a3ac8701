"""The set-based front end of the county job (``facts.facts_from_db``) reads the same facts as the ORM
reading it replaced (``orm_facts.facts_from_db_orm``, kept as the reference), frame for frame and household
for household — on a demo slice whose registry history has back-dated and forward-dated changes, edits of
one person recorded twice, a member who died and a lead of the registry."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangpin.core.clock import add_months
from fangpin.demo.services.load import demo_county_generate
from fangpin.risk.facts import facts_from_db
from fangpin.risk.features import features_at
from fangpin.risk.services import county_lines
from fangpin.testing import factories as f

from .orm_facts import facts_from_db_orm

AS_OF = dt.date(2026, 6, 15)
FRAMES = ("households", "persons", "incomes", "events", "leads", "objects")


@pytest.fixture
def county(personas):
    demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=99,
        as_of=AS_OF,
        villages=[f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1],
        households_per_village=60,
    )
    return personas


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def _same(a, b) -> None:
    for name in FRAMES:
        x, y = getattr(a, name), getattr(b, name)
        assert x.schema == y.schema, name
        assert _sorted(x).equals(_sorted(y)), name
    assert a.lines == b.lines


def _edit_history(today: dt.date) -> None:
    """Versions the generator does not write: a back-dated illness, a forward-dated job, one person
    edited twice on different effective dates, a lead opened in the registry."""
    from fangpin.monitoring.models import Lead
    from fangpin.registry.models import Person

    this = today.replace(day=1)
    people = list(Person.objects.filter(is_member=True, health="健康").order_by("id")[:3])
    a, b, c = people
    a.health = "长期慢性病"
    a.take_effect(add_months(this, -6) + dt.timedelta(days=9))
    a.save()
    b.work_status = "县外务工"
    b.take_effect(add_months(this, 3))
    b.save()
    c.dibao = "享受"
    c.save()
    c.health = "大病"
    c.take_effect(add_months(this, -2))
    c.save()
    c.dibao = "未享受"
    c.take_effect(add_months(this, -1))
    c.save()
    Lead.objects.create(
        village=a.household.village,
        township=a.household.village.parent,
        household=a.household,
        opened_on=add_months(this, -3),
        outcome="",
    )


@pytest.mark.django_db
def test_the_set_based_front_end_reads_the_facts_the_orm_reading_did(county):
    from django.utils import timezone

    today = timezone.localdate()
    _edit_history(today)
    lines = county_lines("410506", today.year)
    old = facts_from_db_orm("410506", lines=lines)
    with CaptureQueriesContext(connection) as q:
        new = facts_from_db("410506", lines=lines)
    _same(old, new)
    assert new.persons.filter(pl.col("known_on").is_not_null()).height > 0  # later recordings
    assert new.leads.filter(pl.col("outcome") == "open").height > 0  # the registry's lead
    for month in (dt.date(2024, 1, 1), AS_OF.replace(day=1), today.replace(day=1)):
        fo, fn = features_at(old, month), features_at(new, month)
        assert fn.height > 100
        assert _sorted(fo).equals(_sorted(fn)), month
    # one query per table, not one per household or person (chunks of a streamed read are not queries);
    # on PostgreSQL the SET and RESET of cursor_tuple_fraction around them
    assert len(q.captured_queries) == 10 + 2 * (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_protected_attributes_and_names_in_the_registry_are_not_model_inputs(county):
    """The county job's own reading (``facts_from_db``), not only the generator's: every person saved as a
    real edit (a new history version) with another 民族, the other 性别 and another name gives the same
    facts' person traits and exactly the same features; the person frame has none of those columns."""
    from django.utils import timezone

    from fangpin.registry.models import Person
    from fangpin.risk.facts import PERSON_COLUMNS, PROTECTED

    today = timezone.localdate()
    lines = county_lines("410506", today.year)
    months = (dt.date(2025, 6, 1), today.replace(day=1), add_months(today.replace(day=1), 1))
    before = facts_from_db("410506", lines=lines)
    assert tuple(before.persons.columns) == PERSON_COLUMNS
    assert not set(PROTECTED) & set(before.persons.columns)
    feats = {m: features_at(before, m) for m in months}
    people = list(Person.objects.filter(household__village__code__startswith="410506"))
    assert len(people) > 300
    for p in people:
        p.ethnicity = "汉族" if p.ethnicity != "汉族" else "回族"
        p.gender = "F" if p.gender == "M" else "M"
        p.name = "某某"
        p.save()
    after = facts_from_db("410506", lines=lines)
    assert not set(PROTECTED) & set(after.persons.columns)
    for m in months:
        assert feats[m].height > 100
        assert _sorted(features_at(after, m)).equals(_sorted(feats[m])), m
