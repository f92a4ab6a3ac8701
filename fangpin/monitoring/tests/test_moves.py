"""Household moves (issue 10): the past stays with the village where it happened, open work follows the
household to where it lives now. Moves go through the real trust change request (county approval)."""

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import transaction

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError, NotFound
from fangpin.monitoring import selectors as sel
from fangpin.monitoring.models import (
    Assignment,
    Case,
    CaseEvent,
    Lead,
    LeadSource,
    Measure,
    MonitoringObject,
    Visit,
)
from fangpin.monitoring.services import (
    assistance,
    cases,
    elimination,
    enrolment,
    identification,
    leads,
    moves,
    visits,
)
from fangpin.registry import selectors as reg_sel
from fangpin.registry.services.households import do_household_move
from fangpin.testing import factories as f
from fangpin.trust.selectors import my_tasks
from fangpin.trust.services.changes import change_request_approve, change_request_submit

from .helpers import checklist, poor_exited_household

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

J = dt.date
TOWNSHIP_B = f.VILLAGE_B1[:9] + "000"
EV = [{"path": "files/evidence/move.pdf", "description": "易地扶贫搬迁安置协议"}]


def _move(personas, hh, to: str, on: dt.date):
    req = change_request_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="move",
        evidence=EV,
        reason="易地扶贫搬迁",
        payload={"to_village": to, "date": on.isoformat()},
        on=dt.date(2025, 6, 2),
    )
    req = change_request_approve(actor=personas["county_admin"], request_id=req.pk, reason="已入住安置点")
    hh.refresh_from_db()
    assert hh.village_id == to
    return req


