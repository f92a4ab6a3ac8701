"""End-to-end harness: a real server process on its own SQLite demo county, driven by headless Chromium.

One server per test session (fast): ``fangpin setup`` + a small ``demo_county`` are built into a fresh
``FANGPIN_VAR`` folder, then ``runserver --noreload --insecure`` (DEBUG off, the Chinese error pages, Huey in
immediate mode through the test settings) listens on a free 127.0.0.1 port. The browser is Debian's
``chromium`` driven by Playwright for Python (Playwright's own browser download is never used).

Fixtures
- ``e2e_server``: ``.url``, ``.passwords`` / ``.regions`` (demo username → password / region code),
  ``.manage(*args)`` and ``.shell(code)`` against the same database, ``.var`` (its folder).
- ``page_as(username, phone=False)``: a logged-in Playwright page (desktop 1366×900 or phone 360×780).
- ``shoot(page, name)``: a full-page screenshot saved under ``var/e2e-screenshots/`` (printed at the end).

Without chromium the tests skip loudly; in CI (``CI=true``) they fail instead."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "e2e-screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 780}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DEMO_SCALE = os.environ.get("FANGPIN_E2E_SCALE", "0.2")


def pytest_collection_modifyitems(config, items):
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter):
    if SHOTS.exists() and any(SHOTS.glob("*.png")):
        n = len(list(SHOTS.glob("*.png")))
        terminalreporter.write_line(f"e2e screenshots ({n}): {SHOTS}")


def _chromium() -> str:
    path = os.environ.get("FANGPIN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    msg = "Debian chromium is not installed (apt-get install chromium fonts-wqy-microhei; ./run test does it)"
    if os.environ.get("CI") == "true":
        pytest.fail("e2e: " + msg)
    sys.stderr.write("\n" + "!" * 80 + f"\n!! e2e tests SKIPPED: {msg}\n" + "!" * 80 + "\n")
    pytest.skip("e2e: " + msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class E2EServer:
    url: str
    var: Path
    env: dict[str, str]
    passwords: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def manage(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        """Run a management command on the server's database (e.g. to prepare a fact the UI then shows)."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def shell(self, code: str) -> str:
        """Run Python in ``manage.py shell`` on the server's database (test setup look-ups only)."""
        return self.manage("shell", "-c", code).stdout


def _server_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "FANGPIN_REDIS"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "fangpin.settings.test",  # DEBUG off, Huey immediate, fast hasher
            "FANGPIN_VAR": str(var),
            "DATABASE_URL": f"sqlite:///{var / 'e2e.sqlite3'}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _chromium()


@pytest.fixture(scope="session")
def e2e_server(chromium_path) -> E2EServer:
    var = Path(tempfile.mkdtemp(prefix="fangpin-e2e-"))
    port = _free_port()
    srv = E2EServer(url=f"http://127.0.0.1:{port}", var=var, env=_server_env(var))
    t = time.monotonic()
    srv.manage("migrate", "-v0")
    out = srv.manage("demo_county", "--scale", DEMO_SCALE, "--reset-passwords").stdout
    for m in re.finditer(r"^\s+(\S+)\s+(\S+)\s+\S+ @ (\d{12})$", out, re.M):
        srv.passwords[m.group(1)] = m.group(2)
        srv.regions[m.group(1)] = m.group(3)
    assert "county_admin" in srv.passwords, out
    log = open(var / "server.log", "w")  # noqa: SIM115 (kept open for the server's lifetime)
    srv.proc = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=srv.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(srv.url + "/login/", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if srv.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("e2e server did not start: " + (var / "server.log").read_text()[-3000:])
        time.sleep(0.3)
    sys.stderr.write(f"\ne2e server {srv.url} on {var} ready in {time.monotonic() - t:.1f}s\n")
    yield srv
    srv.proc.terminate()
    try:
        srv.proc.wait(10)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
    log.close()
    shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(chromium_path):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop vs. Django's async guard
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # the browser's own locale is Chinese (Debian chromium-l10n; Chromium on Linux takes its language from
        # LANGUAGE first), so date inputs and built-in messages render as a county user sees them (2026/12/02,
        # not 12/02/2026). LANG stays C.UTF-8: zh_CN.UTF-8 is not generated on a bare Debian, and an unknown
        # LANG drops Chromium to ASCII file names — every upload of 医保.csv or 承诺书.jpg then fails
        env = {**os.environ, "LANG": "C.UTF-8", "LANGUAGE": "zh_CN"}
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_FLAGS, env=env)
        yield b
        b.close()


@pytest.fixture(scope="session")
def _logins(browser, e2e_server):
    """Log in once per user per session; later pages reuse the saved cookies."""
    states: dict[str, dict] = {}

    def state(username: str) -> dict:
        if username not in states:
            ctx = browser.new_context(viewport=DESKTOP, locale="zh-CN")
            page = ctx.new_page()
            page.goto(e2e_server.url + "/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", e2e_server.passwords[username])
            page.click("button[type=submit]")
            page.wait_for_url(e2e_server.url + "/")
            states[username] = ctx.storage_state()
            ctx.close()
        return states[username]

    return state


@pytest.fixture
def page_as(browser, e2e_server, _logins):
    contexts = []

    def open_page(username: str | None, *, phone: bool = False):
        kw = {"viewport": PHONE if phone else DESKTOP, "locale": "zh-CN", "base_url": e2e_server.url}
        if phone:
            kw.update({"is_mobile": True, "has_touch": True, "device_scale_factor": 2})
        if username:
            kw["storage_state"] = _logins(username)
        ctx = browser.new_context(**kw)
        ctx.set_default_timeout(15000)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_page
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def shoot():
    SHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        width = page.viewport_size["width"] if page.viewport_size else 0
        path = SHOTS / f"{name}-{'phone' if width <= 480 else 'desktop'}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def both_sizes(page_as, shoot):
    """Open ``path`` as ``username`` at 1366 px and 360 px, screenshot both, and return the two pages."""

    def visit(username: str, path: str, name: str):
        pages = []
        for phone in (False, True):
            page = page_as(username, phone=phone)
            page.goto(path)
            shoot(page, name)
            pages.append(page)
        return pages

    return visit
