"""The duplicate-ID rule and the household flags at a million persons: the rule looks across the registry
through the canonical number's blind index (``Person.id_number_canon``), so checking k households costs
O(k); a change of one member's number marks the households it is (or was) duplicated with; and the flags
after incremental refreshes equal those of a full rebuild."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangpin.accounts.actors import system_actor
from fangpin.core import clock, crypto
from fangpin.core.ids import canonical_id_number, make_id_number
from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.registry import flags
from fangpin.registry.checks import codes as C
from fangpin.registry.checks.report import household_findings
from fangpin.registry.models import Household, HouseholdFlags, Person
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)
BORN = dt.date(1970, 6, 1)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def legacy_15(n18: str) -> str:
    """The 15-digit pre-1999 form of an 18-digit number born in the 1900s."""
    return n18[:6] + n18[8:17]


def listed(actor, **kw) -> set[int]:
    return set(
        household_search_qs(actor=actor, f=HouseholdFilter(**kw), on=TODAY).values_list("pk", flat=True)
    )


def snapshot() -> dict[int, tuple]:
    return {
        r.household_id: (r.below_line, r.per_capita, r.income_month, r.findings, r.finding_codes, r.dirty)
        for r in HouseholdFlags.objects.all()
    }


def test_canonical_index_is_the_full_index_for_a_canonical_number(db):
    hh = f.household(f.VILLAGE_A1)
    n18 = make_id_number("410506", BORN, 7, "M")
    p = f.person(hh, birth=BORN, id_number=n18)
    old = f.person(hh, name="李四", birth=BORN, id_number=legacy_15(make_id_number("410506", BORN, 9, "M")))
    stored = dict(Person.objects.values_list("id", "id_number_canon"))
    assert stored[p.pk] == p.id_number_bidx == crypto.blind_index(n18, "id_number")
    assert stored[old.pk] == crypto.blind_index(canonical_id_number(old.id_number), "id_number")
    assert stored[old.pk] != old.id_number_bidx  # the 15-digit number's exact index differs


def test_a_legacy_number_in_another_household_is_a_duplicate_found_from_either_side(db):
    n18 = make_id_number("410506", BORN, 3, "M")
    a, b = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_B1)
    pa = f.person(a, name="王大", birth=BORN, id_number=n18)
    f.person(b, name="王大", birth=BORN, id_number=legacy_15(n18))
    for hh in (a, b):  # checking one household finds its duplicate elsewhere in the registry
        dup = [x for x in household_findings(hh, on=TODAY) if x.code == C.ID_DUPLICATE]
        assert len(dup) == 1 and dup[0].household_id == hh.pk
        other = b if hh == a else a
        assert other.household_no in dup[0].message and n18 not in dup[0].message  # masked
    pa.is_member = False  # no longer a current member: no duplicate
    pa.save()
    assert not [x for x in household_findings(b, on=TODAY) if x.code == C.ID_DUPLICATE]


def test_the_duplicate_rule_does_not_scan_the_registry(db):
    """The rule's queries over one household do not grow with the registry: same count for 2 and 40
    other households, and every one is a lookup by household or by the canonical index."""
    target = f.household(f.VILLAGE_A1)
    f.person(target, birth=BORN)

    def queries() -> int:
        from fangpin.registry.checks.base import CHECKS, _load
        from fangpin.registry.checks.report import context_for

        _load()
        ctx = context_for(Household.objects.filter(pk=target.pk), on=TODAY)
        with CaptureQueriesContext(connection) as q:
            list(CHECKS[C.ID_DUPLICATE].func(ctx))
        return len(q.captured_queries)

    for _ in range(2):
        f.person(f.household(f.VILLAGE_A2), birth=BORN)
    few = queries()
    for _ in range(38):
        f.person(f.household(f.VILLAGE_A2), birth=BORN)
    assert queries() == few <= 2


def test_a_new_duplicate_marks_the_other_household_and_a_fix_clears_both(personas, db):
    admin = personas["county_admin"]
    n18 = make_id_number("410506", BORN, 5, "F")
    a = f.household(f.VILLAGE_A1)
    f.person(a, name="赵芳", gender="F", birth=BORN, id_number=n18)
    listed(admin, has_findings=True)
    assert HouseholdFlags.objects.get(household=a).dirty is False
    assert C.ID_DUPLICATE not in HouseholdFlags.objects.get(household=a).finding_codes
    b = f.household(f.VILLAGE_A2)
    twin = f.person(b, name="赵芳", gender="F", birth=BORN, id_number=legacy_15(n18))
    assert HouseholdFlags.objects.get(household=a).dirty is True  # a's findings changed with b's member
    found = listed(admin, has_findings=True)
    assert {a.pk, b.pk} <= found
    assert C.ID_DUPLICATE in HouseholdFlags.objects.get(household=a).finding_codes
    twin.id_number = make_id_number("410506", BORN, 11, "F")  # corrected: another person after all
    twin.save()
    assert HouseholdFlags.objects.get(household=a).dirty is True  # the old duplicate's household too
    listed(admin, has_findings=True)
    for hh in (a, b):
        assert C.ID_DUPLICATE not in HouseholdFlags.objects.get(household=hh).finding_codes


def test_incremental_refreshes_equal_a_full_rebuild(personas, db):
    """Changes of every kind, each followed by a list read (the incremental refresh of the dirty rows);
    then the whole registry rebuilt: every row is the same."""
    from fangpin.registry.services.changes import do_income_record_save

    admin = personas["county_admin"]
    poor = poor_exited_household(f.VILLAGE_A1, per_capita=3000)
    rich = poor_exited_household(f.VILLAGE_A2, per_capita=30000)
    bad = f.household(f.VILLAGE_B1, phone="12345")
    n18 = make_id_number("410506", BORN, 13, "M")
    f.person(bad, birth=BORN, id_number=n18)
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    listed(admin, below_line=True)
    dup = f.household(f.VILLAGE_A1)
    f.person(dup, birth=BORN, id_number=legacy_15(n18))
    listed(admin, has_findings=True)
    do_income_record_save(
        actor=admin,
        household=rich,
        payload={"period_start": "2024-01-01", "period_end": "2024-12-31", "components": {"wage": 3000}},
        reason="核实",
    )
    listed(admin, below_line=True)
    bad.phone = "13812345678"
    bad.save()
    listed(admin, has_findings=True)
    incremental = snapshot()
    assert not any(r[-1] for r in incremental.values())  # nothing left dirty
    assert incremental[poor.pk][0] and incremental[rich.pk][0]  # both under the line now
    assert C.ID_DUPLICATE in incremental[bad.pk][4] and C.ID_DUPLICATE in incremental[dup.pk][4]
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY)
    assert snapshot() == incremental
