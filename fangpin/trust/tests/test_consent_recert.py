import datetime as dt

import pytest

from fangpin.core.errors import DomainError
from fangpin.registry.choices import HouseholdType
from fangpin.testing import factories as f
from fangpin.trust.models import Recertification, Task, TaskKind, TaskStatus
from fangpin.trust.selectors import my_tasks, recert_coverage
from fangpin.trust.services import integrations
from fangpin.trust.services.consent import (
    consent_ok,
    consent_record,
    consent_withdraw,
    households_with_consent,
)
from fangpin.trust.services.recert import recert_record, recert_tasks_generate

ON = dt.date(2025, 6, 15)


def _trust(items):
    """my_tasks items of this part (monitoring adds visits and case steps when it is installed)."""
    return [i for i in items if not i.kind.startswith(("visit", "case_"))]


@pytest.mark.django_db
def test_consent_scope_dates_and_withdrawal(personas):
    h1, h2 = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_A1)
    c = consent_record(
        actor=personas["cadre_a1"],
        household_id=h1.pk,
        signed_on=dt.date(2025, 1, 5),
        signed_by_name="张三",
        scope=["income", "assets"],
        paper_holder="贾家村村委会档案柜",
    )
    assert consent_ok(h1, "assets", on=ON) and not consent_ok(h1, "medical", on=ON)
    assert not consent_ok(h1, "assets", on=dt.date(2025, 1, 4))
    assert not consent_ok(h2, "assets", on=ON)
    assert households_with_consent([h1.pk, h2.pk], "income", on=ON) == {h1.pk}
    consent_withdraw(
        actor=personas["cadre_a1"], consent_id=c.pk, withdrawn_on=dt.date(2025, 6, 1), reason="本人撤回"
    )
    assert not consent_ok(h1, "assets", on=ON) and consent_ok(h1, "assets", on=dt.date(2025, 5, 31))
    with pytest.raises(DomainError) as e:
        consent_record(
            actor=personas["cadre_a1"],
            household_id=h2.pk,
            signed_on=ON,
            signed_by_name="李四",
            scope=["everything"],
            paper_holder="村委会",
        )
    assert e.value.code == "consent_bad_scope"


@pytest.mark.django_db
def test_stale_households_become_recert_tasks_and_county_sees_coverage(personas, monkeypatch):
    exited_fresh = f.household(f.VILLAGE_A1)
    exited_stale = f.household(f.VILLAGE_A1)
    other_fresh = f.household(f.VILLAGE_A2, household_type=HouseholdType.ORDINARY)
    monitored = f.household(f.VILLAGE_A2)
    monkeypatch.setattr(integrations, "monitored_household_ids", lambda on: {monitored.pk})
    Recertification.objects.create(household=exited_fresh, verified_on=dt.date(2025, 1, 10))
    Recertification.objects.create(household=exited_stale, verified_on=dt.date(2024, 5, 1))  # > 12 months
    Recertification.objects.create(household=other_fresh, verified_on=dt.date(2024, 1, 1))  # 24-month cycle
    Recertification.objects.create(household=monitored, verified_on=dt.date(2025, 5, 1))  # monthly → stale
    assert recert_tasks_generate(on=ON) == 2
    assert recert_tasks_generate(on=ON) == 0  # idempotent
    stale = set(Task.objects.filter(kind=TaskKind.RECERT).values_list("household_id", flat=True))
    assert stale == {exited_stale.pk, monitored.pk}
    assert [i.household_no for i in _trust(my_tasks(personas["cadre_a1"], on=ON))] == [
        exited_stale.household_no
    ]
    cov = {
        r.village_code: (r.households, r.current, r.stale)
        for r in recert_coverage(actor=personas["county_admin"], on=ON)
    }
    assert cov == {f.VILLAGE_A1: (2, 1, 1), f.VILLAGE_A2: (2, 1, 1)}
    assert [r.village_code for r in recert_coverage(actor=personas["cadre_a1"], on=ON)] == [f.VILLAGE_A1]
    recert_record(actor=personas["cadre_a1"], household_id=exited_stale.pk, verified_on=ON)
    assert Task.objects.get(household=exited_stale).status == TaskStatus.DONE
    assert recert_coverage(actor=personas["cadre_a1"], on=ON)[0].coverage == 1.0
