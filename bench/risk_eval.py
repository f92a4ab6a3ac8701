"""Temporal evaluation of the risk score against the rule-only baseline, on the demo county's history.

    python bench/risk_eval.py [--county 410506] [--persons 60000] [--seed 0] [--as-of 2026-12-01]
                              [--horizon 6] [--capacity 0.05]

For each evaluation month t: the model is trained on months whose outcome window closed before t
(never a same-period split), scores the households at risk at t, and the households enrolled (or with
a lead confirmed) in t … t+horizon−1 are the truth. Printed side by side with the rule (income below
the line or a screening threshold crossed) on the same households: PR-AUC, precision/recall at the top
``capacity`` share, Brier score and a reliability table; then the same month scored by a model one year
older (decay). Everything from generated data (no database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

from fangpin.core.clock import add_months  # noqa: E402
from fangpin.demo.generator import iter_villages, province_plan  # noqa: E402
from fangpin.demo.generator.params import gen_params_from_defaults  # noqa: E402
from fangpin.risk.facts import facts_from_villages  # noqa: E402
from fangpin.risk.model import RuleThresholds, evaluate, train  # noqa: E402


def _fmt(d: dict) -> str:
    return f"PR-AUC {d['pr_auc']:.3f}  top-k found {d['found']:.0f} (precision {d['precision']:.3f}, recall {d['recall']:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--county", default="410506")
    ap.add_argument("--persons", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2026-12-01")
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--capacity", type=float, default=0.05)
    ap.add_argument("--months", default="2025-07,2026-01")
    ap.add_argument("--span", type=int, default=24, help="training months per model (at most)")
    a = ap.parse_args()
    as_of = dt.date.fromisoformat(a.as_of)
    p = gen_params_from_defaults(a.county, as_of)
    t0 = time.perf_counter()
    specs = province_plan(a.county, seed=a.seed, persons=a.persons)
    villages = list(iter_villages(specs, lambda _c: p, seed=a.seed))
    t1 = time.perf_counter()
    facts = facts_from_villages(villages, p.lines)
    del villages
    t2 = time.perf_counter()
    print(
        f"county {a.county}: {facts.households.height} households, {facts.persons.height} persons, "
        f"{facts.events.height} department events, {facts.objects.height} monitoring objects "
        f"(generated in {t1 - t0:.1f}s, facts {t2 - t1:.1f}s); horizon {a.horizon} months, capacity {a.capacity:.0%}"
    )
    thresholds = RuleThresholds()
    cache: dict = {}
    totals = {"model": 0.0, "rule": 0.0, "old": 0.0, "entrants": 0}
    for s in a.months.split(","):
        month = dt.date.fromisoformat(s + "-01")
        ts = time.perf_counter()
        model = train(facts, month, a.horizon, span=a.span, cache=cache)
        old = train(facts, add_months(month, -12), a.horizon, span=a.span, cache=cache)
        tt = time.perf_counter() - ts
        r = evaluate(facts, model, month, a.horizon, a.capacity, thresholds)
        ro = evaluate(facts, old, month, a.horizon, a.capacity, thresholds)
        print(
            f"\n== t = {month:%Y-%m}: {r['households']} households at risk, {r['entrants']} entrants in the next "
            f"{a.horizon} months (base rate {r['base_rate']:.4f}); trained on {len(model.months)} months "
            f"({model.rows} rows, {model.positives} positives; both models in {tt:.1f}s)"
        )
        print(f"  model            {_fmt(r['model'])}  Brier {r['model']['brier']:.5f}")
        print(f"  model a year old {_fmt(ro['model'])}  Brier {ro['model']['brier']:.5f}")
        print(f"  rule             {_fmt(r['rule'])}")
        ratio = r["model"]["found"] / max(1.0, r["rule"]["found"])
        print(f"  model / rule at top {a.capacity:.0%}: {ratio:.2f}x")
        print("  reliability (model): predicted band → households, mean predicted, observed rate")
        for b in r["reliability"]:
            print(
                f"    [{b['lo']:.3f}, {b['hi']:.3f}): {b['n']:6d}  {b['predicted']:.4f}  {b['observed']:.4f}"
            )
        totals["model"] += r["model"]["found"]
        totals["rule"] += r["rule"]["found"]
        totals["old"] += ro["model"]["found"]
        totals["entrants"] += r["entrants"]
    print(
        f"\nall months: entrants {totals['entrants']}, found at top {a.capacity:.0%}: model {totals['model']:.0f}, "
        f"model a year old {totals['old']:.0f}, rule {totals['rule']:.0f} → model/rule "
        f"{totals['model'] / max(1.0, totals['rule']):.2f}x (goal ≥ 2x)"
    )


if __name__ == "__main__":
    main()
