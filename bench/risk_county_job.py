"""The county scoring job end to end on a database: read the facts, features, score, store — per step wall,
CPU (this process and the PostgreSQL backend), peak memory and queries, beside the former front end.

    python bench/risk_county_job.py --database-url postgres://…/fangpin_load_<copy> [--county 410506]
        [--month 2026-06] [--old-prefix 410506002] [--train-prefix 410506002] [--old-full] [--threads 1] [--span 6]

Run it on a *copy* of the million-person county (``bench/load.py`` builds ``fangpin_load``; the copy:
``CREATE DATABASE fangpin_load_x TEMPLATE fangpin_load``), never on ``fangpin_load`` itself: the bench
migrates the database it is given (the risk tables) and writes scores into it. The bench keys of
``bench/load.py::_env`` are used, so the copy's encrypted columns stay readable.

1. setup (not timed as the job): a model for the county, trained (``risk_train --span``) on the facts of the
   villages under ``--train-prefix`` if the county has none;
2. the job: ``services.risk_score`` (the county job's body, what the Huey task runs) on the whole county —
   ``facts_from_db`` (set-based), ``features_at``, ``score_frame`` (reasons for every household, the default
   ``risk.reasons_share``), the batched store with its audit event; per step from the job's progress calls;
3. the former front end (``risk/tests/orm_facts.facts_from_db_orm``: ORM objects and dicts row by row) on the
   villages under ``--old-prefix`` (or the whole county with ``--old-full``), beside the new front end on the
   same villages; both frames and their features compared household for household; the former's time
   extrapolated to the county by its persons.

Peak memory: ``ru_maxrss`` of this process (monotonic: the job runs first). Queries: statements executed
(a server-side cursor's fetches are not statements). PostgreSQL CPU: the backend's utime+stime from /proc.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load_env(db_url: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    os.environ.update(mod._env(db_url, Path(tempfile.mkdtemp(prefix="risk_job_var_"))))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _now_rss_gb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**3


class Meter:
    """Per step: wall, CPU, PostgreSQL backend CPU, statements, peak and current RSS."""

    def __init__(self) -> None:
        from django.db import connection

        self.queries = 0
        self.rows: list[tuple] = []
        self.name: str | None = None
        connection.execute_wrappers.append(self._count)
        self.backend = None
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("select pg_backend_pid()")
                self.backend = c.fetchone()[0]

    def _count(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def _pg_cpu(self) -> float:
        if self.backend is None:
            return 0.0
        try:
            with open(f"/proc/{self.backend}/stat") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return float("nan")

    def start(self, name: str) -> None:
        self.stop()
        self.name = name
        self.t = (time.perf_counter(), _cpu(), self._pg_cpu(), self.queries)

    def stop(self) -> None:
        if self.name is None:
            return
        w, c, pg, q = self.t
        row = (self.name, time.perf_counter() - w, _cpu() - c, self._pg_cpu() - pg, self.queries - q,
               _rss_gb(), _now_rss_gb())  # fmt: skip
        self.rows.append(row)
        print(f"  {row[0]:<46} {row[1]:7.1f} s wall {row[2]:7.1f} s CPU  PG {row[3]:6.1f} s  "
              f"{row[4]:5d} queries  peak {row[5]:5.2f} GB (now {row[6]:4.2f})", flush=True)  # fmt: skip
        self.name = None

    def total(self, names: list[str]) -> tuple[float, float, float, int]:
        rows = [r for r in self.rows if r[0] in names]
        return tuple(sum(r[i] for r in rows) for i in (1, 2, 3, 4))  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", required=True, help="a copy of fangpin_load (never fangpin_load)")
    ap.add_argument("--county", default="410506")
    ap.add_argument("--month", default="2026-06")
    ap.add_argument("--old-prefix", default="410506002", help="villages whose region code starts so")
    ap.add_argument("--train-prefix", default="410506002", help="villages the setup model is trained on")
    ap.add_argument("--old-full", action="store_true", help="the former front end on the whole county")
    ap.add_argument("--threads", type=int, default=1, help="LightGBM threads")
    ap.add_argument("--span", type=int, default=6, help="training months of the setup model")
    a = ap.parse_args()
    if a.database_url.rstrip("/").endswith("/fangpin_load"):
        sys.exit("refusing to write to fangpin_load itself: make a copy (see the docstring)")
    _load_env(a.database_url)
    os.environ["OMP_NUM_THREADS"] = str(a.threads)  # LightGBM's prediction (the stored booster) follows it
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "risk", verbosity=0)
    import polars as pl

    from fangpin.accounts.actors import system_actor
    from fangpin.registry.models import Household, Person
    from fangpin.risk import model as risk_model
    from fangpin.risk.facts import facts_from_db
    from fangpin.risk.features import features_at
    from fangpin.risk.models import RiskModel
    from fangpin.risk.services import county_lines, risk_score, risk_train
    from fangpin.risk.tests.orm_facts import facts_from_db_orm

    month = dt.date.fromisoformat(a.month + "-01")
    risk_model.LGB_PARAMS["num_threads"] = a.threads
    actor = system_actor("bench_risk_county_job")
    lines = county_lines(a.county, month.year)
    persons = Person.objects.filter(household__village__code__startswith=a.county).count()
    households = Household.objects.filter(village__code__startswith=a.county).count()
    sample_persons = Person.objects.filter(household__village__code__startswith=a.old_prefix).count()
    print(f"county {a.county}: {households:,} households, {persons:,} person rows; month {month:%Y-%m}; "
          f"LightGBM {a.threads} thread(s); load average {os.getloadavg()}", flush=True)  # fmt: skip
    county6 = a.county[:6]  # (a township as --county: a quick look at the same path)
    rm = RiskModel.objects.filter(county_code=county6, trained_through__lte=month).order_by("-id").first()
    if rm is None:
        t = time.perf_counter()
        sample = facts_from_db(a.train_prefix, lines=lines)
        rm = risk_train(actor=actor, county=county6, on=month, facts=sample, span=a.span)
        print(f"setup: model v{rm.pk} trained on {a.train_prefix}* ({rm.rows:,} rows, {rm.positives} positives) "
              f"in {time.perf_counter() - t:.0f} s", flush=True)  # fmt: skip
    meter = Meter()
    steps = {5: "job: facts_from_db (set-based)", 30: "job: features_at", 40: "job: score_frame (reasons all)",
             70: "job: store (batched upsert, audit)"}  # fmt: skip

    def progress(note: str, pct: int) -> None:
        if pct in steps and meter.name != steps[pct]:
            meter.start(steps[pct])

    print("the county job (services.risk_score, as the Huey task runs it):")
    timings: dict[str, float] = {}
    w0, c0 = time.perf_counter(), _cpu()
    n = risk_score(actor=actor, county=a.county, month=month, model=rm, progress=progress, timings=timings)
    meter.stop()
    wall, cpu = time.perf_counter() - w0, _cpu() - c0
    print(f"  job total: {n:,} households scored, {wall:.1f} s wall, {cpu:.1f} s CPU, peak {_rss_gb():.2f} GB, "
          f"{sum(r[4] for r in meter.rows)} queries", flush=True)  # fmt: skip
    print(f"load average {os.getloadavg()}", flush=True)
    prefix = a.county if a.old_full else a.old_prefix
    scale = 1.0 if a.old_full else persons / max(sample_persons, 1)
    print(f"front ends on {prefix}* ({persons if a.old_full else sample_persons:,} person rows; "
          f"x{scale:.1f} to the county):")  # fmt: skip
    meter.start("former front end (ORM, row by row)")
    old = facts_from_db_orm(prefix, lines=lines)
    meter.start("new front end (set-based)")
    new = facts_from_db(prefix, lines=lines)
    meter.stop()
    (_, ow, oc, opg, oq, *_), (_, nw, nc, npg, nq, *_) = meter.rows[-2:]
    job = next(r for r in meter.rows if r[0] == steps[5])
    print(f"  former, extrapolated to the county: {ow * scale:.0f} s wall, {oc * scale:.0f} s CPU, "
          f"PG {opg * scale:.0f} s; the job's set-based read of the whole county (measured above): {job[1]:.0f} s "
          f"wall, {job[2]:.0f} s CPU, PG {job[3]:.0f} s: former / new {ow * scale / job[1]:.1f}x wall, "
          f"{oc * scale / job[2]:.1f}x CPU (on these villages alone: {ow / nw:.1f}x wall, {oc / nc:.1f}x CPU; "
          f"the new read's scans of whole tables do not shrink with the villages)", flush=True)  # fmt: skip

    def srt(f: pl.DataFrame) -> pl.DataFrame:
        return f.sort(f.columns, nulls_last=True)

    same = all(
        srt(getattr(old, k)).equals(srt(getattr(new, k)))
        for k in ("households", "persons", "incomes", "events", "leads", "objects")
    )
    fo, fn = features_at(old, month), features_at(new, month)
    print(f"  same frames: {same}; same features at {month:%Y-%m} ({fn.height:,} households): "
          f"{srt(fo).equals(srt(fn))}")  # fmt: skip
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
