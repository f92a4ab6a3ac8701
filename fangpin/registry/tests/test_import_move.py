"""A national file that puts a household in another village moves it the way an approved move does:
its own history row and audit event, and the open monitoring work follows it (issue 10's rule)."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_verify
from fangpin.core.errors import NotFound
from fangpin.registry.models import FactProvenance, Household, ImportStatus, MemberChange
from fangpin.registry.selectors import household_get, household_list
from fangpin.testing.factories import TOWNSHIP_B, VILLAGE_A1, VILLAGE_B1

from .test_import import _run, good_rows

pytestmark = pytest.mark.django_db


def _rows(township: str, village: str) -> list[list[object]]:
    """The test file's H1 (a monitoring object, in 王家岗村) and H2, placed in ``township``/``village``."""
    rows = good_rows()
    rows[3][6], rows[3][7] = township, village
    return rows


def test_reimport_into_another_village_moves_the_household_and_its_open_lead(personas):
    from fangpin.monitoring import selectors as mon
    from fangpin.monitoring.models import Lead, MonitoringObject
    from fangpin.monitoring.services import leads

    admin, cadre_a1, cadre_b1 = personas["county_admin"], personas["cadre_a1"], personas["cadre_b1"]
    first, _ = _run(admin, _rows("马家乡", "王家岗村"))
    assert first.status == ImportStatus.IMPORTED
    h2 = Household.objects.get(household_no="H2")
    assert h2.village_id == VILLAGE_A1
    lead = leads.lead_submit(
        actor=cadre_a1,
        household=h2,
        channel="cadre_visit",
        risk_types=["因病"],
        note="户主住院",
        on=dt.date(2026, 11, 2),
    )
    assert lead.status == "open" and lead.village_id == VILLAGE_A1
    obj_h1 = MonitoringObject.objects.get(household__household_no="H1")
    history_before = h2.history.count()

    moved, _ = _run(admin, _rows("龙泉镇", "龙泉村"))
    assert moved.status == ImportStatus.IMPORTED, list(moved.rejects.values_list("row", "reason"))
    assert moved.details["households_counts"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert moved.details["moves_planned"] == 1
    [m] = moved.details["moves"]
    assert (m["household_no"], m["from"], m["to"]) == ("H2", VILLAGE_A1, VILLAGE_B1)
    assert m["monitoring"]["leads"] == [lead.pk] and m["trust"] is True

    h2.refresh_from_db()
    lead.refresh_from_db()
    assert h2.village_id == VILLAGE_B1 and h2.version == 2
    assert (lead.village_id, lead.township_id, lead.status) == (VILLAGE_B1, TOWNSHIP_B, "open")
    assert set(lead.sources.values_list("village_id", flat=True)) == {VILLAGE_B1}
    # the old village's cadre no longer sees the household or its lead; the new village's does
    assert h2 not in household_list(actor=cadre_a1)
    with pytest.raises(NotFound):
        household_get(actor=cadre_a1, household_id=h2.pk)
    assert not mon.lead_list(actor=cadre_a1).filter(pk=lead.pk).exists()
    assert h2 in household_list(actor=cadre_b1)
    assert mon.lead_list(actor=cadre_b1).filter(pk=lead.pk).exists()
    # H1 stayed: its monitoring object is untouched
    obj_h1.refresh_from_db()
    assert obj_h1.village_id == VILLAGE_A1

    # the move is its own history row (no MemberChange), with provenance and an audit event at the old village
    assert h2.history.count() == history_before + 1
    last = h2.history.latest()
    assert last.village_id == VILLAGE_B1 and last.history_change_reason.startswith(
        f"迁移 {VILLAGE_A1}→{VILLAGE_B1}"
    )
    assert h2.history.earliest().village_id == VILLAGE_A1
    assert not MemberChange.objects.filter(household=h2).exists()
    fact = FactProvenance.objects.get(household=h2, entity="household", field="village")
    assert fact.value == VILLAGE_B1 and fact.source_kind == "import"
    assert fact.source_ref == f"导入批次#{moved.pk} 第7行"
    ev = AuditEvent.objects.get(event_type="registry.household_move", household_id=h2.pk)
    assert ev.region_code == VILLAGE_A1 and ev.data["from"] == VILLAGE_A1 and ev.data["to"] == VILLAGE_B1
    follow = AuditEvent.objects.get(event_type="monitoring.open_work_follow", household_id=h2.pk)
    assert follow.data["leads"] == [lead.pk]
    assert audit_verify() == []

    # importing the same file again changes nothing
    again, _ = _run(admin, _rows("龙泉镇", "龙泉村"))
    assert again.details["moves_planned"] == 0 and again.details["moves"] == []
    assert again.details["households_counts"]["unchanged"] == 2
    assert Lead.objects.get(pk=lead.pk).village_id == VILLAGE_B1


def test_dry_run_reports_the_move_without_moving(personas):
    admin = personas["county_admin"]
    _run(admin, _rows("马家乡", "王家岗村"))
    dry, _ = _run(admin, _rows("龙泉镇", "龙泉村"), dry_run=True)
    assert dry.status == ImportStatus.CHECKED and dry.details["moves_planned"] == 1
    assert Household.objects.get(household_no="H2").village_id == VILLAGE_A1
