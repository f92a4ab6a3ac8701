"""Scoring a province: every household at risk of N persons scored, county by county, time and memory.

    python bench/risk_score.py [--persons 10000000] [--county-persons 1000000] [--base 100000]
                               [--month 2026-06] [--span 6] [--reasons-share 1,0.2] [--threads 1]
                               [--facts-cache DIR] [--sample 30000]

A generated county of ``--base`` persons (``bench/risk_eval.py``'s generator and facts, kept in
``--facts-cache``) is copied into counties of ``--county-persons`` (each copy its own household, person and
village numbers) until the province holds ``--persons``; a model is trained on the generated county at
``--month`` (not timed as scoring; a real province has one model per county, which changes nothing here).
Each county in turn is scored through the product's path (``risk.scoring.score_frame``, the county job's:
Polars features, LightGBM probabilities, contributions and Chinese reasons for the top ``--reasons-share``
(``risk.reasons_share``), ranks) and written to Parquet, so one county is in memory at a time. Beside it, on
the last county: the floor (LightGBM probabilities only) and the row-by-row reasons the county job used
before (contributions of all, ``to_dicts()``, ``reasons_for`` per row) on a ``--sample``, extrapolated to the
province, and a check that both give the same reasons. Peak RSS of the process (``ru_maxrss``); CPU beside
wall time. Everything from generated data (no database).
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
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

import polars as pl  # noqa: E402

from fangpin.risk.facts import RiskFacts  # noqa: E402
from fangpin.risk.features import features_at  # noqa: E402
from fangpin.risk.model import contributions, predict, train  # noqa: E402
from fangpin.risk.reasons import reasons_for  # noqa: E402
from fangpin.risk.scoring import score_frame  # noqa: E402

KEYS = {  # frame → the columns that name a household, person or village
    "households": ("household_no", "village"),
    "persons": ("person_no", "household_no"),
    "incomes": ("household_no",),
    "events": ("household_no", "person_no"),
    "leads": ("household_no",),
    "objects": ("household_no",),
}


def _risk_eval():
    spec = importlib.util.spec_from_file_location("risk_eval", ROOT / "bench" / "risk_eval.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["risk_eval"] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def copies(facts: RiskFacts, n: int, prefix: str = "") -> RiskFacts:
    """``n`` copies of a county, each with its own household, person and village numbers."""
    out = {}
    for name, cols in KEYS.items():
        frame = getattr(facts, name)
        parts = []
        for c in range(n):
            tag = f"{prefix}{c:03d}"
            parts.append(frame.with_columns([pl.concat_str(pl.lit(tag), pl.col(k)).alias(k) for k in cols]))
        out[name] = pl.concat(parts, rechunk=True)
    return RiskFacts(**out, lines=facts.lines)


class Step:
    def __init__(self, *, quiet: bool = False) -> None:
        self.rows: list[tuple[str, float, float, float]] = []
        self.quiet = quiet

    def __call__(self, name: str, fn):
        w, c = time.perf_counter(), _cpu()
        out = fn()
        self.rows.append((name, time.perf_counter() - w, _cpu() - c, _rss_gb()))
        if not self.quiet:
            _, w, c, rss = self.rows[-1]
            print(f"  {name:<44} {w:7.1f} s wall {c:7.1f} s CPU  peak {rss:5.2f} GB", flush=True)
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=10_000_000)
    ap.add_argument("--base", type=int, default=100_000, help="persons of the generated county copied")
    ap.add_argument("--county", default="410506")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2026-12-01")
    ap.add_argument("--month", default="2026-06", help="the month scored (YYYY-MM)")
    ap.add_argument("--span", type=int, default=6, help="training months of the county's model")
    ap.add_argument("--facts-cache", default="", help="directory to keep the generated county (Parquet)")
    ap.add_argument("--sample", type=int, default=200_000, help="households for the row-by-row reasons")
    ap.add_argument("--threads", type=int, default=2, help="LightGBM threads")
    ap.add_argument(
        "--county-persons", type=int, default=1_000_000, help="persons per county of the province"
    )
    ap.add_argument("--reasons-share", default="1,0.2", help="risk.reasons_share values to run, e.g. 1,0.2")
    a = ap.parse_args()
    month = dt.date.fromisoformat(a.month + "-01")
    re_ = _risk_eval()
    base = re_.load_facts(argparse.Namespace(county=a.county, persons=a.base, seed=a.seed,
                                             as_of=a.as_of, facts_cache=a.facts_cache))  # fmt: skip
    n_base = base.persons["person_no"].n_unique()
    per_county = max(1, round(a.county_persons / n_base))
    counties = max(1, round(a.persons / (per_county * n_base)))
    model = train(base, month, 6, span=a.span, params={"num_threads": a.threads})
    shares = [float(x) for x in a.reasons_share.split(",")]
    print(f"generated county of {n_base:,} persons, {base.households.height:,} households; model trained at "
          f"{month:%Y-%m} (span {a.span}, {a.threads} LightGBM thread(s)); a province of {counties} counties of "
          f"{per_county} copies = {counties * per_county * n_base:,} persons, scored county by county (each "
          f"county's facts, features and scores in memory at a time)", flush=True)  # fmt: skip
    out_dir = Path(tempfile.mkdtemp(prefix="risk_score_"))
    totals: dict[str, list[float]] = {}
    households = 0
    step = Step(quiet=counties > 1)
    for c in range(counties):
        facts = step(
            "copies of the county (setup, not scoring)", lambda c=c: copies(base, per_county, f"{c:02d}")
        )
        feats = step("features (Polars, features_at)", lambda f=facts: features_at(f, month))
        households += feats.height
        for share in shares:
            scores = step(f"score_frame, reasons for the top {share:.0%}",
                          lambda s=share, f=feats: score_frame(model, f, share=0.05, reasons_share=s))  # fmt: skip
            step(f"written (Parquet), top {share:.0%}",
                 lambda s=scores, o=out_dir / f"{c:02d}-{share}.parquet": s.write_parquet(o))  # fmt: skip
        for name, w, cpu, _ in step.rows:
            t = totals.setdefault(name, [0.0, 0.0])
            t[0] += w
            t[1] += cpu
        step.rows.clear()
        if counties > 1:
            print(f"  county {c + 1}/{counties}: {feats.height:,} households at risk, peak {_rss_gb():.2f} GB",
                  flush=True)  # fmt: skip
    print(f"province: {households:,} households at risk at {month:%Y-%m}; per step, all counties:")
    for name, (w, cpu) in totals.items():
        print(f"  {name:<44} {w:7.1f} s wall {cpu:7.1f} s CPU")
    for share in shares:
        keys = [
            k for k in totals if k.startswith(("features", f"score_frame, reasons for the top {share:.0%}"))
        ]
        w, cpu = (sum(totals[k][i] for k in keys) for i in (0, 1))
        print(f"  scored with reasons for the top {share:.0%}: {w:7.1f} s wall {cpu:7.1f} s CPU")
    print(f"  peak RSS of the process: {_rss_gb():.2f} GB")
    step = Step()
    print(f"beside it, on the last county's {feats.height:,} households:")
    step("floor: LightGBM probabilities only", lambda: predict(model, feats))
    n = min(a.sample, feats.height)
    sub = feats.head(n)
    print(
        f"before (the county job's former path: contributions of all, to_dicts, reasons_for per row), on {n:,}:"
    )
    cs = step("contributions", lambda: contributions(model, sub))
    rows = step("to_dicts()", lambda: sub.to_dicts())
    old = step(
        "reasons_for row by row", lambda: [reasons_for(r, cs[i], model.features) for i, r in enumerate(rows)]
    )
    scale = households / max(n, 1)
    print(f"  extrapolated to the province's {households:,}: {sum(r[1] for r in step.rows[-3:]) * scale:.0f} s wall, "
          f"{sum(r[2] for r in step.rows[-3:]) * scale:.0f} s CPU for contributions and reasons")  # fmt: skip
    mine = score_frame(model, sub, share=0.05)
    got = dict(zip(mine["household_no"].to_list(), mine["reasons"].to_list(), strict=True))
    same = all(got[h] == r for h, r in zip(sub["household_no"].to_list(), old, strict=True))
    print(f"reasons of score_frame == row-by-row reasons on the {n:,}: {same}")


if __name__ == "__main__":
    main()
