"""Splink model for Chinese department records against the registry.

Comparisons: ID number (Levenshtein 1/2: one digit typed wrong or two swapped), name (exact, same pinyin
= homophone characters, Levenshtein 1), birth date (exact, one or two characters off), sex, village
(term-frequency adjusted). Blocking: ID; pinyin+birth date; birth date+village; pinyin+village.

m probabilities are fixed priors (how often department data entry gets a field wrong); u probabilities
are measured on random pairs of registry persons (``estimate_u``: one DuckDB query over 200,000 pairs of a
random sample, the levels decided exactly as Splink decides them), so they follow the county's name and
village distribution. Both fixed, Splink only predicts: deterministic for small counties, where EM on a
few hundred records would not converge, and seconds faster than Splink's own u sampling.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

logger = logging.getLogger(__name__)

FIELDS = ("id_number", "name", "birth_date", "sex", "village")

FIELD_TITLES = {
    "id_number": "证件号码",
    "name": "姓名（含同音）",
    "birth_date": "出生日期",
    "sex": "性别",
    "village": "村",
}


@dataclass
class LinkResult:
    """Best registry candidate per department identity, with the probability and agreeing fields."""

    links: (
        pd.DataFrame
    )  # uid_a, person_id, match_probability, agreeing ({field title: match weight} of agreeing fields)
    timings: dict[str, float] = field(default_factory=dict)
    pairs_scored: int = 0


U_FLOOR = 1e-6
# Lower bounds from what is known of any county, so that a small registry (a few hundred unique names)
# does not make an agreeing field near-proof: 同名 about 1 in 10,000 pairs, a birthday 1 in ~30,000.
U_FLOORS = {"name": [1e-4, 2e-5, 1e-3], "birth_date": [3e-5, 1e-4, 1e-3], "sex": [0.4], "village": [1e-3]}


def estimate_u(
    registry: pd.DataFrame, *, pairs: int = 200_000, seed: int = 20261123
) -> dict[str, list[float]]:
    """u probabilities of each comparison's levels (after the null level) from random registry pairs."""
    import duckdb
    import numpy as np

    n = len(registry)
    if n < 2:
        return {}
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, n, pairs), rng.integers(0, n, pairs)
    keep = i != j
    cols = ["name", "name_pinyin", "birth_date", "sex", "village"]
    reg = registry[cols].astype("string").reset_index(drop=True)
    reg["_i"] = range(len(reg))
    con = duckdb.connect()
    try:
        # the pairs join the sample in DuckDB (no 200,000-row pandas frames); one pass gives every level
        con.register("reg", reg)
        con.register("pairs", pd.DataFrame({"i": i[keep], "j": j[keep]}))
        levels = {
            "name": "CASE WHEN name_l IS NULL OR name_r IS NULL THEN NULL WHEN name_l = name_r THEN 0 "
            "WHEN name_pinyin_l = name_pinyin_r THEN 1 WHEN levenshtein(name_l, name_r) <= 1 THEN 2 ELSE 3 END",
            "birth_date": "CASE WHEN birth_date_l IS NULL OR birth_date_r IS NULL THEN NULL "
            "WHEN birth_date_l = birth_date_r THEN 0 WHEN levenshtein(birth_date_l, birth_date_r) <= 1 THEN 1 "
            "WHEN levenshtein(birth_date_l, birth_date_r) <= 2 THEN 2 ELSE 3 END",
            "sex": "CASE WHEN sex_l IS NULL OR sex_r IS NULL THEN NULL WHEN sex_l = sex_r THEN 0 ELSE 1 END",
            "village": "CASE WHEN village_l IS NULL OR village_r IS NULL THEN NULL "
            "WHEN village_l = village_r THEN 0 ELSE 1 END",
        }
        side = ", ".join(f"{x}.{c} AS {c}_{x[0]}" for x in ("left_", "right_") for c in cols)
        lv = ", ".join(f"{expr} AS {f}" for f, expr in levels.items())
        grouped = con.sql(
            f"SELECT {', '.join(levels)}, count(*) AS n FROM (SELECT {lv} FROM (SELECT {side} FROM pairs "
            f"JOIN reg left_ ON left_._i = pairs.i JOIN reg right_ ON right_._i = pairs.j)) GROUP BY ALL"
        ).fetchall()
        sizes = {"name": 4, "birth_date": 4, "sex": 2, "village": 2}
        out: dict[str, list[float]] = {}
        for pos, f in enumerate(levels):
            rows: dict[int, int] = {}
            for g in grouped:
                if g[pos] is not None:
                    rows[g[pos]] = rows.get(g[pos], 0) + g[-1]
            total = sum(rows.values())
            if not total:
                continue
            floors = U_FLOORS.get(f, [])
            u = [
                max(rows.get(k, 0) / total, floors[k] if k < len(floors) else U_FLOOR)
                for k in range(sizes[f])
            ]
            u[-1] = max(1.0 - sum(u[:-1]), U_FLOOR)
            out[f] = u
        return out
    finally:
        con.close()


