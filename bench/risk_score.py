"""Scoring a province: every household at risk of N persons scored in one pass, time and memory.

    python bench/risk_score.py [--persons 10000000] [--base 100000] [--month 2026-06] [--span 6]
                               [--facts-cache DIR] [--sample 200000] [--threads 2]

A generated county of ``--base`` persons (``bench/risk_eval.py``'s generator and facts, kept in
``--facts-cache``) is copied until it holds ``--persons`` persons (each copy its own household, person and
village numbers), a model is trained on the first county at ``--month`` (the county's own model; not timed
as scoring), and the whole population is scored through the product's path (``risk.scoring.score_frame``:
Polars features, LightGBM probabilities and contributions, Chinese reasons, ranks) and written to Parquet.
Beside it, on the same features: the floor (LightGBM probabilities only, no contributions, no reasons) and
the row-by-row reasons the county job used before (``features.to_dicts()`` + ``reasons_for`` per row) on a
``--sample`` of households, extrapolated. Peak RSS of the process (``ru_maxrss``) after each step; CPU beside
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
    spec.loader.exec_module(mod)
    return mod


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def copies(facts: RiskFacts, n: int) -> RiskFacts:
    """``n`` copies of a county, each with its own household, person and village numbers."""
    out = {}
    for name, cols in KEYS.items():
        frame = getattr(facts, name)
        parts = []
        for c in range(n):
            tag = f"{c:03d}"
            parts.append(frame.with_columns([pl.concat_str(pl.lit(tag), pl.col(k)).alias(k) for k in cols]))
        out[name] = pl.concat(parts, rechunk=True)
    return RiskFacts(**out, lines=facts.lines)


class Step:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, float]] = []

    def __call__(self, name: str, fn):
        w, c = time.perf_counter(), _cpu()
        out = fn()
        self.rows.append((name, time.perf_counter() - w, _cpu() - c, _rss_gb()))
        print(f"  {name:<44} {self.rows[-1][1]:7.1f} s wall {self.rows[-1][2]:7.1f} s CPU  peak {_rss_gb():5.2f} GB",
              flush=True)  # fmt: skip
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
    ap.add_argument("--reasons-share", default="1,0.2", help="risk.reasons_share values to run, e.g. 1,0.2")
    a = ap.parse_args()
    month = dt.date.fromisoformat(a.month + "-01")
    re_ = _risk_eval()
    base = re_.load_facts(argparse.Namespace(county=a.county, persons=a.base, seed=a.seed,
                                             as_of=a.as_of, facts_cache=a.facts_cache))  # fmt: skip
    n_base = base.persons["person_no"].n_unique()
    k = max(1, round(a.persons / n_base))
    model = train(base, month, 6, span=a.span, params={"num_threads": a.threads})
    print(f"county of {n_base:,} persons, {base.households.height:,} households; model trained at {month:%Y-%m} "
          f"(span {a.span}); {k} copies → {k * n_base:,} persons", flush=True)  # fmt: skip
    step = Step()
    facts = step("copies of the county (setup, not scoring)", lambda: copies(base, k))
    base = None  # the copies replace it
    feats = step("features (Polars, features_at)", lambda: features_at(facts, month))
    n_all = feats.height
    print(f"{n_all:,} households at risk at {month:%Y-%m}")
    results = {}
    for share in [float(x) for x in a.reasons_share.split(",")]:
        print(f"product path (risk.scoring.score_frame, reasons for the top {share:.0%}):")
        scores = step("probabilities, ranks, contributions, reasons",
                      lambda s=share: score_frame(model, feats, share=0.05, reasons_share=s))  # fmt: skip
        out = Path(tempfile.mkdtemp(prefix="risk_score_")) / "scores.parquet"
        step("scores written (Parquet)", lambda s=scores, o=out: s.write_parquet(o))
        results[share] = scores
    print("beside it, on the same features:")
    step("floor: LightGBM probabilities only", lambda: predict(model, feats))
    n = min(a.sample, n_all)
    sub = feats.head(n)
    print(
        f"before (the county job's former path: contributions of all, to_dicts, reasons_for per row), on {n:,}:"
    )
    c = step("contributions", lambda: contributions(model, sub))
    rows = step("to_dicts()", lambda: sub.to_dicts())
    old = step(
        "reasons_for row by row", lambda: [reasons_for(r, c[i], model.features) for i, r in enumerate(rows)]
    )
    before = sum(r[1] for r in step.rows[-3:]) * n_all / max(n, 1)
    before_cpu = sum(r[2] for r in step.rows[-3:]) * n_all / max(n, 1)
    print(
        f"  extrapolated to {n_all:,}: {before:.0f} s wall, {before_cpu:.0f} s CPU for contributions and reasons"
    )
    full = results.get(1.0)
    if full is not None:
        got = dict(zip(full["household_no"].to_list(), full["reasons"].to_list(), strict=True))
        same = all(got[h] == r for h, r in zip(sub["household_no"].to_list(), old, strict=True))
        print(f"reasons of score_frame == row-by-row reasons on the {n:,}: {same}")
    for share, scores in results.items():
        print(f"top {share:.0%}: in capacity (5 %) {int(scores['in_capacity'].sum()):,}, with reasons "
              f"{sum(1 for r in scores['reasons'].to_list() if r):,}")  # fmt: skip


if __name__ == "__main__":
    main()
