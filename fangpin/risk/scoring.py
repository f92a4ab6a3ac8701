"""Scores of a population in one pass: probability, rank, in-capacity flag and Chinese reasons per household.

The one scoring path of the county job (``services.risk_score``) and of a province's batch
(``bench/risk_score.py``): features (``features.features_at``, Polars) → LightGBM probabilities and
per-feature contributions → the top reasons. Contributions are ranked in numpy; only the few candidate
features per household are said in Chinese (``reasons.PHRASES``), reading the household's values column by
column rather than building a dict per row.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .model import TrainedModel, contributions, predict
from .reasons import PHRASES, reasons_for

CHUNK = 100_000  # households whose contributions are held at once (~30 MB)
CANDIDATES = 6  # positive contributions looked at per household for its (at most) three reasons


class _Row:
    """The values of one household, read lazily from the feature columns (``PHRASES`` take ``r[name]``)."""

    __slots__ = ("cols", "i")

    def __init__(self, cols: dict[str, np.ndarray], i: int) -> None:
        self.cols, self.i = cols, i

    def __getitem__(self, name: str):
        v = self.cols[name][self.i].item()
        return float("nan") if v is None else v  # as reasons_for reads a missing value


def reasons_all(
    feats: pl.DataFrame, contrib: np.ndarray, features: tuple[str, ...], *, top: int = 3
) -> list[list[str]]:
    """Per household (in ``feats`` order) the ``top`` features that raised its score most, as Chinese
    phrases: the same as ``reasons.reasons_for`` row by row (a feature whose phrase is empty at this value is
    passed over for the next), over at most ``CANDIDATES`` positive contributions."""
    n = feats.height
    if n == 0:
        return []
    c = contrib[:, : len(features)]
    k = min(CANDIDATES, c.shape[1])
    part = np.argpartition(-c, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(c, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    cand = np.take_along_axis(part, order, axis=1)
    cval = np.take_along_axis(vals, order, axis=1)
    cols = {name: feats[name].to_numpy() for name in feats.columns if name in PHRASES or name in features}
    phrases = [PHRASES.get(f) for f in features]
    out: list[list[str]] = []
    for i in range(n):
        row = _Row(cols, i)
        said: list[str] = []
        for j in range(k):
            if cval[i, j] <= 0 or len(said) >= top:
                break
            say = phrases[cand[i, j]]
            text = say(row) if say is not None else None
            if text and text not in said:
                said.append(text)
        if len(said) < top and k < c.shape[1] and cval[i, k - 1] > 0:  # more positive ones than looked at
            said = reasons_for({name: row[name] for name in cols}, contrib[i], features, top=top)
        out.append(said)
    return out


def score_frame(
    model: TrainedModel, feats: pl.DataFrame, *, share: float, reasons_share: float = 1.0
) -> pl.DataFrame:
    """household_no, score, rank (1 = highest), in_capacity (the top ``share``), reasons — one row per
    household of ``feats``, ordered by rank. Reasons for the top ``reasons_share`` of the households
    (``risk.reasons_share``; 1 = all); the others' reasons are empty. LightGBM's contributions (TreeSHAP)
    cost ~0.3 ms CPU per household here against ~10 µs for its probability, so a province's batch may
    limit them to the households a cadre's lists can show."""
    p = predict(model, feats)
    order = (-p).argsort(kind="stable")
    n = len(p)
    k = max(1, round(share * n)) if n else 0
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    with_reasons = order[: max(k, round(min(max(reasons_share, 0.0), 1.0) * n))] if n else order
    reasons: list[list[str]] = [[] for _ in range(n)]
    idx = np.sort(with_reasons)
    for lo in range(0, len(idx), CHUNK):  # contributions are n × (features + 1) floats: in chunks
        part = idx[lo : lo + CHUNK]
        sub = feats[part]
        for i, said in zip(part, reasons_all(sub, contributions(model, sub), model.features), strict=True):
            reasons[i] = said
    return pl.DataFrame(
        {
            "household_no": feats["household_no"],
            "score": p,
            "rank": rank,
            "in_capacity": rank <= k,
            "reasons": pl.Series(reasons, dtype=pl.List(pl.Utf8)),
        }
    ).sort("rank")
