"""The per-request reads whose SQL is compiled once per process (``core.precompiled``): the session row, the
signed-in user, an API token, and the gate's read of one household for a village's user. Each is read afresh
on every request: a change is seen by the next one (nothing of a row is kept), and the gate still refuses and
audits what is outside the user's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.api.tokens import token_issue, token_revoke
from fangpin.audit.models import AuditEvent
from fangpin.core.errors import NotFound
from fangpin.monitoring.services.assistance import assignment_set
from fangpin.registry.models import Household
from fangpin.risk.selectors import household_risk
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 6, 2)


def _refusals(pk) -> int:
    return AuditEvent.objects.filter(event_type="access.refused", object_id=str(pk)).count()


def test_a_village_users_gate_reads_its_own_village_and_refuses_and_audits_another(personas):
    cadre = personas["cadre_a1"]
    mine, theirs = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_A2)
    for _ in range(2):  # compiled on the first call, run again on the second
        got = access_object(cadre, Household, mine.pk, what="户")
        assert got.pk == mine.pk and got.household_no == mine.household_no
        with pytest.raises(NotFound):
            access_object(cadre, Household, theirs.pk, what="户")
    assert _refusals(theirs.pk) == 2
    assert access_object(personas["cadre_a2"], Household, theirs.pk).pk == theirs.pk  # another village's code
    Household.objects.filter(pk=mine.pk).update(village_id=f.VILLAGE_A2)  # moved: refused on the next read
    with pytest.raises(NotFound):
        access_object(cadre, Household, mine.pk)
    assert _refusals(mine.pk) == 1
    # wider users (a LIKE on the prefix) and helpers (assigned households) keep the gate's own queryset
    assert access_object(personas["township_a"], Household, mine.pk).pk == mine.pk
    with pytest.raises(NotFound):
        access_object(personas["helper_a1"], Household, theirs.pk)
    # an id no 64-bit column can hold (a hostile request's) is refused as missing and audited, not a 500
    huge = int("9" * 400)
    with pytest.raises(NotFound):
        access_object(cadre, Household, huge)
    with pytest.raises(NotFound):
        access_object(cadre, Household, 2**63)
    assert _refusals(str(huge)[:64]) == 1  # the audit keeps the id's first 64 characters


def _risk_reference(actor, household, on):
    """The eighth round's ``household_risk``: the scores through ``scoped``, latest model per month."""
    from fangpin.accounts.scope import scoped
    from fangpin.risk.models import RiskScore

    rows = scoped(
        actor, RiskScore.objects.filter(household=household, month__lte=on.replace(day=1))
    ).order_by("-month", "-model_id")
    seen = {}
    for s in rows:
        seen.setdefault(s.month, s)
        if len(seen) >= 12:
            break
    return [seen[m].pk for m in sorted(seen)]


def test_the_risk_trend_is_the_scoped_ones_and_keeps_to_the_users_scope(personas):
    from fangpin.risk.models import RiskModel, RiskScore

    mine, other = f.household(f.VILLAGE_A1), f.household(f.VILLAGE_A1)
    helper = personas["helper_a1"]
    assignment_set(actor=personas["township_a"], household=mine, user=helper, kind="helper", on=ON)
    models = [
        RiskModel.objects.create(
            county_code="410506", trained_through=ON, horizon_months=3, booster="", created_by="t"
        )
        for _ in range(2)
    ]
    for hh in (mine, other):
        for m in range(1, 15):  # 2024-12 … 2026-01: more than 12 months, some after ``on``
            month = dt.date(2024 + (m + 10) // 12, (m + 10) % 12 + 1, 1)
            for model in models if m % 3 else models[:1]:
                RiskScore.objects.create(model=model, household=hh, month=month, score=m / 20, rank=m)
    for actor, hh, n in [
        (personas["cadre_a1"], mine, 7),
        (personas["township_a"], mine, 7),
        (helper, mine, 7),
        (helper, other, 0),  # not assigned to the helper
        (personas["cadre_a2"], mine, 0),  # another village
    ]:
        got = [s.pk for s in household_risk(actor=actor, household=hh, on=ON)]
        assert got == _risk_reference(actor, hh, ON) and len(got) == n, (actor, hh)
    late = dt.date(2026, 3, 1)
    assert [s.pk for s in household_risk(actor=helper, household=mine, on=late)] == _risk_reference(
        helper, mine, late
    )
    assert len(_risk_reference(helper, mine, late)) == 12


def test_a_session_is_read_afresh_expired_or_deleted_it_signs_out(client, personas):
    client.force_login(personas["cadre_a1"])
    assert client.get("/households/").status_code == 200
    key = client.cookies["sessionid"].value
    assert client.get("/households/").status_code == 200  # the second read from the compiled statement
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    r = client.get("/households/")
    assert r.status_code == 302 and "/login" in r["Location"]
    client.force_login(personas["cadre_a1"])
    assert client.get("/households/").status_code == 200
    Session.objects.all().delete()
    r = client.get("/households/")
    assert r.status_code == 302 and "/login" in r["Location"]


def test_the_signed_in_user_is_read_afresh(client, personas):
    cadre = personas["cadre_a1"]
    client.force_login(cadre)
    assert client.get("/households/").status_code == 200
    type(cadre).objects.filter(pk=cadre.pk).update(is_active=False)
    r = client.get("/households/")
    assert r.status_code == 302 and "/login" in r["Location"]


def test_a_token_is_read_afresh_revoked_it_is_refused(client, personas):
    cadre = personas["cadre_a1"]
    tok, raw = token_issue(actor=cadre, user=cadre, name="t", days=30, on=dt.date.today())
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **auth).status_code == 200
    assert client.get("/api/v1/me", **auth).json()["username"] == cadre.username
    token_revoke(actor=cadre, token=tok)
    assert client.get("/api/v1/me", **auth).status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer fp_unknown").status_code == 401
