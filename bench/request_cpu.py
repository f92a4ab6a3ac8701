"""Bench: the CPU one request of each kind of the load bench's mix costs, in process, Python and PostgreSQL apart,
for one or more checkouts side by side on one database (issues #16/#17: on a 2-core box the p95 is queueing for a
core, so the CPU per request is what the load bench's latency is made of).

    python bench/request_cpu.py [--database-url postgres://postgres@127.0.0.1:5432/fangpin_cpu6] [--scale 1.0]
        [--n 30] [--code /work/main --code .] [--kinds 'api household file,web household file'] [--rounds 1]

1. the database is built once as bench/load.py builds its county (migrate, setup, ``demo_county --scale`` under
   the production settings and the bench's fixed keys) and kept; then bench/load.py's plan is made: the largest
   village's flags, its cadres with a token and a browser session each, open cases at 入户核查;
2. for each ``--code`` checkout in turn (a child process importing that checkout's ``fangpin``, production
   settings, one persistent database connection) every request kind of bench/load_locustfile.py is sent
   ``--n`` times through Django's test ``Client`` (the cadres in turn, as the locust users are; a few warm-up
   requests first, not counted): per request the Python CPU (``time.process_time`` of the process), the SQL
   statements and their time as the client sees it (``CaptureQueriesContext``), and the PostgreSQL backend's
   own CPU (``/proc/<backend pid>/schedstat``, nanoseconds on a core);
   (``--flags-dirty``: the village's household flags marked dirty first, as after a change the background
   refresh has not reached yet — the 逻辑校验 section then runs the rules once per household; without it the
   section mostly reads the flags the plan rebuilt: 30 requests ask 30 different households, each once);
3. prints one line per kind with the figures of each checkout side by side, the mix weighted as the locust
   file weights it, and whether each read's content is the same in every checkout (API bodies; the export's
   worksheet XML; web pages with the CSRF token blanked).
Timing figures belong under ``flock /work/wt/bench.lock`` with ``uptime`` before and after (docs/parts/web.md).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name in the locust file -> (weight there, method, how the path is made)
KINDS = {
    "baseline GET /me": 1,
    "api household search": 4,
    "api household file": 4,
    "api case transition": 2,
    "api list export (search, xlsx)": 1,
    "web household list (search)": 4,
    "web household list (page)": 2,
    "web household list (below line)": 1,
    "web household list (has findings)": 1,
    "web household file": 4,
    "web household file checks (htmx)": 2,
    "api village export (xlsx, not in the mix)": 0,
    "audit event alone (not a request)": 0,  # audit_record of a view, outside a transaction, as a read does
}


def _requests(kind: str, plan: dict, i: int, cases: list) -> tuple[str, str, dict | None]:
    """(method, path, json body) of the i-th request of a kind: the same sequence for every checkout."""
    hh = plan["households"][(i * 7) % len(plan["households"])]
    term = plan["search_terms"][(i * 3) % len(plan["search_terms"])]
    if kind == "baseline GET /me":
        return "GET", "/api/v1/me", None
    if kind == "api household search":
        return "GET", f"/api/v1/households?q={term}&limit=20", None
    if kind == "api household file":
        return "GET", f"/api/v1/households/{hh}", None
    if kind == "api case transition":
        case_id, version = cases.pop()
        from load import VERIFY_STEP_DATA  # bench/load.py: the locust file posts the same step

        return "POST", f"/api/v1/cases/{case_id}/steps/verify", {"version": version, "data": VERIFY_STEP_DATA}
    if kind == "api list export (search, xlsx)":
        return "GET", f"/api/v1/households/export?q={term}", None
    if kind == "api village export (xlsx, not in the mix)":
        return "GET", "/api/v1/households/export", None
    if kind.startswith("audit event"):
        return "AUDIT", "", None
    if kind == "web household list (search)":
        return "GET", f"/households/?q={term}", None
    if kind == "web household list (page)":
        return "GET", f"/households/?page={1 + i % plan.get('pages', 1)}", None
    if kind == "web household list (below line)":
        return "GET", "/households/?below_line=1", None
    if kind == "web household list (has findings)":
        return "GET", "/households/?has_findings=1", None
    if kind == "web household file":
        return "GET", f"/households/{hh}/", None
    if kind == "web household file checks (htmx)":
        return "GET", f"/households/{hh}/findings/", None
    raise KeyError(kind)


def _content_digest(kind: str, response, dump: str = "", i: int = 0) -> str:
    """What must not change between checkouts: the body, less what differs per request by design."""
    import io
    import zipfile

    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "export" in kind and body[:2] == b"PK":  # a workbook (else: a 202 export job or a refusal, as it is)
        with zipfile.ZipFile(io.BytesIO(body)) as z:  # the cells, not the zip's timestamps
            body = b"".join(z.read(n) for n in sorted(z.namelist()) if n.startswith("xl/"))
    elif kind.startswith("web"):
        body = re.sub(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', rb"\1", body)
        body = re.sub(rb'<p class="recent">.*?</p>', b"", body)  # the session's own history of views
    if dump and i >= 0:
        Path(dump).mkdir(parents=True, exist_ok=True)
        (Path(dump) / f"{kind.replace(' ', '_').replace('/', '')}-{i}").write_bytes(body)
    return hashlib.sha256(body).hexdigest()[:16]


def _schedstat_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def child(a: argparse.Namespace) -> None:
    """One checkout: every kind measured, a JSON line on stdout."""
    sys.path.insert(0, str(a.code))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fangpin.accounts.models import User
    from fangpin.audit.record import audit_record

    cadre = User.objects.get(username="load_cadre")
    plan = json.loads(Path(a.plan).read_text(encoding="utf-8"))
    if a.flags_dirty:  # every household of the plan changed since its flags: the rules' own path (a miss)
        from django.db.models import F

        from fangpin.registry.models import HouseholdFlags

        HouseholdFlags.objects.filter(household_id__in=plan["households"]).update(
            dirty=True, gen=F("gen") + 1
        )
    connection.settings_dict["CONN_MAX_AGE"] = None  # one backend for the whole run: its CPU is readable
    cases = [tuple(c) for c in plan["cases"][a.case_slice[0] : a.case_slice[1]]]
    kinds = [k for k in KINDS if not a.kinds or k in a.kinds.split(";")]
    users = list(zip(plan["tokens"], plan["sessions"], strict=True))
    clients = []
    for token, session in users:  # the API with the token alone, the pages with the session (as locust does)
        c = Client(HTTP_HOST="127.0.0.1")
        c.cookies[settings.SESSION_COOKIE_NAME] = session
        clients.append((c, Client(HTTP_HOST="127.0.0.1"), token))
    out = {}
    for kind in kinds:
        api = kind.startswith(("api", "baseline"))
        py = sql_ms = pg_ns = 0.0
        queries = 0
        digests = []
        warm = (
            0 if kind == "api case transition" else len(clients)
        )  # every cadre once: per-user caches filled
        prof = cProfile.Profile(time.process_time) if a.profile else None  # CPU, not wall
        n = len(cases) if kind == "api case transition" else a.n
        for i in range(-warm, n):
            method, path, body = _requests(kind, plan, max(i, 0) + (a.round * a.n), cases)
            web, api_client, token = clients[(i + warm) % len(clients)]
            c = api_client if api else web
            extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if api else {}
            connection.ensure_connection()
            pid = connection.connection.info.backend_pid
            with CaptureQueriesContext(connection) as q:
                pg0, t0 = _schedstat_ns(pid), time.process_time()
                if prof and i >= 0:
                    prof.enable()
                if kind.startswith("audit event"):
                    audit_record(
                        actor=cadre, event_type="registry.household_view", household_id=1, data={"i": i}
                    )
                    r = type("R", (), {"status_code": 200})
                elif method == "GET":
                    r = c.get(path, **extra)
                else:
                    r = c.post(path, data=json.dumps(body), content_type="application/json", **extra)
                digest = (
                    _content_digest(kind, r, a.dump, i) if method == "GET" and hasattr(r, "content") else ""
                )
                if prof and i >= 0:
                    prof.disable()
                t1, pg1 = time.process_time(), _schedstat_ns(pid)
            assert connection.connection.info.backend_pid == pid, "the backend changed during a request"
            assert r.status_code in (200, 202), (kind, path, r.status_code, r.content[:300])
            if i < 0:
                continue
            py += (t1 - t0) * 1000
            pg_ns += pg1 - pg0
            queries += len(q.captured_queries)
            sql_ms += sum(float(x["time"]) for x in q.captured_queries) * 1000
            digests.append(digest)
            if a.sql and i == 0:
                print(f"==== SQL of {kind}: {path}", file=sys.stderr)
                for x in q.captured_queries:
                    print(f"{float(x['time']) * 1000:6.1f} {x['sql'][:400]}", file=sys.stderr)
        if prof:
            print(f"==== {kind}", file=sys.stderr)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(40)
            pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(70)
        out[kind] = {
            "py_ms": py / n,
            "queries": queries / n,
            "sql_ms": sql_ms / n,
            "pg_ms": pg_ns / n / 1e6,
            "digest": hashlib.sha256("".join(digests).encode()).hexdigest()[:12],
        }
    print("RESULT" + json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/fangpin_cpu6")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--n", type=int, default=30, help="requests of each kind per checkout")
    ap.add_argument("--code", type=Path, action="append", help="checkouts to measure (default: this one)")
    ap.add_argument("--kinds", default="", help="semicolon-separated kinds (default: all)")
    ap.add_argument("--rounds", type=int, default=1, help="measure the checkouts in turn this many times")
    ap.add_argument("--profile", default="", action="store_true", help="cProfile (CPU) each kind")
    ap.add_argument("--dump", default="", help="write each checkout's bodies under DIR/<n>/ (to diff them)")
    ap.add_argument(
        "--sql", action="store_true", help="print the SQL of each kind's first request (with --profile)"
    )
    ap.add_argument(
        "--flags-dirty",
        action="store_true",
        help="mark the village's household flags dirty before each checkout (no background refresh runs):"
        " the 逻辑校验 section's miss path, the rules run once per household and cache",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--plan", default="", help=argparse.SUPPRESS)
    ap.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--case-slice", type=int, nargs=2, default=[0, 0], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.code = a.code[0]
        child(a)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    import load

    codes = [c.resolve() for c in (a.code or [ROOT])]
    if len(set(codes)) < len(codes):
        sys.exit("each --code once")
    var = Path(tempfile.mkdtemp(prefix="fangpin-cpu-"))
    env = load._env(a.database_url, var)  # one secret key for the plan's sessions and every child
    load._ensure_database(a.database_url, rebuild=False)
    load._manage(env, "migrate", "-v0")
    load._manage(env, "params_defaults")
    have = load._manage(
        env, "shell", "-c", "from fangpin.registry.models import Person;print(Person.objects.count())"
    )
    if int(have.strip().splitlines()[-1]) == 0:
        print(f"building the county (demo_county --scale {a.scale}); kept for next runs", flush=True)
        load._manage(env, "shell", "-c", load.DEMO_CODE.replace("{scale}", str(a.scale)))
    n_cases = a.n * len(codes) * a.rounds if not a.kinds or "api case transition" in a.kinds.split(";") else 0
    code = (
        load.PLAN_CODE.replace("{max_cases}", str(n_cases)).replace("{users}", "10").replace("{flags}", "1")
    )
    out = load._manage(env, "shell", "-c", code)
    plan = json.loads(next(line for line in out.splitlines() if line.startswith("PLAN"))[4:])
    plan["pages"] = max(1, min(40, len(plan["households"]) // 20))
    plan_file = var / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    slots = len(codes) * a.rounds
    case_n = min(a.n, len(plan["cases"]) // slots)  # each run uses up its cases (a village has so many)
    if n_cases and case_n < 3:
        sys.exit(f"only {len(plan['cases'])} open cases left for {slots} runs: a larger village")
    print(
        f"village {plan['village']}: {len(plan['households'])} households; {a.n} requests per kind and checkout, "
        f"{a.rounds} round(s), {case_n} case transitions each; Python CPU / SQL statements / SQL time at the client / PostgreSQL backend CPU, "
        "per request (ms)",
        flush=True,
    )
    results: dict[Path, list[dict]] = {c: [] for c in codes}
    slot = 0
    for rnd in range(a.rounds):
        for c in codes:
            args = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                "--code",
                str(c),
                "--plan",
                str(plan_file),
            ]
            args += [
                "--n",
                str(a.n),
                "--round",
                str(rnd),
                "--kinds",
                a.kinds,
                *(["--profile"] if a.profile else []),
                *(["--sql"] if a.sql else []),
                *(["--flags-dirty"] if a.flags_dirty else []),
            ]
            args += ["--dump", f"{a.dump}/{slot}" if a.dump else ""]
            args += ["--case-slice", str(slot * case_n), str((slot + 1) * case_n)]
            slot += 1
            # each run its own files folder: the embedded file cache (cached findings, throttle counters)
            # starts empty for every checkout, not filled by the one measured before it
            own = {**env, "PYTHONPATH": str(c), "FANGPIN_VAR": str(var / f"run{slot}")}
            r = subprocess.run(args, env=own, cwd=c, capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"{c} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
            if a.profile or a.sql:
                Path(var / f"profile-{slot}.txt").write_text(r.stderr)
                print(f"profile of {c}: {var}/profile-{slot}.txt")
            results[c].append(
                json.loads(next(x for x in r.stdout.splitlines() if x.startswith("RESULT"))[6:])
            )

    def avg(c: Path, kind: str, key: str) -> float:
        rs = [r[kind][key] for r in results[c]]
        return sum(rs) / len(rs)

    kinds = list(results[codes[0]][0])
    head = f"{'request kind':36}" + "".join(f" | {str(c)[-22:]:>28}" for c in codes)
    print(head + " | content\n" + f"{'':36}" + " | py ms  stmts  sql ms  pg ms" * len(codes))
    totals = {c: [0.0, 0.0] for c in codes}
    weight = sum(KINDS[k] for k in kinds)
    for kind in kinds:
        line = f"{kind[:36]:36}"
        for c in codes:
            py, pg = avg(c, kind, "py_ms"), avg(c, kind, "pg_ms")
            line += f" | {py:5.1f} {avg(c, kind, 'queries'):6.1f} {avg(c, kind, 'sql_ms'):7.1f} {pg:6.1f}"
            totals[c][0] += py * KINDS[kind] / weight
            totals[c][1] += pg * KINDS[kind] / weight
        # the same requests in each round (a round's households differ from the next one's)
        same = all(len({results[c][rnd][kind]["digest"] for c in codes}) == 1 for rnd in range(a.rounds))
        line += " | " + ("-" if kind == "api case transition" else "same" if same else "DIFFERENT")
        print(line)
    print(
        f"{'mix as the locust file weights it':36}"
        + "".join(f" | py {t[0]:5.1f}  pg {t[1]:5.1f}  sum {sum(t):5.1f}" for t in totals.values())
    )


if __name__ == "__main__":
    main()
