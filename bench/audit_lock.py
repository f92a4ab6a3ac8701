"""Bench: how long a case step holds the audit chain's lock, and what that costs the audited reads beside it
(PostgreSQL: ``audit.record`` serialises the chain with ``pg_advisory_xact_lock``, held to the end of the
writer's transaction). For one or more checkouts side by side on one database:

    python bench/audit_lock.py --database-url postgres://postgres@127.0.0.1:5432/fangpin_load_x
        [--writers 4] [--readers 4] [--steps 10] [--code /work/main --code .] [--rounds 1]

For each checkout in turn (a child process importing that checkout's ``fangpin``, production settings), in
threads with a connection each: ``--writers`` threads post the load bench's 入户核查 step
(``POST /api/v1/cases/<id>/steps/verify``, bench/load.py's VERIFY_STEP_DATA, through Django's test client
as the village cadre) on open cases, ``--steps`` each; ``--readers`` threads meanwhile write a view's audit
event outside a transaction, one every ``--read-pause`` ms each (as every household-file view, search and
export does); a sampler counts the backends waiting for the advisory lock (``pg_stat_activity``, every 2 ms). Printed per checkout:
the step's wall time, the chain lock's hold time in the step (from the statement that took it to the end
of the commit), the reads' audit append wall time, and the mean number of backends waiting for the lock.
The threads share one interpreter (the GIL), so a writer holding the lock waits for its turn to run, as a
gunicorn worker waits for a core under load. Timing runs under ``flock /work/wt/bench.lock``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def child(a: argparse.Namespace) -> None:
    sys.path.insert(0, str(a.code))
    import django

    django.setup()
    import psycopg
    from django.db import connection, connections
    from django.test import Client

    from fangpin.accounts.models import User
    from fangpin.audit.record import audit_record

    sys.path.insert(0, str(ROOT / "bench"))
    from load import VERIFY_STEP_DATA

    plan = json.loads(Path(a.plan).read_text(encoding="utf-8"))
    cases = [tuple(c) for c in plan["cases"][a.case_slice[0] : a.case_slice[1]]]
    cadre = User.objects.get(username="load_cadre")
    tokens = plan["tokens"]
    lock = threading.Lock()
    steps: list[float] = []
    holds: list[float] = []
    reads: list[float] = []
    errors: list[str] = []
    done = threading.Event()
    start = threading.Barrier(a.writers + a.readers + 1)

    def writer(w: int) -> None:
        held: dict[str, float] = {}

        def wrap(execute, sql, params, many, context):
            r = execute(sql, params, many, context)
            if "pg_advisory_xact_lock" in sql and connection.in_atomic_block:
                held["t"] = time.perf_counter()
                connection.on_commit(lambda: held.__setitem__("end", time.perf_counter()))
            return r

        c = Client(HTTP_HOST="127.0.0.1")
        try:
            start.wait()
            with connection.execute_wrapper(wrap):
                while True:
                    with lock:
                        if not cases:
                            break
                        case_id, version = cases.pop()
                    held.clear()
                    t0 = time.perf_counter()
                    r = c.post(
                        f"/api/v1/cases/{case_id}/steps/verify",
                        data=json.dumps({"version": version, "data": VERIFY_STEP_DATA}),
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Bearer {tokens[w % len(tokens)]}",
                    )
                    t1 = time.perf_counter()
                    if r.status_code != 200:
                        errors.append(f"{case_id}: {r.status_code} {r.content[:200]!r}")
                        continue
                    with lock:
                        steps.append((t1 - t0) * 1000)
                        if "t" in held and "end" in held:
                            holds.append((held["end"] - held["t"]) * 1000)
        except BaseException as e:  # noqa: BLE001 - reported
            errors.append(repr(e))
        finally:
            connections.close_all()

    def reader(i: int) -> None:
        try:
            start.wait()
            while not done.is_set():
                t0 = time.perf_counter()
                audit_record(
                    actor=cadre, event_type="registry.household_view", household_id=None, data={"i": i}
                )
                with lock:
                    reads.append((time.perf_counter() - t0) * 1000)
                time.sleep(a.read_pause / 1000)  # a steady stream, not as fast as the lock allows
        except BaseException as e:  # noqa: BLE001
            errors.append(repr(e))
        finally:
            connections.close_all()

    waiting: list[int] = []

    def sampler(dsn: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as pc:
            while not done.is_set():
                n = pc.execute(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and wait_event = 'advisory'"
                ).fetchone()[0]
                waiting.append(n)
                time.sleep(0.002)

    # warm-up, not counted: the URL conf and the API's schemas imported, the parameter cache filled (one
    # step on a case of its own), as in a worker that has served requests
    Client(HTTP_HOST="127.0.0.1").get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    if cases:
        case_id, version = cases.pop()
        Client(HTTP_HOST="127.0.0.1").post(
            f"/api/v1/cases/{case_id}/steps/verify",
            data=json.dumps({"version": version, "data": VERIFY_STEP_DATA}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {tokens[0]}",
        )
    s = connection.settings_dict
    dsn = f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}"
    ws = [threading.Thread(target=writer, args=(w,)) for w in range(a.writers)]
    rs = [threading.Thread(target=reader, args=(i,)) for i in range(a.readers)]
    sm = threading.Thread(target=sampler, args=(dsn,))
    for t in [*ws, *rs]:
        t.start()
    sm.start()
    start.wait()
    t0 = time.perf_counter()
    for t in ws:
        t.join()
    wall = time.perf_counter() - t0
    done.set()
    for t in [*rs, sm]:
        t.join()
    out = {
        "steps": len(steps),
        "step_p50": _pct(steps, 50),
        "step_p95": _pct(steps, 95),
        "hold_p50": _pct(holds, 50),
        "hold_p95": _pct(holds, 95),
        "holds": len(holds),
        "reads": len(reads),
        "read_p50": _pct(reads, 50),
        "read_p95": _pct(reads, 95),
        "read_max": max(reads or [0]),
        "waiting": sum(waiting) / max(1, len(waiting)),
        "wall_s": wall,
        "errors": errors[:5],
    }
    print("RESULT" + json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--readers", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10, help="case steps per writer and checkout")
    ap.add_argument("--code", type=Path, action="append", help="checkouts to measure (default: this one)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--read-pause", type=float, default=20.0, help="ms each reader pauses between events")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--plan", default="", help=argparse.SUPPRESS)
    ap.add_argument("--case-slice", type=int, nargs=2, default=[0, 0], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.code = a.code[0]
        child(a)
        return
    sys.path.insert(0, str(ROOT / "bench"))
    import load

    codes = [c.resolve() for c in (a.code or [ROOT])]
    var = Path(tempfile.mkdtemp(prefix="fangpin-lock-"))
    env = load._env(a.database_url, var)
    load._manage(env, "migrate", "-v0")
    per = a.writers * a.steps + 1  # (one for the warm-up)
    n_cases = per * len(codes) * a.rounds
    code = (
        load.PLAN_CODE.replace("{max_cases}", str(n_cases)).replace("{users}", "10").replace("{flags}", "0")
    )
    out = load._manage(env, "shell", "-c", code)
    plan = json.loads(next(line for line in out.splitlines() if line.startswith("PLAN"))[4:])
    if len(plan["cases"]) < n_cases:
        sys.exit(
            f"only {len(plan['cases'])} open cases for {n_cases} steps: fewer --steps or a larger village"
        )
    plan_file = var / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    print(
        f"village {plan['village']}: {a.writers} writers x {a.steps} case steps, {a.readers} readers writing a "
        "view's audit event every "
        f"{a.read_pause:g} ms meanwhile; ms",
        flush=True,
    )
    results: dict[Path, list[dict]] = {c: [] for c in codes}
    slot = 0
    for _ in range(a.rounds):
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
                "--writers",
                str(a.writers),
                "--readers",
                str(a.readers),
                "--database-url",
                a.database_url,
            ]
            args += ["--case-slice", str(slot * per), str((slot + 1) * per)]
            slot += 1
            own = {**env, "PYTHONPATH": str(c), "FANGPIN_VAR": str(var / f"run{slot}")}
            r = subprocess.run(args, env=own, cwd=c, capture_output=True, text=True)
            if r.returncode:
                sys.exit(f"{c} failed:\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")
            res = json.loads(next(x for x in r.stdout.splitlines() if x.startswith("RESULT"))[6:])
            results[c].append(res)
            print(
                f"{str(c)[-24:]:>24} | step p50 {res['step_p50']:6.1f} p95 {res['step_p95']:6.1f} | lock held "
                f"p50 {res['hold_p50']:5.1f} p95 {res['hold_p95']:5.1f} ({res['holds']}) | read's audit p50 "
                f"{res['read_p50']:5.1f} p95 {res['read_p95']:5.1f} max {res['read_max']:6.1f} ({res['reads']}) | "
                f"waiting {res['waiting']:.2f} | {res['wall_s']:.1f} s"
                + (f" | errors {res['errors']}" if res["errors"] else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
