"""io.bulk.fast_create_with_history stores what the ORM stores, plus one '+' history row per object."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fangpin.registry.io.bulk import fast_create_with_history
from fangpin.registry.models import Household
from fangpin.testing.factories import VILLAGE_A1, VILLAGE_A2

pytestmark = pytest.mark.django_db
AUTO = {"id", "household_no", "created_at", "updated_at"}

ROWS = [
    {"household_no": "1", "village_id": VILLAGE_A1, "house_area_m2": Decimal("85.50"), "exited_year": 2019},
    {"household_no": "2", "village_id": VILLAGE_A1},  # every other field takes its default
    {
        "household_no": "3",
        "village_id": VILLAGE_A2,
        "house_area_m2": Decimal("85.5"),  # equal to row 1's value, another exponent
        "house_appraised_on": dt.date(2021, 3, 4),
        "group_name": "三组",
        "exited_year": None,
    },
    {"household_no": "4", "village_id": VILLAGE_A2, "house_appraised_on": dt.date(2021, 3, 4)},
]


def _values(qs):
    return [{k: v for k, v in r.items() if k not in AUTO} for r in qs.order_by("household_no").values()]


def test_fast_create_stores_what_the_orm_stores_with_history():
    now = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    ids = fast_create_with_history(
        Household,
        [{**r, "household_no": "B" + r["household_no"]} for r in ROWS],
        history_user_id=None,
        change_reason="导入批次#1",
        now=now,
    )
    for r in ROWS:
        Household.objects.create(**{**r, "household_no": "O" + r["household_no"]})
    bulk = Household.objects.filter(household_no__startswith="B")
    assert sorted(ids) == sorted(bulk.values_list("id", flat=True)) and len(set(ids)) == 4
    assert _values(bulk) == _values(Household.objects.filter(household_no__startswith="O"))
    assert set(bulk.values_list("created_at", flat=True)) == {now}
    assert bulk.get(household_no="B1").house_area_m2 == Decimal("85.50")
    hist = Household.history.filter(id__in=ids)
    assert sorted(hist.values_list("history_type", "history_change_reason")) == [("+", "导入批次#1")] * 4
    assert set(hist.values_list("history_date", flat=True)) == {now}
    for h in hist:
        row = bulk.get(pk=h.id)
        assert (h.household_no, h.village_id, h.house_area_m2, h.house_appraised_on, h.group_name) == (
            row.household_no,
            row.village_id,
            row.house_area_m2,
            row.house_appraised_on,
            row.group_name,
        )
