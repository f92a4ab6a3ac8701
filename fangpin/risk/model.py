"""The gradient-boosted model (LightGBM), its training on months whose outcome is already known, its
per-feature contributions (LightGBM's own ``pred_contrib``), the rule-only baseline and the metrics.

Training at ``through`` uses only months ``m`` whose whole label window ``m … m + horizon − 1`` lies
before ``through``: a model trained at ``through`` has seen no outcome after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from fangpin.core.clock import add_months

from .facts import RiskFacts
from .features import FEATURES, features_at, labelled

LGB_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.04,
    "num_leaves": 15,
    "min_data_in_leaf": 80,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "seed": 7,
    "deterministic": True,
    "num_threads": 2,
    "verbose": -1,
}
ROUNDS = 250


@dataclass
class TrainedModel:
    booster: Any  # lightgbm.Booster
    through: dt.date
    horizon: int
    months: list[dt.date]
    rows: int
    positives: int
    features: tuple[str, ...] = FEATURES
    meta: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        return self.booster.model_to_string()

    @classmethod
    def from_text(cls, text: str, *, through: dt.date, horizon: int) -> TrainedModel:
        import lightgbm as lgb

        return cls(lgb.Booster(model_str=text), through, horizon, [], 0, 0)


def training_months(facts: RiskFacts, through: dt.date, horizon: int, *, span: int = 36) -> list[dt.date]:
    """Months whose label window ends before ``through``, at most ``span`` of them, starting once a
    complete year of income is known (April of the second year of the facts)."""
    first_year = min(facts.lines)
    start = max(dt.date(first_year + 1, 4, 1), add_months(through.replace(day=1), -span - horizon + 1))
    last = add_months(through.replace(day=1), -horizon)
    out, m = [], start
    while m <= last:
        out.append(m)
        m = add_months(m, 1)
    return out


def train(
    facts: RiskFacts,
    through: dt.date,
    horizon: int = 6,
    *,
    span: int = 36,
    cache: dict[dt.date, pl.DataFrame] | None = None,
    params: dict[str, Any] | None = None,
    rounds: int = ROUNDS,
    features: tuple[str, ...] = FEATURES,
) -> TrainedModel:
    """``cache``: month → features of the month (``features.features_at``), filled and reused across
    cuts (a month's features do not depend on the cut; its labels do, see below);
    ``params``: LightGBM settings over ``LGB_PARAMS`` (the bench tries others, e.g. a class weight);
    ``features``: a subset of ``FEATURES`` (the bench's ablation).

    Labels are as known at ``through``: an enrolment in a training month's window is known (the window
    ends before ``through``), a lead confirmed only if its verification closed before ``through``
    (``labels_at(known_before=through)``); before 2026-12-04 a lead opened in the window but confirmed on
    or after ``through`` counted too — an outcome the county did not yet know."""
    import lightgbm as lgb

    months = training_months(facts, through, horizon, span=span)
    if not months:
        raise ValueError(f"no month before {through} has a closed {horizon}-month outcome window")
    cut = through.replace(day=1)
    parts = []
    for m in months:
        if cache is None:
            feats = features_at(facts, m)
        else:
            if m not in cache:
                cache[m] = features_at(facts, m)
            feats = cache[m]
        parts.append(labelled(feats, facts, m, horizon, known_before=cut))
    data = pl.concat(parts)
    x = data.select(features).to_numpy()
    y = data["label"].to_numpy()
    ds = lgb.Dataset(x, label=y, feature_name=list(features), free_raw_data=True)
    booster = lgb.train({**LGB_PARAMS, **(params or {})}, ds, num_boost_round=rounds)
    return TrainedModel(
        booster, through, horizon, months, int(len(y)), int(y.sum()), features=tuple(features)
    )


def predict(model: TrainedModel, feats: pl.DataFrame) -> np.ndarray:
    if feats.height == 0:
        return np.zeros(0)
    return model.booster.predict(feats.select(model.features).to_numpy())


def contributions(model: TrainedModel, feats: pl.DataFrame) -> np.ndarray:
    """Per-household, per-feature contributions to the log-odds (last column: the bias)."""
    if feats.height == 0:
        return np.zeros((0, len(model.features) + 1))
    return model.booster.predict(feats.select(model.features).to_numpy(), pred_contrib=True)


# -- the rule-only baseline -----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleThresholds:
    """The screening thresholds the rule applies (policy parameters ``screening.*``)."""

    exited_annual_oop: float = 5000
    disaster_loss: float = 1000
    severe_grades: tuple[int, ...] = (1, 2)
    # ``True``: a 务工月监测 end of migrant work (demo history kind ``work_end``) flags as a 失业登记 does;
    # off by default: most ends are job changes, and with it the rule found fewer entrants on the
    # validation window (docs/parts/risk.md, session 6)
    work_end: bool = False
    # the months of department events a screening flags (失业登记, death, new disability, disaster): a
    # county screens each month's new pushes, so an event older than this was a screening hit (a lead)
    # already. 3 = months t−3 … t−1 (in practice the last two pushes: the push lag). Chosen on the
    # validation window as the rule's best (look-backs 1 / 2 / 3 / 6 / 12 found 91 / 91 / 95 / 89 / 77 of
    # 541 entrants; docs/parts/risk.md, session 10); until 2026-12-04 it was 2, never chosen
    recent_months: int = 3


def rule_scores(facts: RiskFacts, month: dt.date, feats: pl.DataFrame, t: RuleThresholds) -> np.ndarray:
    """The rule as a county applies it today, as a ranking: income below the line, or a screening
    threshold crossed in the data known before ``month`` (当年累计住院自付 ≥ threshold, 失业登记 of a
    labourer or the end of a migrant's work in the 务工月监测 (``t.work_end``), a new 一二级 disability, a death, a disaster loss ≥ threshold, a C/D house). Flagged
    households first (by number of flags), then by income ratio (lowest first)."""
    month = month.replace(day=1)
    ev = facts.events.filter(pl.col("known_on") < month)
    ytd = (
        ev.filter(
            (pl.col("kind") == "hospital")
            & (pl.col("month").dt.year() == (month - dt.timedelta(days=1)).year)
        )
        .group_by("household_no")
        .agg(ytd=pl.col("amount").sum())
    )
    recent = ev.filter(pl.col("month") >= add_months(month, -t.recent_months))
    flags = recent.group_by("household_no").agg(
        unemployed=pl.col("kind").is_in(["job_loss", "work_end"] if t.work_end else ["job_loss"]).any(),
        severe=(
            (pl.col("kind") == "disability") & pl.col("amount").is_in([float(g) for g in t.severe_grades])
        ).any(),
        death=(pl.col("kind") == "death").any(),
        disaster=((pl.col("kind") == "disaster") & (pl.col("amount") >= t.disaster_loss)).any(),
    )
    f = (
        feats.select("household_no", "income_ratio", "house_unsafe")
        .join(ytd, on="household_no", how="left", maintain_order="left")
        .join(flags, on="household_no", how="left", maintain_order="left")
        .with_columns(
            n=(
                (pl.col("income_ratio").fill_null(9) < 1).cast(pl.Int32)
                + (pl.col("ytd").fill_null(0) >= t.exited_annual_oop).cast(pl.Int32)
                + pl.col("unemployed").fill_null(False).cast(pl.Int32)
                + pl.col("severe").fill_null(False).cast(pl.Int32)
                + pl.col("death").fill_null(False).cast(pl.Int32)
                + pl.col("disaster").fill_null(False).cast(pl.Int32)
                + (pl.col("house_unsafe") > 0).cast(pl.Int32)
            )
        )
    )
    # flags dominate; the income ratio only orders within the same number of flags
    return (f["n"].to_numpy() * 10.0 - np.clip(f["income_ratio"].fill_null(3).to_numpy(), 0, 9)).astype(float)


# -- metrics --------------------------------------------------------------------------------------


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """PR-AUC as average precision (ties broken by order of appearance after a stable sort)."""
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    yy = y[order]
    hits = np.cumsum(yy)
    prec = hits / np.arange(1, len(yy) + 1)
    return float((prec * yy).sum() / yy.sum())


def at_top(y: np.ndarray, s: np.ndarray, share: float) -> dict[str, float]:
    k = max(1, int(round(share * len(y))))
    top = np.argsort(-s, kind="stable")[:k]
    found = float(y[top].sum())
    return {"k": k, "found": found, "precision": found / k, "recall": found / max(1.0, float(y.sum()))}


def reliability(
    y: np.ndarray, p: np.ndarray, bins: tuple[float, ...] = (0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 1.01)
) -> list[dict[str, float]]:
    out = []
    for lo, hi in zip(bins[:-1], bins[1:], strict=True):
        m = (p >= lo) & (p < hi)
        if m.sum():
            out.append(
                {
                    "lo": lo,
                    "hi": hi,
                    "n": int(m.sum()),
                    "predicted": float(p[m].mean()),
                    "observed": float(y[m].mean()),
                }
            )
    return out


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def evaluate(
    facts: RiskFacts, model: TrainedModel, month: dt.date, horizon: int, share: float, t: RuleThresholds
) -> dict[str, Any]:
    """Model and rule on the same households at ``month``, outcomes in ``month … month+horizon−1``."""
    from .features import labels_at

    feats = features_at(facts, month)
    y = (
        feats.join(labels_at(facts, month, horizon), on="household_no", how="left", maintain_order="left")[
            "label"
        ]
        .fill_null(0)
        .to_numpy()
    )
    p = predict(model, feats)
    r = rule_scores(facts, month, feats, t)
    return {
        "month": month,
        "households": int(len(y)),
        "entrants": int(y.sum()),
        "model": {"pr_auc": average_precision(y, p), **at_top(y, p, share), "brier": brier(y, p)},
        "rule": {"pr_auc": average_precision(y, r), **at_top(y, r, share)},
        "reliability": reliability(y, p),
        "base_rate": float(y.mean()) if len(y) else 0.0,
    }
