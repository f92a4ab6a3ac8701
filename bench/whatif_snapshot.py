"""Benchmark: building the what-if snapshot from the database (``whatif.snapshot.snapshot_build``), the former
per-object build (``whatif/tests/orm_snapshot.py``) beside the set-based one, then the path a user hits
after a registry change: ``store.snapshot_maintained`` (stamp, build, store, baseline) + one preview.

usage: DATABASE_URL=postgres://…/DB python bench/whatif_snapshot.py [--prefix P ...] [--old-prefix P ...]
           [--on DATE] [--no-maintained]

Every measurement runs in its own child process (peak RSS is that process's, the caches are cold):
- ``build``: ``snapshot_build`` (new) for each ``--prefix`` and ``orm_snapshot_build`` (old) for each
  ``--old-prefix`` (default: the same prefixes): wall, CPU of this process, the PostgreSQL backend's own
  CPU (``/proc/<pid>/schedstat``), SQL statements, peak RSS, the tables' sizes and the phases. Where both ran
  on the same prefix the tables are compared (same columns, dtypes and sorted rows). An old build too slow
  for a large prefix is run on a smaller one and extrapolated by households — said as such in the table.
- ``maintained`` (per ``--prefix``): a registry change through the service (one person's 劳动技能, which
  moves ``registry_stamp``), then as the screen does it ``snapshot_maintained`` (finds no current file,
  builds, stores the DuckDB file, judges the baseline) and one preview ``whatif_run`` "monitoring line
  +10 %" on it; the phases' wall and CPU. The user is a bench user (``bench_whatif_<prefix>``, 乡镇审核人 or
  县级管理员 of the prefix's region) created on first use — run it on a bench copy, never on a database you
  do not own: it writes one person version, one user and audit events.

Defaults: the whole scope of the database's county (``--prefix 410506``). Run under
``flock /work/wt/bench.lock nice -n 5`` and give ``uptime`` beside the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")


def _setup() -> None:
    import django

    django.setup()


def _backend_ns() -> int:
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as c:
        c.execute("SELECT pg_backend_pid()")
        pid = c.fetchone()[0]
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except OSError:
        return 0


class _Statements:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def _bench_user(prefix: str):
    """A user whose scope is exactly ``prefix`` (a township: 乡镇审核人; the county: 县级管理员)."""
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role

    region = prefix.ljust(12, "0")
    role = Role.COUNTY_ADMIN if len(prefix) <= 6 else Role.TOWNSHIP_REVIEWER
    user, _ = User.objects.get_or_create(
        username=f"bench_whatif_{prefix}", defaults={"role": role, "region_id": region}
    )
    assert user.scope_prefix == prefix, (user.scope_prefix, prefix)
    return user


def _frames_digest(snap) -> dict:
    return {
        "households": len(snap.households),
        "spells": len(snap.spells),
        "income": len(snap.income),
        "objects": len(snap.objects),
        "active": int((snap.objects["status"] == "active").sum()) if len(snap.objects) else 0,
        "monitored": len(snap.monitored_now),
    }


def child_build(impl: str, prefix: str, on: dt.date, dump: str | None) -> dict:
    _setup()
    from django.db import connection

    from fangpin.accounts.models import User
    from fangpin.whatif.snapshot import snapshot_build
    from fangpin.whatif.tests.orm_snapshot import orm_snapshot_build

    actor = User.objects.filter(username="county_admin").first() or _bench_user(prefix[:6])
    fn = snapshot_build if impl == "new" else orm_snapshot_build
    count = _Statements()
    b0 = _backend_ns()
    with connection.execute_wrapper(count):
        c0, t0 = time.process_time(), time.perf_counter()
        snap = fn(actor=actor, on=on, region_prefix=prefix)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    pg = (_backend_ns() - b0) / 1e9
    if dump:
        import pickle

        Path(dump).write_bytes(pickle.dumps({k: getattr(snap, k) for k in ("households", "spells", "income",
                                                                           "objects", "monitored_now")}))  # fmt: skip
    return {
        "impl": impl, "prefix": prefix, "wall": wall, "cpu": cpu, "pg_cpu": pg, "statements": count.n,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "phases": {k: round(v, 2) for k, v in snap.timings.items()}, **_frames_digest(snap),
    }  # fmt: skip


def child_maintained(prefix: str, on: dt.date) -> dict:
    _setup()
    from django.db import connection

    from fangpin.accounts.models import User
    from fangpin.registry.choices import LabourSkill
    from fangpin.registry.models import Person
    from fangpin.registry.services.changes import do_fields_update
    from fangpin.whatif import store
    from fangpin.whatif.services import whatif_run

    user = _bench_user(prefix)
    admin = User.objects.get(username="county_admin")
    p = (
        Person.objects.filter(household__village__code__startswith=prefix, is_member=True)
        .order_by("-id")
        .first()
    )
    skill = LabourSkill.WEAK if p.labour_skill != LabourSkill.WEAK else LabourSkill.ORDINARY
    do_fields_update(actor=admin, entity="person", obj_id=p.pk, changes={"labour_skill": skill})
    out: dict = {"prefix": prefix}
    count = _Statements()
    with connection.execute_wrapper(count):
        c0, t0 = time.process_time(), time.perf_counter()
        stamp = store.registry_stamp()
        assert store.snapshot_open(prefix, on, stamp=stamp) is None  # the change made every file stale
        out["stamp"] = (time.perf_counter() - t0, time.process_time() - c0)
        c1, t1 = time.process_time(), time.perf_counter()
        snap = store.snapshot_maintained(actor=user, on=on)
        out["maintained"] = (time.perf_counter() - t1, time.process_time() - c1)
        c2, t2 = time.process_time(), time.perf_counter()
        cmp = whatif_run(actor=user, on=on, settings={"monitoring_line": "+10%"}, snapshot=snap)
        out["preview"] = (time.perf_counter() - t2, time.process_time() - c2)
        out["total"] = (time.perf_counter() - t0, time.process_time() - c0)
    out["build_phases"] = {k: round(v, 2) for k, v in snap.timings.items()}
    out["statements"] = count.n
    out["changed"] = len(cmp.changed)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.update(_frames_digest(snap))
    return out


def _run_child(*args: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        sys.exit(f"child {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _same_tables(a_file: str, b_file: str) -> str:
    import pickle

    import pandas as pd

    keys = {"households": ["household_id"], "spells": ["household_id", "person_id", "start"],
            "income": ["record_id"], "objects": ["object_id"]}  # fmt: skip
    a, b = pickle.loads(Path(a_file).read_bytes()), pickle.loads(Path(b_file).read_bytes())
    for name, k in keys.items():
        x, y = a[name], b[name]
        if list(x.columns) != list(y.columns) or x.dtypes.to_dict() != y.dtypes.to_dict():
            return f"{name}: columns or dtypes differ"
        try:
            pd.testing.assert_frame_equal(x.sort_values(k).reset_index(drop=True),
                                          y.sort_values(k).reset_index(drop=True))  # fmt: skip
        except AssertionError as e:
            return f"{name}: {str(e)[:200]}"
    return "identical" if a["monitored_now"] == b["monitored_now"] else "monitored_now differs"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prefix", action="append", help="region prefix of the set-based build (repeatable)")
    ap.add_argument("--old-prefix", action="append", help="region prefix of the former build (repeatable)")
    ap.add_argument("--on", type=dt.date.fromisoformat, default=None, help="business date (default today)")
    ap.add_argument("--no-maintained", action="store_true", help="skip the change + maintained + preview run")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args()
    from fangpin.core import clock

    on = a.on or clock.today()  # the bench is the edge: the business date defaults to today (Asia/Shanghai)
    if a.child:
        kind, *rest = a.child
        if kind == "build":
            impl, prefix, day, dump = rest
            res = child_build(impl, prefix, dt.date.fromisoformat(day), dump or None)
        else:
            prefix, day = rest
            res = child_maintained(prefix, dt.date.fromisoformat(day))
        print(json.dumps(res, ensure_ascii=False, default=str))
        return
    import tempfile

    prefixes = a.prefix or ["410506"]
    olds = a.old_prefix or prefixes
    tmp = Path(tempfile.mkdtemp(prefix="whatif-snapshot-bench-"))
    print(f"database {os.environ.get('DATABASE_URL', '(settings default)')}, business date {on}")
    print(
        f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True
    )
    rows = []
    for impl, p in [("old", p) for p in olds] + [("new", p) for p in prefixes]:
        rows.append(_run_child("build", impl, p, on.isoformat(), str(tmp / f"{impl}-{p}.pkl")))
        r = rows[-1]
        print(f"  {impl} {p}: {r['wall']:.1f} s wall", flush=True)
    print()
    print("| build | prefix | households | persons (spells) | income | active objects | wall s | CPU s | "
          "PG backend CPU s | statements | peak RSS MB | phases (households/persons/income/objects) s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ph = "/".join(f"{r['phases'].get(k, 0):.1f}" for k in ("households", "persons", "income", "objects"))
        print(f"| {r['impl']} | {r['prefix']} | {r['households']:,} | {r['spells']:,} | {r['income']:,} | "
              f"{r['active']:,} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['pg_cpu']:.1f} | {r['statements']:,} | "
              f"{r['rss_mb']:.0f} | {ph} |")  # fmt: skip
    new_by = {r["prefix"]: r for r in rows if r["impl"] == "new"}
    for r in rows:
        p = r["prefix"]
        if r["impl"] == "old" and p in new_by:
            same = _same_tables(str(tmp / f"old-{p}.pkl"), str(tmp / f"new-{p}.pkl"))
            print(f"old vs new on {p}: tables {same}; wall {r['wall'] / new_by[p]['wall']:.1f}x, "
                  f"CPU {r['cpu'] / new_by[p]['cpu']:.1f}x")  # fmt: skip
    for r in rows:
        if r["impl"] == "old" and r["prefix"] not in new_by:
            for p, n in new_by.items():
                k = n["households"] / max(r["households"], 1)
                print(f"old on {p} EXTRAPOLATED from {r['prefix']} by households (x{k:.1f}): "
                      f"~{r['wall'] * k:.0f} s wall, ~{r['cpu'] * k:.0f} s CPU, ~{r['statements'] * k:,.0f} statements "
                      f"(new, measured: {n['wall']:.1f} s wall, {n['cpu']:.1f} s CPU)")  # fmt: skip
    if not a.no_maintained:
        print()
        print("| after a registry change | prefix | stamp check | snapshot_maintained (build+store+baseline) | "
              "preview line +10 % | total | statements | peak RSS MB |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for p in prefixes:
            m = _run_child("maintained", p, on.isoformat())
            f = lambda x: f"{x[0]:.1f} s ({x[1]:.1f} CPU)"  # noqa: E731
            print(f"| wall (CPU) | {p} | {f(m['stamp'])} | {f(m['maintained'])} | {f(m['preview'])} | "
                  f"{f(m['total'])} | {m['statements']:,} | {m['rss_mb']:.0f} |", flush=True)  # fmt: skip
            print(
                f"  build phases {m['build_phases']}, {m['households']:,} households, changed {m['changed']}"
            )
    print(f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
