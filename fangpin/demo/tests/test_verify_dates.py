"""demo_verify_checks must hold whatever the calendar says: the checks find exactly the planted defects
on a demo slice generated at a late-year, a year-start and a mid-year cut-off. These seeds and dates
reproduced P-EXITED-UNDER-LINE extras and misses while the generator judged last year's 人均 by today's
members (a death or marriage-out since 31 December left an unplanted 脱贫户 under the line; a birth since
lifted a planted one above it) — the longer into the year, the more member changes; and P-INCOME-IMPLAUSIBLE
missed a planted row whose 人均 at identification was raised for today's members, not that month's."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.demo.models import PlantedDefect
from fangpin.demo.services.load import demo_county_generate
from fangpin.demo.services.verify import compare_with_planted
from fangpin.registry.checks import codes as C
from fangpin.testing import factories as f

SLICE = [f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("seed", "as_of", "per_village"),
    [
        (0, dt.date(2026, 12, 2), 80),  # was: P-EXITED-UNDER-LINE 1 missed, 1 extra
        (2, dt.date(2026, 12, 2), 80),  # was: P-EXITED-UNDER-LINE 1 extra
        (0, dt.date(2027, 1, 5), 80),  # year-start: last year is 2026, its line and its members
        (7, dt.date(2027, 1, 5), 40),  # was: P-INCOME-IMPLAUSIBLE 1 missed
        (1, dt.date(2026, 6, 15), 80),  # was: P-EXITED-UNDER-LINE 1 extra
    ],
)
def test_checks_find_exactly_the_planted_defects_at_any_cut_off(personas, seed, as_of, per_village):
    res = demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=seed,
        as_of=as_of,
        villages=SLICE,
        households_per_village=per_village,
        defect_rate=0.03,
        min_defects_each=1,
    )
    comparison = compare_with_planted(res.dataset)
    bad = [(r.code, r.planted, r.found, r.missing, r.extra) for r in comparison if not r.exact]
    assert bad == []
    assert sum(r.found for r in comparison) == res.dataset.defects.count()
    under = PlantedDefect.objects.filter(dataset=res.dataset, code=C.EXITED_UNDER_LINE)
    assert under.exists() and all(str(as_of.year - 1) in d.detail for d in under)
