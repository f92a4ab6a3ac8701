"""Offline visit sync: a resend answers the stored id, a same-day visit by someone else is a conflict
that writes nothing until the cadre keeps both, invalid content is rejected with the field named."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.monitoring.models import Visit
from fangpin.monitoring.services.visits import visit_sync
from fangpin.testing import factories as f

from .helpers import assigned_helper, checklist

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 3, 4)


def _sync(actor, hh, key, **kw):
    args = {
        "actor": actor,
        "client_key": key,
        "household_id": hh.pk,
        "visited_on": DAY,
        "checklist": checklist(),
        "has_risk": False,
    }
    args.update(kw)
    return visit_sync(**args)


def test_resend_answers_the_stored_id_and_writes_once(personas):
    hh = f.household()
    first = _sync(personas["cadre_a1"], hh, "k-0001-abcdef")
    again = _sync(personas["cadre_a1"], hh, "k-0001-abcdef")
    assert first.status == "stored"
    assert again.status == "duplicate"
    assert again.visit_id == first.visit_id
    assert Visit.objects.filter(household=hh).count() == 1
    assert Visit.objects.get(pk=first.visit_id).client_key == "k-0001-abcdef"


def test_same_day_visit_by_another_is_a_conflict_until_kept(personas):
    hh = f.household()
    assert _sync(assigned_helper(personas, hh), hh, "helper-key-1").status == "stored"
    res = _sync(personas["cadre_a1"], hh, "cadre-key-1", note="再次走访")
    assert res.status == "conflict"
    assert res.existing["visitor"] == "helper_a1"
    assert Visit.objects.filter(household=hh).count() == 1
    kept = _sync(personas["cadre_a1"], hh, "cadre-key-1", keep_both=True)
    assert kept.status == "stored"
    assert Visit.objects.filter(household=hh).count() == 2


def test_incomplete_checklist_and_out_of_scope_are_rejected_without_writing(personas):
    hh = f.household()
    partial = checklist()
    del partial["water"]
    res = _sync(personas["cadre_a1"], hh, "bad-checklist", checklist=partial)
    assert res.status == "rejected"
    assert res.field == "checklist"
    assert "饮水安全" in res.message
    other = _sync(personas["cadre_b1"], hh, "other-village")
    assert other.status == "rejected"
    assert "无权" in other.message or "不存在" in other.message
    assert _sync(personas["cadre_a1"], hh, "x").status == "rejected"  # key too short
    assert not Visit.objects.filter(household=hh).exists()


def test_someone_elses_key_is_not_answered_with_their_visit(personas):
    hh = f.household()
    _sync(personas["cadre_a1"], hh, "shared-key-1")
    res = _sync(personas["helper_a1"], hh, "shared-key-1")
    assert res.status == "rejected"
    assert res.visit_id is None
