"""The household list's maintained flags (``registry.flags``): below the line and has findings stay correct
after the changes that move them, made through the services, and a concurrent change is never lost."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.core import clock
from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.registry import flags
from fangpin.registry.models import Household, HouseholdFlags
from fangpin.registry.services.changes import do_income_record_save, household_update
from fangpin.registry.services.members import do_member_remove
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)
YEAR_2024 = {"period_start": "2024-01-01", "period_end": "2024-12-31"}


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def listed(actor, **kw) -> set[int]:
    return set(
        household_search_qs(actor=actor, f=HouseholdFilter(**kw), on=TODAY).values_list("pk", flat=True)
    )


@pytest.fixture
def hh(db):
    """脱贫户 of three at 4,000 a head in 2024: under the 2025 line."""
    return poor_exited_household(f.VILLAGE_A1, per_capita=4000)


def row(h: Household) -> HouseholdFlags:
    return HouseholdFlags.objects.get(household=h)


def test_income_change_through_the_service_moves_the_household_across_the_line(personas, hh):
    admin = personas["county_admin"]
    assert listed(admin, below_line=True) == {hh.pk}
    assert row(hh).dirty is False and row(hh).checked_on == TODAY
    do_income_record_save(
        actor=admin, household=hh, payload={**YEAR_2024, "components": {"wage": 60000}}, reason="核实"
    )
    assert row(hh).dirty is True  # marked in the same transaction as the change
    assert listed(admin, below_line=True) == set()
    assert float(row(hh).per_capita) == 20000.0 and row(hh).dirty is False
    do_income_record_save(
        actor=admin, household=hh, payload={**YEAR_2024, "components": {"wage": 9000}}, reason="更正"
    )
    assert listed(admin, below_line=True) == {hh.pk}


def test_a_member_death_changes_the_per_capita_income(personas, db):
    admin = personas["county_admin"]
    from fangpin.policy.params import param_value

    line = float(param_value("income.monitoring_line", region_code="410506000000", year=2025))
    # three members at 0.8 × the line a head; after a death the same income is 1.2 × the line a head
    h = poor_exited_household(f.VILLAGE_A1, per_capita=int(line * 0.8))
    assert listed(admin, below_line=True) == {h.pk}
    before = float(row(h).per_capita)
    ill = h.persons.get(name="王建国")
    do_member_remove(actor=admin, person=ill, kind="death", date=dt.date(2025, 2, 1), note="病故")
    assert row(h).dirty is True
    assert listed(admin, below_line=True) == set()
    assert float(row(h).per_capita) == pytest.approx(before * 3 / 2)


def test_a_finding_fixed_through_the_service_leaves_the_findings_filter(personas, db):
    admin = personas["county_admin"]
    bad = f.household(f.VILLAGE_A1, phone="12345")  # 户联系电话格式错误
    f.person(bad, name="赵一")
    good = f.household(f.VILLAGE_A1, phone="13800001111")
    f.person(good, name="钱二")
    assert bad.pk in listed(admin, has_findings=True)
    phone_rule = set(row(bad).finding_codes.split(",")) - set(row(good).finding_codes.split(","))
    assert len(phone_rule) == 1 and row(bad).findings == row(good).findings + 1
    bad.refresh_from_db()
    household_update(
        actor=admin, household_id=bad.pk, changes={"phone": "13800002222"}, expected_version=bad.version
    )
    assert row(bad).dirty is True
    still = listed(admin, has_findings=True)
    assert row(bad).finding_codes == row(good).finding_codes and row(bad).findings == row(good).findings
    assert (bad.pk in still) == (good.pk in still)
    # fixing the other household's remaining findings takes it off the filter entirely
    if row(good).findings:
        assert good.pk in still


def test_rows_of_another_day_are_recomputed_before_a_read(personas, hh):
    admin = personas["county_admin"]
    flags.household_flags_rebuild(actor=system_actor("test"), on=TODAY - dt.timedelta(days=40))
    assert row(hh).checked_on == TODAY - dt.timedelta(days=40)
    assert listed(admin, below_line=True) == {hh.pk}
    assert row(hh).checked_on == TODAY and row(hh).income_month == dt.date(2025, 3, 1)


def test_bulk_created_households_without_a_row_are_computed(personas, hh):
    admin = personas["county_admin"]
    listed(admin, below_line=True)
    fresh = Household.objects.bulk_create(
        [Household(household_no="410506001201999", village_id=f.VILLAGE_A1)]
    )[0]
    assert not HouseholdFlags.objects.filter(household=fresh).exists()  # bulk: no signal
    listed(admin, has_findings=True)
    assert HouseholdFlags.objects.filter(household=fresh, dirty=False, checked_on=TODAY).exists()


def test_a_change_made_while_recomputing_keeps_the_row_dirty(personas, hh, monkeypatch):
    """The generation read before the data wins over the recomputed values: a write that lands between the
    read and the upsert is not lost."""
    original = flags._income

    def racing(ids, **kw):
        out = original(ids, **kw)
        flags.household_flags_touch([hh.pk])  # a concurrent change after the data was read
        return out

    monkeypatch.setattr(flags, "_income", racing)
    flags.household_flags_refresh(Household.objects.filter(pk=hh.pk), on=TODAY)
    assert row(hh).dirty is True
    monkeypatch.setattr(flags, "_income", original)
    flags.household_flags_refresh(Household.objects.filter(pk=hh.pk), on=TODAY)
    assert row(hh).dirty is False


def test_an_audited_state_change_marks_the_household(personas, hh):
    from fangpin.monitoring.services.enrolment import monitoring_object_create

    admin = personas["county_admin"]
    listed(admin, below_line=True)
    assert row(hh).dirty is False
    monitoring_object_create(
        actor=admin,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=TODAY,
        origin="procedure",
    )
    assert row(hh).dirty is True


def test_a_new_line_parameter_marks_the_region(personas, hh):
    from fangpin.policy.models import Parameter

    admin = personas["county_admin"]
    listed(admin, below_line=True)
    Parameter.objects.create(key="income.monitoring_line", region_code="410506000000", year=2025, value=3000)
    assert row(hh).dirty is True
    assert listed(admin, below_line=True) == set()  # 4,000 a head is above a 3,000 line


def test_rebuild_command_writes_every_household(personas, hh, db):
    from django.core.management import call_command

    other = poor_exited_household(f.VILLAGE_A2, per_capita=9000)
    HouseholdFlags.objects.all().delete()
    call_command("flags_rebuild", "--on", TODAY.isoformat())
    assert HouseholdFlags.objects.filter(dirty=False, checked_on=TODAY).count() == Household.objects.count()
    assert row(hh).below_line is True and row(other).below_line is False


def test_rebuild_refuses_without_an_actor(db):
    with pytest.raises(TypeError):
        flags.household_flags_rebuild(actor=None, on=TODAY)
