"""A small two-village world for the API tests: one household, lead and case in 村A1, the same in 村B1."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.api.tokens import token_issue
from fangpin.monitoring.services.identification import case_open
from fangpin.monitoring.services.leads import lead_submit
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.testing import factories as f

ON = dt.date(2025, 6, 2)


@pytest.fixture
def world(personas):
    out = {}
    for key, village, cadre in (("a1", f.VILLAGE_A1, "cadre_a1"), ("b1", f.VILLAGE_B1, "cadre_b1")):
        hh = poor_exited_household(village)
        lead = lead_submit(
            actor=personas[cadre], household=hh, channel="cadre_visit", risk_types=["因病"], on=ON
        )
        case = case_open(actor=personas[cadre], lead=lead, on=ON)
        hh2 = poor_exited_household(village)
        lead2 = lead_submit(actor=personas[cadre], household=hh2, channel="cadre_visit", on=ON)
        out[key] = {"household": hh, "lead": lead, "case": case, "open_lead": lead2, "household2": hh2}
    return out


@pytest.fixture
def bearer(personas):
    """``bearer("cadre_a1")`` → request headers carrying a fresh token of that persona."""

    def make(name: str) -> dict:
        user = personas[name]
        _, raw = token_issue(actor=user, user=user, name="test", days=30, on=dt.date.today())
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make
