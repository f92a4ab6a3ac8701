"""Bench: the application under load — gunicorn on PostgreSQL, a county of N persons, 50 concurrent users.

    ./run bench load [--persons 1000000] [--users 50] [--seconds 60] [--workers 4] [--threads 4] [--reuse] [--think 1-3] [--client fast|requests]
        [--redis redis://127.0.0.1:6379/2]

1. a PostgreSQL database ``fangpin_load`` (``--database-url`` to choose another) is built once — migrate,
   setup, ``demo_county --scale`` sized to N persons (above 100k: the real county at scale 1, then copied
   N/10,752 − 1 times in SQL by ``bench/county_clone.py``) — and kept for the next run (``--reuse`` skips the
   check that it has N persons; ``--rebuild`` drops it first);
2. the household list's flags of the largest village are rebuilt (what the nightly job leaves; ``--no-flags``
   for a checkout without them); a village cadre of that village gets an API token, one browser session per
   user and a pool of open identification cases at 入户核查 (``--cases``) so every "case transition" is a
   real step;
3. gunicorn with the production configuration (``fangpin.settings.gunicorn``: ``--workers`` gthread workers of
   ``--threads`` threads, ``--threads 1`` for sync workers; production settings, loopback only) serves it; its cache (the search
   throttle's counters, cached findings) is the embedded file cache, or Redis with ``--redis URL``;
4. locust (headless, separate process; each user waits ``--think`` seconds between requests) runs
   ``bench/load_locustfile.py``: the users arrive ``--spawn-rate`` a second (default 5: fifty staff do not
   press a key in the same 100 ms; ``--spawn-rate 50`` is the start of the runs before session 8, whose first
   burst of 50 simultaneous requests was the ~1 s p99 of every route), the statistics are reset once all are
   there, and ``--seconds`` are measured from then on. The API's
   household search, household file, case transition (a 核查 step with a reasoned category) and the export of a searched list (the whole village with `--only export_village`), the browser's household list
   (search, a page, below the line, has findings), household file and its 逻辑校验 section, and GET /me as
   the floor; the whole village's export is a 下载中心 job (a Huey consumer runs beside gunicorn,
   ``--huey-workers``): its request, the time until the file is ready and the download are three lines (``--only`` for a subset); ``--code DIR`` serves another checkout (a before/after pair on one
   database);
5. prints requests/s, p50/p95/p99 and errors per request type beside the floor, and the p95 target (300 ms);
   when the slowest 1 % of the requests ended (5 s bins) and which routes they were (the locust file's trace);
   then where the two cores went during the run: CPU seconds of gunicorn (the master and its workers),
   the Huey consumer, PostgreSQL (every ``postgres`` process), the load generator (locust, ``--client``) and
   everything else on the machine, per request and as a share of the cores (read from /proc).
Traffic goes to 127.0.0.1 only. Figures from this 2-core box: docs/parts/web.md (Performance).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import math
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERSONS_PER_SCALE = 10_752  # 龙安区 at --scale 1.0: current members (docs/parts/demo.md)
TARGET_P95_MS = 300
# The 核查 step every "case transition" posts (bench/load_locustfile.py, and bench/request_cpu.py in process):
# the category stated with a reason, accepted whether or not the household's income is under the line
# (without it a household above the line is refused: income_not_eligible, a 400 counted as an error)
VERIFY_STEP_DATA = {
    "findings": "压测：入户核实",
    "risk_types": ["因病"],
    "category": "突发严重困难户",
    "override_reason": "压测：入户核实，家庭成员突发重病，医疗支出骤增",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(db_url: str, var: Path, redis_url: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "FANGPIN_REDIS_URL"}}
    if redis_url:  # the shared cache (search throttle, findings) and the task queue on Redis, not files
        env["FANGPIN_REDIS_URL"] = redis_url
    env.update(
        DATABASE_URL=db_url,
        FANGPIN_VAR=str(var),
        DJANGO_SETTINGS_MODULE="fangpin.settings.prod",
        FANGPIN_SECRET_KEY=secrets.token_urlsafe(40),
        # encryption at rest (core.crypto): fixed bench keys, so a kept bench database stays readable
        FANGPIN_DATA_KEYS="k1:" + hashlib.sha256(b"fangpin-load-bench-data").hexdigest()[:32],
        FANGPIN_INDEX_KEY=hashlib.sha256(b"fangpin-load-bench-index").hexdigest(),
        FANGPIN_ALLOWED_HOSTS="127.0.0.1,localhost",
        FANGPIN_LOAD_BENCH="1",
        FANGPIN_SSL_REDIRECT="0",  # plain http on loopback (the cookie is sent by the locust users)
    )
    return env


CODE = ROOT  # the checkout that is served and managed (``--code``)


def _manage(env: dict, *args: str) -> str:
    r = subprocess.run(
        [sys.executable, str(CODE / "manage.py"), *args], env=env, capture_output=True, text=True, cwd=CODE
    )
    if r.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r.stdout


def _ensure_database(url: str, *, rebuild: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
        if rebuild:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not c.execute("select 1 from pg_database where datname=%s", [name]).fetchone():
            c.execute(f"CREATE DATABASE {name}")


# demo_county under the production settings (the server's keys): its demo accounts are allowed for the
# generation only (production refuses them at login; the bench users are made by PLAN_CODE)
DEMO_CODE = """
from django.conf import settings
from django.core.management import call_command
settings.FANGPIN_DEMO_USERS_ALLOWED = True
call_command("demo_county", "--scale", "{scale}")
"""


PLAN_CODE = r"""
import json, datetime as dt
from django.db.models import Count
from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.api.tokens import token_issue
from fangpin.monitoring.models import Case, Lead, LeadStatus
from fangpin.monitoring.services.identification import case_open
from fangpin.monitoring.services.leads import lead_submit
from fangpin.registry.models import Household, Person
today = dt.date.today()
village = (Household.objects.values("village_id").annotate(n=Count("id")).order_by("-n").first())["village_id"]
flags_s = None
if {flags}:
    # what the nightly job (registry.tasks.household_flags_nightly) leaves for today, for the area the
    # bench users see (the whole county's rebuild is timed on its own: fangpin flags_rebuild)
    import time
    from fangpin.accounts.actors import system_actor
    from fangpin.registry.flags import household_flags_rebuild
    t = time.monotonic()
    household_flags_rebuild(actor=system_actor("load_bench"), on=today, region_code=village)
    flags_s = round(time.monotonic() - t, 1)