def _settings(n_registry: int, u: dict[str, list[float]] | None = None):
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    idc = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.NullLevel("id_number"),
            # Two random people's IDs are almost never within two edits: fixed u, not sampled.
            cll.ExactMatchLevel("id_number").configure(
                m_probability=0.5, u_probability=1e-7, fix_u_probability=True
            ),
            cll.LevenshteinLevel("id_number", 1).configure(
                m_probability=0.35, u_probability=1e-6, fix_u_probability=True
            ),
            cll.LevenshteinLevel("id_number", 2).configure(
                m_probability=0.1, u_probability=1e-5, fix_u_probability=True
            ),
            cll.ElseLevel().configure(m_probability=0.05, u_probability=1 - 1.11e-5),
        ],
    )
    u = u or {}
    un = u.get("name", [1e-3, 2e-4, 5e-3, 1 - 6.2e-3])
    ud = u.get("birth_date", [4e-5, 1e-3, 1e-2, 1 - 1.104e-2])
    us = u.get("sex", [0.5, 0.5])
    uv = u.get("village", [1e-2, 0.99])
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(m_probability=0.9, u_probability=un[0]),
            # Same pinyin, different characters (章伟/张伟): rare between random people.
            cll.ExactMatchLevel("name_pinyin").configure(m_probability=0.05, u_probability=un[1]),
            cll.LevenshteinLevel("name", 1).configure(m_probability=0.035, u_probability=un[2]),
            cll.ElseLevel().configure(m_probability=0.015, u_probability=un[3]),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date").configure(m_probability=0.95, u_probability=ud[0]),
            cll.LevenshteinLevel("birth_date", 1).configure(m_probability=0.03, u_probability=ud[1]),
            cll.LevenshteinLevel("birth_date", 2).configure(m_probability=0.012, u_probability=ud[2]),
            cll.ElseLevel().configure(m_probability=0.008, u_probability=ud[3]),
        ],
    )
    sex = cl.ExactMatch("sex").configure(m_probabilities=[0.99, 0.01], u_probabilities=us)
    village = cl.ExactMatch("village").configure(
        term_frequency_adjustments=True, m_probabilities=[0.9, 0.1], u_probabilities=uv
    )
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[idc, name, dob, sex, village],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name_pinyin", "birth_date"),
            block_on("birth_date", "village"),
            block_on("name_pinyin", "village"),
        ],
        probability_two_random_records_match=min(0.9 / max(n_registry, 1), 0.5),
        retain_intermediate_calculation_columns=True,  # mw_* = which fields agreed
        retain_matching_columns=False,
    )


def link_records(
    api,
    dept: pd.DataFrame,
    registry: pd.DataFrame,
    *,
    min_probability: float,
    u_max_pairs: float = 2e5,  # random registry pairs u is measured on
    seed: int = 20261123,
    n_registry: int | None = None,
    u_sample: pd.DataFrame | None = None,
) -> LinkResult:
    """Link department identities (``unique_id``) to registry persons (``unique_id`` = person_id).

    Both frames carry id_number, name, name_pinyin, birth_date (text YYYY-MM-DD), sex, village.
    Returns the best candidate per department identity at or above ``min_probability``.
    ``n_registry``: the size of the whole registry when ``registry`` holds only the blocked persons and a
    random sample of the rest (the prior that two random records match depends on it); ``u_sample``:
    the random registry persons u is measured on (default: ``registry``).
    """
    import time

    from splink import Linker

    t = time.perf_counter()
    timings: dict[str, float] = {}
    cols = ["unique_id", *FIELDS, "name_pinyin"]
    a, b = dept[cols].copy(), registry[cols].copy()
    for df in (a, b):
        df["birth_date"] = df["birth_date"].astype("string")
    sa = api.register(a, dataset_display_name="dept")
    sb = api.register(b, dataset_display_name="registry")
    u = estimate_u(registry if u_sample is None else u_sample, pairs=int(u_max_pairs), seed=seed)
    linker = Linker([sa, sb], _settings(n_registry or len(b), u), log_level=logging.WARNING)
    timings["train_u"] = time.perf_counter() - t
    t = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=min_probability).as_pandas_dataframe()
    timings["predict"] = time.perf_counter() - t
    if pred.empty:
        return LinkResult(
            pd.DataFrame(columns=["uid_a", "person_id", "match_probability", "agreeing"]), timings, 0
        )
    a_left = pred["source_dataset_l"].eq("dept")
    pred["uid_a"] = pred["unique_id_l"].where(a_left, pred["unique_id_r"])
    pred["person_id"] = pred["unique_id_r"].where(a_left, pred["unique_id_l"])
    best = pred.sort_values("match_probability", ascending=False).drop_duplicates("uid_a")
    best = best.copy()
    # Splink 5 reports a match weight per comparison (mw_*): a positive weight = the field agreed
    # (at some level), which is what a reviewer needs to see beside the probability.
    weights = {f: best[f"mw_{f}"].astype("float64").round(2) for f in FIELDS}
    if "mw_tf_adj_village" in best:
        weights["village"] = (weights["village"] + best["mw_tf_adj_village"].fillna(0)).round(2)
    best["agreeing"] = [
        {FIELD_TITLES[f]: w for f, w in zip(FIELDS, row, strict=True) if w > 0}
        for row in zip(*(weights[f] for f in FIELDS), strict=True)
    ]
    out = best[["uid_a", "person_id", "match_probability", "agreeing"]].reset_index(drop=True)
    out["uid_a"] = out["uid_a"].astype("int64")
    out["person_id"] = out["person_id"].astype("int64")
    return LinkResult(out, timings, len(pred))
