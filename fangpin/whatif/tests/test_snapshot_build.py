"""The set-based snapshot build gives exactly the tables of the former per-object build (kept verbatim in
``orm_snapshot.py``): same columns, dtypes and rows, on a demo slice with the history a county has —
back- and forward-dated person edits, births, deaths and moves (自然增加/减少, 迁移), an imported 减少 row
for a person the household's history never names, several income records a household, active objects
whose guarantees fail, a revoked object, a village's own guarantee parameter. And the batch guarantees
equal the per-household service household for household."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangpin.demo.services.load import demo_county_generate
from fangpin.monitoring.models import MonitoringObject, ObjectStatus
from fangpin.monitoring.services.enrolment import enrol_existing
from fangpin.policy.params import parameter_set
from fangpin.registry.choices import LabourSkill, MemberChangeKind
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.services.assessment import household_guarantees_assess, households_guarantees_assess
from fangpin.registry.services.changes import do_fields_update
from fangpin.registry.services.members import do_member_add, do_member_move, do_member_remove
from fangpin.testing import factories as f
from fangpin.whatif.snapshot import snapshot_build

from .helpers import _at
from .orm_snapshot import orm_snapshot_build

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 15)
LATER = dt.date(2026, 10, 1)  # after the forward-dated edits and the late move
SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]
KEYS = {
    "households": ["household_id"],
    "spells": ["household_id", "person_id", "start"],
    "income": ["record_id"],
    "objects": ["object_id"],
}


def assert_same_tables(new, old) -> None:
    """Same columns (in order), dtypes and rows (sorted by key) in every table; the same current list."""
    for name, keys in KEYS.items():
        a, b = getattr(new, name), getattr(old, name)
        assert list(a.columns) == list(b.columns), name
        assert a.dtypes.to_dict() == b.dtypes.to_dict(), name
        assert len(a) == len(b), name
        pd.testing.assert_frame_equal(
            a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True), obj=name
        )
    assert new.monitored_now == old.monitored_now
    assert (new.on, new.region_prefix) == (old.on, old.region_prefix)


def _member(hh: Household, **kw) -> Person:
    return Person.objects.filter(household=hh, is_member=True, **kw).order_by("id").first()


@pytest.fixture
def county_slice(personas):
    admin = personas["county_admin"]
    with _at(2026, 6, 16):
        demo_county_generate(
            actor=admin, county="410506", seed=3, as_of=AS_OF, villages=SLICE, households_per_village=40,
        )  # fmt: skip
    active = list(
        MonitoringObject.objects.filter(status=ObjectStatus.ACTIVE).select_related("household").order_by("id")
    )
    assert len(active) >= 4
    hh = [o.household for o in active]
    plain = list(
        Household.objects.filter(monitoring_objects__isnull=True, village_id=f.VILLAGE_A1).order_by("id")
    )
    with _at(2026, 7, 20):  # recorded after AS_OF
        # failing guarantees: an unsafe house back-dated to March; a child out of school since May
        do_fields_update(actor=admin, entity="household", obj_id=hh[0].pk, changes={"house_grade": "D"},
                         observed_on=dt.date(2026, 3, 1))  # fmt: skip
        f.person(
            hh[1], name="刘小明", relation="之子", birth=dt.date(2013, 3, 1), labour_skill=LabourSkill.NONE
        )
        child = Person.objects.get(household=hh[1], name="刘小明")
        do_fields_update(actor=admin, entity="person", obj_id=child.pk, changes={"out_of_school": True},
                         observed_on=dt.date(2026, 5, 1))  # fmt: skip
        # back-dated labour loss, then a forward-dated recovery of the same person
        p = _member(hh[2])
        do_fields_update(actor=admin, entity="person", obj_id=p.pk,
                         changes={"labour_skill": LabourSkill.LOST}, observed_on=dt.date(2026, 2, 1))  # fmt: skip
    with _at(2026, 7, 25):
        do_fields_update(actor=admin, entity="person", obj_id=p.pk,
                         changes={"labour_skill": LabourSkill.ORDINARY}, observed_on=dt.date(2026, 9, 1))  # fmt: skip
        # an ordinary (dateless) edit: takes effect on the day it is recorded
        q = _member(plain[0])
        do_fields_update(
            actor=admin, entity="person", obj_id=q.pk, changes={"labour_skill": LabourSkill.WEAK}
        )
        # 自然减少 back-dated (a death in April), 自然增加 (a birth in May), a move in May and one in August
        do_member_remove(actor=admin, person=_member(hh[3], relation="户主"), kind=MemberChangeKind.DEATH,
                         date=dt.date(2026, 4, 10))  # fmt: skip
        do_member_add(actor=admin, household=hh[2],
                      person={"name": "陈小宝", "gender": "F", "relation": "之孙女", "birth_date": "2026-05-02"},
                      kind=MemberChangeKind.BIRTH, date=dt.date(2026, 5, 2))  # fmt: skip
        do_member_move(actor=admin, person=_member(plain[1]), to_household=hh[0], how="迁移",
                       date=dt.date(2026, 5, 20))  # fmt: skip
        do_member_move(actor=admin, person=_member(plain[2]), to_household=plain[3], how="分户",
                       date=dt.date(2026, 8, 1))  # fmt: skip
        # an imported 减少 row naming a household the person's history never held (before it: a member there)
        stranger = _member(Household.objects.filter(village_id=f.VILLAGE_B1).order_by("-id").first())
        MemberChange.objects.create(household=plain[4], person=stranger, kind=MemberChangeKind.OTHER_OUT,
                                    date=dt.date(2026, 3, 1), note="导入")  # fmt: skip
        # several income records: a later 12-month record over the last year, a short one
        IncomeRecord.objects.create(household=hh[1], period_start=dt.date(2025, 7, 1),
                                    period_end=dt.date(2026, 6, 30), wage=Decimal("8123.45"),
                                    transfer_pension=Decimal("1200.10"), production_expense=Decimal("300.05"))  # fmt: skip
        IncomeRecord.objects.create(household=hh[1], period_start=dt.date(2026, 1, 1),
                                    period_end=dt.date(2026, 3, 31), insurance_payout=Decimal("0.05"),
                                    compliant_out_of_pocket=Decimal("999.99"))  # fmt: skip
        # a revoked object
        gone = enrol_existing(actor=admin, household=plain[5], category="脱贫不稳定户", risk_types=["因病"],
                              identified_on=dt.date(2026, 1, 5))  # fmt: skip
        MonitoringObject.objects.filter(pk=gone.pk).update(status=ObjectStatus.REVOKED)
        # a village's own guarantee threshold (and a county one for a later year)
        parameter_set(
            actor=admin, key="water.max_fetch_minutes", value=5, region_code=f.VILLAGE_A2, year=2026
        )
        parameter_set(
            actor=admin, key="housing.unsafe_grades", value=["C", "D"], region_code="410506", year=2027
        )
    return {"active": hh, "plain": plain}


@pytest.mark.parametrize("on", [AS_OF, LATER])
def test_the_set_based_build_gives_the_tables_of_the_per_object_build(county_slice, personas, on):
    admin = personas["county_admin"]
    new = snapshot_build(actor=admin, on=on)
    old = orm_snapshot_build(actor=admin, on=on)
    assert_same_tables(new, old)
    # the slice exercises what the build must get right
    objs = new.objects.set_index("object_id")
    assert (objs["guarantees_ok"] == False).sum() >= 2  # noqa: E712
    assert "revoked" not in set(objs["status"])
    assert MonitoringObject.objects.filter(status=ObjectStatus.REVOKED).exists()
    sp = new.spells
    assert sp["stop"].notna().any() and (sp["start"] > pd.Timestamp("1900-01-01")).any()
    assert (
        sp.groupby("person_id").size().max() >= 2
    )  # a person with several spells (moved, or labour changed)
    assert new.income.groupby("household_id").size().max() >= 3


def test_a_narrowed_region_and_a_village_scope_give_the_same_tables(county_slice, personas):
    admin, cadre = personas["county_admin"], personas["cadre_a1"]
    assert_same_tables(
        snapshot_build(actor=admin, on=AS_OF, region_prefix=f.TOWNSHIP_A[:9]),
        orm_snapshot_build(actor=admin, on=AS_OF, region_prefix=f.TOWNSHIP_A[:9]),
    )
    assert_same_tables(snapshot_build(actor=cadre, on=LATER), orm_snapshot_build(actor=cadre, on=LATER))


def test_the_build_reads_with_a_fixed_number_of_queries(county_slice, personas):
    admin = personas["county_admin"]
    with CaptureQueriesContext(connection) as q:
        snap = snapshot_build(actor=admin, on=AS_OF)
    assert len(snap.households) >= 120
    # households 2, persons 4 (+2 when a member change names a person outside the history), income 1,
    # objects 1 + guarantees 8 + the parameters 1-2, current list 1, PostgreSQL's SET/RESET 2
    assert len(q.captured_queries) <= 24, [x["sql"][:120] for x in q.captured_queries]


@pytest.mark.parametrize("on", [AS_OF, LATER])
def test_the_batch_guarantees_equal_the_service_household_for_household(county_slice, on):
    households = Household.objects.filter(village_id__in=SLICE)
    batch = households_guarantees_assess(households, on=on)
    assert set(batch) == set(households.values_list("id", flat=True))
    failing = 0
    for hh in households:
        result, refs = household_guarantees_assess(hh, on=on)
        assert batch[hh.pk] == (result, refs), hh.household_no
        failing += not result.ok
    assert failing >= 2