cadre, _ = User.objects.get_or_create(username="load_cadre", defaults={"role": Role.VILLAGE_CADRE, "region_id": village})
hh_ids = list(Household.objects.filter(village_id=village).values_list("id", flat=True))
try:  # open the cases on households under the line first (others are refused at 核查: income_not_eligible)
    from fangpin.registry.models import HouseholdFlags
    below = set(HouseholdFlags.objects.filter(household_id__in=hh_ids, below_line=True).values_list("household_id", flat=True))
    hh_ids.sort(key=lambda i: i not in below)
except ImportError:
    pass
open_cases = list(Case.objects.filter(village_id=village, status="open", current_step="verify").values_list("id", "version"))
for hid in hh_ids:
    if len(open_cases) >= {max_cases}:
        break
    hh = Household.objects.get(pk=hid)
    if Lead.objects.filter(household=hh, status__in=[LeadStatus.OPEN, LeadStatus.IN_CASE]).exists():
        continue
    lead = lead_submit(actor=cadre, household=hh, channel="cadre_visit", risk_types=[], note="压测", on=today)
    if lead.status == LeadStatus.OPEN:
        c = case_open(actor=cadre, lead=lead, on=today)
        open_cases.append((c.id, c.version))
# each locust user is its own village cadre (a village has several 村两委 members): its own token and browser
# session, so the per-user search throttle and look-up budget count each person, as in production
staff = [cadre] + [User.objects.get_or_create(username=f"load_cadre_{i}", defaults={"role": Role.VILLAGE_CADRE, "region_id": village})[0] for i in range(1, {users})]
tokens = [token_issue(actor=u, user=u, name="load bench", days=1, on=today)[1] for u in staff]
surnames = sorted({n[:1] for n in Person.objects.filter(household__village_id=village).values_list("name", flat=True)[:2000]})
terms = [n[:2] for n in Person.objects.filter(household__village_id=village).values_list("name", flat=True)[:200]]
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
store = import_module(settings.SESSION_ENGINE).SessionStore
sessions = []
for u in staff:  # one browser session per locust user (the session row is written on every request)
    s = store()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(u.pk), settings.AUTHENTICATION_BACKENDS[-1]
    s[HASH_SESSION_KEY] = u.get_session_auth_hash()
    s.create()
    sessions.append(s.session_key)
