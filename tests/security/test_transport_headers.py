"""Under the production settings the headers are really sent, not only set: plain HTTP is redirected to
HTTPS, HTTPS answers carry HSTS (a year, subdomains), a CSP without inline script, nosniff, DENY framing
and a same-origin referrer policy — on the login page (no session yet) and on the Chinese 404 page.
Run in a fresh process, since the settings module is read once per process (no database needed)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, django
django.setup()
from django.test import Client
c = Client()
out = {}
for name, kw in {
    "plain": {},
    "https": {"secure": True},
    "proxy": {"HTTP_X_FORWARDED_PROTO": "https"},
}.items():
    r = c.get("/login/", **kw)
    out[name] = {"status": r.status_code, "headers": dict(r.headers)}
r = c.get("/no-such-page/", secure=True)
out["404"] = {"status": r.status_code, "headers": dict(r.headers), "body": r.content.decode()}
print(json.dumps(out))
"""


def _run(tmp_path) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL")},
        "DJANGO_SETTINGS_MODULE": "fangpin.settings.prod",
        "FANGPIN_SECRET_KEY": secrets.token_urlsafe(60),
        "FANGPIN_DATA_KEYS": f"k1:{secrets.token_hex(16)}",  # production refuses to start without real keys
        "FANGPIN_INDEX_KEY": secrets.token_hex(32),
        "FANGPIN_VAR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FANGPIN_ALLOWED_HOSTS": "testserver",
    }
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_csp_and_redirects_plain_http(tmp_path):
    out = _run(tmp_path)
    plain = out["plain"]
    assert plain["status"] == 301 and plain["headers"]["Location"].startswith("https://testserver/login/")
    for name in ("https", "proxy"):  # direct TLS, or TLS ended at the county's reverse proxy
        r = out[name]
        h = r["headers"]
        assert r["status"] == 200, name
        assert h["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", name
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
        assert "unsafe-inline" not in csp.split("script-src", 1)[-1].split(";", 1)[0], csp
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "same-origin"
        assert "Secure" in h.get("Set-Cookie", "Secure")  # the CSRF cookie, when set, is Secure
    nf = out["404"]
    assert nf["status"] == 404 and "Strict-Transport-Security" in nf["headers"]
    assert "Content-Security-Policy" in nf["headers"] and "不存在" in nf["body"]
