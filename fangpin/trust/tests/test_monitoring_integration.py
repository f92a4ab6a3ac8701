"""Against the real monitoring lifecycle (fangpin.monitoring): an objection during 公示 pauses the case
step and deciding the appeal resumes it; a disaster loss becomes a real lead; the 明白纸 and recert read
monitoring objects."""

import datetime as dt

import pytest
from django.db import transaction

from fangpin.accounts.actors import system_actor
from fangpin.testing import factories as f
from fangpin.trust.mingbaizhi import mingbaizhi_render
from fangpin.trust.services import appeals as svc
from fangpin.trust.services import disasters as dis
from fangpin.trust.services import integrations

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

monitoring_models = pytest.importorskip("fangpin.monitoring.models")
cases = pytest.importorskip("fangpin.monitoring.services.cases")

D = dt.date(2025, 4, 7)


def _case_in_publicity(hh):
    with transaction.atomic():
        case = cases.case_create(actor=SYSTEM, kind="identification", household=hh, on=D)
    case.steps.filter(seq__lt=case.steps.get(code="publicize").seq).update(status="done", completed_on=D)
    case.steps.filter(code="publicize").update(status="active", started_on=D)
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
        actor=personas["township_a"], appeal_id=a.pk, outcome="dismissed", reason="货车已过户他人"
    )
    case.refresh_from_db()
    assert case.status == "open" and case.steps.get(code="publicize").status == "active"


@pytest.mark.django_db
def test_disaster_loss_becomes_a_real_lead(personas):
    lead_model = monitoring_models.Lead
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    ev, _ = dis.disaster_register(
        actor=SYSTEM, kind="洪涝", occurred_on=D, severity="重大", village_codes=[f.VILLAGE_A1]
    )
    loss = dis.disaster_loss_record(
        actor=personas["cadre_a1"], event_id=ev.pk, household_id=hh.pk, loss_amount=20000, house_damaged=True
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
