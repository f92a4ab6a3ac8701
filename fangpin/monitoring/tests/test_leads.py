import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.monitoring.models import (
    Lead,
    LeadOutcome,
    LeadSource,
    LeadStatus,
    MonitoringObject,
    ObjectStatus,
)
from fangpin.monitoring.services import enrolment, leads
from fangpin.testing import factories as f

SYSTEM = system_actor("test")  # jobs act as a named system actor, never actor=None

D = dt.date(2025, 6, 3)
CONSENT = {"consent": {"signed": True, "signed_on": "2025-06-03", "holder": "村委会"}}


@pytest.mark.django_db
def test_three_channels_dedup_into_one_lead_routed_to_village_and_township(personas):
    hh = f.household(f.VILLAGE_A1)
    a = leads.lead_submit(
        actor=personas["cadre_a1"],
        household=hh,
        channel="self_application",
        evidence=CONSENT,
        risk_types=["因病"],
        on=D,
    )
    b = leads.lead_submit(
        actor=personas["cadre_a1"],
        household=hh,
        channel="cadre_visit",
        source_ref="visit:1",
        risk_types=["因病", "因学"],
        on=D,
    )
    c = leads.lead_submit(
        actor=personas["county_reviewer"],
        household=hh,
        channel="department_screening",
        source_ref="screening_run:7:rule:MED_OOP",
        evidence={"oop": 12000},
        on=D,
    )
    assert a.pk == b.pk == c.pk
    lead = Lead.objects.get(pk=a.pk)
    assert lead.village_id == f.VILLAGE_A1 and lead.township_id == f.TOWNSHIP_A
    assert lead.risk_types == ["因病", "因学"]
    assert [s.channel for s in lead.sources.all()] == [
        "self_application",
        "cadre_visit",
        "department_screening",
    ]
    assert lead.sources.get(channel="self_application").consent_signed
    # the same screening source again is idempotent
    leads.lead_submit(
        actor=personas["county_reviewer"],
        household=hh,
        channel="department_screening",
        source_ref="screening_run:7:rule:MED_OOP",
        on=D,
    )
    assert lead.sources.count() == 3


@pytest.mark.django_db
def test_submit_refusals(personas):
    hh = f.household(f.VILLAGE_A1)
    with pytest.raises(DomainError) as e:
        leads.lead_submit(actor=personas["cadre_a1"], household=hh, channel="self_application", on=D)
    assert e.value.code == leads.E_CONSENT
    with pytest.raises(DomainError) as e:
        leads.lead_submit(actor=personas["cadre_a1"], household=hh, channel="rumour", on=D)
    assert e.value.code == leads.E_CHANNEL
    with pytest.raises(DomainError) as e:
        leads.lead_submit(
            actor=personas["cadre_a1"], household=hh, channel="other", risk_types=["因懒"], on=D
        )
    assert e.value.code == "risk_type_unknown"
    with pytest.raises(NotFound):
        leads.lead_submit(actor=personas["cadre_a2"], household=hh, channel="other", on=D)
    with pytest.raises(PermissionDenied):
        leads.lead_submit(actor=personas["dept_yibao"], household=hh, channel="department_screening", on=D)
    with pytest.raises(PermissionDenied):
        leads.lead_submit(actor=SYSTEM, household=hh, channel="self_application", evidence=CONSENT, on=D)
    assert not Lead.objects.filter(household=hh).exists()


@pytest.mark.django_db
def test_close_stamps_outcome_on_every_source(personas):
    hh = f.household(f.VILLAGE_A1)
    lead = leads.lead_submit(
        actor=SYSTEM, household=hh, channel="department_screening", source_ref="screening_run:1:rule:X", on=D
    )
    leads.lead_submit(actor=personas["cadre_a1"], household=hh, channel="other", on=D)
    with pytest.raises(DomainError) as e:
        leads.lead_close(actor=personas["cadre_a1"], lead=lead, outcome="not_a_risk", reason="  ", on=D)
    assert e.value.code == leads.E_REASON
    with pytest.raises(DomainError) as e:
        leads.lead_close(actor=personas["cadre_a1"], lead=lead, outcome="confirmed", reason="有风险", on=D)
    assert e.value.code == leads.E_CONFIRM_NEEDS_CASE
    with pytest.raises(NotFound):
        leads.lead_close(actor=personas["cadre_b1"], lead=lead, outcome="not_a_risk", reason="x", on=D)
    leads.lead_close(actor=personas["cadre_a1"], lead=lead, outcome="data_error", reason="医保数据重复", on=D)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CLOSED and lead.closed_on == D
    assert set(lead.sources.values_list("outcome", flat=True)) == {"data_error"}
    assert LeadSource.objects.get(source_ref="screening_run:1:rule:X").outcome == "data_error"
    # a closed lead means the next report opens a new one
    new = leads.lead_submit(actor=personas["cadre_a1"], household=hh, channel="other", on=D)
    assert new.pk != lead.pk


@pytest.mark.django_db
def test_enrol_existing_is_idempotent_and_monitored_households_get_no_new_lead(personas):
    hh = f.household(f.VILLAGE_A1)
    kw = dict(
        actor=personas["county_admin"],
        household=hh,
        category="脱贫不稳定户",
        risk_types=["因病", "因残"],
        identified_on=dt.date(2024, 3, 1),
        source_ref="import:9:row:4",
    )
    obj = enrolment.enrol_existing(**kw)
    assert enrolment.enrol_existing(**kw).pk == obj.pk
    assert MonitoringObject.objects.filter(household=hh).count() == 1
    lead = leads.lead_submit(
        actor=SYSTEM, household=hh, channel="department_screening", source_ref="screening_run:2:rule:Y", on=D
    )
    assert lead.pk == obj.lead_id and lead.status == LeadStatus.CLOSED
    src = LeadSource.objects.get(source_ref="screening_run:2:rule:Y")
    assert src.already_monitored and src.outcome == LeadOutcome.ALREADY_MONITORED
    assert src.monitoring_object_id == obj.pk
    # the national system later reports the elimination: same call with eliminated_on updates it
    enrolment.enrol_existing(**kw, eliminated_on=dt.date(2025, 1, 10), elimination_method="帮扶消除")
    obj.refresh_from_db()
    assert obj.status == ObjectStatus.ELIMINATED and obj.gradual_exit_until == dt.date(
        2026, 1, 10
    )  # 龙安区 12


@pytest.mark.django_db
def test_enrol_existing_refusals(personas):
    hh = f.household(f.VILLAGE_A1)
    base = dict(actor=SYSTEM, household=hh, identified_on=dt.date(2024, 3, 1))
    with pytest.raises(DomainError) as e:
        enrolment.enrol_existing(**base, category="贫困户", risk_types=["因病"])
    assert e.value.code == enrolment.E_CATEGORY
    with pytest.raises(DomainError) as e:
        enrolment.enrol_existing(**base, category="边缘易致贫户", risk_types=[])
    assert e.value.code == "risk_types_count"
    with pytest.raises(DomainError) as e:
        enrolment.enrol_existing(
            **base, category="边缘易致贫户", risk_types=["因病"], eliminated_on=dt.date(2024, 9, 1)
        )
    assert e.value.code == enrolment.E_METHOD
    with pytest.raises(PermissionDenied):
        enrolment.enrol_existing(
            **{**base, "actor": personas["cadre_a1"]}, category="边缘易致贫户", risk_types=["因病"]
        )
