"""`manage.py check --deploy` is clean under the production settings (every item decided)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# encryption at rest (core.crypto): production needs its own data and index keys
KEYS = {"FANGPIN_DATA_KEYS": f"k1:{secrets.token_hex(16)}", "FANGPIN_INDEX_KEY": secrets.token_hex(32)}


def test_check_deploy_clean_under_prod(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by the e2e tests
        "DJANGO_SETTINGS_MODULE": "fangpin.settings.prod",
        "FANGPIN_SECRET_KEY": secrets.token_urlsafe(60),
        **KEYS,
        "FANGPIN_VAR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


def test_prod_settings_decide_every_transport_item(monkeypatch):
    import importlib

    monkeypatch.setenv("FANGPIN_SECRET_KEY", secrets.token_urlsafe(60))
    for k, v in KEYS.items():
        monkeypatch.setenv(k, v)
    prod = importlib.import_module("fangpin.settings.prod")
    assert prod.SECURE_HSTS_SECONDS >= 31536000 and prod.SECURE_SSL_REDIRECT
    assert prod.SESSION_COOKIE_SECURE and prod.CSRF_COOKIE_SECURE
    assert not prod.FANGPIN_DEMO_USERS_ALLOWED and not prod.FANGPIN_OTP_EXEMPT_ALLOWED
    assert prod.FANGPIN_SESSION_MAX_HOURS <= 12 and prod.SESSION_COOKIE_AGE <= 30 * 60


def test_prod_settings_refuse_to_load_without_encryption_keys(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", *KEYS)},
        "DJANGO_SETTINGS_MODULE": "fangpin.settings.prod",
        "FANGPIN_SECRET_KEY": secrets.token_urlsafe(60),
        "FANGPIN_VAR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    r = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode != 0 and "FANGPIN_DATA_KEYS" in r.stderr


def test_setup_creates_no_demo_users_in_production(db, settings):
    from fangpin.accounts.models import User
    from fangpin.demo.services.setup import install_setup

    settings.FANGPIN_DEMO_USERS_ALLOWED = False
    res = install_setup(county="410506")
    assert res.logins == [] and not User.objects.filter(is_demo=True).exists()
    settings.FANGPIN_DEMO_USERS_ALLOWED = True
    res = install_setup(county="410506")
    assert res.logins and User.objects.filter(is_demo=True, otp_exempt=True).count() == len(res.logins)