@pytest.mark.django_db
def test_past_stays_in_the_old_village_open_lead_follows_the_household(personas):
    a1, b1 = personas["cadre_a1"], personas["cadre_b1"]
    hh = poor_exited_household(f.VILLAGE_A1)
    # the past in A1: a visit that found a risk, its case rejected at 入户核查, a later visit without risk
    v1 = visits.visit_log(
        actor=a1,
        household=hh,
        visited_on=J(2025, 3, 10),
        checklist=checklist(health="户主住院"),
        has_risk=True,
        risk_types=["因病"],
    )
    past_lead = v1.lead
    case = identification.case_open(actor=a1, lead=past_lead, on=J(2025, 3, 11))
    cases.case_reject(actor=a1, case=case, reason="医保报销后自付不高，无返贫风险", on=J(2025, 3, 12))
    v2 = visits.visit_log(
        actor=a1, household=hh, visited_on=J(2025, 4, 10), checklist=checklist(), has_risk=False
    )
    # open work: a screening lead still being verified
    open_lead = leads.lead_submit(
        actor=SYSTEM,
        household=hh,
        channel="department_screening",
        source_ref="screening_run:9:rule:OOP_10000",
        risk_types=["因病"],
        on=J(2025, 5, 6),
    )
    assert {x.village_id for x in (v1, v2, case, past_lead, open_lead)} == {f.VILLAGE_A1}

    req = _move(personas, hh, f.VILLAGE_B1, J(2025, 6, 2))

    assert req.result["monitoring_followed"]["leads"] == [open_lead.pk]
    open_lead.refresh_from_db()
    assert (open_lead.village_id, open_lead.township_id) == (f.VILLAGE_B1, TOWNSHIP_B)
    assert set(LeadSource.objects.filter(lead=open_lead).values_list("village_id", flat=True)) == {
        f.VILLAGE_B1
    }
    # old village: its own past records stay in its lists and can be opened; the household and its open
    # lead are gone
    assert hh not in reg_sel.household_list(actor=a1)
    assert set(sel.visit_list(actor=a1)) == {v1, v2}
    assert list(sel.case_list(actor=a1)) == [case]
    assert sel.case_get(actor=a1, case_id=case.pk).status == "rejected"
    assert "rejected" in [r["kind"] for r in sel.case_timeline(actor=a1, case=case)]
    assert list(sel.lead_list(actor=a1)) == [past_lead]
    with pytest.raises(NotFound):
        sel.lead_get(actor=a1, lead_id=open_lead.pk)
    with pytest.raises(NotFound):
        sel.household_monitoring_history(actor=a1, household_id=hh.pk)
    with pytest.raises(NotFound):
        leads.lead_close(actor=a1, lead=open_lead, outcome="not_a_risk", reason="已迁出", on=J(2025, 6, 2))
    assert sel.lead_list(actor=personas["township_a"]).filter(pk=open_lead.pk).count() == 0
    assert not [v for v in sel.visits_due(actor=a1, month=J(2025, 6, 1)) if v.household_id == hh.pk]
    # new village: the household now, its open lead in the queue, not the old village's closed records
    assert hh in reg_sel.household_list(actor=b1)
    assert list(sel.lead_list(actor=b1)) == [open_lead]
    assert list(sel.lead_list(actor=personas["township_b"])) == [open_lead]
    assert list(sel.case_list(actor=b1)) == [] and list(sel.visit_list(actor=b1)) == []
    with pytest.raises(NotFound):
        sel.case_get(actor=b1, case_id=case.pk)
    # visit cadence is the household's: a key household (open lead) last visited in A1 in April is due
    (due,) = sel.visits_due(actor=b1, month=J(2025, 6, 1))
    assert (due.household_id, due.key, due.last_visit, due.village) == (
        hh.pk,
        True,
        J(2025, 4, 10),
        f.VILLAGE_B1,
    )
    # ... and the household's whole monitoring past through its file, each row with its village
    hist = sel.household_monitoring_history(actor=b1, household_id=hh.pk)
    assert [(x.pk, x.village_id) for x in hist["leads"]] == [
        (past_lead.pk, f.VILLAGE_A1),
        (open_lead.pk, f.VILLAGE_B1),
    ]
    assert [(x.pk, x.village_id) for x in hist["cases"]] == [(case.pk, f.VILLAGE_A1)]
    assert [x.pk for x in hist["visits"]] == [v1.pk, v2.pk]
    # the new village works the lead; new records are born in B1
    leads.lead_close(
        actor=b1, lead=open_lead, outcome="not_a_risk", reason="入户核实无风险", on=J(2025, 6, 9)
    )
    v3 = visits.visit_log(
        actor=b1, household=hh, visited_on=J(2025, 6, 9), checklist=checklist(), has_risk=False
    )
    assert v3.village_id == f.VILLAGE_B1 and set(sel.visit_list(actor=a1)) == {v1, v2}
    # the county sees everything; the move of the work is audited at the old village
    assert sel.lead_list(actor=personas["county_admin"]).count() == 2
    ev = AuditEvent.objects.get(event_type="monitoring.open_work_follow", household_id=hh.pk)
    assert ev.region_code == f.VILLAGE_A1 and ev.data["to"] == f.VILLAGE_B1
    assert ev.data["leads"] == [open_lead.pk] and ev.data["cases"] == []


