"""API-02 / API-03: one per-user gate for searches and look-ups (``accounts.throttle``), browser and API alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import override_settings

from fangpin.accounts.throttle import Throttled, search_gate
from fangpin.api.tokens import token_issue
from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.core.ids import make_id_number
from fangpin.testing import factories as F

pytestmark = pytest.mark.django_db

PROD = {"FANGPIN_SEARCH_PER_MINUTE": 300, "FANGPIN_LOOKUP_DAILY_DEFAULT": 1000,
        "FANGPIN_LOOKUP_DAILY_BUDGET": {"village_cadre": 200}}  # fmt: skip


def _ids(n: int) -> list[str]:
    return [make_id_number("410506", dt.date(1950, 1, 1) + dt.timedelta(days=i), 7, "M") for i in range(n)]


def _bearer(user) -> dict:
    _, raw = token_issue(actor=user, user=user, name="t", days=1, on=dt.date.today())
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@override_settings(**PROD)
def test_201_distinct_lookups_give_429_and_an_alert_through_one_gate(client, personas):
    cache.clear()
    cadre = personas["cadre_a1"]
    ids = _ids(201)
    today = clock.today()
    for q in ids[:199]:  # the gate the search selector calls (the first 199 quickly)
        search_gate(cadre, q, on=today)
    client.force_login(cadre)
    r = client.get("/households/", {"q": ids[199]})  # the 200th through the browser
    assert r.status_code == 200
    assert client.get("/households/", {"q": ids[0]}).status_code == 200  # a repeat costs nothing
    assert client.get("/households/", {"q": "王建"}).status_code == 200  # a name search is no look-up
    r = client.get("/api/v1/households", {"q": ids[200]}, **_bearer(cadre))  # the 201st through the API
    assert r.status_code == 429 and "上限" in r.json()["message"] and r.json()["code"] == "throttled"
    alert = AuditEvent.objects.filter(event_type="security.lookup_budget_exceeded", actor=cadre)
    assert alert.count() == 1 and alert.get().data["alert"] is True and alert.get().data["budget"] == 200
    assert ids[200] not in str(alert.get().data)
    r = client.get("/households/", {"q": ids[200]})  # the browser is refused as well
    assert r.status_code == 429 and "安全管理员" in r.content.decode()
    assert "<html" in r.content.decode() and r["Content-Type"].startswith("text/html")  # the Chinese page
    assert alert.count() == 2 and alert.order_by("seq").last().data["alert"] is False  # one alert a day
    # another user's budget is their own
    assert (
        client.get("/api/v1/households", {"q": ids[200]}, **_bearer(personas["cadre_b1"])).status_code == 200
    )


@override_settings(**PROD)
def test_not_found_and_out_of_scope_look_ups_answer_the_same(client, personas):
    cache.clear()
    hh = F.household(F.VILLAGE_B1)
    other = F.person(hh, id_number=_ids(1)[0])
    h = _bearer(personas["cadre_a1"])
    a = client.get("/api/v1/households", {"q": other.id_number}, **h)
    b = client.get("/api/v1/households", {"q": _ids(2)[1]}, **h)
    assert (a.status_code, a.json()) == (b.status_code, b.json())
    assert a.status_code == 200 and a.json()["items"] == []


@override_settings(FANGPIN_SEARCH_PER_MINUTE=5)
def test_searches_per_user_and_minute_are_throttled(client, personas):
    cache.clear()
    user = personas["cadre_a1"]
    client.force_login(user)
    codes = [client.get("/households/", {"q": f"王{i}"}).status_code for i in range(5)]
    assert codes == [200] * 5
    r = client.get("/households/", {"q": "王建"})
    assert r.status_code == 429 and "过于频繁" in r.content.decode()
    assert client.get("/api/v1/households", {"q": "王建"}, **_bearer(user)).status_code == 429
    assert AuditEvent.objects.filter(event_type="security.search_throttled", actor=user).count() == 1
    client.force_login(personas["cadre_b1"])
    assert client.get("/households/", {"q": "王建"}).status_code == 200  # per user


REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be reachable at 127.0.0.1:6379 in CI")
        pytest.skip(
            "Redis not reachable at 127.0.0.1:6379 (skipped loudly: production shares counts through it)"
        )
    return client


@override_settings(**PROD)
def test_the_lookup_budget_is_shared_through_redis_across_workers(personas):
    """Production counts in Redis (FANGPIN_REDIS_URL): what one worker spent, another worker sees, so a
    cadre with several gunicorn workers still gets 200 look-ups a day, not 200 per worker."""
    from django.core.cache import caches

    client = _redis()
    client.flushdb()
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                   "KEY_PREFIX": "fangpin"}  # fmt: skip
    cadre, today, ids = personas["cadre_a1"], clock.today(), _ids(201)
    try:
        with override_settings(CACHES={"default": redis_cache}):
            for q in ids[:150]:
                search_gate(cadre, q, on=today)
            counter = [
                k for k in client.keys("*") if k.endswith(f"{cadre.pk}:{today.isoformat()}:n".encode())
            ]
            assert len(counter) == 1 and int(client.get(counter[0])) == 150  # in Redis, not in this process
            caches["default"].close()
            other_worker = caches.create_connection("default")  # a new connection, as another process has
            assert other_worker.get(f"fangpin:lookup:{cadre.pk}:{today.isoformat()}:n") == 150
            for q in ids[150:200]:
                search_gate(cadre, q, on=today)
            search_gate(cadre, ids[0], on=today)  # a repeat costs nothing
            with pytest.raises(Throttled):
                search_gate(cadre, ids[200], on=today)
    finally:
        client.flushdb()
    alert = AuditEvent.objects.get(event_type="security.lookup_budget_exceeded", actor=cadre)
    assert alert.data["alert"] is True and alert.result == "refused"
