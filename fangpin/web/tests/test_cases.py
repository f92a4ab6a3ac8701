"""Case screens through the test client: a step form refuses with the rule's message, the 公示 notice is
masked, batch review previews then applies all-or-nothing, the lead screen opens a case."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.core import clock
from fangpin.monitoring.models import Case, CaseStatus, MonitoringObject
from fangpin.monitoring.services import identification, leads
from fangpin.monitoring.tests.helpers import assigned_helper, poor_exited_household, run_village_steps

TODAY = dt.date(2025, 3, 10)
START = dt.date(2025, 2, 3)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def _case_at_township(personas, village="410506205201"):
    hh = poor_exited_household(village, per_capita=4000)
    reporter = assigned_helper(personas, hh) if village.endswith("201") else personas["township_a"]
    lead = leads.lead_submit(
        actor=reporter, household=hh, channel="cadre_visit", risk_types=["因病"], on=START
    )
    cadre = personas["cadre_a1" if village.endswith("201") else "cadre_a2"]
    case = identification.case_open(actor=cadre, lead=lead, on=START)
    run_village_steps(case, cadre, start=START)
    return Case.objects.get(pk=case.pk)


def test_lead_screen_opens_the_case_and_step_refusal_is_shown(client, personas):
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=assigned_helper(personas, hh),
        household=hh,
        channel="cadre_visit",
        risk_types=["因病"],
        on=START,
    )
    client.force_login(personas["cadre_a1"])
    body = client.get(f"/cases/leads/{lead.id}/").content.decode()
    assert "启动识别程序" in body
    r = client.post(f"/cases/leads/{lead.id}/action/", {"action": "open", "on": START.isoformat()})
    case = Case.objects.get(lead=lead)
    assert r["Location"] == f"/cases/{case.id}/"
    body = client.get(f"/cases/{case.id}/").content.decode()
    assert "办理：入户核查" in body and 'value="因病" checked' in body
    # a date in the future is refused at the edge, a date before the step started by the service
    r = client.post(
        f"/cases/{case.id}/step/", {"step": "verify", "risk_types": ["因病"], "on": "2099-01-01"}, follow=True
    )
    assert "日期不能晚于今天" in r.content.decode()
    r = client.post(
        f"/cases/{case.id}/step/", {"step": "verify", "risk_types": ["因病"], "on": "2025-01-01"}, follow=True
    )
    assert "办理日期不能早于本环节开始日期" in r.content.decode()
    r = client.post(
        f"/cases/{case.id}/step/", {"step": "verify", "risk_types": ["因病"], "on": "2025-02-04"}, follow=True
    )
    case.refresh_from_db()
    assert case.current_step == "compare" and "本环节已完成" in r.content.decode()


def test_current_step_is_named_in_its_own_procedure(client, personas):
    """The case list and the household file name the current step in Chinese, by the case's own procedure:
    an identification's ``verify`` is 入户核查 (入户核实 is the elimination's), never the code."""
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=assigned_helper(personas, hh),
        household=hh,
        channel="cadre_visit",
        risk_types=["因病"],
        on=START,
    )
    identification.case_open(actor=personas["cadre_a1"], lead=lead, on=START)
    client.force_login(personas["cadre_a1"])
    listed = client.get("/cases/").content.decode()
    assert '<td data-label="当前环节">入户核查</td>' in listed
    file = client.get(f"/households/{hh.id}/").content.decode()
    assert "当前环节：入户核查" in file and "当前环节：verify" not in file


def test_publicity_notice_is_masked(client, personas):
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=assigned_helper(personas, hh),
        household=hh,
        channel="cadre_visit",
        risk_types=["因病"],
        on=START,
    )
    case = identification.case_open(actor=personas["cadre_a1"], lead=lead, on=START)
    client.force_login(personas["cadre_a1"])
    body = client.get(f"/cases/{case.id}/notice/").content.decode()
    assert "王*国" in body and "王建国" not in body
    assert hh.persons.first().id_number not in body


def test_batch_review_preview_then_all_or_nothing(client, personas):
    good = _case_at_township(personas)
    other = _case_at_township(personas, "410506205202")
    client.force_login(personas["township_a"])
    listing = client.get("/cases/?awaiting=me&step=township").content.decode()
    assert good.household.household_no in listing and "预览批量办理" in listing
    r = client.post("/cases/batch/", {"step": "township", "case_ids": [good.id, other.id]})
    body = r.content.decode()
    assert "转入“县级审定”" in body and body.count('name="case_ids"') == 2
    good.refresh_from_db()
    assert good.current_step == "township"  # the preview changed nothing
    # ``other`` was reported by this township reviewer, who may not review it: the whole batch is refused
    r = client.post(
        "/cases/batch/",
        {"step": "township", "case_ids": [good.id, other.id], "confirm": "1", "on": TODAY.isoformat()},
        follow=True,
    )
    good.refresh_from_db()
    assert good.current_step == "township" and "不得自审自批" in r.content.decode()
    r = client.post(
        "/cases/batch/",
        {"step": "township", "case_ids": [good.id], "confirm": "1", "on": TODAY.isoformat()},
        follow=True,
    )
    good.refresh_from_db()
    assert good.current_step == "county" and "已批量办理1件" in r.content.decode()
    client.force_login(personas["county_reviewer"])
    client.post(f"/cases/{good.id}/step/", {"step": "county", "on": TODAY.isoformat()})
    good.refresh_from_db()
    assert good.status == CaseStatus.APPROVED
    assert MonitoringObject.objects.get(household=good.household).status == "active"


def test_other_village_case_is_not_found(client, personas):
    case = _case_at_township(personas)
    client.force_login(personas["cadre_b1"])
    assert client.get(f"/cases/{case.id}/").status_code == 404
    assert case.household.household_no not in client.get("/cases/").content.decode()


def test_green_channel_from_the_lead_screen(client, personas):
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=assigned_helper(personas, hh),
        household=hh,
        channel="cadre_visit",
        risk_types=["因意外事故"],
        on=START,
    )
    client.force_login(personas["cadre_a1"])
    assert "先行纳入" not in client.get(f"/cases/leads/{lead.id}/").content.decode()  # not a village power
    client.force_login(personas["township_a"])
    r = client.post(
        f"/cases/leads/{lead.id}/action/",
        {"action": "green", "risk_types": ["因意外事故"], "reason": "", "on": TODAY.isoformat()},
        follow=True,
    )
    assert "须说明突发情况" in r.content.decode()
    r = client.post(
        f"/cases/leads/{lead.id}/action/",
        {"action": "green", "risk_types": ["因意外事故"], "reason": "户主车祸重伤", "on": TODAY.isoformat()},
        follow=True,
    )
    case = Case.objects.get(lead=lead)
    assert case.green_channel and "先行纳入" in r.content.decode()
    assert MonitoringObject.objects.get(household=hh).status == "active"


def test_case_screen_shows_department_data_against_the_registry(client, personas):
    from fangpin.registry.choices import SourceKind
    from fangpin.trust.services.provenance import fact_record

    case = _case_at_township(personas)
    head = case.household.persons.get(relation="户主")
    fact_record(
        actor=personas["dept_yibao"],
        household=case.household,
        entity="person",
        entity_id=head.pk,
        field="health",
        value="健康",
        source_kind=SourceKind.DEPARTMENT,
        source_ref="卫健 批次#2 第5行",
        observed_on=START,
        on=START,
    )
    client.force_login(personas["township_a"])
    body = client.get(f"/cases/{case.id}/").content.decode()
    section = body.split('id="department-data"')[1].split("</section>")[0]
    assert "患有大病" in section and "<b>健康</b>" in section and "卫健" in section
    # the household file marks the field as waiting for verification
    assert "待核实" in client.get(f"/households/{case.household_id}/").content.decode()


def test_batch_of_a_step_the_procedure_does_not_have_is_refused_by_name(personas):
    """Found by the API fuzz: ``step`` "keep_both" reached the workflow lookup and gave a 500."""
    from fangpin.core.errors import DomainError
    from fangpin.monitoring.services.batch import case_batch_preview

    case = _case_at_township(personas)
    with pytest.raises(DomainError) as e:
        case_batch_preview(actor=personas["township_a"], case_ids=[case.id], step="keep_both")
    assert e.value.field == "step" and "该程序没有这个环节" in e.value.message
