"""Benchmark: the policy what-if on a 100k-household county, preview and full run, beside the per-household
Python rule loop.

usage: python bench/whatif.py [--households 100000] [--sample 2000] [--on 2026-06-15]

The county's tables are generated directly with numpy (not the demo generator, not the database), in the
shape ``fangpin.whatif.snapshot`` exports: households (300 villages, 12 townships, 97 % 脱贫户), member
spells (1-6 persons; 2 % of households lose a member in the last year, 1 % gain one), income records (five
calendar years around each year's line, the current year up to last month, 2 % with a later 12-month record
overlapping the last year, 10 % with 合规自付支出), monitoring objects (3 % active with 0-3 measures done and
90 % of guarantees met; 2 % eliminated, some still in 渐退期). Parameters: ``policy/data/defaults.json`` as
rows (no database).

Printed:
- preview: ``services.compare`` (baseline and the scenario "monitoring line +10 %", per-township counts,
  coverage/leakage, the changed households) — what the screen computes on a cached snapshot;
- full run: the preview plus every drill-down list and the masked workbook (``excel.whatif_xlsx``), i.e. the
  background job without the database export (the export is measured on a real database separately: see
  docs/parts/whatif.md);
- baseline: the per-household Python rule loop (``per_capita_net_income`` + ``derive_category`` per household,
  from the same rows) on ``--sample`` households, extrapolated linearly to the county — stated as such. It
  is the rule alone, without the database reads the services add per household.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.test")


def stored_params() -> list[dict]:
    entries = json.loads((ROOT / "fangpin/policy/data/defaults.json").read_text(encoding="utf-8"))[
        "parameters"
    ]
    return [
        {"id": i, "key": e["key"], "value": e["value"], "version": 1, "region_code": e.get("region", ""),
         "year": e["year"]}
        for i, e in enumerate(entries, start=1)
    ]  # fmt: skip


def default_lines() -> dict[int, float]:
    """The national monitoring line per year, as ``policy/data/defaults.json`` ships it (region "")."""
    return {
        int(r["year"]): float(r["value"])
        for r in stored_params()
        if r["key"] == "income.monitoring_line" and r["region_code"] == ""
    }


def generate(n: int, on: dt.date, seed: int = 18):
    import numpy as np
    import pandas as pd

    from fangpin.whatif.snapshot import Snapshot, month_index

    rng = np.random.default_rng(seed)
    lines = default_lines()
    villages = [f"410506{t:03d}{v:03d}" for t in range(101, 113) for v in range(201, 226)]
    hid = np.arange(1, n + 1)
    vil = np.array(villages)[rng.integers(0, len(villages), n)]
    hh = pd.DataFrame({
        "household_id": hid, "household_no": [f"{v}{i:06d}" for v, i in zip(vil, hid, strict=True)],
        "village_id": vil, "township_id": [v[:9] + "000" for v in vil],
        "household_type": np.where(rng.random(n) < 0.97, "脱贫户", "一般农户"),
        "no_labour_protected": rng.random(n) < 0.02, "head": "张*",
    })  # fmt: skip
    size = rng.choice([1, 2, 3, 4, 5, 6], n, p=[0.15, 0.25, 0.25, 0.2, 0.1, 0.05])
    sp_h = np.repeat(hid, size)
    m = len(sp_h)
    start = np.full(m, np.datetime64("1900-01-01"), dtype="datetime64[ns]")
    stop = np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]")
    first = np.r_[0, np.cumsum(size)[:-1]]
    death = first[(rng.random(n) < 0.02) & (size > 1)]
    stop[death] = np.datetime64(on) - rng.integers(1, 365, len(death)).astype("timedelta64[D]")
    birth = first[(rng.random(n) < 0.01) & (size > 1)] + 1
    start[birth] = np.datetime64(on) - rng.integers(1, 365, len(birth)).astype("timedelta64[D]")
    spells = pd.DataFrame({"household_id": sp_h, "person_id": np.arange(1, m + 1), "start": start, "stop": stop,
                           "labour_able": rng.random(m) < 0.6})  # fmt: skip
    rows = []
    level = rng.lognormal(np.log(1.9), 0.45, n)
    oop_hh = rng.random(n) < 0.1
    rid = 0
    for y in range(on.year - 5, on.year + 1):
        months = 12 if y < on.year else on.month - 1
        if months == 0:
            continue
        line = lines[max((k for k in lines if k <= y), default=min(lines))]
        base = np.round(line * size * level * rng.lognormal(0, 0.15, n) * months / 12, 2)
        oop = np.where(oop_hh, np.round(rng.uniform(1000, 20000, n) * months / 12, 2), 0.0)
        r0 = y * 12
        rows.append(pd.DataFrame({
            "household_id": hid, "record_id": rid + hid, "r0": r0, "r1": r0 + months - 1, "months": months,
            "rec_at": pd.Timestamp(f"{y + 1 if months == 12 else y}-01-15", tz="UTC") if months == 12
            else pd.Timestamp(f"{on.year}-{on.month:02d}-01", tz="UTC"),
            "period_start": dt.date(y, 1, 1), "period_end": dt.date(y, 12, 31) if months == 12
            else dt.date(y, months, 28), "base": base, "payout": 0.0, "oop": oop,
        }))  # fmt: skip
        rid += n
    ov = hid[rng.random(n) < 0.02]
    t_end = month_index(on) - 1
    rows.append(pd.DataFrame({
        "household_id": ov, "record_id": rid + ov, "r0": t_end - 11, "r1": t_end, "months": 12,
        "rec_at": pd.Timestamp(f"{on.year}-{on.month:02d}-05", tz="UTC"), "period_start": None,
        "period_end": None, "base": np.round(lines[max(k for k in lines if k <= on.year)] * 1.05 * size[ov - 1], 2), "payout": 0.0, "oop": 0.0,
    }))  # fmt: skip
    income = pd.concat(rows, ignore_index=True).sort_values(["household_id", "r0", "record_id"])
    income["ord"] = income.groupby("household_id").cumcount()
    income["base_f"] = (income["base"] * 100).round().astype("int64")
    income["payout_f"] = 0
    income["oop_f"] = (income["oop"] * 100).round().astype("int64")
    for c in ("wage", "production_business", "property_income", "transfer", "production_expense",
              "insurance_payout", "compliant_out_of_pocket"):  # fmt: skip
        income[c] = "0"
    income["wage"] = income["base"].map(lambda x: f"{x:.2f}")
    income["compliant_out_of_pocket"] = income["oop"].map(lambda x: f"{x:.2f}")
    act = hid[rng.random(n) < 0.03]
    eli = np.setdiff1d(hid[rng.random(n) < 0.02], act)
    days = rng.integers(60, 720, len(act))
    edays = rng.integers(30, 400, len(eli))
    objects = pd.DataFrame({
        "object_id": np.arange(1, len(act) + len(eli) + 1),
        "household_id": np.r_[act, eli],
        "village_id": np.r_[vil[act - 1], vil[eli - 1]],
        "status": ["active"] * len(act) + ["eliminated"] * len(eli),
        "category": "脱贫不稳定户",
        "identified_on": [on - dt.timedelta(days=int(d)) for d in days] + [on - dt.timedelta(days=int(d) + 400) for d in edays],
        "eliminated_on": [None] * len(act) + [on - dt.timedelta(days=int(d)) for d in edays],
        "gradual_exit_until": [None] * len(act) + [on - dt.timedelta(days=int(d)) + dt.timedelta(days=365) for d in edays],
        "measures_done": np.r_[rng.integers(0, 4, len(act)), np.zeros(len(eli), dtype=int)],
        "guarantees_ok": [bool(x) for x in rng.random(len(act)) < 0.9] + [None] * len(eli),
        "guarantee_failures": [[] for _ in range(len(act) + len(eli))],
    })  # fmt: skip
    monitored = set(act.tolist()) | set(objects.loc[
        (objects["status"] == "eliminated") & objects["gradual_exit_until"].map(lambda u: u is not None and u >= on), "household_id"
    ].tolist())  # fmt: skip
    return Snapshot(on, "410506", hh, spells, income, objects, monitored)


def warm_stored(snap) -> None:
    """``store.warm`` with the bench's parameter rows (no database)."""
    from fangpin.whatif.evaluate import evaluate
    from fangpin.whatif.paramset import ParamSet

    evaluate(snap, ParamSet(stored=stored_params()))


