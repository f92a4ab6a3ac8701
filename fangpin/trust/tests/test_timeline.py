"""The household file's one timeline: leads with their channel, case events, member changes, consent,
change requests — newest first — and NotFound outside the actor's region."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.core.errors import NotFound
from fangpin.monitoring.services import identification, leads
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.timeline import household_timeline


def test_timeline_tells_the_story_newest_first(personas):
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=personas["cadre_a1"],
        household=hh,
        channel="cadre_visit",
        risk_types=["因病"],
        note="住院",
        on=dt.date(2025, 2, 3),
    )
    identification.case_open(actor=personas["cadre_a1"], lead=lead, on=dt.date(2025, 2, 4))
    change_request_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="contact",
        payload={"fields": {"phone": "13800004444"}},
        reason="电话",
        on=dt.date(2025, 2, 5),
    )
    rows = household_timeline(actor=personas["cadre_a1"], household_id=hh.pk)
    titles = [r.title for r in rows]
    assert "风险线索（基层干部排查）" in titles
    assert "识别纳入：启动程序「入户核查」" in titles
    assert any(t.startswith("变更申请") and "已生效" in t for t in titles)
    dates = [r.on for r in rows]
    assert dates == sorted(dates, reverse=True)
    lead_row = next(r for r in rows if r.kind == "lead")
    assert lead_row.on == dt.date(2025, 2, 3) and "因病" in lead_row.detail and "住院" in lead_row.detail
    with pytest.raises(NotFound):
        household_timeline(actor=personas["cadre_b1"], household_id=hh.pk)
