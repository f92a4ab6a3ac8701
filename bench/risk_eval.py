"""Temporal evaluation of the risk score against the rule-only baseline, on the demo county's history.

    python bench/risk_eval.py [--county 410506] [--persons 100000] [--seed 0 | --seeds 0,1,2]
                              [--as-of 2026-12-01] [--horizon 6] [--capacity 0.05] [--first 2024-07]
                              [--last YYYY-MM] [--step 3] [--span 24] [--facts-cache DIR] [--boot 2000]
                              [--lgb k=v,...] [--rounds R] [--drop F,...] [--add F,...] [--train-horizon H]
                              [--rule-work-end] [--rule-months K] [--rule-windows 1,2,3,6,12]

Rolling origins: t = --first, --first+step, … up to the last month whose outcome window t … t+horizon−1
closed before as_of. At every origin t the model is trained on months whose outcome window closed before
t (never a same-period split; ``model.train``), scores the households at risk at t, and the households
enrolled (or with a lead confirmed) in t … t+horizon−1 are the truth. Side by side on the same households:
the rule (income below the line or a screening threshold crossed; ``model.rule_scores``), the model, and
the model trained at t−12 (a year old: the decay). Per origin and pooled over all origins: entrants,
found / precision / recall at the top ``capacity`` share, PR-AUC, Brier, a reliability table; for the
pooled ratio model/rule a 95 % bootstrap interval (households resampled, all their origins together),
and the paired counts (entrants found by the model only / by the rule only).

``--seeds 0,1,2`` evaluates several generated counties (generator seeds) in one run: each county as above,
then all of them pooled, with one bootstrap interval that resamples entrant households within each county
(stratified), and a closing table of entrants, model, model a year old, rule, ratio and interval per seed
and pooled. ``--last`` stops the origins early: ``--first 2023-07 --last 2024-01`` is a validation window
whose outcomes are all known before the first test origin (2024-07), to choose settings (``--lgb``,
``--rounds``, ``--drop``, ``--span``) without looking at the test period. At an origin with no month a
year earlier to train on, the "model a year old" is the current model.

The generated facts can be kept in ``--facts-cache`` (Parquet) to rerun without regenerating; ``--lgb`` /
``--rounds`` override the product's LightGBM settings (e.g. ``num_threads=1`` on a loaded machine,
``scale_pos_weight=5``), ``--drop`` leaves features out (ablation) and ``--train-horizon`` trains on
another label window than the one evaluated (e.g. 12 months: twice the positives, but the training
months end 12 months before t). Everything
from generated data (no database). Prints CPU beside wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangpin.settings.dev")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from fangpin.core.clock import add_months  # noqa: E402
from fangpin.demo.generator import iter_villages, province_plan  # noqa: E402
from fangpin.demo.generator.params import gen_params_from_defaults  # noqa: E402
from fangpin.risk.facts import RiskFacts, facts_from_villages  # noqa: E402
from fangpin.risk.features import CANDIDATES, FEATURES, features_at, labels_at  # noqa: E402
from fangpin.risk.model import (  # noqa: E402
    ROUNDS,
    RuleThresholds,
    at_top,
    average_precision,
    brier,
    predict,
    reliability,
    rule_scores,
    train,
    training_months,
)

FRAMES = ("households", "persons", "incomes", "events", "leads", "objects")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_facts(a: argparse.Namespace, seed: int | None = None) -> RiskFacts:
    seed = a.seed if seed is None else seed
    as_of = dt.date.fromisoformat(a.as_of)
    p = gen_params_from_defaults(a.county, as_of)
    cache = Path(a.facts_cache) / f"{a.county}-{a.persons}-{seed}-{a.as_of}" if a.facts_cache else None
    if cache and (cache / "objects.parquet").exists():
        frames = {n: pl.read_parquet(cache / f"{n}.parquet") for n in FRAMES}
        if "known_on" in frames["persons"].columns:
            print(f"facts read from {cache}")
            return RiskFacts(**frames, lines={int(k): float(v) for k, v in p.lines.items()})
        print(f"{cache} predates the person versions (valid_from, known_on): generating again")
    t0 = time.perf_counter()
    specs = province_plan(a.county, seed=seed, persons=a.persons)
    villages = list(iter_villages(specs, lambda _c: p, seed=seed))
    t1 = time.perf_counter()
    facts = facts_from_villages(villages, p.lines)
    del villages
    print(f"generated in {t1 - t0:.1f}s, facts {time.perf_counter() - t1:.1f}s")
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for n in FRAMES:
            getattr(facts, n).write_parquet(cache / f"{n}.parquet")
    return facts


def origins(
    first: dt.date, step: int, horizon: int, as_of: dt.date, last: dt.date | None = None
) -> list[dt.date]:
    end = add_months(as_of.replace(day=1), -horizon)  # window t … t+h−1 ends before as_of's month
    last = min(last, end) if last else end
    out, m = [], first
    while m <= last:
        out.append(m)
        m = add_months(m, step)
    return out


def _line(name: str, d: dict) -> str:
    return (
        f"  {name:<17} found {d['found']:4.0f} (precision {d['precision']:.3f}, recall {d['recall']:.3f})"
        f"  PR-AUC {d['pr_auc']:.4f}" + (f"  Brier {d['brier']:.5f}" if "brier" in d else "")
    )


RANKINGS = ("model", "old", "rule")
LABELS = {"model": "model", "old": "model a year old", "rule": "rule"}


@dataclass
class County:
    """One generated county's evaluation: per origin and per entrant household."""

    seed: int
    origins: list[dict] = field(default_factory=list)  # t, households, entrants, traced, k, per ranking
    # entrant household → [entrant-origins, model, rule, old, model only, rule only] found at the top k
    per_hh: dict[str, np.ndarray] = field(default_factory=dict)
    y: list[np.ndarray] = field(default_factory=list)
    p: list[np.ndarray] = field(default_factory=list)
    rule_windows: dict[int, float] = field(default_factory=dict)  # --rule-windows: look-back → found

    def total(self, key: str) -> float:
        return float(sum(o[key] for o in self.origins))

    def found(self, name: str) -> float:
        return float(sum(o[name]["found"] for o in self.origins))


