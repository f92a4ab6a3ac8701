"""Against the real monitoring lifecycle (fangpin.monitoring): an objection during 公示 pauses the case
step and deciding the appeal resumes it; a disaster loss becomes a real lead; the 明白纸 and recert read
monitoring objects."""

import datetime as dt

import pytest
from django.db import transaction

from fangpin.accounts.actors import system_actor
from fangpin.monitoring import models as monitoring_models
from fangpin.monitoring.services import cases
from fangpin.testing import factories as f
from fangpin.trust.mingbaizhi import mingbaizhi_render
from fangpin.trust.services import appeals as svc
from fangpin.trust.services import disasters as dis
from fangpin.trust.services import integrations

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

D = dt.date(2025, 4, 7)


def _case_in_publicity(hh, on=D):
    with transaction.atomic():
        case = cases.case_create(actor=SYSTEM, kind="identification", household=hh, on=on)
    case.steps.filter(seq__lt=case.steps.get(code="publicize").seq).update(status="done", completed_on=on)
    case.steps.filter(code="publicize").update(status="active", started_on=on)
    case.current_step = "publicize"
    case.save(update_fields=["current_step"])
    return case


@pytest.mark.django_db
def test_objection_during_publicity_pauses_the_real_case_until_decided(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    case = _case_in_publicity(hh)
    a = svc.appeal_lodge(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="publicity",
        case_id=case.pk,
        content="该户家中有经营性货车",
        lodged_by_name="村民王某",
        lodged_by_relation="群众",
        lodged_on=D,
    )
    case.refresh_from_db()
    assert a.case_paused and case.status == "paused"
    step = case.steps.get(code="publicize")
    assert step.status == "paused" and step.data["objections"][0]["ref"] == a.number
    svc.appeal_decide(
        actor=personas["township_a"],
        appeal_id=a.pk,
        outcome="dismissed",
        reason="货车已过户他人",
        on=D + dt.timedelta(days=3),
    )
    case.refresh_from_db()
    assert case.status == "open" and case.steps.get(code="publicize").status == "active"


@pytest.mark.django_db
def test_an_appeal_decided_on_a_2023_case_counts_paused_days_between_business_dates(personas):
    """The reported case: deciding an appeal on a 2023 case counted the days up to the wall clock
    (1,148 paused days). Lodged 5 June 2023, decided 9 June 2023: 4 paused days, deadlines move by 4."""
    lodged, decided = dt.date(2023, 6, 5), dt.date(2023, 6, 9)
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    case = _case_in_publicity(hh, on=lodged)
    due_before = case.due_on
    a = svc.appeal_lodge(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="publicity",
        case_id=case.pk,
        content="该户家中有经营性货车",
        lodged_by_name="村民王某",
        lodged_on=lodged,
    )
    svc.appeal_decide(
        actor=personas["township_a"], appeal_id=a.pk, outcome="dismissed", reason="货车已过户他人", on=decided
    )
    case.refresh_from_db()
    step = case.steps.get(code="publicize")
    assert step.paused_days == 4 and case.due_on == due_before + dt.timedelta(days=4)
    resumed = case.events.get(kind="resumed")
    assert resumed.on == decided and resumed.data["paused_days"] == 4


@pytest.mark.django_db
def test_disaster_loss_becomes_a_real_lead(personas):
    lead_model = monitoring_models.Lead
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    ev, _ = dis.disaster_register(
        actor=SYSTEM, kind="洪涝", occurred_on=D, severity="重大", village_codes=[f.VILLAGE_A1]
    )
    loss = dis.disaster_loss_record(
        actor=personas["cadre_a1"],
        event_id=ev.pk,
        household_id=hh.pk,
        loss_amount=20000,
        house_damaged=True,
        on=D,
    )
    assert loss.lead_status == "sent"
    lead = lead_model.objects.get(pk=int(loss.lead_ref))
    assert lead.household_id == hh.pk


@pytest.mark.django_db
def test_mingbaizhi_and_recert_read_monitoring_objects(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    monitoring_models.MonitoringObject.objects.create(
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病"],
        identified_on=dt.date(2025, 1, 15),
        status="active",
        origin="procedure",
    )
    assert integrations.monitored_household_ids(D) == {hh.pk}
    html = mingbaizhi_render(actor=personas["cadre_a1"], household_id=hh.pk, on=D)
    assert "监测帮扶中" in html and "脱贫不稳定户" in html and "因病" in html


@pytest.mark.django_db
def test_my_tasks_include_monitoring_visits_for_the_cadre_only(personas):
    from fangpin.trust.selectors import my_tasks

    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    visits = [i for i in my_tasks(personas["cadre_a1"], on=D) if i.kind == "visit"]
    assert [i.household_no for i in visits] == [hh.household_no]
    assert not [i for i in my_tasks(personas["cadre_a2"], on=D) if i.kind == "visit"]
    assert not [i for i in my_tasks(personas["county_admin"], on=D) if i.kind == "visit"]


@pytest.mark.django_db
def test_mingbaizhi_says_missing_income_as_missing_and_an_eliminated_risk_as_eliminated(personas):
    """#14 item 7: no income covering the window → 收入数据不完整, never 0.00 元 "高于监测收入线"; a household
    whose risk was eliminated (渐退期 over) is not 未纳入."""
    from fangpin.monitoring.services import enrolment

    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    enrolment.enrol_existing(
        actor=SYSTEM,
        household=hh,
        category="边缘易致贫户",
        risk_types=["因学"],
        identified_on=dt.date(2022, 3, 1),
        eliminated_on=dt.date(2023, 6, 1),
        elimination_method="帮扶消除",
    )
    html = mingbaizhi_render(actor=personas["cadre_a1"], household_id=hh.pk, on=D)
    assert (
        "收入数据不完整" in html
        and "高于</b>" not in html
        and "0.00 元" not in html.split("家庭人均纯收入")[1][:80]
    )
    assert "未纳入" not in html and "风险已消除（2023年06月）" in html and "边缘易致贫户" in html
    # during its 渐退期 it still is a monitoring object, and said so
    html = mingbaizhi_render(actor=personas["cadre_a1"], household_id=hh.pk, on=dt.date(2023, 9, 1))
    assert "风险已消除（渐退期观察）" in html
    assert integrations.monitored_household_ids(dt.date(2023, 9, 1)) == {hh.pk}
    assert integrations.monitored_household_ids(D) == set()
    # never a monitoring object: 未纳入
    other = f.household(f.VILLAGE_A1)
    f.person(other)
    f.income(other, year=2024, wage=20000)
    html = mingbaizhi_render(actor=personas["cadre_a1"], household_id=other.pk, on=D)
    assert "未纳入防止返贫监测对象" in html and "高于</b>监测收入线" in html


@pytest.mark.django_db
def test_mingbaizhi_reprint_as_known_on_a_day_shows_what_the_system_knew(personas):
    import time_machine

    from fangpin.registry.services.members import do_member_remove

    with time_machine.travel(dt.datetime(2025, 1, 5, tzinfo=dt.UTC), tick=False):
        hh = f.household(f.VILLAGE_A1)
        f.person(hh, name="王建国")
        grandpa = f.person(hh, name="王德福", relation="之父", birth=dt.date(1940, 1, 1))
        f.income(hh, year=2024, wage=14000)
    with time_machine.travel(dt.datetime(2025, 5, 20, tzinfo=dt.UTC), tick=False):
        do_member_remove(actor=personas["cadre_a1"], person=grandpa, kind="death", date=dt.date(2025, 3, 8))
    now = mingbaizhi_render(actor=personas["cadre_a1"], household_id=hh.pk, on=dt.date(2025, 4, 1))
    assert "王*福" not in now and "家庭人口：1人" in now and "14,000.00 元" in now
    reprint = mingbaizhi_render(
        actor=personas["cadre_a1"], household_id=hh.pk, on=dt.date(2025, 4, 1), known_on=dt.date(2025, 4, 30)
    )
    assert "王*福" in reprint and "家庭人口：2人" in reprint and "7,000.00 元" in reprint
    assert "按2025年4月30日系统所记情况补打" in reprint
