"""The ceiling of any forecast on a generated county: what a ranking that knew the generator's own hidden
state at the origin would find at the top k %, beside the rule (issue #18's 2× goal).

    python bench/risk_ceiling.py [--county 410506] [--persons 100000] [--seeds 0,1,2] [--as-of 2026-12-01]
                                 [--first 2024-07] [--last YYYY-MM] [--step 6] [--horizon 6]
                                 [--capacity 0.05] [--replicates 200] [--medical-push-days N]

The demo history (``demo/generator/history.py``) decides every entry by chance from a monthly hazard:
``sigmoid(z_base + 5.2·log1p(stock))`` with ``z_base`` the household's fixed terms (its income buffer,
no full labour, dependants, 低保/特困 and a random effect nobody observes) and ``stock`` its shocks decaying
15 % a month; a fall is found by a lead 0…5 months later (22 % a month, 57 % with a recent 医保/人社
cause), 85 % of leads are confirmed. With ``history.KEEP_HIDDEN`` the generator keeps that state (no draw
changes), and for every household at risk at origin t this bench computes exactly (the falls and leads
analytically, the causes after t by Monte Carlo over ``--replicates`` draws of the generator's own rates)
the probability of the label (enrolled or a lead confirmed in t … t+N−1) given that the household is at
risk at t (no confirmed lead before t), under three information sets:

- **clairvoyant**: the hazard of every month of the window, the causes after t included (stays, job
  losses, floods that have not happened yet) — more than anyone can know at t;
- **oracle**: everything the generator knows at t — the random effect, the buffer, every cause up to t−1
  whether a department has pushed it or not, the school costs and the certificates and deaths to come —
  but not the stays, job losses and floods after t, nor whether a fall has already happened unseen;
- **oracle without the random effect** (`oracle_nofx`): the same, the household effect drawn from its
  distribution;
- `nolast`, `nolast_nofx`: the two oracles not knowing the causes by chance of month t−1 either (the month
  no department has pushed at t).

For the oracle, the probability is the expectation of the label given everything it knows; the rule's
ranking uses less than that, so the *expected* entrants at the top k % of the oracle, Σ p over its top k,
bound those of every forecast made at t, and Σ p over the rule's top k is the rule's own expectation:
their ratio is the best ratio any forecast can expect against the rule (the sums use a second,
independent Monte Carlo estimate of p, so that the ranking's own noise does not flatter its top; the
clairvoyant's "expected" is the oracle's view of its top, not its own). Also printed: the entrants each
ranking actually finds (the realised draws), per origin and pooled, per seed.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from fangpin.core.clock import add_months  # noqa: E402
from fangpin.demo.generator import history, iter_villages, province_plan  # noqa: E402
from fangpin.demo.generator.params import gen_params_from_defaults  # noqa: E402
from fangpin.risk.facts import facts_from_villages  # noqa: E402
from fangpin.risk.features import features_at, labels_at  # noqa: E402
from fangpin.risk.model import RuleThresholds, rule_scores  # noqa: E402

DECAY = 0.85
CONFIRM = history.CONFIRM_SHARE
WITHIN = history.DETECT_WITHIN


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def hidden_state(a: argparse.Namespace, seed: int):
    """The generated county's facts and its households' hidden state (concatenated over villages)."""
    as_of = dt.date.fromisoformat(a.as_of)
    p = gen_params_from_defaults(a.county, as_of)
    if a.medical_push_days is not None:
        cfg = dataclasses.replace(p.config.history, medical_push_every_days=a.medical_push_days)
        p = dataclasses.replace(p, config=dataclasses.replace(p.config, history=cfg))
    history.KEEP_HIDDEN = True
    try:
        specs = province_plan(a.county, seed=seed, persons=a.persons)
        villages = list(iter_villages(specs, lambda _c: p, seed=seed))
    finally:
        history.KEEP_HIDDEN = False
    facts = facts_from_villages(villages, p.lines)
    parts = [v.history.hidden for v in villages if v.history is not None and v.history.hidden]
    months = villages[0].history.months
    del villages
    cat = {
        k: np.concatenate([h[k] for h in parts])
        for k in parts[0]
        if k not in ("yearly_line", "summer", "household_no")
    }
    cat["household_no"] = [x for h in parts for x in h["household_no"]]
    cat["village"] = np.repeat(np.arange(len(parts)), [len(h["household_no"]) for h in parts])
    cat["yearly_line"] = parts[0]["yearly_line"]
    cat["summer"] = parts[0]["summer"]
    return facts, cat, months


def label_prob(h: np.ndarray, seen: np.ndarray, t0: int, lo: int, hi: int) -> np.ndarray:
    """P(the first confirmed lead is in months lo … hi | none before lo), exactly as the history draws
    falls (h: hazard, households × window months from t0), leads (0…WITHIN−1 months after the fall, rate
    0.22, +0.35 if seen) and confirmations, falls taken in month order (the history's loop)."""
    n, w = h.shape
    pd = 0.22 + 0.35 * seen
    k = np.arange(WITHIN)
    pk = pd[..., None] * (1 - pd[..., None]) ** k  # P(found first k months after the fall)
    q = CONFIRM * pk.sum(-1)  # P(a fall ends the loop: found and confirmed)
    surv = np.cumprod(np.concatenate([np.ones((n, 1)), 1 - h[:, :-1] * q[:, :-1]], axis=1), axis=1)
    lead = (t0 + np.arange(w))[:, None] + k[None, :]  # window month × k → lead month
    inwin = ((lead >= lo) & (lead <= hi)).astype(float)
    before = (lead < lo).astype(float)
    mass = surv[..., None] * h[..., None] * CONFIRM * pk
    num = (mass * inwin[None]).sum((1, 2))
    gone = (mass * before[None]).sum((1, 2))
    return num / np.maximum(1e-12, 1 - gone)


def probabilities(
    s: dict, rows: np.ndarray, ti: int, horizon: int, rng: np.random.Generator, reps: int, unknown: int = 0
):
    """Per household row at origin index ti: (clairvoyant, oracle, oracle without the random effect);
    ``unknown``: months before t whose causes by chance the oracle does not know either (drawn again)."""
    t0 = ti - WITHIN  # falls from t−6 can still lead at t−1 (before: no lead at ≥ t is possible)
    w = ti + horizon - t0  # falls up to the window's last month
    M = s["shock"].shape[1]
    D = DECAY ** np.maximum(0, np.arange(M)[None, :] - np.arange(M)[:, None]) * (
        np.arange(M)[None, :] >= np.arange(M)[:, None]
    )
    shock = s["shock"][rows]
    stock = shock @ D
    seen_all = s["hosp_or_job"][rows]
    seen = np.zeros_like(seen_all)
    for j in range(3):
        seen[:, j:] |= seen_all[:, : M - j] if j else seen_all
    zb = s["z_base"][rows]
    win = slice(t0, t0 + w)
    clair = label_prob(
        1 / (1 + np.exp(-(zb[:, None] + 5.2 * np.log1p(stock[:, win])))),
        seen[:, win],
        t0,
        ti,
        ti + horizon - 1,
    )
    # oracle: the months before t as they were, the causes by chance from t on drawn again
    chance = s["shock_hosp"][rows] + s["shock_job"][rows] + s["shock_disaster"][rows]
    fixed = shock - chance  # school, certificates, deaths: kept as they come
    n = len(rows)
    ti_c = ti  # the origin, for the window
    ti = ti - unknown  # the causes by chance are drawn again from here
    fut = horizon + unknown
    line = s["yearly_line"][ti : ti + fut]
    size = s["size"][rows]
    vil = s["village"][rows]
    nv = int(s["village"].max()) + 1
    summer = s["summer"][ti : ti + fut]
    acc_o = np.zeros(n)
    acc_f = np.zeros(n)
    base_past = stock[:, ti - 1]
    for _ in range(reps):
        hosp = rng.random((n, fut)) < s["h_hosp"][rows][:, None]
        amt = np.exp(rng.normal(np.log(2500), 0.9, (n, fut))) * s["hosp_amount_factor"][rows][:, None]
        sh = np.where(hosp, amt / (line[None, :] * size[:, None]) * 2.2, 0.0)
        job = rng.random((n, fut)) < s["p_job"][rows][:, None]
        reg = rng.random((n, fut)) < 0.5
        sh += np.where(job, s["job_shock"][rows][:, None], 0.0)
        vhit = (rng.random((nv, fut)) < 0.015) & summer[None, :]
        hit = vhit[vil] & (rng.random((n, fut)) < s["hit_share"][rows][:, None])
        loss = s["land"][rows][:, None] * rng.uniform(400, 1100, (n, fut))
        sh += np.where(hit, loss / (line[None, :] * size[:, None]) * 1.5, 0.0)
        sh += fixed[:, ti : ti + fut]
        st = np.empty((n, fut))
        prev = base_past
        for j in range(fut):
            prev = prev * DECAY + sh[:, j]
            st[:, j] = prev
        full = np.concatenate([stock[:, t0:ti], st], axis=1)
        sn = np.concatenate([seen_all[:, :ti], hosp | (job & reg)], axis=1)
        sw = np.zeros_like(sn)
        for j in range(3):
            sw[:, j:] |= sn[:, : sn.shape[1] - j] if j else sn
        sw = sw[:, t0:]
        hi = ti_c + horizon - 1
        acc_o += label_prob(1 / (1 + np.exp(-(zb[:, None] + 5.2 * np.log1p(full)))), sw, t0, ti_c, hi)
        zf = zb - s["frailty"][rows] + rng.normal(0, 0.6, n)
        acc_f += label_prob(1 / (1 + np.exp(-(zf[:, None] + 5.2 * np.log1p(full)))), sw, t0, ti_c, hi)
    return clair, acc_o / reps, acc_f / reps


def top(score: np.ndarray, k: int) -> np.ndarray:
    m = np.zeros(len(score), dtype=bool)
    m[np.argsort(-score, kind="stable")[:k]] = True
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--county", default="410506")
    ap.add_argument("--persons", type=int, default=100000)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--as-of", default="2026-12-01")
    ap.add_argument("--horizon", type=int, default=6)
    ap.add_argument("--capacity", type=float, default=0.05)
    ap.add_argument("--first", default="2024-07")
    ap.add_argument("--last", default="")
    ap.add_argument("--step", type=int, default=6)
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument(
        "--medical-push-days",
        type=int,
        default=None,
        help="医保's push of 脱贫人口's stays every N days (0: monthly), over generator.json's",
    )
    a = ap.parse_args()
    wall0, cpu0 = time.perf_counter(), _cpu()
    as_of = dt.date.fromisoformat(a.as_of)
    names = ("rule", "clairvoyant", "oracle", "oracle_nofx", "nolast", "nolast_nofx")
    grand = {n: [0.0, 0.0] for n in names}
    grand_ent = 0
    for seed in [int(x) for x in a.seeds.split(",")]:
        facts, s, months = hidden_state(a, seed)
        index = {h: i for i, h in enumerate(s["household_no"])}
        end = add_months(as_of.replace(day=1), -a.horizon)
        last = min(dt.date.fromisoformat(a.last + "-01"), end) if a.last else end
        t = dt.date.fromisoformat(a.first + "-01")
        tot = {n: [0.0, 0.0] for n in names}
        tot_ent = 0
        print(f"\n######## seed {seed}: {facts.households.height} households, {facts.events.height} events")
        rng = np.random.default_rng(seed)
        while t <= last:
            ti = months.index(t)
            feats = features_at(facts, t)
            y = (
                feats.join(
                    labels_at(facts, t, a.horizon), on="household_no", how="left", maintain_order="left"
                )["label"]
                .fill_null(0)
                .to_numpy()
            )
            rows = np.array([index[h] for h in feats["household_no"].to_list()])
            k = max(1, int(round(a.capacity * len(y))))
            rule = rule_scores(facts, t, feats, RuleThresholds())
            clair, orac, nofx = probabilities(s, rows, ti, a.horizon, rng, a.replicates)
            _, nolast, nolast_nofx = probabilities(s, rows, ti, a.horizon, rng, a.replicates, unknown=1)
            # an independent estimate of the oracle's probabilities to sum over each ranking's top: the
            # same estimate that ranked would overstate its own top (the noisiest high values are chosen)
            _, expect_p, _ = probabilities(s, rows, ti, a.horizon, rng, a.replicates)
            scores = {
                "rule": rule,
                "clairvoyant": clair,
                "oracle": orac,
                "oracle_nofx": nofx,
                "nolast": nolast,
                "nolast_nofx": nolast_nofx,
            }
            tops = {n: top(scores[n], k) for n in names}
            line = [
                f"t={t:%Y-%m}: {len(y)} at risk, {int(y.sum())} entrants (oracle expects {orac.sum():.1f}), top {k}:"
            ]
            for n in names:
                found, expect = float(y[tops[n]].sum()), float(expect_p[tops[n]].sum())
                tot[n][0] += found
                tot[n][1] += expect
                line.append(f"  {n:<12} found {found:4.0f}  expected by the oracle {expect:6.1f}")
            tot_ent += int(y.sum())
            print("\n".join(line), flush=True)
            t = add_months(t, a.step)
        print(f"== seed {seed} pooled: {tot_ent} entrants")
        for n in names:
            print(
                f"  {n:<12} found {tot[n][0]:5.0f} ({tot[n][0] / max(1, tot['rule'][0]):.2f}x the rule's)  "
                f"expected by the oracle {tot[n][1]:6.1f} ({tot[n][1] / max(1e-9, tot['rule'][1]):.2f}x the rule's)"
            )
            grand[n][0] += tot[n][0]
            grand[n][1] += tot[n][1]
        grand_ent += tot_ent
    print(f"\n== pooled over seeds {a.seeds}: {grand_ent} entrants")
    for n in names:
        print(
            f"  {n:<12} found {grand[n][0]:5.0f} ({grand[n][0] / max(1, grand['rule'][0]):.2f}x)  "
            f"expected {grand[n][1]:6.1f} ({grand[n][1] / max(1e-9, grand['rule'][1]):.2f}x)"
        )
    print(
        f"\n{time.perf_counter() - wall0:.0f}s wall, {_cpu() - cpu0:.0f}s CPU; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