def evaluate_county(a: argparse.Namespace, seed: int, options: dict) -> County:
    as_of = dt.date.fromisoformat(a.as_of)
    facts = load_facts(a, seed)
    n_persons = facts.persons["person_no"].n_unique()
    print(
        f"\n######## seed {seed}: county {a.county}: {facts.households.height} households, {n_persons} persons "
        f"({facts.persons.height - n_persons} dated trait changes), "
        f"{facts.events.height} department events, {facts.objects.height} monitoring objects; "
        f"horizon {a.horizon} months, capacity {a.capacity:.0%}, training span {a.span}"
    )
    last = dt.date.fromisoformat(a.last + "-01") if a.last else None
    ts = origins(dt.date.fromisoformat(a.first + "-01"), a.step, a.horizon, as_of, last)
    print("origins: " + ", ".join(f"{t:%Y-%m}" for t in ts))
    thresholds = RuleThresholds(work_end=a.rule_work_end, recent_months=a.rule_months)
    windows = [int(w) for w in a.rule_windows.split(",") if w]
    cache: dict = {}
    models: dict[dt.date, object] = {}
    out = County(seed)

    def model_at(t: dt.date):
        if t not in models:
            w, c = time.perf_counter(), _cpu()
            models[t] = train(
                facts,
                t,
                a.train_horizon or a.horizon,
                span=a.span,
                cache=cache,
                params=options["lgb"],
                rounds=options["rounds"],
                features=options["features"],
            )
            options["train_wall"] += time.perf_counter() - w
            options["train_cpu"] += _cpu() - c
        return models[t]

    for t in ts:
        model = model_at(t)
        # a year old: none if no month a year earlier had its outcome window closed (early origins)
        old = (
            model
            if not training_months(facts, add_months(t, -12), a.horizon)
            else model_at(add_months(t, -12))
        )
        feats = features_at(facts, t)
        y = (
            feats.join(labels_at(facts, t, a.horizon), on="household_no", how="left", maintain_order="left")[
                "label"
            ]
            .fill_null(0)
            .to_numpy()
        )
        p, po, r = predict(model, feats), predict(old, feats), rule_scores(facts, t, feats, thresholds)
        res: dict = {}
        tops = {}
        for name, s in (("model", p), ("old", po), ("rule", r)):
            res[name] = {"pr_auc": average_precision(y, s), **at_top(y, s, a.capacity)}
            top = np.zeros(len(y), dtype=bool)
            top[np.argsort(-s, kind="stable")[: res[name]["k"]]] = True
            tops[name] = top
        res["model"]["brier"] = brier(y, p)
        res["old"]["brier"] = brier(y, po)
        print(
            f"\n== seed {seed}, t = {t:%Y-%m}: {len(y)} households at risk, {int(y.sum())} entrants in the next "
            f"{a.horizon} months (base rate {y.mean():.4f}, top {a.capacity:.0%} = {res['model']['k']}); model on "
            f"{len(model.months)} months ({model.rows} rows, {model.positives} positives)"
        )
        # how many entrants left any trace the county could see before t (a ceiling for any forecast)
        seen = set(
            facts.events.filter((pl.col("known_on") < t) & (pl.col("month") >= add_months(t, -12)))[
                "household_no"
            ].to_list()
        )
        ent = feats["household_no"].filter(pl.Series(y == 1)).to_list()
        traced = sum(h in seen for h in ent)
        print(
            f"  entrants with a department event known before t (last 12 months): {traced} of {len(ent)}; "
            f"households at risk with one: {sum(h in seen for h in feats['household_no'].to_list())}"
        )
        for name in RANKINGS:
            print(_line(LABELS[name], res[name]))
        print(f"  model / rule: {res['model']['found'] / max(1.0, res['rule']['found']):.2f}x")
        if windows:
            by_window = {
                w: at_top(y, rule_scores(facts, t, feats, replace(thresholds, recent_months=w)), a.capacity)[
                    "found"
                ]
                for w in windows
            }
            for w, f in by_window.items():
                out.rule_windows[w] = out.rule_windows.get(w, 0.0) + f
            print(
                "  rule by look-back (months: found): "
                + ", ".join(f"{w}: {f:.0f}" for w, f in by_window.items())
            )
        for i in np.nonzero(y)[0]:
            hh = feats["household_no"][int(i)]
            row = out.per_hh.setdefault(hh, np.zeros(6))
            m_, r_ = tops["model"][i], tops["rule"][i]
            row += [1, m_, r_, tops["old"][i], m_ and not r_, r_ and not m_]
        out.y.append(y)
        out.p.append(p)
        out.origins.append(
            {
                "t": t,
                "households": len(y),
                "entrants": int(y.sum()),
                "traced": traced,
                "k": res["model"]["k"],
                **res,
            }
        )
    return out


