"""Locust users for bench/load.py (run by it in a separate process; not a test).

Each user is a village cadre of the county's largest village, with a bearer token (the API the phone client
uses) and a browser session of its own (the pages county staff use). Weights: search and household file
are the daily reads, a case transition is the write, the export of a searched list (导出筛选结果) the heavy read (the whole village: ``export_village``, only by name), GET /me is
the floor (authentication + one row) the others are compared with. ``FANGPIN_LOAD_ONLY`` (comma-separated
task names) runs a subset.

``FANGPIN_LOAD_CLIENT`` picks the HTTP client of the load generator: ``fast`` (default: locust's
FastHttpUser, geventhttpclient, several times less CPU per request than python-requests; on a 2-core box
the generator's CPU is taken from the server under test) or ``requests`` (HttpUser, the client of the runs
before session 6). Every request carries its own headers (the bearer token for the API, the session cookie
for the pages), the same with both clients; every body is read whole and timed (no ``stream``)."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from load import VERIFY_STEP_DATA  # bench/load.py (locust puts this file's folder on the path)
from locust import HttpUser, between, events
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(Path(os.environ["FANGPIN_LOAD_PLAN"]).read_text(encoding="utf-8"))
CASES = list(PLAN["cases"])  # open identification cases at 入户核查, one transition each
random.shuffle(CASES)
SESSIONS = list(
    zip(PLAN["sessions"], PLAN.get("tokens") or [PLAN["token"]] * len(PLAN["sessions"]), strict=True)
)


def me(u: Cadre) -> None:
    u.client.get("/api/v1/me", headers=u.api, name="baseline GET /me")


def search(u: Cadre) -> None:
    u.client.get(
        "/api/v1/households",
        params={"q": random.choice(u.terms), "limit": 20},
        headers=u.api,
        name="api household search",
    )


def household_file(u: Cadre) -> None:
    u.client.get(
        f"/api/v1/households/{random.choice(u.households)}", headers=u.api, name="api household file"
    )


def case_transition(u: Cadre) -> None:
    if not CASES:
        return
    case_id, version = CASES.pop()
    u.client.post(
        f"/api/v1/cases/{case_id}/steps/verify",
        json={"version": version, "data": VERIFY_STEP_DATA},
        headers=u.api,
        name="api case transition",
    )


def export(u: Cadre) -> None:
    """What 导出筛选结果 does: the households of a search (a surname's two characters), as the national xlsx."""
    with u.client.get(
        "/api/v1/households/export",
        params={"q": random.choice(u.terms)},
        headers=u.api,
        name="api list export (search, xlsx)",
        catch_response=True,
    ) as r:
        if r.status_code != 200:
            r.failure(f"HTTP {r.status_code}")


def export_village(u: Cadre) -> None:
    """The whole village (7,626 households, ~19,000 persons at a million): above ``registry.export.job_rows``
    it is an export job of the 下载中心. Three lines: the request the user waits for (202 + the job), the
    time until the file is ready (polled every 2 s, as the web page does; reported as its own line,
    measured from the request), and the download of the finished file."""
    import time

    t0 = time.perf_counter()
    with u.client.get("/api/v1/households/export", headers=u.api, name="api village export: request (202 job)",
                      catch_response=True) as r:  # fmt: skip
        if r.status_code == 200:  # below the threshold: the workbook itself
            r.success()
            return
        if r.status_code != 202:
            r.failure(f"HTTP {r.status_code}")
            return
        job = r.json()
    while not job.get("ready"):
        if job.get("status") in ("failed", "purged") or time.perf_counter() - t0 > 300:
            _fire(u, "api village export: until file ready", t0, error=f"job {job.get('status')}")
            return
        time.sleep(2.0)
        with u.client.get(f"/api/v1/exports/{job['id']}", headers=u.api, name="api village export: poll",
                          catch_response=True) as p:  # fmt: skip
            if p.status_code != 200:
                p.failure(f"HTTP {p.status_code}")
                return
            job = p.json()
    _fire(u, "api village export: until file ready", t0)
    with u.client.get(job["download_url"], headers=u.api, name="api village export: download",
                      catch_response=True) as d:  # fmt: skip
        if d.status_code != 200:
            d.failure(f"HTTP {d.status_code}")


def _fire(u: Cadre, name: str, t0: float, error: str | None = None) -> None:
    """A timed span that is not one request (locust's own statistics, its own line in the table)."""
    import time

    u.environment.events.request.fire(
        request_type="JOB", name=name, response_time=(time.perf_counter() - t0) * 1000, response_length=0,
        exception=RuntimeError(error) if error else None, context={},
    )  # fmt: skip


def _page(u: Cadre, url: str, name: str, **params) -> None:
    with u.client.get(url, params=params, headers=u.web, name=name, catch_response=True) as r:
        if r.status_code == 200 and "登录" in r.text[:2000] and 'name="password"' in r.text:
            r.failure("redirected to the login page")


def web_search(u: Cadre) -> None:
    _page(u, "/households/", "web household list (search)", q=random.choice(u.terms))


def web_list(u: Cadre) -> None:
    _page(u, "/households/", "web household list (page)", page=random.randint(1, 40))


def web_below(u: Cadre) -> None:
    _page(u, "/households/", "web household list (below line)", below_line="1")


def web_findings(u: Cadre) -> None:
    _page(u, "/households/", "web household list (has findings)", has_findings="1")


def web_file(u: Cadre) -> None:
    _page(u, f"/households/{random.choice(u.households)}/", "web household file")


def web_file_checks(u: Cadre) -> None:
    _page(u, f"/households/{random.choice(u.households)}/findings/", "web household file checks (htmx)")


WEIGHTS = {
    me: 1,
    search: 4,
    household_file: 4,
    case_transition: 2,
    export: 1,
    web_search: 4,
    web_list: 2,
    web_below: 1,
    web_findings: 1,
    web_file: 4,
    web_file_checks: 2,
}
EXTRA = {export_village: 1}  # run only when named in FANGPIN_LOAD_ONLY
ONLY = {n for n in os.environ.get("FANGPIN_LOAD_ONLY", "").split(",") if n}


# FANGPIN_LOAD_TRACE: a tab-separated file of every request (seconds since the test started, name, ms),
# so bench/load.py can say when the slowest requests happened (a burst at the start, a stall in the middle, or spread).
_TRACE_PATH = os.environ.get("FANGPIN_LOAD_TRACE")
_TRACE = open(_TRACE_PATH, "w", encoding="utf-8") if _TRACE_PATH else None  # noqa: SIM115 (closed on quitting)
_T0: list[float] = []


@events.test_start.add_listener
def _trace_start(**_kw) -> None:
    import time

    _T0.append(time.monotonic())


@events.reset_stats.add_listener
def _trace_reset(**_kw) -> None:  # --reset-stats: the trace marks where the measured period begins
    if _TRACE is not None:
        import time

        _TRACE.write(f"{time.monotonic() - _T0[0]:.3f}\tRESET\t0\n")


@events.request.add_listener
def _trace_request(name: str, response_time: float, **_kw) -> None:
    if _TRACE is not None and _T0:
        import time

        _TRACE.write(f"{time.monotonic() - _T0[0]:.3f}\t{name}\t{response_time:.1f}\n")


@events.quitting.add_listener
def _trace_close(**_kw) -> None:
    if _TRACE is not None:
        _TRACE.close()


_THINK = [float(x) for x in os.environ.get("FANGPIN_LOAD_THINK", "1-3").split("-", 1)]


_CLIENT = os.environ.get("FANGPIN_LOAD_CLIENT", "fast")
if _CLIENT not in ("fast", "requests"):
    raise SystemExit(f"FANGPIN_LOAD_CLIENT={_CLIENT!r}: fast or requests")


class Cadre(FastHttpUser if _CLIENT == "fast" else HttpUser):
    wait_time = between(_THINK[0], _THINK[-1])  # bench/load.py --think
    tasks = {
        fn: w for fn, w in {**WEIGHTS, **EXTRA}.items() if (fn.__name__ in ONLY if ONLY else fn in WEIGHTS)
    }

    def on_start(self) -> None:
        # one cadre per locust user: its own session and API token (bench/load.py makes them)
        key, token = SESSIONS.pop() if SESSIONS else (PLAN["sessions"][0], PLAN["token"])
        self.api = {"Authorization": f"Bearer {token}"}
        # the session cookie is Secure (production settings): sent by hand over loopback http
        self.web = {"Cookie": f"{PLAN['session_cookie']}={key}"}
        self.households = PLAN["households"]
        self.terms = PLAN["search_terms"]
