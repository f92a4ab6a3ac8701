"""Temporal evaluation of the risk score against the rule-only baseline, on the demo county's history.

    python bench/risk_eval.py [--county 410506] [--persons 100000] [--seed 0] [--as-of 2026-12-01]
                              [--horizon 6] [--capacity 0.05] [--first 2024-07] [--step 3] [--span 24]
                              [--facts-cache DIR] [--boot 2000] [--lgb k=v,...] [--rounds R] [--drop F,...]
                              [--train-horizon H]

Rolling origins: t = --first, --first+step, … up to the last month whose outcome window t … t+horizon−1
closed before as_of. At every origin t the model is trained on months whose outcome window closed before
t (never a same-period split; ``model.train``), scores the households at risk at t, and the households
enrolled (or with a lead confirmed) in t … t+horizon−1 are the truth. Side by side on the same households:
the rule (income below the line or a screening threshold crossed; ``model.rule_scores``), the model, and
the model trained at t−12 (a year old: the decay). Per origin and pooled over all origins: entrants,
found / precision / recall at the top ``capacity`` share, PR-AUC, Brier, a reliability table; for the
pooled ratio model/rule a 95 % bootstrap interval (households resampled, all their origins together),
and the paired counts (entrants found by the model only / by the rule only).

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
from fangpin.risk.features import FEATURES, features_at, labels_at  # noqa: E402
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
)

FRAMES = ("households", "persons", "incomes", "events", "leads", "objects")


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_facts(a: argparse.Namespace) -> RiskFacts:
    as_of = dt.date.fromisoformat(a.as_of)
    p = gen_params_from_defaults(a.county, as_of)
    cache = Path(a.facts_cache) / f"{a.county}-{a.persons}-{a.seed}-{a.as_of}" if a.facts_cache else None
    if cache and (cache / "objects.parquet").exists():
        frames = {n: pl.read_parquet(cache / f"{n}.parquet") for n in FRAMES}
        if "known_on" in frames["persons"].columns:
            print(f"facts read from {cache}")
            return RiskFacts(**frames, lines={int(k): float(v) for k, v in p.lines.items()})
        print(f"{cache} predates the person versions (valid_from, known_on): generating again")
    t0 = time.perf_counter()
    specs = province_plan(a.county, seed=a.seed, persons=a.persons)
    villages = list(iter_villages(specs, lambda _c: p, seed=a.seed))
    t1 = time.perf_counter()
    facts = facts_from_villages(villages, p.lines)
    del villages
    print(f"generated in {t1 - t0:.1f}s, facts {time.perf_counter() - t1:.1f}s")
    if cache:
        cache.mkdir(parents=True, exist_ok=True)
        for n in FRAMES:
            getattr(facts, n).write_parquet(cache / f"{n}.parquet")
    return facts


def origins(first: dt.date, step: int, horizon: int, as_of: dt.date) -> list[dt.date]:
    last = add_months(as_of.replace(day=1), -horizon)  # window t … t+h−1 ends before as_of's month
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--county", default="410506")
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2026-12-01")
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--capacity", type=float, default=0.05)
    ap.add_argument("--first", default="2024-07", help="first origin YYYY-MM")
    ap.add_argument("--step", type=int, default=3, help="months between origins")
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
        "--train-horizon",
        type=int,
        default=None,
        help="label window of the training months (default: --horizon); the evaluation keeps --horizon",
    )
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap resamples for the pooled ratio")
    a = ap.parse_args()
    wall0, cpu0 = time.perf_counter(), _cpu()
    as_of = dt.date.fromisoformat(a.as_of)
    facts = load_facts(a)
    n_persons = facts.persons["person_no"].n_unique()
    print(
        f"county {a.county}: {facts.households.height} households, {n_persons} persons "
        f"({facts.persons.height - n_persons} dated trait changes), "
        f"{facts.events.height} department events, {facts.objects.height} monitoring objects; "
        f"horizon {a.horizon} months, capacity {a.capacity:.0%}, training span {a.span}"
    )
    ts = origins(dt.date.fromisoformat(a.first + "-01"), a.step, a.horizon, as_of)
    print("origins: " + ", ".join(f"{t:%Y-%m}" for t in ts))
    thresholds = RuleThresholds()
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
    features = tuple(f for f in FEATURES if f not in dropped)
    if dropped:
        print(f"features left out: {dropped} ({len(features)} of {len(FEATURES)})")
    cache: dict = {}
    models: dict[dt.date, object] = {}
    train_wall = train_cpu = 0.0

    def model_at(t: dt.date):
        nonlocal train_wall, train_cpu
        if t not in models:
            w, c = time.perf_counter(), _cpu()
            models[t] = train(
                facts,
                t,
                a.train_horizon or a.horizon,
                span=a.span,
                cache=cache,
                params=lgb_params,
                rounds=rounds,
                features=features,
            )
            train_wall += time.perf_counter() - w
            train_cpu += _cpu() - c
        return models[t]

    # per entrant household: entrant-origins found by each ranking (pooled; the bootstrap resamples them)
    per_hh: dict[str, np.ndarray] = {}  # household → [entrants, model, rule, old, model_only, rule_only]
    pooled_y: list[np.ndarray] = []
    pooled_p: list[np.ndarray] = []
    tot = {"households": 0, "entrants": 0, "model": 0.0, "rule": 0.0, "old": 0.0, "k": 0}
    for t in ts:
        model, old = model_at(t), model_at(add_months(t, -12))
        feats = features_at(facts, t)
        y = (
            feats.join(labels_at(facts, t, a.horizon), on="household_no", how="left", maintain_order="left")[
                "label"
            ]
            .fill_null(0)
            .to_numpy()
        )
        p, po, r = predict(model, feats), predict(old, feats), rule_scores(facts, t, feats, thresholds)
        res = {}
        tops = {}
        for name, s in (("model", p), ("old", po), ("rule", r)):
            res[name] = {"pr_auc": average_precision(y, s), **at_top(y, s, a.capacity)}
            top = np.zeros(len(y), dtype=bool)
            top[np.argsort(-s, kind="stable")[: res[name]["k"]]] = True
            tops[name] = top
        res["model"]["brier"] = brier(y, p)
        res["old"]["brier"] = brier(y, po)
        print(
            f"\n== t = {t:%Y-%m}: {len(y)} households at risk, {int(y.sum())} entrants in the next {a.horizon} "
            f"months (base rate {y.mean():.4f}, top {a.capacity:.0%} = {res['model']['k']}); model on "
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
        tot["traced"] = tot.get("traced", 0) + traced
        print(
            f"  entrants with a department event known before t (last 12 months): {traced} of {len(ent)}; "
            f"households at risk with one: {sum(h in seen for h in feats['household_no'].to_list())}"
        )
        print(_line("model", res["model"]))
        print(_line("model a year old", res["old"]))
        print(_line("rule", res["rule"]))
        print(f"  model / rule: {res['model']['found'] / max(1.0, res['rule']['found']):.2f}x")
        for i in np.nonzero(y)[0]:
            hh = feats["household_no"][int(i)]
            row = per_hh.setdefault(hh, np.zeros(6))
            m_, r_ = tops["model"][i], tops["rule"][i]
            row += [1, m_, r_, tops["old"][i], m_ and not r_, r_ and not m_]
        pooled_y.append(y)
        pooled_p.append(p)
        tot["households"] += len(y)
        tot["entrants"] += int(y.sum())
        tot["k"] += res["model"]["k"]
        for n in ("model", "rule", "old"):
            tot[n] += res[n]["found"]
    mat = np.array(list(per_hh.values()))
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(a.boot):
        w = rng.multinomial(len(mat), np.full(len(mat), 1 / len(mat)))
        s = w @ mat
        ratios.append(s[1] / max(1.0, s[2]))
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    y_all, p_all = np.concatenate(pooled_y), np.concatenate(pooled_p)
    print(
        f"\n== pooled over {len(ts)} origins: {tot['households']} household-origins, {tot['entrants']} entrants "
        f"({mat[:, 0].astype(bool).sum():.0f} distinct households; {tot['traced']} with a department event known "
        f"in the 12 months before t), top {a.capacity:.0%} = {tot['k']} visits"
    )
    for n, label in (("model", "model"), ("old", "model a year old"), ("rule", "rule")):
        print(
            f"  {label:<17} found {tot[n]:5.0f}  precision {tot[n] / tot['k']:.4f}  "
            f"recall {tot[n] / max(1, tot['entrants']):.3f}"
        )
    print(
        f"  model / rule {tot['model'] / max(1.0, tot['rule']):.2f}x  (95% bootstrap {lo:.2f}x … {hi:.2f}x; "
        f"goal ≥ 2x)   entrants found by the model only {mat[:, 4].sum():.0f}, by the rule only {mat[:, 5].sum():.0f}"
    )
    print(
        f"  model Brier {brier(y_all, p_all):.5f}; reliability (pooled): band → n, mean predicted, observed"
    )
    for b in reliability(y_all, p_all):
        print(f"    [{b['lo']:.3f}, {b['hi']:.3f}): {b['n']:7d}  {b['predicted']:.4f}  {b['observed']:.4f}")
    print(
        f"\ntraining {len(models)} models: {train_wall:.0f}s wall, {train_cpu:.0f}s CPU; whole run "
        f"{time.perf_counter() - wall0:.0f}s wall, {_cpu() - cpu0:.0f}s CPU; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
