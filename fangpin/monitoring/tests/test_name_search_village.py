"""The household name search of one village (a cadre's, or the region filter's) gives the same households as
the county-wide search narrowed by the scope, on PostgreSQL through the village's own bigram keys (registry
migration 0017, kept by triggers) and on SQLite by LIKE — through moves, member changes, name corrections
and bulk writes that bypass the models."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.registry.models import Household, Person
from fangpin.registry.services.households import do_household_move
from fangpin.registry.services.members import do_member_move
from fangpin.testing import factories as f

ON = dt.date(2025, 3, 10)
PG = "postgresql"


def found(actor, q: str, **filters) -> set[str]:
    f_ = HouseholdFilter(q=q, **filters)
    return set(
        household_search_qs(actor=actor, f=f_, on=ON, gate=False).values_list("household_no", flat=True)
    )


def keys_consistent() -> bool:
    """PostgreSQL: every person's kept village is their household's (nothing to check on SQLite)."""
    if connection.vendor != PG:
        return True
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM registry_person p JOIN registry_household h ON h.id = p.household_id "
            "WHERE p.search_village IS DISTINCT FROM h.village_id"
        )
        return cur.fetchone()[0] == 0


@pytest.fixture
def homes(db):
    a1 = f.household(f.VILLAGE_A1)
    f.person(a1, name="欧阳春花")
    a1b = f.household(f.VILLAGE_A1)
    f.person(a1b, name="李秋生")
    a2 = f.household(f.VILLAGE_A2)
    f.person(a2, name="欧阳秋月")
    b1 = f.household(f.VILLAGE_B1)
    f.person(b1, name="王欧阳")
    return a1, a1b, a2, b1


def test_a_cadre_finds_the_names_of_their_village_only(personas, homes):
    a1, a1b, a2, b1 = homes
    assert found(personas["cadre_a1"], "欧阳") == {a1.household_no}
    assert found(personas["cadre_a2"], "欧阳") == {a2.household_no}
    assert found(personas["cadre_b1"], "欧阳") == {b1.household_no}
    assert found(personas["township_a"], "欧阳") == {a1.household_no, a2.household_no}
    assert found(personas["county_admin"], "欧阳") == {a1.household_no, a2.household_no, b1.household_no}
    # the region filter of a wider actor: the village's keys too; a village outside the actor's scope: none
    assert found(personas["county_admin"], "欧阳", region=f.VILLAGE_A2) == {a2.household_no}
    assert found(personas["cadre_a1"], "欧阳", region=f.VILLAGE_A2) == set()
    assert found(personas["cadre_a1"], "春花") == {a1.household_no}
    assert found(personas["cadre_a1"], "阳春花") == {a1.household_no}  # every bigram, in the one village
    assert found(personas["cadre_a1"], "欧阳春花") == {a1.household_no}
    assert found(personas["cadre_a1"], "阳秋") == set()  # 欧阳秋月 is of A2
    assert found(personas["cadre_a1"], "秋生") == {a1b.household_no}
    assert keys_consistent()


def test_like_wildcards_in_the_term_are_plain_characters(personas, homes):
    a1, a1b, _a2, _b1 = homes
    f.person(a1b, name="张_%丰")
    assert found(personas["cadre_a1"], "阳%") == set()
    assert found(personas["cadre_a1"], "%%") == set()
    assert found(personas["cadre_a1"], "__") == set()
    assert found(personas["cadre_a1"], "_%") == {a1b.household_no}
    assert found(personas["cadre_a1"], "张_") == {a1b.household_no}


def test_the_village_keys_follow_a_household_move(personas, homes):
    a1, _a1b, a2, _b1 = homes
    do_household_move(
        actor=personas["county_admin"], household=a1, to_village=f.VILLAGE_A2, date=ON, reason="易地搬迁"
    )
    assert keys_consistent()
    assert found(personas["cadre_a1"], "欧阳") == set()
    assert found(personas["cadre_a2"], "欧阳") == {a1.household_no, a2.household_no}
    assert found(personas["cadre_a2"], "春花") == {a1.household_no}


def test_the_village_keys_follow_a_member_move_a_correction_and_a_departure(personas, homes):
    a1, a1b, _a2, b1 = homes
    chunhua = a1.persons.get()
    do_member_move(actor=personas["county_admin"], person=chunhua, to_household=b1, how="迁移", date=ON)
    assert keys_consistent()
    assert found(personas["cadre_a1"], "春花") == set()
    assert found(personas["cadre_b1"], "春花") == {b1.household_no}

    qiusheng = a1b.persons.get()
    qiusheng.name = "李秋升"  # a name correction
    qiusheng.save()
    assert found(personas["cadre_a1"], "秋生") == set()
    assert found(personas["cadre_a1"], "秋升") == {a1b.household_no}

    qiusheng.is_member = False  # no longer a current member
    qiusheng.save()
    assert found(personas["cadre_a1"], "秋升") == set()
    assert keys_consistent()


def test_bulk_writes_that_bypass_the_models_keep_the_keys(personas, homes):
    a1, a1b, a2, b1 = homes
    Household.objects.filter(pk=a2.pk).update(village_id=f.VILLAGE_A1)
    Person.objects.filter(household=b1).update(household=a1b)
    assert keys_consistent()
    assert found(personas["cadre_a1"], "欧阳") == {a1.household_no, a2.household_no, a1b.household_no}
    assert found(personas["cadre_a2"], "欧阳") == set()
    assert found(personas["cadre_b1"], "欧阳") == set()
    if connection.vendor == PG:  # the kept column cannot be written past its household
        with connection.cursor() as cur:
            cur.execute("UPDATE registry_person SET search_village = %s", [f.VILLAGE_B1])
        assert keys_consistent()


def test_a_person_written_before_their_household_in_one_transaction(personas, db):
    with transaction.atomic():  # the foreign keys are checked at commit
        hid = (Household.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
        Person.objects.create(household_id=hid, name="赵先来", gender="M", relation="户主")
        Household.objects.create(
            pk=hid, household_no=f"{f.VILLAGE_A2}999001", village_id=f.VILLAGE_A2, household_type="一般农户"
        )
    assert keys_consistent()
    assert found(personas["cadre_a2"], "先来") == {f"{f.VILLAGE_A2}999001"}


def test_a_village_search_reads_the_village_keys_on_postgresql(personas, homes):
    if connection.vendor != PG:
        pytest.skip("the village's bigram index is PostgreSQL's")
    with CaptureQueriesContext(connection) as q:
        found(personas["cadre_a1"], "欧阳")
    assert any("fangpin_village_bigrams(search_village, name)" in x["sql"] for x in q.captured_queries)
    with CaptureQueriesContext(connection) as q:
        found(personas["township_a"], "欧阳")
    assert not any("fangpin_village_bigrams" in x["sql"] for x in q.captured_queries)
    assert any("fangpin_bigrams" in x["sql"] for x in q.captured_queries)
