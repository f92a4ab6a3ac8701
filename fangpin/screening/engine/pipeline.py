"""A screening month on one engine: register → link what the ID cannot match → the departments' queries.

A file bigger than the registry (医保) has its own query (``rules.compile_month``); the small departments
are stacked into one view (a typed UNION ALL, their columns prefixed per department) with one query
(``rules.compile_stacked``). Each joins its rows to the registry once (by ID, or by an accepted link through
``links_<kind>`` / ``links_stacked``) and returns the rule hits, the registry facts that differ, and the
row counts of the run report. The same SQL on DuckDB and Spark.

Django-free: the service (``services/runs.py``) and the benchmarks call ``run_month`` with file paths and
resolved ``RuleSpec``s. Steps are named and timed; ``progress(step, pct)`` lets a run report progress.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .base import Engine
from .rules import (
    MonthPart,
    RuleSpec,
    compile_month,
    compile_stacked,
    rule_instances,
    split_stacked,
    stacked_prefix,
)
from .store import link_path

if TYPE_CHECKING:
    from ..sources.base import FactMap

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
    "death_date",
    "disability_category",
    "house_grade",
    "dibao",
    "tekun",
    "out_of_school",
)
# A department file with more rows than this many per registry person (医保) counts its ID matches apart
# (``compile_month(count_apart=True)``): aggregating every joined row costs more than a second, narrow probe.
COUNT_APART_RATIO = 1.0
STACKED = "+stacked"  # the key of the small departments' stacked query (no department is named so)
LINK_SCHEMA = pa.schema(
    [
        ("record_key", pa.int64()),
        ("person_id", pa.int64()),
        ("match_probability", pa.float64()),
        ("join_key", pa.string()),
    ]
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
    agreeing: dict[int, dict] = field(default_factory=dict)  # filled by the run: record_key → agreeing fields


@dataclass
class MonthResult:
    hits: list[dict[str, Any]]
    counts: dict[str, dict[str, int]]
    timings: dict[str, float]
    facts: list[dict[str, Any]] = field(default_factory=list)  # registry facts the departments contradict
    candidates: pd.DataFrame | None = None  # scored link candidates (for reviews)
    linked: dict[int, float] = field(default_factory=dict)  # record_key → accepted link probability
    agreeing: dict[int, dict] = field(default_factory=dict)  # record_key → fields that agreed (weights)
    linked_person: dict[int, int] = field(default_factory=dict)  # record_key → the linked person_id


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
    facts: dict[str, Sequence[FactMap]] | None = None,
    fact_batches: dict[str, list[int]] | None = None,
    new_batches: dict[str, list[int]] | None = None,
    new_ranges: dict[str, tuple[dt.date, dt.date]] | None = None,
    seen: dict[str, list[str]] | None = None,
) -> MonthResult:
    """``rules``: the rules as resolved (``rule_instances`` makes the run's instances of them);
    ``facts``: per department, the registry facts to compare (``SourceSpec.facts``; None = none);
    ``fact_batches``: per department, the batch ids whose records state facts (None = every record);
    ``new_batches``: per department, the batches not screened before (None = every record is new; the
    other files are there for the look-back of cumulative rules); ``new_ranges``: the dates of the new
    records per department (None = read from the Parquet footers); ``seen``: per department, earlier
    versions (already screened) of the new batches — a new record with the same content (``row_hash``) as
    one of theirs is not new."""
    link = link or LinkPolicy(enabled=False)
    progress = progress or (lambda step, pct: None)
    timings: dict[str, float] = {}
    counts: dict[str, dict[str, int]] = {}
    t = time.perf_counter()
    kinds = [k for k, paths in sources.items() if paths]
    engine.register_many({"persons": [persons_path], **{f"src_{k}": sources[k] for k in kinds}})
    t = _timed(timings, "register", t)
    if new_ranges is None:
        new_ranges = _date_ranges(sources, kinds)
    if new_batches is not None:
        kinds = [k for k in kinds if new_batches.get(k)]
    rules = rule_instances(rules, {k: v for k, v in new_ranges.items() if k in kinds and v})

    # 0. rows per department, from the Parquet footers (no scan); unusable IDs come with the linkage
    # candidates when linkage runs, else from a query
    bad_id = engine.dialect.count_if("id_status <> 'ok'")
    unusable = "" if link.enabled else f", {bad_id} AS id_unusable"
    footer_rows = _parquet_rows(sources, kinds) if link.enabled else None
    if footer_rows is not None:
        counts.update({k: {"rows_read": n, "id_unusable": 0} for k, n in footer_rows.items()})
    elif kinds:
        q = " UNION ALL ".join(
            f"SELECT {engine.dialect.string(k)} AS kind, count(*) AS rows_read{unusable} FROM src_{k}"
            for k in kinds
        )
        for row in engine.query(q).to_pylist():
            counts[row["kind"]] = {
                "rows_read": int(row["rows_read"]),
                "id_unusable": int(row.get("id_unusable") or 0),
            }
    t = _timed(timings, "count", t)

    # 1. linkage of what the ID cannot match (small: unusable IDs, and valid unknown IDs of small lists)
    progress("概率匹配", 20)
    cand_scored = None
    links_by_source: dict[str, pa.Table] = {}
    link_views: dict[str, str] = {}  # department → the view of its side file (rows with an unusable ID)
    if link.enabled and kinds:
        cand_scored, links_by_source, n_unusable = _link(
            engine, kinds, link, timings, sources, persons_path, link_views
        )
        for k in kinds:
            counts[k]["id_unusable"] = n_unusable.get(k, 0)
    t = time.perf_counter()

    # 2. the departments' queries: rules, differing facts and row counts from one join to the registry. A
    # file bigger than the registry (医保) has its own query; the small departments are stacked into one
    # view (their columns prefixed per department), joined to the registry once and aggregated once.
    progress("运行筛查规则", 60)
    facts = facts or {}
    pcols = ", ".join(f"p.{c} AS p_{c}" for c in PERSON_COLS)
    hits: list[dict[str, Any]] = []
    found_facts: list[dict[str, Any]] = []
    by_source: dict[str, list[RuleSpec]] = {k: [] for k in kinds}
    for r in rules:
        if r.source in by_source:  # no batch of this department this month: nothing to screen
            by_source[r.source].append(r)
    sqls: dict[str, str] = {}
    n_persons = (_parquet_rows({"persons": [persons_path]}, ["persons"]) or {}).get("persons", 0)
    person = f"p.person_id AS person_id, {pcols}"
    # a file with more rows than the registry has persons (医保) counts its matches apart
    big = [k for k in kinds if counts[k]["rows_read"] > COUNT_APART_RATIO * n_persons]
    small = [k for k in kinds if k not in big]

    def new_and_seen(k: str) -> tuple[str, str]:
        """Which rows of department k are new this run, and the join that tells (earlier versions)."""
        new = (
            "TRUE"
            if new_batches is None
            else f"s.batch_id IN ({', '.join(str(int(b)) for b in new_batches[k])})"
        )
        seen_join = ""
        if seen and seen.get(k) and _has_column(seen[k], "row_hash") and _has_column(sources[k], "row_hash"):
            engine.register_parquet(f"seen_{k}", seen[k])
            seen_join = f"LEFT JOIN (SELECT DISTINCT row_hash FROM seen_{k}) x ON s.row_hash = x.row_hash "
            new = f"({new} AND x.row_hash IS NULL)"
        return new, seen_join

    for k in big:
        rs, fms = by_source[k], list(facts.get(k, ()))
        engine.register_arrow(f"links_{k}", links_by_source.get(k, LINK_SCHEMA.empty_table()))
        # One inner join on one key (the ID, or the accepted link's person): an inner join lets Spark
        # broadcast a small department file instead of shuffling the registry.
        new, seen_join = new_and_seen(k)
        if k in link_views and _same_columns(sources[k], [link_path(p) for p in sources[k]]):
            # The linked rows are rows of the side file (their ID is unusable, so it matches nobody):
            # the file's rows keep their ID as join key, the side file's linked rows get their person's,
            # then one join to the registry — no outer join of every row against the links.
            view_sql = (
                f"SELECT s.*, {new} AS _new, {person} FROM ("
                f"SELECT s.*, s.id_number AS _join_key, 'id' AS match_method FROM src_{k} s UNION ALL "
                f"SELECT s.*, l.join_key AS _join_key, 'linkage' AS match_method FROM {link_views[k]} s "
                f"JOIN links_{k} l ON s.record_key = l.record_key) s {seen_join}"
                f"JOIN persons p ON p.join_key = s._join_key"
            )
        else:
            view_sql = (
                f"SELECT s.*, {new} AS _new, {person}, "
                f"CASE WHEN l.record_key IS NULL THEN 'id' ELSE 'linkage' END AS match_method "
                f"FROM src_{k} s LEFT JOIN links_{k} l ON s.record_key = l.record_key {seen_join}"
                f"JOIN persons p ON p.join_key = coalesce(l.join_key, s.id_number)"
            )
        engine.create_view(f"matched_{k}", view_sql)
        sqls[k] = compile_month(
            k, rs, fms, month, engine.dialect,
            fact_batches=None if fact_batches is None else fact_batches.get(k, []), count_apart=True,
        )  # fmt: skip
    if small:
        parts = [
            MonthPart(k, by_source[k], list(facts.get(k, ())),
                      None if fact_batches is None else fact_batches.get(k, []))
            for k in small
        ]  # fmt: skip
        sql = compile_stacked(parts, month, engine.dialect, view="matched_stacked")
        engine.create_view(
            "matched_stacked", _stacked_view(engine, small, sql, new_and_seen, links_by_source, person)
        )
        sqls[STACKED] = sql
    results = _run_all(engine, sqls, timings)
    if STACKED in results:
        results.update(split_stacked(results.pop(STACKED), small))
    t = time.perf_counter()
    for k in kinds:
        # column by column over the hit rows of each rule (tens of thousands of persons at a county's
        # scale): no Python dict per result row
        rs, fms = by_source[k], list(facts.get(k, ()))
        tbl = results[k]
        if not tbl.num_rows:
            continue
        total = pc.fill_null(pc.cast(tbl["is_total"], pa.bool_()), False)
        tot = tbl.filter(total)
        if tot.num_rows:
            counts[k]["matched_id"] = int(tot["matched_id"][0].as_py() or 0)
        rows = tbl.filter(pc.invert(total))

        def cols(mask: str, names: list[str], rows: pa.Table = rows) -> list[list]:
            sub = rows.filter(pc.fill_null(pc.cast(rows[mask], pa.bool_()), False))
            return [sub[c].to_pylist() for c in names]

        for i, r in enumerate(rs):
            c = cols(
                f"hit_{i}", ["person_id", "household_id", f"v_{i}", f"n_{i}", f"k_{i}", f"d0_{i}", f"d1_{i}"]
            )
            hits += [
                {"rule_code": r.code, "source": k, "person_id": int(pid), "household_id": int(hh),
                 "value": None if v is None else float(v), "threshold": r.threshold, "records": int(n),
                 "record_key": int(key), "first_date": d0, "last_date": d1}
                for pid, hh, v, n, key, d0, d1 in zip(*c, strict=True)
            ]  # fmt: skip
        for j, fm in enumerate(fms):
            c = cols(f"fx_{j}", ["person_id", "household_id", f"fv_{j}", f"fr_{j}", f"fk_{j}", f"fd_{j}"])
            found_facts += [
                {"source": k, "entity": fm.entity, "field": fm.field, "person_id": int(pid),
                 "household_id": int(hh), "value": v, "registry_value": reg, "record_key": int(key),
                 "observed_on": d}
                for pid, hh, v, reg, key, d in zip(*c, strict=True)
            ]  # fmt: skip
    for k in kinds:
        counts[k].setdefault("matched_id", 0)
        counts[k]["matched_linkage"] = links_by_source[k].num_rows if k in links_by_source else 0
        counts[k]["unmatched"] = (
            counts[k]["rows_read"] - counts[k]["matched_id"] - counts[k]["matched_linkage"]
        )
        counts[k]["hits"] = sum(1 for h in hits if h["source"] == k)
        counts[k]["facts_differing"] = sum(1 for f in found_facts if f["source"] == k)
    t = _timed(timings, "collect", t)
    progress("完成", 95)
    linked = {
        int(k): float(p)
        for tbl in links_by_source.values()
        for k, p in zip(
            tbl.column("record_key").to_pylist(), tbl.column("match_probability").to_pylist(), strict=True
        )
    }
    return MonthResult(
        hits=hits, counts=counts, facts=found_facts, timings=timings, candidates=cand_scored, linked=linked,
        agreeing=dict(link.agreeing),
        linked_person={
            int(k): int(p)
            for tbl in links_by_source.values()
            for k, p in zip(tbl.column("record_key").to_pylist(), tbl.column("person_id").to_pylist(), strict=True)
        },
    )  # fmt: skip


def _stacked_view(
    engine: Engine,
    kinds: list[str],
    sql: str,
    new_and_seen: Callable[[str], tuple[str, str]],
    links_by_source: dict[str, pa.Table],
    person: str,
) -> str:
    """The small departments' rows as one view for ``compile_stacked``'s query ``sql``: a typed UNION ALL
    (the s-th department's columns the query uses, prefixed ``stacked_prefix(s)``; NULL in the other
    departments' rows), the accepted links of all of them in one table, one join to the registry.
    Every department contributes its file's rows once (a small file: no side file read), and a row takes its
    accepted link's person when it has one, else its ID's (the plan of a big file without side file)."""
    d = engine.dialect
    used: dict[int, set[str]] = {}
    for s_, col in re.findall(r"\bm\.s(\d+)_([a-z_][a-z0-9_]*)\b", sql):
        used.setdefault(int(s_), set()).add(col)
    names = [(s, sorted(used.get(s, ()))) for s in range(len(kinds))]
    branches = []
    for s, k in enumerate(kinds):
        new, seen_join = new_and_seen(k)
        have = set(engine.columns(f"src_{k}"))
        batch = "s.batch_id" if "batch_id" in have else "CAST(NULL AS BIGINT)"
        cols = ", ".join(
            (f"s.{c} AS {stacked_prefix(t)}{c}" if t == s else f"NULL AS {stacked_prefix(t)}{c}")
            for t, cs in names
            for c in cs
        )
        cols = (", " + cols) if cols else ""
        head = f"SELECT {d.string(k)} AS _src, s.record_key, s.event_date, {batch} AS batch_id, {new} AS _new"
        branches.append(f"{head}, s.id_number AS _join_key{cols} FROM src_{k} s {seen_join}")
    empty = LINK_SCHEMA.empty_table()
    links = pa.concat_tables(
        [
            links_by_source.get(k, empty).append_column(
                "source", pa.array([k] * links_by_source.get(k, empty).num_rows, pa.string())
            )
            for k in kinds
        ]
    )
    engine.register_arrow("links_stacked", links)
    return (
        f"SELECT u.*, CASE WHEN l.record_key IS NULL THEN 'id' ELSE 'linkage' END AS match_method, {person} "
        f"FROM ({' UNION ALL '.join(branches)}) u "
        f"LEFT JOIN links_stacked l ON l.source = u._src AND l.record_key = u.record_key "
        f"JOIN persons p ON p.join_key = coalesce(l.join_key, u._join_key)"
    )


def _same_columns(a: list[str], b: list[str]) -> bool:
    """The files of ``a`` and ``b`` have the same columns in the same order (a UNION ALL of their rows)."""
    import pyarrow.parquet as pq

    try:
        names = {tuple(pq.read_schema(p).names) for p in [*a, *b]}
    except (OSError, ValueError):
        return False
    return len(names) == 1


def _has_column(paths: list[str], name: str) -> bool:
    import pyarrow.parquet as pq

    try:
        return all(name in pq.read_schema(p).names for p in paths)
    except (OSError, ValueError):
        return False


def _date_ranges(sources: dict[str, list[str]], kinds: list[str]) -> dict[str, tuple[dt.date, dt.date]]:
    """Earliest and latest event date per department, from the Parquet footers' statistics."""
    import pyarrow.parquet as pq

    out: dict[str, tuple[dt.date, dt.date]] = {}
    for k in kinds:
        lo = hi = None
        for p in sources[k]:
            try:
                md = pq.read_metadata(p)
            except (OSError, ValueError):
                return {}
            col = md.schema.names.index("event_date") if "event_date" in md.schema.names else None
            for g in range(md.num_row_groups):
                st = md.row_group(g).column(col).statistics if col is not None else None
                if st is None or not st.has_min_max:
                    continue
                lo = st.min if lo is None else min(lo, st.min)
                hi = st.max if hi is None else max(hi, st.max)
        if lo is not None:
            out[k] = (lo, hi)
    return out


LINK_SAMPLE = 20_000  # registry persons drawn at random beside the blocked ones (Splink's u estimates)


def _blocked_registry(
    engine: Engine, ident: pd.DataFrame, n_persons: int | None, persons_path: str
) -> tuple[pd.DataFrame, int]:
    """``_registry_for_linkage`` on the run's engine, or — when the registry export is a local file and the
    engine is not DuckDB (Spark) — on a DuckDB in this process: one scan of one file for a few thousand
    rows, where a Spark job costs its planning and scheduling (Splink runs on DuckDB here anyway)."""
    if engine.dialect.name == "duckdb" or not os.path.exists(persons_path):
        return _registry_for_linkage(engine, ident, n_persons)
    from . import engine_open

    with engine_open("duckdb") as local:
        local.register_parquet("persons", [persons_path])
        return _registry_for_linkage(local, ident, n_persons)


def _registry_for_linkage(
    engine: Engine, ident: pd.DataFrame, n_persons: int | None
) -> tuple[pd.DataFrame, int]:
    """The registry persons Splink needs: those sharing a blocking key with a candidate (ID; pinyin and
    birth date; birth date and village; pinyin and village) found by a semi-join in the engine, plus a
    fixed random sample for the u estimates — not the whole registry in pandas (10 million rows).

    The engine compares 64-bit hashes of the key pairs (no joined strings built for every registry row);
    a hash can only widen the set, and the few rows it brings back are checked on the exact values here."""
    k = ident[["id_number", "name_pinyin", "birth_date", "village"]].astype("string")
    keys = pa.table(
        {
            "id_number": pa.array(k["id_number"].dropna().unique().tolist(), pa.string()),
        }
    )
    born = pd.to_datetime(k["birth_date"], errors="coerce", format="%Y-%m-%d")
    pairs = pa.table(
        {
            "name_pinyin": pa.Array.from_pandas(k["name_pinyin"], type=pa.string()),
            "birth_date": pa.Array.from_pandas(born).cast(pa.date32()),
            "village": pa.Array.from_pandas(k["village"], type=pa.string()),
        }
    )
    engine.register_arrow("link_ids", keys)
    engine.register_arrow("link_pairs", pairs)
    d = engine.dialect
    bd = "CAST(p.birth_date AS VARCHAR(10))"
    pbd = "CAST(p.birth_date AS DATE)"
    n = n_persons or int(engine.query("SELECT count(*) AS n FROM persons").to_pylist()[0]["n"])
    step = max(n // LINK_SAMPLE, 1)
    # one scan of the registry, each blocking key's hash probed against the candidates' (small)
    reg = engine.query(
        f"SELECT p.person_id AS unique_id, p.id_number, p.join_key, p.name, p.name_pinyin, {bd} AS birth_date, "
        f"p.sex, "
        f"p.village_key AS village, p.person_id % {step} = 0 AS sampled FROM persons p "
        f"WHERE p.person_id % {step} = 0 OR p.id_number IN (SELECT id_number FROM link_ids) "
        f"OR {d.hash('p.name_pinyin', pbd)} IN (SELECT {d.hash('q.name_pinyin', 'q.birth_date')} "
        f"FROM link_pairs q WHERE q.name_pinyin IS NOT NULL AND q.birth_date IS NOT NULL) "
        f"OR {d.hash(pbd, 'p.village_key')} IN (SELECT {d.hash('q.birth_date', 'q.village')} "
        f"FROM link_pairs q WHERE q.birth_date IS NOT NULL AND q.village IS NOT NULL) "
        f"OR {d.hash('p.name_pinyin', 'p.village_key')} IN (SELECT {d.hash('q.name_pinyin', 'q.village')} "
        f"FROM link_pairs q WHERE q.name_pinyin IS NOT NULL AND q.village IS NOT NULL)"
    ).to_pandas()
    # the exact check of what the hashes let through (equal values, nulls equal nothing)
    r = reg[["id_number", "name_pinyin", "birth_date", "village"]].astype("string")

    def pair(df: pd.DataFrame, a: str, b: str) -> pd.Series:
        return (df[a].str.len().astype("string") + ":" + df[a] + "|" + df[b]).astype("string")

    keep = reg["sampled"].astype(bool) | r["id_number"].isin(set(k["id_number"].dropna()))
    for a, b in (("name_pinyin", "birth_date"), ("birth_date", "village"), ("name_pinyin", "village")):
        want = set(pair(k, a, b).dropna())
        keep |= pair(r, a, b).isin(want).fillna(False).astype(bool)
    reg = reg[keep.to_numpy()].reset_index(drop=True)
    return reg, n


def reveal(value: object) -> object:
    """The ID as typed from a batch file's ``id_raw`` (sealed by the upload, ``screening.protect``)."""
    from ..protect import reveal as _reveal

    return _reveal(value)


def typed_id(raw: object) -> str | None:
    """The 18 characters of an ID as typed (checksum not required), or None when it has no such shape."""
    from fangpin.core.ids import normalize_raw, upgrade_15

    s = normalize_raw(raw)
    if re.fullmatch(r"\d{17}[\dX]\d{2,4}", s):  # 残疾人证: ID + category + grade
        s = s[:18]
    elif re.fullmatch(r"\d{15}", s):
        s = upgrade_15(s)
    return s if re.fullmatch(r"\d{17}[\dX]", s) else None


def _villages(col: pd.Series) -> pd.Series:
    """Village names compared the way the registry importer matches them (高白塔村 = 高白塔村民委员会)."""
    from fangpin.registry.io.columns import normalize_village_name

    names = {v: (normalize_village_name(v) or None) for v in col.dropna().unique()}
    return col.map(names)


def _parquet_rows(sources: dict[str, list[str]], kinds: list[str]) -> dict[str, int] | None:
    """Row counts from the Parquet footers of local files; None when a path cannot be read this way."""
    import pyarrow.parquet as pq

    try:
        return {k: sum(pq.read_metadata(p).num_rows for p in sources[k]) for k in kinds}
    except (OSError, ValueError):
        return None


def _run_all(engine: Engine, sqls: dict[str, str], timings: dict[str, float]) -> dict[str, pa.Table]:
    """Runs the departments' queries; on an engine that takes concurrent jobs (Spark) several at once, so the
    per-query planning and scheduling of the small departments overlap instead of adding up."""

    def one(k: str) -> tuple[str, pa.Table, float]:
        t0 = time.perf_counter()
        rows = engine.query(sqls[k])
        return k, rows, round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    if engine.batch_queries and len(sqls) > 1:
        return _run_batched(engine, sqls, timings, t0)
    if engine.concurrent_queries > 1 and len(sqls) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=engine.concurrent_queries) as pool:
            done = list(pool.map(one, sqls))
    else:
        done = [one(k) for k in sqls]
    out = {}
    for k, rows, secs in done:
        out[k] = rows
        timings[f"rules_{k.lstrip('+')}"] = secs
    timings["rules_all"] = round(time.perf_counter() - t0, 3)
    return out


_DATE_KEY = re.compile(r"^(d0|d1|fd)_\d+(_\d+)?$")


def _run_batched(
    engine: Engine, sqls: dict[str, str], timings: dict[str, float], t0: float
) -> dict[str, pa.Table]:
    """Every department's query in one job: each result row as JSON text, stacked with UNION ALL."""
    import json
    from collections import defaultdict

    d = engine.dialect
    q = " UNION ALL ".join(
        f"SELECT {d.string(k)} AS kind, {d.row_json(f't_{i}')} AS row_json FROM ({sql}) t_{i}"
        for i, (k, sql) in enumerate(sqls.items())
    )
    out: dict[str, list[dict]] = {k: [] for k in sqls}
    tbl = engine.query(q)
    for kind, text in zip(tbl.column("kind").to_pylist(), tbl.column("row_json").to_pylist(), strict=True):
        row = defaultdict(lambda: None, json.loads(text))
        for key in [k for k in row if _DATE_KEY.match(k) and row[k]]:
            row[key] = dt.date.fromisoformat(str(row[key])[:10])
        out[kind].append(row)
    timings["rules_all"] = round(time.perf_counter() - t0, 3)
    return {k: pa.Table.from_pylist(rows) for k, rows in out.items()}


CANDIDATE_COLS = (
    "record_key", "id_number", "id_raw", "id_status", "name", "name_pinyin", "birth_date", "sex", "village"
)  # fmt: skip


def _read_side(kind: str, paths: list[str]) -> pd.DataFrame:
    """The linkage candidates of local side files, read with pyarrow (the columns and types the engine's
    candidate query returns: birth dates as YYYY-MM-DD text; a column a file lacks is null)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    tables = []
    for p in paths:
        t = pq.read_table(p, columns=[c for c in CANDIDATE_COLS if c in pq.read_schema(p).names])
        cols = {}
        for c in CANDIDATE_COLS:
            col = t.column(c) if c in t.column_names else pa.nulls(t.num_rows, pa.string())
            if c == "record_key":
                col = col.cast(pa.int64())
            elif c == "birth_date":
                if pa.types.is_timestamp(col.type):
                    col = col.cast(pa.date32())
                col = pc.utf8_slice_codeunits(col.cast(pa.string()), 0, 10)
            elif not pa.types.is_string(col.type):
                col = col.cast(pa.string())
            cols[c] = col
        tables.append(pa.table(cols))
    df = pa.concat_tables(tables).to_pandas()
    df.insert(0, "source", kind)
    return df


def _link(
    engine: Engine,
    kinds: list[str],
    link: LinkPolicy,
    timings: dict[str, float],
    sources: dict[str, list[str]],
    persons_path: str,
    link_views: dict[str, str],
) -> tuple[pd.DataFrame | None, dict[str, pa.Table], dict[str, int]]:
    """Scored candidates, accepted links per department, and rows with an unusable ID per department;
    ``link_views`` receives the departments whose candidates are all the rows of their side files."""
    from ..linkage import link_records

    t = time.perf_counter()
    # Valid IDs unknown to the registry are linked only for registry-oriented lists; for the big files
    # (医保) only unusable IDs are, which avoids a second join over hundreds of millions of rows. The small
    # lists are stacked first and joined to the registry once (one shuffle of the registry on Spark).
    cols = (
        "s.record_key, s.id_number, s.id_raw, s.id_status, s.name, s.name_pinyin, "
        "CAST(s.birth_date AS VARCHAR(10)) AS birth_date, s.sex, s.village"
    )
    sel = ("SELECT {k} AS source, " + cols + " FROM {view} s").format
    plain = [k for k in kinds if not link.link_valid_unmatched.get(k)]
    small = [k for k in kinds if link.link_valid_unmatched.get(k)]
    # A batch written by the product carries a side file of its unusable-ID rows: read that, not the
    # whole (100-million-row) file.
    side = {k: [link_path(p) for p in sources[k]] for k in plain}
    parts = []
    local: list[pd.DataFrame] = []  # side files read on this process (a few thousand rows: no engine job)
    for k in plain:
        if all(os.path.exists(p) for p in side[k]):
            engine.register_parquet(f"lnk_{k}", side[k])
            link_views[k] = f"lnk_{k}"
            local.append(_read_side(k, side[k]))
        else:
            parts.append(sel(k=engine.dialect.string(k), view=f"src_{k}") + " WHERE s.id_status <> 'ok'")
    if small:
        stacked = " UNION ALL ".join(sel(k=engine.dialect.string(k), view=f"src_{k}") for k in small)
        # the registered IDs among the lists' IDs: an inner join with the small side broadcast (Spark) or
        # hashed (DuckDB) while the registry streams — no shuffle of the registry for a left join
        ids = " UNION ALL ".join(f"SELECT id_number FROM src_{k} WHERE id_number IS NOT NULL" for k in small)
        # the files' id_number is the ID's blind index, as the registry's join_key (screening.protect)
        known = f"SELECT DISTINCT p.join_key AS id_number FROM persons p JOIN ({ids}) q ON p.join_key = q.id_number"
        parts.append(
            f"SELECT s.* FROM ({stacked}) s LEFT JOIN ({known}) m ON s.id_number = m.id_number "
            f"WHERE s.id_status <> 'ok' OR m.id_number IS NULL"
        )
    # one query for all departments: one job on Spark instead of one per department
    if parts:
        local.append(engine.query(" UNION ALL ".join(parts)).to_pandas())
    local = [f for f in local if not f.empty]
    cands = pd.concat(local, ignore_index=True) if local else pd.DataFrame()
    cands = cands.drop(columns=["id_number"], errors="ignore")
    n_unusable = (
        cands[cands["id_status"].ne("ok")].groupby("source").size().to_dict() if not cands.empty else {}
    )
    t = _timed(timings, "link_candidates", t)
    empty = {k: LINK_SCHEMA.empty_table() for k in kinds}
    if cands.empty:
        return None, empty, n_unusable
    # Every ID as typed goes to linkage, for a one-digit-off comparison: a 20-character 残疾人证 number
    # loses its suffix, a 15-digit number is widened; an Excel-mangled 4.1E+17 carries no information.
    # (the files hold the ID as typed sealed: only these few rows are decrypted)
    cands["id_raw"] = [reveal(v) for v in cands["id_raw"]]
    cands["id_number"] = [
        None if st == "scientific" else typed_id(raw)
        for raw, st in zip(cands["id_raw"], cands["id_status"], strict=True)
    ]
    cands["village"] = _villages(cands["village"])
    persons_rows = _parquet_rows({"persons": [persons_path]}, ["persons"])
    persons_rows = persons_rows["persons"] if persons_rows else None
    ident_cols = ["source", "id_number", "name", "birth_date", "sex", "village"]
    ident = cands[ident_cols + ["name_pinyin"]].drop_duplicates(ident_cols).reset_index(drop=True)
    ident["unique_id"] = range(len(ident))
    cands = cands.merge(ident[ident_cols + ["unique_id"]], on=ident_cols, how="left")
    registry, n_registry = _blocked_registry(engine, ident, persons_rows, persons_path)
    t = _timed(timings, "link_prepare", t)
    # small pandas frames on both sides by now: Splink runs on DuckDB in process whatever the engine
    # (a Spark job per Splink step costs more than the linkage itself)
    from splink.backends.duckdb import DuckDBAPI

    res = link_records(
        DuckDBAPI(), ident, registry, min_probability=link.review_probability, n_registry=n_registry,
        u_sample=registry[registry["sampled"]],
    )  # fmt: skip
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
    agree = scored.drop_duplicates("uid_a").set_index("uid_a")["agreeing"].to_dict()
    link.agreeing = {int(k): agree.get(u, {}) for k, u in zip(acc["record_key"], acc["uid_a"], strict=True)}
    # The registry join key of the linked person (its ID's blind index, or "P<person_id>" without one).
    keys = registry[["unique_id", "join_key"]].rename(columns={"unique_id": "person_id"})
    acc = acc.astype({"person_id": "int64"}).merge(
        keys[["person_id", "join_key"]], on="person_id", how="inner"
    )
    out = {}
    for k in kinds:
        sub = acc[acc["source"] == k]
        out[k] = pa.Table.from_pandas(
            sub[["record_key", "person_id", "match_probability", "join_key"]].astype(
                {
                    "record_key": "int64",
                    "person_id": "int64",
                    "match_probability": "float64",
                    "join_key": "str",
                }
            ),
            schema=LINK_SCHEMA,
            preserve_index=False,
        )
    _timed(timings, "link_decide", t)
    return scored, out, n_unusable