def python_loop(snap, sample: int, pset) -> float:
    """The per-household rule loop on ``sample`` households: seconds per household."""
    from fangpin.monitoring.rules import derive_category
    from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income

    hh = snap.households.head(sample)
    inc = snap.income[snap.income["household_id"].isin(hh["household_id"])]
    by = {h: g for h, g in inc.groupby("household_id")}
    sp = snap.spells[snap.spells["household_id"].isin(hh["household_id"])]
    members = sp[sp["stop"].isna()].groupby("household_id").size().to_dict()
    month = snap.on.replace(day=1)
    t = time.perf_counter()
    for r in hh.itertuples():
        facts = [
            IncomeFacts(period_start=dt.date(x.r0 // 12, x.r0 % 12 + 1, 1), period_end=dt.date(x.r1 // 12, x.r1 % 12 + 1, 28),
                        wage=Decimal(x.wage), compliant_out_of_pocket=Decimal(x.compliant_out_of_pocket),
                        recorded_at=x.rec_at.to_pydatetime())
            for x in by[r.household_id].itertuples()
        ]  # fmt: skip
        line = Decimal(str(pset.value("income.monitoring_line", region_code=r.village_id, year=month.year)))
        res = per_capita_net_income(facts, members=members.get(r.household_id, 1), month=month)
        derive_category(household_type=r.household_type, below_line=res.per_capita < line,
                        below_line_after_rigid=res.per_capita_after_rigid < line)  # fmt: skip
    return (time.perf_counter() - t) / sample


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--on", default="2026-06-15")
    a = ap.parse_args()
    import django

    django.setup()
    from fangpin.whatif.excel import whatif_xlsx
    from fangpin.whatif.paramset import ParamSet, scenario
    from fangpin.whatif.services import MEASURES, compare

    on = dt.date.fromisoformat(a.on)
    t = time.perf_counter()
    snap = generate(a.households, on)
    t_gen = time.perf_counter() - t
    rows = stored_params()
    names = {c: c for c in snap.households["township_id"].unique()}
    from fangpin.whatif.evaluate import prepare

    def timed(fn):
        w, c0 = time.perf_counter(), time.process_time()
        out = fn()
        return out, time.perf_counter() - w, time.process_time() - c0

    def scen(settings):
        return scenario(settings, region_code="410506", year=on.year, stored=rows)

    _, t_prep, c_prep = timed(lambda: prepare(snap))
    # cold: nothing memoised on the snapshot but ``prepare`` — both sides evaluated, the query run twice
    # (a window change forces the per-capita query for the scenario too)
    c, t_cold, c_cold = timed(lambda: compare(snap, ParamSet(stored=rows), scen({"window_months": "9"}),
                                              township_names=names))  # fmt: skip
    # warm (a maintained snapshot: its baseline judgements computed when it was built): a new scenario
    c, t_preview, c_preview = timed(lambda: compare(snap, ParamSet(stored=rows), scen({"monitoring_line": "+10%"}),
                                                    township_names=names))  # fmt: skip
    c2, t_warm2, c_warm2 = timed(lambda: compare(snap, ParamSet(stored=rows), scen({"min_months": "9"}),
                                                 township_names=names))  # fmt: skip
    # the maintained snapshot as a fresh process meets it: the file stored when it was built, opened
    # (tables and prepared prefix sums, no ``prepare``), its baseline judged once (``warm``), then a preview
    import tempfile

    from django.conf import settings as dj

    from fangpin.whatif.store import snapshot_open, snapshot_store

    dj.FANGPIN_FILES_DIR = tempfile.mkdtemp(prefix="bench-whatif-")
    _, t_store, c_store = timed(lambda: snapshot_store(snap, "bench"))
    opened, t_open, c_open = timed(lambda: snapshot_open("410506", on, stamp="bench"))
    _, t_warm, c_warm = timed(lambda: warm_stored(opened))
    c3, t_open_prev, c_open_prev = timed(lambda: compare(opened, ParamSet(stored=rows),
                                                         scen({"monitoring_line": "+10%"}), township_names=names))  # fmt: skip
    assert c3.rows == c.rows and c3.changed == c.changed  # the stored snapshot judges as the generated one
    t = time.perf_counter()
    c0 = time.process_time()
    lists = {m: (len(c.households(m)), len(c.households(m, which="base"))) for m in MEASURES}
    xlsx = whatif_xlsx(c)
    t_full = t_cold + time.perf_counter() - t
    c_full = c_cold + time.process_time() - c0
    per_hh = python_loop(snap, a.sample, ParamSet(stored=rows))
    n = len(snap.households)
    print(f"county: {n:,} households, {len(snap.spells):,} persons, {len(snap.income):,} income records, "
          f"{len(snap.objects):,} monitoring objects (generated in {t_gen:.1f}s, not timed below)")  # fmt: skip
    print(f"monitoring lines (policy/data/defaults.json): {default_lines()}; business date {on}")
    print(
        f"prepare (once per snapshot, when it is built):          wall {t_prep:6.2f} s  cpu {c_prep:6.2f} s"
    )
    print(
        f"cold preview (both sides evaluated, window 9 months):   wall {t_cold:6.2f} s  cpu {c_cold:6.2f} s"
    )
    print(f"preview, maintained snapshot, line +10% ({c.scenario.describe()[0]['value']}): "
          f"wall {t_preview:6.2f} s  cpu {c_preview:6.2f} s")  # fmt: skip
    print(
        f"preview, maintained snapshot, min_months 9:             wall {t_warm2:6.2f} s  cpu {c_warm2:6.2f} s"
    )
    print(f"maintained snapshot file: store wall {t_store:5.2f} s cpu {c_store:5.2f} s; open wall {t_open:5.2f} s "
          f"cpu {c_open:5.2f} s; baseline judged once wall {t_warm:5.2f} s cpu {c_warm:5.2f} s")  # fmt: skip
    print(
        f"preview on the opened snapshot, line +10%:             wall {t_open_prev:6.2f} s  cpu {c_open_prev:6.2f} s"
    )
    print(f"full run (cold preview + every drill-down list both sides + masked xlsx {len(xlsx) // 1024} KB): "
          f"wall {t_full:6.2f} s  cpu {c_full:6.2f} s")  # fmt: skip
    print(f"baseline: per-household Python rule loop {per_hh * 1e6:.0f} µs/household on {a.sample:,}, "
          f"extrapolated to {n:,}: {per_hh * n:6.1f} s per parameter set, {2 * per_hh * n:6.1f} s for a comparison "
          f"(the rule alone, without the services' database reads)")  # fmt: skip
    print(
        f"ratio: comparison by the per-household loop / cold preview = {2 * per_hh * n / t_cold:.0f}×, "
        f"/ maintained-snapshot preview = {2 * per_hh * n / t_preview:.0f}×"
    )
    tot = c.total
    print("totals (现行 → 模拟):", {m: f"{tot['base'][m]['households']}→{tot['scen'][m]['households']}" for m in MEASURES},
          f"changed households {len(c.changed):,}; lists {lists}")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    import shutil

    opened._con.close()
    shutil.rmtree(dj.FANGPIN_FILES_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
