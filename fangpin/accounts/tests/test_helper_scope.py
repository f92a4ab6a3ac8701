"""帮扶责任人 see only the households assigned to them, through the one scope gate, on every kind of record."""

import datetime as dt

import pytest

from fangpin.accounts.scope import HOUSEHOLD_PATHS, REGION_PATHS, household_in_scope, scoped
from fangpin.core.errors import NotFound
from fangpin.monitoring.models import Assignment, Lead
from fangpin.monitoring.services.assistance import assignment_set
from fangpin.monitoring.services.leads import lead_submit
from fangpin.registry import selectors
from fangpin.registry.models import Household, Person
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 6, 2)


@pytest.fixture
def village(personas):
    mine, other = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_A1)
    for hh in (mine, other):
        f.person(hh, name="王五")
        lead_submit(actor=personas["cadre_a1"], household=hh, channel="cadre_visit", on=ON)
    assignment_set(
        actor=personas["township_a"], household=mine, user=personas["helper_a1"], kind="helper", on=ON
    )
    return mine, other


def test_a_helper_sees_only_assigned_households_and_their_records(personas, village):
    mine, other = village
    helper = personas["helper_a1"]
    assert list(selectors.household_list(actor=helper)) == [mine]
    assert set(scoped(helper, Person.objects.all()).values_list("household_id", flat=True)) == {mine.id}
    assert set(scoped(helper, Lead.objects.all()).values_list("household_id", flat=True)) == {mine.id}
    assert household_in_scope(helper, mine) and not household_in_scope(helper, other)
    with pytest.raises(NotFound):
        selectors.household_get(actor=helper, household_id=other.id)
    # the village cadre of the same village still sees both
    assert set(selectors.household_list(actor=personas["cadre_a1"])) == {mine, other}


def test_an_ended_assignment_ends_the_access(personas, village):
    mine, _ = village
    Assignment.objects.filter(household=mine).update(end_on=ON)
    assert not selectors.household_list(actor=personas["helper_a1"]).exists()


def test_a_helper_cannot_submit_for_an_unassigned_household(personas, village):
    _, other = village
    with pytest.raises(NotFound):
        lead_submit(actor=personas["helper_a1"], household=other, channel="cadre_visit", on=ON)


def test_every_scoped_model_either_reaches_a_household_or_is_hidden_from_helpers(personas, village):
    from django.apps import apps

    helper = personas["helper_a1"]
    for label in REGION_PATHS:
        model = apps.get_model(label)
        qs = scoped(helper, model.objects.all())
        hpath = HOUSEHOLD_PATHS[label]
        if hpath is None:
            assert not qs.exists(), label
        else:
            ids = set(qs.values_list(hpath, flat=True))
            assert ids <= {village[0].id}, label
    assert HOUSEHOLD_PATHS["registry.Household"] == "id"
    assert Household.objects.count() == 2
