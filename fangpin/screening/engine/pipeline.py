"""A screening month on one engine: register → count and match by ID → link the rest → run the rules.

Django-free: the service (``services/runs.py``) and the benchmarks call ``run_month`` with file paths and
resolved ``RuleSpec``s. Steps are named and timed; ``progress(step, pct)`` lets a run report progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from .base import Engine
from .rules import RuleSpec, compile_source

# Registry columns the rules may use, exposed as p_<name> beside the department columns.
PERSON_COLS = (
    "household_id",
    "village_code",
    "birth_date",
    "is_exited",
    "is_monitored",
    "is_labourer",
    "household_labourers",
    "is_main_earner",
    "disability_grade",
)
LINK_SCHEMA = pa.schema(
    [("record_key", pa.int64()), ("person_id", pa.int64()), ("match_probability", pa.float64())]
)


@dataclass
class LinkPolicy:
    """How uncertain links are handled. ``decide`` receives the scored candidates (one row per department
    identity: uid_a, person_id, match_probability, agreeing, plus the identity's fields) and returns the
    accepted ones (uid_a, person_id, match_probability); the service implements it with LinkReview."""

    enabled: bool = True
    review_probability: float = 0.8
    accept_probability: float = 0.99
    link_valid_unmatched: dict[str, bool] = field(default_factory=dict)  # per source
    decide: Callable[[pd.DataFrame], pd.DataFrame] | None = None


@dataclass
class MonthResult:
    hits: list[dict[str, Any]]
    counts: dict[str, dict[str, int]]
    timings: dict[str, float]
    candidates: pd.DataFrame | None = None  # scored link candidates (for reviews)
    linked: dict[int, float] = field(default_factory=dict)  # record_key → accepted link probability


def _timed(timings: dict[str, float], key: str, t0: float) -> float:
    now = time.perf_counter()
    timings[key] = round(timings.get(key, 0.0) + now - t0, 3)
    return now


def run_month(
    engine: Engine,
    *,
    month: str,
    persons_path: str,
    sources: dict[str, list[str]],
    rules: list[RuleSpec],
    link: LinkPolicy | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> MonthResult:
    link = link or LinkPolicy(enabled=False)
    progress = progress or (lambda step, pct: None)
    timings: dict[str, float] = {}
    counts: dict[str, dict[str, int]] = {}
    t = time.perf_counter()
    engine.register_parquet("persons", [persons_path])
    kinds = [k for k, paths in sources.items() if paths]
    for k in kinds:
        engine.register_parquet(f"src_{k}", sources[k])
    t = _timed(timings, "register", t)

    # 1. rows read and matched by ID, per department (one pass each)
    progress("按证件号码匹配", 10)
    unusable = engine.dialect.count_if("s.id_status <> 'ok'")
    if kinds:  # one query for all departments: one job on Spark instead of one per department
        parts = [
            f"SELECT {engine.dialect.string(k)} AS kind, count(*) AS rows_read, count(p.person_id) AS matched_id, "
            f"{unusable} AS id_unusable FROM src_{k} s LEFT JOIN persons p ON s.id_number = p.id_number"
            for k in kinds
        ]
        for row in engine.query(" UNION ALL ".join(parts)).to_pylist():
            kind = row.pop("kind")
            counts[kind] = {key: int(v or 0) for key, v in row.items()}
    t = _timed(timings, "match_id", t)

    # 2. linkage of what the ID could not match
    progress("概率匹配", 30)
    cand_scored = None
    links_by_source: dict[str, pa.Table] = {}
    if link.enabled and kinds:
        cand_scored, links_by_source = _link(engine, kinds, link, timings)
    for k in kinds:
        counts[k]["matched_linkage"] = links_by_source[k].num_rows if k in links_by_source else 0
        counts[k]["unmatched"] = (
            counts[k]["rows_read"] - counts[k]["matched_id"] - counts[k]["matched_linkage"]
        )
    t = time.perf_counter()

    # 3. matched views and the rules, one fused query per department
    progress("运行筛查规则", 60)
    pcols = ", ".join(f"p.{c} AS p_{c}" for c in PERSON_COLS)
    hits: list[dict[str, Any]] = []
    by_source: dict[str, list[RuleSpec]] = {}
    for r in rules:
        by_source.setdefault(r.source, []).append(r)
    for k, rs in by_source.items():
        if k not in kinds:  # no batch of this department this month: nothing to screen
            continue
        engine.register_arrow(f"links_{k}", links_by_source.get(k, LINK_SCHEMA.empty_table()))
        engine.create_view(
            f"matched_{k}",
            f"SELECT s.*, p.person_id AS person_id, 'id' AS match_method, {pcols} "
            f"FROM src_{k} s JOIN persons p ON s.id_number = p.id_number "
            f"UNION ALL "
            f"SELECT s.*, p.person_id AS person_id, 'linkage' AS match_method, {pcols} "
            f"FROM src_{k} s JOIN links_{k} l ON s.record_key = l.record_key "
            f"JOIN persons p ON l.person_id = p.person_id",
        )
        res = engine.query(compile_source(rs, month, engine.dialect)).to_pylist()
        for row in res:
            for i, r in enumerate(rs):
                if row[f"hit_{i}"]:
                    hits.append(
                        {
                            "rule_code": r.code,
                            "source": k,
                            "person_id": int(row["person_id"]),
                            "household_id": int(row["household_id"]),
                            "value": None if row[f"v_{i}"] is None else float(row[f"v_{i}"]),
                            "threshold": r.threshold,
                            "records": int(row[f"n_{i}"]),
                            "record_key": int(row[f"k_{i}"]),
                            "first_date": row[f"d0_{i}"],
                            "last_date": row[f"d1_{i}"],
                        }
                    )
        t = _timed(timings, f"rules_{k}", t)
    for k in kinds:
        counts[k]["hits"] = sum(1 for h in hits if h["source"] == k)
    progress("完成", 95)
    linked = {
        int(k): float(p)
        for tbl in links_by_source.values()
        for k, p in zip(
            tbl.column("record_key").to_pylist(), tbl.column("match_probability").to_pylist(), strict=True
        )
    }
    return MonthResult(hits=hits, counts=counts, timings=timings, candidates=cand_scored, linked=linked)


def _link(
    engine: Engine, kinds: list[str], link: LinkPolicy, timings: dict[str, float]
) -> tuple[pd.DataFrame | None, dict[str, pa.Table]]:
    from fangpin.core.ids import normalize_raw

    from ..linkage import link_records

    t = time.perf_counter()
    parts = []
    for k in kinds:
        # Valid IDs unknown to the registry are linked only for registry-oriented lists; for the big files
        # (医保) only unusable IDs are, which avoids a second join over hundreds of millions of rows.
        if link.link_valid_unmatched.get(k):
            frm = f"src_{k} s LEFT JOIN persons p ON s.id_number = p.id_number"
            where = "s.id_status <> 'ok' OR p.person_id IS NULL"
        else:
            frm, where = f"src_{k} s", "s.id_status <> 'ok'"
        tbl = engine.query(
            f"SELECT s.record_key, s.id_raw, s.id_status, s.name, s.name_pinyin, "
            f"CAST(s.birth_date AS VARCHAR(10)) AS birth_date, s.sex, s.village FROM {frm} WHERE {where}"
        ).to_pandas()
        tbl["source"] = k
        parts.append(tbl)
    cands = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    t = _timed(timings, "link_candidates", t)
    empty = {k: LINK_SCHEMA.empty_table() for k in kinds}
    if cands.empty:
        return None, empty
    # The ID as typed, for a one-digit-off comparison (an Excel-mangled 4.1E+17 carries no information).
    norm = cands["id_raw"].map(normalize_raw)
    cands["id_number"] = norm.where(norm.str.fullmatch(r"\d{17}[\dX]") & cands["id_status"].ne("scientific"))
    ident_cols = ["source", "id_number", "name", "birth_date", "sex", "village"]
    ident = cands[ident_cols + ["name_pinyin"]].drop_duplicates(ident_cols).reset_index(drop=True)
    ident["unique_id"] = range(len(ident))
    cands = cands.merge(ident[ident_cols + ["unique_id"]], on=ident_cols, how="left")
    registry = engine.query(
        "SELECT person_id AS unique_id, id_number, name, name_pinyin, "
        "CAST(birth_date AS VARCHAR(10)) AS birth_date, sex, village_name AS village FROM persons"
    ).to_pandas()
    t = _timed(timings, "link_prepare", t)
    res = link_records(engine.splink_api(), ident, registry, min_probability=link.review_probability)
    for key, v in res.timings.items():
        timings[f"link_{key}"] = round(v, 3)
    t = time.perf_counter()
    scored = ident.merge(res.links, left_on="unique_id", right_on="uid_a", how="inner")
    if link.decide is not None:
        accepted = link.decide(scored)
    else:
        accepted = scored[scored["match_probability"] >= link.accept_probability]
    acc = cands.merge(
        accepted[["uid_a", "person_id", "match_probability"]], left_on="unique_id", right_on="uid_a"
    )
    out = {}
    for k in kinds:
        sub = acc[acc["source"] == k]
        out[k] = pa.Table.from_pandas(
            sub[["record_key", "person_id", "match_probability"]].astype(
                {"record_key": "int64", "person_id": "int64", "match_probability": "float64"}
            ),
            schema=LINK_SCHEMA,
            preserve_index=False,
        )
    _timed(timings, "link_decide", t)
    return scored, out
