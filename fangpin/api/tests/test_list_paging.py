"""Household list paging that stays fast over a million persons: the page's ids first, then its rows (same
rows and order as slicing the annotated list), and a count bounded by ``COUNT_CAP`` that the browser and the
API say is a lower bound ("超过 N 户", ``count_capped``) instead of a wrong total."""

from __future__ import annotations

import json

import pytest

from fangpin.monitoring import household_search as hs
from fangpin.registry.models import Household
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(personas):
    made = []
    for i in range(7):
        hh = f.household(
            f.VILLAGE_A1 if i % 2 else f.VILLAGE_A2, household_type="一般户" if i % 3 else "脱贫户"
        )
        for k in range(i % 3 + 1):
            f.person(hh, name=f"成员{i}{k}", relation="户主" if k == 0 else "之子")
        made.append(hh)
    return made


@pytest.mark.parametrize("sort", list(hs.SORTS))
def test_two_step_pages_are_the_slices_of_the_annotated_list(many, sort):
    qs = Household.objects.all()
    everything = list(hs.household_rows(qs, sort=sort))
    assert len(everything) == 7
    for offset, limit in ((0, 3), (3, 3), (6, 3), (2, 10), (9, 3)):
        page = hs.household_page_rows(qs, sort=sort, offset=offset, limit=limit)
        want = everything[offset : offset + limit]
        assert [h.pk for h in page] == [h.pk for h in want]
        assert [(h.n_members, [p.name for p in h.heads]) for h in page] == [
            (h.n_members, [p.name for p in h.heads]) for h in want
        ]


def test_the_count_is_exact_up_to_the_cap_and_a_lower_bound_beyond(many):
    qs = Household.objects.all()
    assert hs.bounded_count(qs, cap=7) == (7, False)
    assert hs.bounded_count(qs, cap=100) == (7, False)
    assert hs.bounded_count(qs, cap=5) == (5, True)
    assert hs.bounded_count(qs.filter(pk__in=[]), cap=5) == (0, False)


def test_the_browser_says_more_than_the_cap_and_pages_within_it(client, personas, many, monkeypatch):
    client.force_login(personas["county_admin"])
    r = client.get("/households/")
    assert "共 7 户" in r.content.decode()
    monkeypatch.setattr(hs, "COUNT_CAP", 5)
    monkeypatch.setattr("fangpin.web.views.households.PAGE_SIZE", 2)
    html = client.get("/households/").content.decode()
    assert "超过 5 户" in html and "共 5 户" not in html
    last = client.get("/households/", {"page": 3})  # pages of the first 5: 2 + 2 + 1
    everything = list(hs.household_rows(Household.objects.all(), sort="household_no"))
    assert everything[4].household_no in last.content.decode()
    assert everything[5].household_no not in last.content.decode()


def test_the_api_count_says_when_it_is_capped(client, personas, many, bearer, monkeypatch):
    h = bearer("county_admin")
    body = json.loads(client.get("/api/v1/households", {"limit": 3, "offset": 3}, **h).content)
    assert body["count"] == 7 and body["count_capped"] is False
    everything = list(hs.household_rows(Household.objects.all(), sort="household_no"))
    assert [r["id"] for r in body["items"]] == [x.pk for x in everything[3:6]]
    monkeypatch.setattr(hs, "COUNT_CAP", 4)
    body = json.loads(client.get("/api/v1/households", {"limit": 3, "offset": 6}, **h).content)
    assert body["count"] == 4 and body["count_capped"] is True
    assert [r["id"] for r in body["items"]] == [everything[6].pk]  # a page past the cap still answers
