"""`fangpin serve`: the production web server (gunicorn with fangpin.settings.gunicorn) starts under the
production settings with threaded workers, answers on the address it was given and only there, with the
production headers, and serves the pages' static assets compressed."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_threaded_gunicorn_under_production_settings(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "fangpin.settings.prod",
        "FANGPIN_SECRET_KEY": secrets.token_urlsafe(60),
        "FANGPIN_DATA_KEYS": f"k1:{secrets.token_hex(16)}",
        "FANGPIN_INDEX_KEY": secrets.token_hex(32),
        "FANGPIN_VAR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "FANGPIN_ALLOWED_HOSTS": "127.0.0.1",
        "FANGPIN_SSL_REDIRECT": "0",  # plain http on loopback; TLS ends at the proxy
        "FANGPIN_WEB_LOGLEVEL": "info",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 240  # collectstatic compresses the assets first
        while True:
            try:
                # as the county's reverse proxy on this host forwards it (TLS ended there)
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/login/", headers={"X-Forwarded-Proto": "https"}
                )
                with urllib.request.urlopen(req, timeout=10) as r:
                    body = r.read().decode()
                    headers = r.headers
                break
            except urllib.error.HTTPError:
                raise
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        assert "登录" in body
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        assert "default-src" in headers["Content-Security-Policy"]
        # the page's assets are served too (WhiteNoise, collected by serve), compressed for a phone
        for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', body):
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}{asset}", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.status == 200 and r.headers["Content-Encoding"] == "gzip", asset
        assert "/static/django_htmx/htmx-2.min.js" in body
        text = log.read_text()
        assert "Using worker: gthread" in text and f"Listening at: http://127.0.0.1:{port}" in text
    finally:
        server.terminate()
        server.wait(timeout=30)