@pytest.mark.django_db
def test_active_object_live_measures_and_open_case_follow_done_measures_stay(personas):
    a1, b1, tb = personas["cadre_a1"], personas["cadre_b1"], personas["township_b"]
    hh = poor_exited_household(f.VILLAGE_A1)
    obj = enrolment.enrol_existing(
        actor=SYSTEM, household=hh, category="脱贫不稳定户", risk_types=["因病"], identified_on=J(2024, 6, 1)
    )
    done = assistance.measure_add(
        actor=a1,
        monitoring_object=obj,
        name="医疗救助/医保补贴",
        start_on=J(2024, 7, 1),
        end_on=J(2024, 12, 31),
        status="done",
    )
    live = assistance.measure_add(
        actor=a1, monitoring_object=obj, name="就业", start_on=J(2025, 1, 1), status="in_progress"
    )
    cadre = assistance.assignment_set(
        actor=personas["township_a"], household=hh, user=a1, kind="cadre", on=J(2024, 6, 5)
    )
    helper = assistance.assignment_set(
        actor=personas["county_admin"],
        household=hh,
        user=personas["county_reviewer"],
        kind="helper",
        on=J(2024, 6, 5),
    )
    with transaction.atomic():
        open_case = cases.case_create(
            actor=a1, kind="elimination", household=hh, monitoring_object=obj, on=J(2025, 5, 6)
        )

    req = _move(personas, hh, f.VILLAGE_B1, J(2025, 6, 2))

    followed = req.result["monitoring_followed"]
    assert followed["objects"] == [obj.pk] and followed["measures"] == [live.pk]
    assert followed["cases"] == [open_case.pk]
    assert followed["assignments_moved"] == [helper.pk] and followed["assignments_ended"] == [cadre.pk]
    assert MonitoringObject.objects.get(pk=obj.pk).village_id == f.VILLAGE_B1
    assert Measure.objects.get(pk=done.pk).village_id == f.VILLAGE_A1
    assert Assignment.objects.get(pk=cadre.pk).end_on == J(2025, 6, 2)
    assert Assignment.objects.get(pk=helper.pk).end_on is None
    # the new village and township run the object and the procedure; the old village keeps the done measure
    assert list(sel.object_list(actor=b1)) == [obj] and list(sel.object_list(actor=a1)) == []
    assert list(sel.measure_list(actor=b1)) == [live] and list(sel.measure_list(actor=a1)) == [done]
    assert list(sel.case_list(actor=tb)) == [open_case]
    assert not list(sel.case_list(actor=personas["township_a"]))
    moved_ev = CaseEvent.objects.get(case=open_case, kind="household_moved")
    assert moved_ev.data == {"from": f.VILLAGE_A1, "to": f.VILLAGE_B1, "reason": moved_ev.data["reason"]}
    assert any(r["kind"] == "household_moved" for r in sel.case_timeline(actor=b1, case=open_case))
    overdue = sel.overdue_items(actor=tb, on=J(2025, 7, 1), include_visits=False)
    assert {(o.case_id, o.village, o.township) for o in overdue} == {(open_case.pk, f.VILLAGE_B1, TOWNSHIP_B)}
    assert sel.overdue_items(actor=personas["township_a"], on=J(2025, 7, 1)) == []
    with pytest.raises(NotFound):
        assistance.measure_update(actor=a1, measure=live, status="done")
    assistance.measure_update(actor=b1, measure=live, status="done", outcome="务工稳定")
    # the old cadre's visit duty ended with the move: the new village cadre gets the key household's visit
    assert [t.household_no for t in my_tasks(b1, on=J(2025, 7, 1)) if t.kind == "visit"] == [hh.household_no]
    assert not [t for t in my_tasks(a1, on=J(2025, 7, 1)) if t.kind == "visit"]
    hist = sel.household_monitoring_history(actor=b1, household_id=hh.pk)
    assert [m.pk for m in hist["measures"]] == [done.pk, live.pk]


@pytest.mark.django_db
def test_eliminated_object_stays_and_only_the_new_village_can_undo_its_elimination(personas):
    a1, b1 = personas["cadre_a1"], personas["cadre_b1"]
    hh = poor_exited_household(f.VILLAGE_A1)
    obj = enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=J(2023, 3, 1),
        eliminated_on=J(2024, 3, 1),
        elimination_method="帮扶消除",
    )
    assert obj.gradual_exit_until == J(2025, 3, 1)  # 龙安区: 12 months, over before the move
    req = _move(personas, hh, f.VILLAGE_B1, J(2025, 6, 2))
    assert req.result["monitoring_followed"]["objects"] == []
    obj.refresh_from_db()
    assert obj.village_id == f.VILLAGE_A1
    assert list(sel.object_list(actor=a1)) == [obj] and list(sel.object_list(actor=b1)) == []
    # undoing the elimination is new work for the household's current village
    with pytest.raises(NotFound):
        elimination.reversal_propose(
            actor=a1, monitoring_object=obj, reason="回头看发现收入不稳", on=J(2025, 7, 1)
        )
    case = elimination.reversal_propose(
        actor=b1, monitoring_object=obj, reason="回头看发现收入不稳", on=J(2025, 7, 1)
    )
    assert case.village_id == f.VILLAGE_B1
    elimination.elimination_reverse(
        actor=personas["county_reviewer"], monitoring_object=obj, reason="县级回头看", on=J(2025, 7, 2)
    )
    obj.refresh_from_db()
    assert obj.status == "active" and obj.village_id == f.VILLAGE_B1
    assert list(sel.object_list(actor=b1)) == [obj] and list(sel.object_list(actor=a1)) == []


