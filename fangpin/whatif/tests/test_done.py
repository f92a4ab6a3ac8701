"""Done means (issue #18): the what-if of raising the line by 10% on the demo county gives what a direct
recomputation with a real new parameter version gives, household for household; the new version offers
the recomputation of its year, naming the same households; earlier years are unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.demo.services.load import demo_county_generate
from fangpin.monitoring.models import MonitoringObject
from fangpin.monitoring.selectors import monitoring_objects_on
from fangpin.policy.params import param_value, parameter_change
from fangpin.testing import factories as f
from fangpin.whatif.services import recompute_offer, whatif_run

from .helpers import differences, direct, whatif_rows

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 15)
SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]


def test_raising_the_line_by_10_percent_is_confirmed_household_for_household(personas):
    admin = personas["county_admin"]
    demo_county_generate(actor=admin, county="410506", seed=3, as_of=AS_OF, villages=SLICE,
                         households_per_village=40)  # fmt: skip
    line = param_value("income.monitoring_line", region_code=f.VILLAGE_A1, year=2026)
    c = whatif_run(actor=admin, on=AS_OF, settings={"monitoring_line": "+10%"})
    assert c.scenario.describe()[0]["value"] == round(line * 1.1)
    base, scen = c.total["base"], c.total["scen"]
    assert scen["flagged"]["households"] > base["flagged"]["households"]  # the change matters here
    decisions = {o.pk: (o.status, o.decision) for o in MonitoringObject.objects.all()}
    earlier = whatif_run(actor=admin, on=dt.date(2025, 12, 15), settings={"monitoring_line": "+10%", },
                         year=2026)  # fmt: skip

    # the direct recomputation: a real new version of the line for 2026, then the services per household
    p = parameter_change(actor=admin, key="income.monitoring_line", value=round(line * 1.1), region_code="410506",
                         year=2026, basis="测试：监测收入线上调10%", doc_no="测试〔2026〕1号")  # fmt: skip
    theirs = direct([int(h) for h in c.scen.index], AS_OF)
    mine = whatif_rows(c.scen)
    assert differences(mine, theirs) == []
    for m in ("flagged", "enter"):
        counted = sum(1 for h, r in theirs.items() if r["flagged"] and (m == "flagged" or not r["monitored"]))
        assert scen[m]["households"] == counted
    assert scen["eligible"]["households"] == sum(1 for r in theirs.values() if r["refusals"] == [])
    # coverage and leakage against the current monitoring list (THE list: monitoring_objects_on), from
    # the direct recomputation: flagged ∩ list ÷ list, flagged outside the list ÷ flagged
    current = set(monitoring_objects_on(AS_OF).values_list("household_id", flat=True))

    def cover_leak(hids):
        flagged = {h for h in hids if theirs[h]["flagged"]}
        listed = current & set(hids)
        return (
            round(len(flagged & listed) / len(listed), 4) if listed else None,
            round(len(flagged - listed) / len(flagged), 4) if flagged else None,
        )

    assert current and (scen["coverage"], scen["leakage"]) == cover_leak(list(theirs))
    assert scen["current"]["households"] == len(current & set(theirs))
    for row in c.rows[:-1]:  # per township, the same
        tw = [h for h, r in c.scen.iterrows() if r["township_id"] == row["township"]]
        assert row["scen"]["flagged"]["households"] == sum(theirs[h]["flagged"] for h in tw)
        assert row["scen"]["flagged"]["persons"] == sum(
            theirs[h]["members"] for h in tw if theirs[h]["flagged"]
        )
        assert (row["scen"]["coverage"], row["scen"]["leakage"]) == cover_leak(tw)

    # the new version offers the recomputation of 2026, naming the households the what-if named
    offer = recompute_offer(actor=admin, parameter=p, on=AS_OF)
    assert [r["household_id"] for r in offer.changed] == [r["household_id"] for r in c.changed] != []
    assert offer.total["scen"] == scen and offer.total["base"] == base
    # earlier years are unchanged: 2025 judged before and after the 2026 version alike …
    assert earlier.changed == []
    assert recompute_offer(actor=admin, parameter=p, on=dt.date(2025, 12, 15)).changed == []
    # … and nothing already decided was touched
    assert {o.pk: (o.status, o.decision) for o in MonitoringObject.objects.all()} == decisions


def test_recompute_default_on_is_the_edge_today_within_the_year():
    """The edge's default date for a recomputation: today inside the year, else the year's nearest end."""
    from fangpin.whatif.services import recompute_default_on

    assert recompute_default_on(2026, dt.date(2026, 12, 1)) == dt.date(2026, 12, 1)
    assert recompute_default_on(2024, dt.date(2026, 12, 1)) == dt.date(2024, 12, 31)
    assert recompute_default_on(2027, dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
