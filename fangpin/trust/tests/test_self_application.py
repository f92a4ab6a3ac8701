import datetime as dt

import pytest

from fangpin.core.errors import DomainError, NotFound
from fangpin.monitoring.models import Lead
from fangpin.testing import factories as f
from fangpin.trust.models import Consent
from fangpin.trust.services.consent import consent_ok
from fangpin.trust.services.self_application import E_CONSENT_ANSWER, self_application_submit

SIGNED = {
    "signed": True,
    "signed_on": dt.date(2025, 6, 3),
    "signed_by_name": "王大山",
    "scope": ["assets", "income"],
    "paper_holder": "村委会档案柜",
}


@pytest.fixture
def hh(db):
    h = f.household(f.VILLAGE_A1)
    f.person(h, name="王大山")
    return h


@pytest.mark.django_db
def test_signed_application_records_consent_and_lead(personas, hh):
    lead = self_application_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        form={"difficulty": "因病住院", "risk_types": ["因病"]},
        consent=SIGNED,
        on=dt.date(2025, 3, 3),
    )
    c = Consent.objects.get(household=hh)
    assert c.scope == ["assets", "income"] and c.paper_holder == "村委会档案柜"
    assert consent_ok(hh, "assets", on=dt.date(2025, 6, 10))
    src = lead.sources.get()
    assert src.channel == "self_application" and src.evidence["consent"]["consent_id"] == c.pk
    assert src.evidence["difficulty"] == "因病住院"


@pytest.mark.django_db
def test_unsigned_application_is_a_lead_without_consent(personas, hh):
    lead = self_application_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        form={},
        consent={"signed": False},
        on=dt.date(2025, 3, 3),
    )
    assert not Consent.objects.filter(household=hh).exists()
    assert lead.sources.get().evidence["consent"]["signed"] is False
    assert not consent_ok(hh, "assets", on=dt.date(2025, 6, 10))


@pytest.mark.django_db
def test_refusals_write_nothing(personas, hh):
    with pytest.raises(DomainError) as e:
        self_application_submit(
            actor=personas["cadre_a1"], household_id=hh.pk, form={}, consent={}, on=dt.date(2025, 3, 3)
        )
    assert e.value.code == E_CONSENT_ANSWER
    with pytest.raises(NotFound):
        self_application_submit(
            actor=personas["cadre_b1"], household_id=hh.pk, form={}, consent=SIGNED, on=dt.date(2025, 3, 3)
        )
    bad_scope = {**SIGNED, "scope": ["everything"]}
    with pytest.raises(DomainError):
        self_application_submit(
            actor=personas["cadre_a1"], household_id=hh.pk, form={}, consent=bad_scope, on=dt.date(2025, 3, 3)
        )
    assert (
        not Consent.objects.filter(household=hh).exists() and not Lead.objects.filter(household=hh).exists()
    )
