import datetime as dt

import pytest
from django.utils import timezone

from fangpin.accounts.scope import scoped
from fangpin.core.errors import NotFound
from fangpin.registry import selectors
from fangpin.registry.models import Household
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess
from fangpin.testing import factories as f


@pytest.mark.django_db
def test_cadre_sees_only_own_village(personas):
    a1 = f.household(f.VILLAGE_A1)
    a2 = f.household(f.VILLAGE_A2)
    b1 = f.household(f.VILLAGE_B1)
    qs = Household.objects.all()
    assert set(scoped(personas["cadre_a1"], qs)) == {a1}
    assert set(scoped(personas["township_a"], qs)) == {a1, a2}
    assert set(scoped(personas["county_admin"], qs)) == {a1, a2, b1}
    assert not scoped(personas["dept_yibao"], qs).exists()
    with pytest.raises(NotFound):
        selectors.household_get(actor=personas["cadre_a1"], household_id=a2.id)


@pytest.mark.django_db
def test_members_as_of_a_month():
    hh = f.household()
    head = f.person(hh)
    baby = f.person(hh, name="张小", birth=dt.date(2025, 1, 1), relation="之子")
    assert {p.id for p in selectors.members_as_of(hh.id, timezone.localdate())} == {head.id, baby.id}
    head.is_member = False
    head.save()
    assert {p.id for p in selectors.members_as_of(hh.id, timezone.localdate())} == {baby.id}


@pytest.mark.django_db
def test_income_assessment_uses_regional_line_and_records_params():
    hh = f.household()
    for i in range(3):
        f.person(hh, name=f"成员{i}", relation="户主" if i == 0 else "之子")
    f.income(hh, year=2024, wage=15000, transfer_dibao=3000, production_expense=0)
    a = household_income_assess(hh, month=dt.date(2025, 1, 1))
    assert a.per_capita == 6000 and a.line == 7600 and a.below_line
    assert {p["key"] for p in a.params} >= {"income.monitoring_line", "income.window_months"}


@pytest.mark.django_db
def test_guarantee_assessment_reads_household_indicators():
    hh = f.household(house_grade="C", water_piped=True)
    f.person(hh, medical_resident=False)
    res, params = household_guarantees_assess(hh, on=dt.date(2025, 6, 1))
    assert {x.code for x in res.failures} == {"unsafe_house", "uninsured"}
    assert any(p["key"] == "housing.unsafe_grades" for p in params)
