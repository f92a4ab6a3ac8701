"""Login hardening: lockout, one refusal message, idle timeout and absolute cap, TOTP, audit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangpin.accounts.auth_events import SESSION_LOGIN_AT, SESSION_SEEN_AT
from fangpin.audit.models import AuditEvent

GOOD = "Fp#2025county"


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True  # off in the test settings for client.login(); on for these tests


@pytest.fixture
def cadre(personas):
    u = personas["cadre_a1"]
    u.set_password(GOOD)
    u.save()
    return u


def _login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def _body(r) -> str:
    """The page without its per-response CSRF tokens (the form field and htmx's header)."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", body)


def _events(kind: str) -> int:
    return AuditEvent.objects.filter(event_type=kind).count()


def test_five_failures_lock_the_account_even_for_the_right_password(client, cadre):
    for _ in range(5):
        r = _login(client, "cadre_a1", "wrong-password")
        assert r.status_code == 200 and "用户名或密码错误，或账户已锁定" in r.content.decode()
    r = _login(client, "cadre_a1", GOOD)
    assert "_auth_user_id" not in client.session
    assert _events("accounts.login_failed") == 5
    assert _events("accounts.account_locked") == 1
    assert _events("accounts.login_refused_locked") == 1
    assert _events("accounts.login") == 0
    # 31 minutes later the lock is over
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    r = _login(client, "cadre_a1", GOOD)
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(cadre.pk)
    ev = AuditEvent.objects.filter(event_type="accounts.login").get()
    assert ev.actor == cadre and ev.data["ip"] == "127.0.0.1"


def test_the_lock_is_per_username_and_ip(client, cadre, personas):
    other = personas["cadre_a2"]
    other.set_password(GOOD)
    other.save()
    for _ in range(5):
        _login(client, "cadre_a1", "wrong-password")
    assert _login(client, "cadre_a2", GOOD).status_code == 302  # same IP, other user
    client.logout()
    r = client.post("/login/", {"username": "cadre_a1", "password": GOOD}, REMOTE_ADDR="10.1.2.3")
    assert r.status_code == 302  # same user from another address


def test_unknown_user_wrong_password_and_locked_look_the_same(client, cadre):
    unknown = _body(_login(client, "nobody_here", "wrong-password"))
    wrong = _body(_login(client, "cadre_a1", "wrong-password"))
    for _ in range(4):
        _login(client, "cadre_a1", "wrong-password")
    locked = _body(_login(client, "cadre_a1", GOOD))
    assert unknown == wrong == locked


def test_typed_id_number_is_not_stored_in_clear(client, db):
    _login(client, "410506198302070031", "x")
    ev = AuditEvent.objects.filter(event_type="accounts.login_failed").get()
    assert "410506198302070031" not in str(ev.data) and ev.data["username"].startswith("410506********")


def test_idle_timeout_and_absolute_cap(client, cadre):
    assert _login(client, "cadre_a1", GOOD).status_code == 302
    assert client.get("/").status_code == 200
    s = client.session
    s[SESSION_SEEN_AT] = timezone.now().timestamp() - 31 * 60
    s.save()
    r = client.get("/")
    assert r.status_code == 302 and "expired=idle" in r["Location"]
    assert client.get("/").status_code == 302  # logged out for good
    assert _events("accounts.session_expired") == 1

    _login(client, "cadre_a1", GOOD)
    s = client.session
    s[SESSION_LOGIN_AT] = timezone.now().timestamp() - 12 * 3600 - 1  # active all day long
    s.save()
    r = client.get("/")
    assert r.status_code == 302 and "expired=max_age" in r["Location"]


def test_activity_is_recorded_once_a_minute_not_on_every_request(client, cadre):
    """A request within a minute of the recorded activity writes no session row (three queries a page);
    a later one records it and renews the session's expiry, so the idle limit still holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fangpin.accounts.middleware import SEEN_EVERY_SECONDS

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as q:
            assert client.get("/").status_code == 200
        return sum('UPDATE "django_session"' in x["sql"] for x in q.captured_queries)

    _login(client, "cadre_a1", GOOD)
    client.get("/")
    assert session_writes() == 0
    s = client.session
    s[SESSION_SEEN_AT] = timezone.now().timestamp() - SEEN_EVERY_SECONDS - 1
    s.save()
    from django.contrib.sessions.models import Session

    def expires():
        return Session.objects.get(session_key=client.session.session_key).expire_date

    before = expires()
    assert session_writes() == 1
    assert client.session[SESSION_SEEN_AT] > timezone.now().timestamp() - 5
    assert expires() > before  # renewed


@override_settings(FANGPIN_SESSION_IDLE_MINUTES=5)
def test_idle_timeout_is_a_setting(client, cadre):
    _login(client, "cadre_a1", GOOD)
    s = client.session
    s[SESSION_SEEN_AT] = timezone.now().timestamp() - 6 * 60
    s.save()
    assert client.get("/").status_code == 302


@override_settings(FANGPIN_OTP_ROLES=frozenset({"county_admin"}))
def test_county_role_must_enrol_and_pass_totp(client, personas):
    admin = personas["county_admin"]
    admin.set_password(GOOD)
    admin.save()
    assert _login(client, "county_admin", GOOD).status_code == 302
    r = client.get("/households/")
    assert r.status_code == 302 and r["Location"] == "/account/otp/setup/"
    page = client.get("/account/otp/setup/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    dev = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert client.post("/account/otp/setup/", {"token": "000000"}).status_code == 200
    dev.refresh_from_db()
    assert dev.throttling_failure_count == 1  # wrong codes are throttled
    dev.throttle_reset()
    token = f"{totp(dev.bin_key):06d}"
    sid = client.session.session_key
    assert client.post("/account/otp/setup/", {"token": token}).status_code == 302
    assert client.session.session_key != sid  # new session id after the second factor
    assert client.get("/households/").status_code == 200

    # next login: verify, and a code already used is refused (replay)
    client.post("/logout/")
    _login(client, "county_admin", GOOD)
    assert client.get("/").status_code == 302
    r = client.post("/account/otp/verify/", {"token": token})
    assert r.status_code == 200 and "动态口令错误" in r.content.decode()
    assert client.get("/").status_code == 302
    assert (
        _events("accounts.otp_failed") == 1
        and AuditEvent.objects.filter(event_type="accounts.otp_enrol", result="refused").count() == 1
    )


@override_settings(FANGPIN_OTP_ROLES=frozenset({"county_admin"}))
def test_village_cadre_needs_no_otp_and_exemption_only_in_dev(client, cadre, personas):
    _login(client, "cadre_a1", GOOD)
    assert client.get("/").status_code == 200
    client.post("/logout/")
    admin = personas["county_admin"]
    admin.set_password(GOOD)
    admin.otp_exempt = True
    admin.save()
    with override_settings(FANGPIN_OTP_EXEMPT_ALLOWED=False):
        _login(client, "county_admin", GOOD)
        assert client.get("/").status_code == 302
    client.post("/logout/")
    with override_settings(FANGPIN_OTP_EXEMPT_ALLOWED=True):
        _login(client, "county_admin", GOOD)
        assert client.get("/").status_code == 200


def test_demo_users_refused_where_not_allowed(client, cadre):
    cadre.is_demo = True
    cadre.save()
    with override_settings(FANGPIN_DEMO_USERS_ALLOWED=False):
        assert _login(client, "cadre_a1", GOOD).status_code == 200
        assert "_auth_user_id" not in client.session
        from fangpin.accounts.checks import production_accounts

        assert [e.id for e in production_accounts()] == ["fangpin.E001"]
    assert _login(client, "cadre_a1", GOOD).status_code == 302


def test_personal_pages_are_not_cached(client, cadre):
    _login(client, "cadre_a1", GOOD)
    r = client.get("/households/")
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]
    assert "default-src 'self'" in r["Content-Security-Policy"]


def test_otp_reset_and_enrol_commands(personas, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("otp_enrol", "county_reviewer", "--as", "county_admin")
    out = capsys.readouterr().out
    assert "otpauth://totp/" in out
    assert TOTPDevice.objects.filter(user=personas["county_reviewer"], confirmed=True).count() == 1
    with pytest.raises(CommandError):
        call_command("otp_reset", "county_reviewer", "--as", "cadre_a1")
    call_command("otp_reset", "county_reviewer", "--as", "county_admin")
    assert not TOTPDevice.objects.filter(user=personas["county_reviewer"]).exists()
    assert _events("accounts.otp_reset") == 1


@override_settings(FANGPIN_LOGIN_IP_PER_MINUTE=20)
def test_one_address_is_throttled_across_usernames(client, db, monkeypatch):
    from types import SimpleNamespace

    from django.core.cache import cache

    import fangpin.accounts.middleware as mw

    fixed = timezone.now()  # one minute window for the whole test (no flake at a minute boundary)
    monkeypatch.setattr(mw, "timezone", SimpleNamespace(now=lambda: fixed))
    cache.clear()
    codes = [_login(client, f"user{i}", "wrong-password").status_code for i in range(25)]
    assert codes[:20] == [200] * 20 and codes[20:] == [429] * 5
    assert _events("accounts.login_throttled") == 1 and _events("accounts.login_failed") == 20
    other = client.post("/login/", {"username": "x", "password": "y"}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 200  # another address is not affected