def bootstrap(mats: list[np.ndarray], boot: int) -> tuple[float, float]:
    """95 % interval of the ratio model/rule: entrant households resampled with all their origins,
    within each county (stratified: every county keeps its number of entrant households)."""
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(boot):
        s = np.zeros(6)
        for mat in mats:
            w = rng.multinomial(len(mat), np.full(len(mat), 1 / len(mat)))
            s += w @ mat
        ratios.append(s[1] / max(1.0, s[2]))
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return float(lo), float(hi)


def summary(name: str, counties: list[County], a: argparse.Namespace) -> dict:
    mats = [np.array(list(c.per_hh.values())) for c in counties]
    lo, hi = bootstrap(mats, a.boot)
    y_all = np.concatenate([y for c in counties for y in c.y])
    p_all = np.concatenate([p for c in counties for p in c.p])
    n_origins = sum(len(c.origins) for c in counties)
    tot = {key: sum(c.total(key) for c in counties) for key in ("households", "entrants", "traced", "k")}
    found = {n: sum(c.found(n) for c in counties) for n in RANKINGS}
    pr_auc = {n: float(np.mean([o[n]["pr_auc"] for c in counties for o in c.origins])) for n in RANKINGS}
    print(
        f"\n== {name}: {n_origins} origins, {tot['households']:.0f} household-origins, {tot['entrants']:.0f} "
        f"entrants ({sum(len(m) for m in mats)} distinct households; {tot['traced']:.0f} with a department event "
        f"known in the 12 months before t), top {a.capacity:.0%} = {tot['k']:.0f} visits"
    )
    for n in RANKINGS:
        print(
            f"  {LABELS[n]:<17} found {found[n]:5.0f}  precision {found[n] / tot['k']:.4f}  "
            f"recall {found[n] / max(1, tot['entrants']):.3f}  PR-AUC (mean over origins) {pr_auc[n]:.4f}"
        )
    ratio = found["model"] / max(1.0, found["rule"])
    print(
        f"  model / rule {ratio:.2f}x  (95% bootstrap {lo:.2f}x … {hi:.2f}x; goal ≥ 2x); a year old / rule "
        f"{found['old'] / max(1.0, found['rule']):.2f}x; entrants found by the model only "
        f"{sum(m[:, 4].sum() for m in mats):.0f}, by the rule only {sum(m[:, 5].sum() for m in mats):.0f}"
    )
    windows: dict[int, float] = {}
    for c in counties:
        for w, f in c.rule_windows.items():
            windows[w] = windows.get(w, 0.0) + f
    if windows:
        print(
            "  rule by look-back (months: found, model / rule): "
            + ", ".join(
                f"{w}: {f:.0f} ({found['model'] / max(1.0, f):.2f}x)" for w, f in sorted(windows.items())
            )
        )
    print(f"  model Brier {brier(y_all, p_all):.5f}; reliability: band → n, mean predicted, observed")
    for b in reliability(y_all, p_all):
        print(f"    [{b['lo']:.3f}, {b['hi']:.3f}): {b['n']:7d}  {b['predicted']:.4f}  {b['observed']:.4f}")
    return {"ratio": ratio, "lo": lo, "hi": hi, **tot, **{f"found_{n}": found[n] for n in RANKINGS}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--county", default="410506")
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default="", help="generated counties (generator seeds) pooled, e.g. 0,1,2")
    ap.add_argument("--as-of", default="2026-12-01")
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--capacity", type=float, default=0.05)
    ap.add_argument("--first", default="2024-07", help="first origin YYYY-MM")
    ap.add_argument("--step", type=int, default=3, help="months between origins")
    ap.add_argument(
        "--last",
        default="",
        help="last origin YYYY-MM (a validation window: e.g. --first 2023-07 --last 2024-01, whose outcome "
        "windows close before the test origins from 2024-07, to choose settings without the test period)",
    )
    ap.add_argument("--span", type=int, default=24, help="training months per model (at most)")
    ap.add_argument("--facts-cache", default="", help="directory to keep the generated facts (Parquet)")
    ap.add_argument("--lgb", default="", help="LightGBM settings over the product's, e.g. scale_pos_weight=5")
    ap.add_argument("--rounds", type=int, default=None, help="boosting rounds (default: the product's)")
    ap.add_argument(
        "--drop",
        default="",
        help="features left out (ablation), e.g. village_entries_24m,village_disaster_12m",
    )
    ap.add_argument(
        "--add",
        default="",
        help=f"candidate features added (features.CANDIDATES: {','.join(CANDIDATES)})",
    )
    ap.add_argument(
        "--train-horizon",
        type=int,
        default=None,
        help="label window of the training months (default: --horizon); the evaluation keeps --horizon",
    )
    ap.add_argument(
        "--rule-work-end",
        action="store_true",
        help="the rule flags a 务工月监测 end of migrant work as it flags a 失业登记 (default: 失业登记 only)",
    )
    ap.add_argument(
        "--rule-months",
        type=int,
        default=RuleThresholds.recent_months,
        help="months of department events the rule flags (default: the product's)",
    )
    ap.add_argument(
        "--rule-windows",
        default="",
        help="also print, per origin and pooled, what the rule finds with these look-backs (e.g. 1,2,3,6,12)",
    )
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples for the pooled ratio")
    a = ap.parse_args()
    wall0, cpu0 = time.perf_counter(), _cpu()
    seeds = [int(s) for s in a.seeds.split(",") if s] or [a.seed]
    lgb_params = {
        k: (int(v) if v.lstrip("-").isdigit() else float(v))
        for k, v in (kv.split("=") for kv in a.lgb.split(",") if kv)
    }
    rounds = a.rounds or ROUNDS
    if a.train_horizon:
        print(f"trained on {a.train_horizon}-month label windows, evaluated on {a.horizon}")
    if lgb_params or a.rounds:
        print(f"LightGBM settings over the product's: {lgb_params}, rounds {rounds}")
    dropped = [f for f in a.drop.split(",") if f]
    unknown = set(dropped) - set(FEATURES)
    if unknown:
        raise SystemExit(f"--drop: unknown features {sorted(unknown)}")
    added = [f for f in a.add.split(",") if f]
    if set(added) - set(CANDIDATES):
        raise SystemExit(f"--add: unknown candidates {sorted(set(added) - set(CANDIDATES))}")
    features = tuple(f for f in FEATURES if f not in dropped) + tuple(added)
    if added:
        print(f"candidate features added: {added}")
    if dropped:
        print(f"features left out: {dropped} ({len(features)} of {len(FEATURES)})")
    options = {"lgb": lgb_params, "rounds": rounds, "features": features, "train_wall": 0.0, "train_cpu": 0.0}
    counties = [evaluate_county(a, s, options) for s in seeds]
    rows = [(f"seed {c.seed}", summary(f"seed {c.seed}, pooled over its origins", [c], a)) for c in counties]
    if len(counties) > 1:
        rows.append((f"seeds {a.seeds}", summary(f"pooled over seeds {a.seeds}", counties, a)))
    print(f"\n== model / rule at the top {a.capacity:.0%}, side by side")
    print(f"  {'county':<14} entrants  model  a year old  rule  model/rule  95% bootstrap")
    for name, s in rows:
        print(
            f"  {name:<14} {s['entrants']:8.0f} {s['found_model']:6.0f} {s['found_old']:11.0f} {s['found_rule']:5.0f}"
            f"  {s['ratio']:9.2f}x  {s['lo']:.2f}x … {s['hi']:.2f}x"
        )
    print(
        f"\ntraining: {options['train_wall']:.0f}s wall, {options['train_cpu']:.0f}s CPU; whole run "
        f"{time.perf_counter() - wall0:.0f}s wall, {_cpu() - cpu0:.0f}s CPU; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
