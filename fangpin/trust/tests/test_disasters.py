import datetime as dt

import pytest

from fangpin.core.errors import DomainError, NotFound
from fangpin.registry.choices import HouseholdStatus
from fangpin.testing import factories as f
from fangpin.trust.models import DisasterLoss, Task, TaskKind, TaskStatus
from fangpin.trust.selectors import disaster_list, my_tasks
from fangpin.trust.services import disasters as svc
from fangpin.trust.services import integrations

DAY = dt.date(2025, 7, 20)


@pytest.mark.django_db
def test_disaster_in_two_villages_yields_the_visits_it_should(personas):
    a1 = [f.household(f.VILLAGE_A1) for _ in range(3)]
    a2 = [f.household(f.VILLAGE_A2) for _ in range(2)]
    f.household(f.VILLAGE_A2, status=HouseholdStatus.CANCELLED)
    outside = f.household(f.VILLAGE_B1)
    ev, n = svc.disaster_register(
        actor=personas["township_a"],
        kind="洪涝",
        occurred_on=DAY,
        severity="较大",
        village_codes=[f.VILLAGE_A1, f.VILLAGE_A2],
        description="暴雨引发洪涝",
    )
    assert n == 5 and ev.number == "ZH-410506-2025-0001"
    visits = Task.objects.filter(kind=TaskKind.DISASTER_VISIT, ref_id=ev.pk)
    assert set(visits.values_list("household_id", flat=True)) == {h.pk for h in a1 + a2}
    assert {t.due_on for t in visits} == {DAY + dt.timedelta(days=5)}
    assert outside.pk not in set(visits.values_list("household_id", flat=True))
    assert len([i for i in my_tasks(personas["cadre_a1"], on=DAY) if i.kind == "disaster_visit"]) == 3
    assert ev in disaster_list(actor=personas["cadre_a2"]) and ev not in disaster_list(
        actor=personas["cadre_b1"]
    )
    with pytest.raises(DomainError) as e:
        svc.disaster_register(
            actor=personas["county_admin"],
            kind="洪涝",
            occurred_on=DAY,
            severity="较大",
            village_codes=[f.VILLAGE_A2, f.VILLAGE_A1],
        )
    assert e.value.code == "disaster_duplicate"
    with pytest.raises(NotFound):
        svc.disaster_register(
            actor=personas["cadre_a1"],
            kind="旱灾",
            occurred_on=DAY,
            severity="一般",
            village_codes=[f.VILLAGE_A1, f.VILLAGE_B1],
        )


@pytest.mark.django_db
def test_losses_close_visits_and_serious_ones_become_leads(personas, monkeypatch):
    leads = []

    def fake_lead_submit(**kw):
        leads.append(kw)
        return type("Lead", (), {"pk": 900 + len(leads)})()

    monkeypatch.setattr(integrations, "lead_submit", fake_lead_submit)
    small, big = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_A1)
    ev, _ = svc.disaster_register(
        actor=None, kind="地质", occurred_on=DAY, severity="重大", village_codes=[f.VILLAGE_A1]
    )
    svc.disaster_loss_record(
        actor=personas["cadre_a1"],
        event_id=ev.pk,
        household_id=small.pk,
        loss_amount=800,
        on=dt.date(2025, 8, 3),
    )
    loss = svc.disaster_loss_record(
        actor=personas["cadre_a1"],
        event_id=ev.pk,
        household_id=big.pk,
        loss_amount=30000,
        house_damaged=True,
        description="房屋倒塌",
        on=dt.date(2025, 8, 3),
    )
    assert loss.lead_status == "sent" and loss.lead_ref == "901"
    assert len(leads) == 1 and leads[0]["household"] == big and leads[0]["channel"] == "disaster"
    assert leads[0]["risk_types"] == ["因自然灾害"] and leads[0]["source_ref"] == f"灾害{ev.number}"
    assert DisasterLoss.objects.get(household=small).lead_status == "none"
    assert not Task.objects.filter(kind=TaskKind.DISASTER_VISIT, status=TaskStatus.OPEN).exists()
    other = f.household(f.VILLAGE_A2)
    with pytest.raises(DomainError) as e:
        svc.disaster_loss_record(
            actor=personas["cadre_a2"],
            event_id=ev.pk,
            household_id=other.pk,
            loss_amount=1,
            on=dt.date(2025, 8, 3),
        )
    assert e.value.code == "disaster_household_not_in_area"