@pytest.mark.django_db
def test_follow_refuses_a_household_that_has_not_moved(personas):
    hh = f.household(f.VILLAGE_A1)
    with pytest.raises(DomainError) as e:
        moves.open_work_follow_household(
            actor=personas["county_admin"],
            household=hh,
            old_village=f.VILLAGE_A1,
            new_village=f.VILLAGE_B1,
            on=J(2025, 6, 2),
        )
    assert e.value.code == moves.E_NOT_MOVED


@pytest.mark.django_db
def test_data_migration_backfills_by_history(personas):
    """0003 on rows that predate the snapshot: open work → current village; finished → village as of
    the row's creation (from simple_history)."""
    a1 = personas["cadre_a1"]
    hh = poor_exited_household(f.VILLAGE_A1)
    old_visit = visits.visit_log(
        actor=a1, household=hh, visited_on=J(2025, 4, 10), checklist=checklist(), has_risk=False
    )
    lead = leads.lead_submit(
        actor=SYSTEM, household=hh, channel="department_screening", risk_types=["因病"], on=J(2025, 5, 6)
    )
    # a move made before this change existed: nothing followed
    do_household_move(actor=SYSTEM, household=hh, to_village=f.VILLAGE_B1, date=J(2025, 6, 2), reason="搬迁")
    # what the rows looked like before the snapshot (the 0003 first pass gives every row the current village)
    Visit.objects.filter(pk=old_visit.pk).update(village_id=f.VILLAGE_B1)
    Lead.objects.filter(pk=lead.pk).update(village_id=f.VILLAGE_A1, township_id=f.VILLAGE_A1[:9] + "000")
    mig = importlib.import_module("fangpin.monitoring.migrations.0003_fill_village_snapshot")
    mig.forwards(apps, None)
    assert Visit.objects.get(pk=old_visit.pk).village_id == f.VILLAGE_A1
    lead.refresh_from_db()
    assert (lead.village_id, lead.township_id) == (f.VILLAGE_B1, TOWNSHIP_B)
    assert set(LeadSource.objects.filter(lead=lead).values_list("village_id", flat=True)) == {f.VILLAGE_B1}
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_exit_outcomes_of_the_old_village_count_a_return_enrolled_after_the_move(personas):
    """谷城县 keeps the national 渐退期 of 6 months but counts returns within 12 (elimination.sustained_months):
    an exit that stayed in the old village and a re-enrolment in the new one is a return for the old village."""
    from fangpin.regions.models import Level, Region

    from .helpers import extra_user

    villages = Region.objects.filter(code__startswith="420625", level=Level.VILLAGE).order_by("code")
    x = villages.first().code
    y = villages.exclude(code__startswith=x[:9]).first().code
    cadre_x = extra_user("cadre_x", "village_cadre", x)
    hh = poor_exited_household(x)
    old = enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=J(2024, 1, 1),
        eliminated_on=J(2024, 6, 1),
        elimination_method="帮扶消除",
    )
    assert old.gradual_exit_until == J(2024, 12, 1)
    do_household_move(actor=SYSTEM, household=hh, to_village=y, date=J(2025, 1, 15), reason="搬迁")
    moves.open_work_follow_household(
        actor=SYSTEM, household=hh, old_village=x, new_village=y, on=J(2025, 1, 15)
    )
    new = enrolment.enrol_existing(
        actor=SYSTEM, household=hh, category="脱贫不稳定户", risk_types=["因病"], identified_on=J(2025, 3, 1)
    )
    assert (MonitoringObject.objects.get(pk=old.pk).village_id, new.village_id) == (x, y)
    assert list(sel.object_list(actor=cadre_x)) == [old]
    res = sel.exit_outcomes(actor=cadre_x, on=J(2025, 7, 1))
    assert (res["returned"], res["sustained"], res["in_window"]) == (1, 0, 0)