print("PLAN" + json.dumps({"token": tokens[0], "tokens": tokens, "sessions": sessions, "session_cookie": settings.SESSION_COOKIE_NAME, "households": hh_ids, "cases": open_cases, "search_terms": terms or surnames,
                           "village": village, "flags_rebuild_s": flags_s, "persons": Person.objects.filter(is_member=True).count()}, ensure_ascii=False))
"""


def _cpu_snapshot(server_pid: int, consumer_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the bench's processes, by group, and of the whole machine (/proc; Linux).
    gunicorn = the master and every worker (descendants of ``server_pid``), huey = the consumer and its
    threads, postgres = every process named ``postgres`` (the server's backends of every client, so a busy
    neighbour's queries count here too: "everything else" is the machine minus the groups). Each counts the
    children it reaped, so a process that ended during the run is not lost."""
    tick = os.sysconf("SC_CLK_TCK")
    procs: dict[int, tuple[int, str, float]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        f = raw[raw.rindex(")") + 2 :].split()
        # ppid, comm, and utime+stime+cutime+cstime: a process's own CPU and that of its children it has
        # reaped (PostgreSQL backends that ended during the run — a connection is renewed after
        # CONN_MAX_AGE — count in the postmaster's; a worker that was replaced, in gunicorn's master's)
        procs[int(d.name)] = (int(f[1]), comm, sum(int(x) for x in f[11:15]) / tick)

    def tree(root: int) -> set[int]:
        out, todo = set(), [root]
        while todo:
            p = todo.pop()
            out.add(p)
            todo += [c for c, (pp, _, _) in procs.items() if pp == p and c not in out]
        return out

    groups = {"gunicorn": tree(server_pid)}
    if consumer_pid:
        groups["huey"] = tree(consumer_pid)
    groups["postgres"] = {p for p, (_, comm, _) in procs.items() if comm == "postgres"}
    out = {k: sum(procs[p][2] for p in ps if p in procs) for k, ps in groups.items()}
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = [int(x) for x in fields[:8]]
    out["machine"] = (sum(busy) - busy[3] - busy[4]) / tick  # everything but idle and iowait
    return out


def _warm(port: int, plan: dict, workers: int) -> None:
    """Before locust: a few requests of each kind on every worker (templates compiled, URL resolvers and
    caches filled), so the first seconds of the run do not measure the workers' start."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    hid = plan["households"][0]
    urls = [
        ("/api/v1/me", True),
        (f"/api/v1/households/{hid}", True),
        ("/api/v1/households?limit=20", True),
        ("/households/", False),
        (f"/households/{hid}/", False),
    ]

    def get(item: tuple[str, bool]) -> None:
        path, api = item
        headers = (
            {"Authorization": f"Bearer {plan['token']}"}
            if api
            else {"Cookie": f"{plan['session_cookie']}={plan['sessions'][-1]}"}
        )
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        with contextlib.suppress(OSError):
            urllib.request.urlopen(req, timeout=120).read()

    t = time.monotonic()
    with ThreadPoolExecutor(workers) as ex:
        list(ex.map(get, urls * workers * 2))
    print(f"workers warmed in {time.monotonic() - t:.0f} s")


def _print_slowest(trace_file: Path, share: float = 0.01, bin_s: int = 5) -> int:
    """When the slowest ``share`` of the measured requests happened (seconds into the run, ``bin_s`` bins) and
    which routes they were: a burst at the start, a stall in the middle and a tail spread over the run read
    differently (the locust file's trace, FANGPIN_LOAD_TRACE). Returns the number of requests of the whole
    run, the users' arrival included (the CPU figures cover the whole run)."""
    if not trace_file.exists():
        return 0
    rows = [line.split("\t") for line in trace_file.read_text(encoding="utf-8").splitlines() if line]
    start = max((float(t) for t, n, _ in rows if n == "RESET"), default=0.0)
    reqs = [(float(t), n, float(ms)) for t, n, ms in rows if n != "RESET" and float(t) >= start]
    if not reqs:
        return 0
    cut = sorted(ms for _, _, ms in reqs)[int(len(reqs) * (1 - share))]
    slow = [(t, n) for t, n, ms in reqs if ms >= cut]
    bins: dict[int, int] = {}
    for t, _ in slow:
        bins[int(t // bin_s)] = bins.get(int(t // bin_s), 0) + 1
    when = ", ".join(f"{b * bin_s}-{(b + 1) * bin_s} s: {c}" for b, c in sorted(bins.items()))
    names: dict[str, int] = {}
    for _, n in slow:
        names[n] = names.get(n, 0) + 1
    which = ", ".join(f"{n} {c}" for n, c in sorted(names.items(), key=lambda x: -x[1]))
    print(
        f"\nthe slowest {share:.0%} of {len(reqs):,} requests (>= {cut:.0f} ms), by when they ended: {when}"
    )
    print(f"  by route: {which}")
    return sum(1 for _, n, _ in rows if n != "RESET")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60, help="the measured period, after all users arrived")
    ap.add_argument(
        "--spawn-rate",
        type=float,
        default=5.0,
        help="users arriving a second (default 5); statistics are reset once all have arrived",
    )
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per worker: gunicorn's gthread workers as in production (fangpin.settings.gunicorn); "
        "1 = sync workers",
    )
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/fangpin_load")
    ap.add_argument("--reuse", action="store_true", help="use the database as it is")
    ap.add_argument("--rebuild", action="store_true", help="drop and build the county again")
    ap.add_argument("--no-flags", action="store_true", help="skip the nightly flags rebuild before the run")
    ap.add_argument("--cases", type=int, default=1000, help="open cases prepared for transitions")
    ap.add_argument(
        "--code", type=Path, default=ROOT, help="serve another checkout (e.g. main, for a before/after pair)"
    )
    ap.add_argument(
        "--no-consumer",
        action="store_true",
        help="serve without the Huey consumer (the background jobs: the flags refresh after writes, the "
        "下载中心's export jobs; the lists then recompute dirty flags on the request)",
    )
    ap.add_argument(
        "--huey-workers", type=int, default=1, help="Huey consumer threads (export jobs of the 下载中心)"
    )
    ap.add_argument(
        "--client",
        choices=("fast", "requests"),
        default="fast",
        help="the load generator's HTTP client: locust's FastHttpUser (default; far less CPU per request, "
        "which on this 2-core box is CPU taken from the server) or HttpUser (python-requests, the runs "
        "before session 6)",
    )
    ap.add_argument("--only", default="", help="comma-separated request names to run (default: all)")
    ap.add_argument(
        "--redis",
        default="",
        help="FANGPIN_REDIS_URL for the server (e.g. redis://127.0.0.1:6379/2): the cache on Redis instead of "
        "the embedded file cache (two file writes per search for the throttle's counters)",
    )
    ap.add_argument(
        "--think",
        default="1-3",
        help="seconds a user waits between two requests, MIN-MAX (default 1-3: fifty staff clicking through "
        "their work faster than people do; 0-0.2 makes every user a closed loop that shows the saturation "
        "throughput instead)",
    )
    a = ap.parse_args()
    global CODE
    CODE = a.code.resolve()

    var = Path(tempfile.mkdtemp(prefix="fangpin-load-"))
    env = _env(a.database_url, var, a.redis)
    _ensure_database(a.database_url, rebuild=a.rebuild)
    t0 = time.monotonic()
    _manage(env, "migrate", "-v0")
    # the static assets as `fangpin serve` collects them (the production settings serve them with WhiteNoise)
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "params_defaults")  # parameters added since the database was built (installed where missing)
    have = _manage(
        env, "shell", "-c", "from fangpin.registry.models import Person;print(Person.objects.count())"
    )
    have_n = int(have.strip().splitlines()[-1])
    if not a.reuse and have_n < a.persons * 0.9:
        if have_n:
            sys.exit(f"{a.database_url} holds {have_n} persons, not ~{a.persons}: use --rebuild or --reuse")
        # demo_county writes ~200 persons/s here: above 100k persons, the real county (scale 1) is generated
        # and copied in SQL (bench/county_clone.py: new households, 户编号 and valid unique ID numbers)
        copies = 0 if a.persons <= 100_000 else max(0, round(a.persons / PERSONS_PER_SCALE) - 1)
        scale = a.persons / PERSONS_PER_SCALE / (copies + 1)
        print(
            f"building a county of ~{a.persons:,} persons (demo_county --scale {scale:.2f}, then {copies} "
            "copies); kept for next runs"
        )
        _manage(env, "shell", "-c", DEMO_CODE.replace("{scale}", f"{scale:.3f}"))
        if copies:  # with the server's settings and keys: the copies' ID numbers are encrypted at rest
            r = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "county_clone.py"),
                    "--copies",
                    str(copies),
                    "--database-url",
                    a.database_url,
                ],
                env=env,
                cwd=CODE,
                check=False,
            )
            if r.returncode:
                sys.exit("bench/county_clone.py failed")
    print(f"database ready in {time.monotonic() - t0:.0f} s")
    code = PLAN_CODE.replace("{max_cases}", str(a.cases)).replace("{users}", str(a.users + 5))
    code = code.replace("{flags}", "0" if a.no_flags else "1")
    out = _manage(env, "shell", "-c", code)
    plan = json.loads(next(line for line in out.splitlines() if line.startswith("PLAN"))[4:])
    plan_file = var / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    if plan.get("flags_rebuild_s") is not None:
        print(
            f"household flags of the village rebuilt in {plan['flags_rebuild_s']} s (the nightly job's work)"
        )
    print(
        f"county: {plan['persons']:,} current members; cadre's village {plan['village']}: "
        f"{len(plan['households'])} households, {len(plan['cases'])} open cases for transitions"
    )

    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            # the production configuration (fangpin serve), with the bench's workers and threads
            *(
                ["-c", "python:fangpin.settings.gunicorn"]
                if (CODE / "fangpin/settings/gunicorn.py").exists()
                else []
            ),
            "fangpin.wsgi",
            "-w",
            str(a.workers),
            *(["--threads", str(a.threads)] if a.threads > 1 else ["--worker-class", "sync"]),
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=CODE,
    )
    # the background jobs as deployed (``./run`` starts the consumer beside the server: the flags refresh after
    # writes, the 下载中心's export jobs), with the server's settings; no periodic jobs
    consumer = None
    if not a.no_consumer:
        consumer = subprocess.Popen(
            [
                sys.executable,
                str(CODE / "manage.py"),
                "run_huey",
                "--workers",
                str(a.huey_workers),
                "--no-periodic",
                "--quiet",
            ],
            env=env,
            cwd=CODE,
        )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        _warm(port, plan, a.workers)
        prefix = var / "locust"
        trace_file = var / "trace.tsv"
        cpu_before = _cpu_snapshot(server.pid, consumer.pid if consumer else None)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t_run = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "bench" / "load_locustfile.py"),
                "--headless",
                "-u",
                str(a.users),
                "-r",
                str(a.spawn_rate),
                "-t",
                f"{a.seconds + math.ceil(a.users / a.spawn_rate)}s",
                "--reset-stats",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
            ],
            env={
                **env,
                "FANGPIN_LOAD_PLAN": str(plan_file),
                "FANGPIN_LOAD_ONLY": a.only,
                "FANGPIN_LOAD_THINK": a.think,
                "FANGPIN_LOAD_CLIENT": a.client,
                "FANGPIN_LOAD_TRACE": str(trace_file),
            },  # fmt: skip
            check=False,
            timeout=a.seconds + math.ceil(a.users / a.spawn_rate) + 120,
        )
        wall_run = time.monotonic() - t_run
        cpu_after = _cpu_snapshot(server.pid, consumer.pid if consumer else None)
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        if consumer is not None:
            consumer.terminate()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # workers still busy with queued requests
            server.kill()
            server.wait(timeout=30)
        if consumer is not None:
            try:
                consumer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                consumer.kill()
    with open(f"{prefix}_stats.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    print(
        f"\n{a.users} users (arriving {a.spawn_rate:g}/s, then {a.seconds} s measured; think {a.think} s between "
        f"requests), gunicorn {a.workers} workers{f' × {a.threads} threads' if a.threads > 1 else ''}, "
        f"PostgreSQL, cache {'Redis' if a.redis else 'files'}, "
        f"{'no Huey consumer' if a.no_consumer else 'Huey consumer'}, "
        f"{plan['persons']:,} persons; target p95 < {TARGET_P95_MS} ms, zero errors"
    )
    print(
        f"{'request':34} {'count':>7} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'errors':>7}  p95 target"
    )
    for r in rows:
        if r["Name"] == "Aggregated":
            continue
        p95 = float(r["95%"] or 0)
        ok = "ok" if p95 < TARGET_P95_MS and r["Failure Count"] == "0" else "MISSED"
        if r["Name"].startswith("baseline"):
            ok = "(floor)"
        print(
            f"{r['Name']:34} {r['Request Count']:>7} {float(r['Requests/s']):7.1f} {r['50%']:>6} {r['95%']:>6} "
            f"{r['99%']:>6} {r['Failure Count']:>7}  {ok}"
        )
    traced = _print_slowest(trace_file)
    requests_n = traced or sum(int(r["Request Count"]) for r in rows if r["Name"] == "Aggregated") or 1
    used = {k: cpu_after[k] - cpu_before.get(k, 0.0) for k in cpu_after}
    used["locust"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    machine = used.pop("machine")
    used["other"] = max(0.0, machine - sum(used.values()))
    cores = os.cpu_count() or 1
    print(
        f"\nwhere the {cores} cores went during the run ({wall_run:.0f} s, {requests_n:,} requests; "
        f"load generator: {'FastHttpUser' if a.client == 'fast' else 'HttpUser (requests)'}):"
    )
    print(f"{'process':26} {'CPU s':>8} {'ms/request':>11} {'share of cores':>15}")
    for k, label in (
        ("gunicorn", "gunicorn (web + API)"),
        ("huey", "Huey consumer"),
        ("postgres", "PostgreSQL"),
        ("locust", "locust (load generator)"),
        ("other", "everything else"),
    ):
        if k in used:
            print(
                f"{label:26} {used[k]:8.1f} {1000 * used[k] / requests_n:11.1f} {used[k] / wall_run / cores:14.0%}"
            )
    idle = max(0.0, 1 - sum(used.values()) / wall_run / cores)
    print(f"{'idle':26} {'':8} {'':11} {idle:14.0%}")


if __name__ == "__main__":
    main()
