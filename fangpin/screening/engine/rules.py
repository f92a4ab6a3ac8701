"""Screening rules as data → SQL. One set-based query per rule (``compile_rule``); rules of the same
department are fused into one query (``compile_source``) so a 100-million-row file is scanned once.
``compile_month`` is what a run executes for a big department file (医保): the fused rules, the registry
facts that differ (``FactMap``) and the run report's row counts, all from one join of the department rows
to the registry; ``compile_stacked`` is the same for all the small departments at once, over their rows
stacked in one view (columns prefixed per department, ``stacked_prefix``): one query instead of nine.

The query runs over ``matched_<source>``: department rows already joined to the registry person they
belong to (by ID or by an accepted link), with the registry columns ``p_*`` beside the department columns.
It returns one row per person with, for each rule i: ``hit_i`` (bool), ``v_i`` (the aggregated value),
``n_i`` (records counted), ``k_i`` (record_key of the decisive record), ``d0_i``/``d1_i`` (first/last date).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from fangpin.core.errors import DomainError

from .dialects import Dialect

if TYPE_CHECKING:
    from ..sources.base import FactMap

E_RULE = "screening_rule_invalid"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

APPLIES_TO_SQL = {
    "all": "TRUE",
    "exited": "m.p_is_exited",
    "monitored": "m.p_is_monitored",
    "exited_or_monitored": "(m.p_is_exited OR m.p_is_monitored)",
    "others": "(NOT m.p_is_exited AND NOT m.p_is_monitored)",
    "not_monitored": "(NOT m.p_is_monitored)",
}


@dataclass
class RuleSpec:
    """A rule as the engine needs it: resolved thresholds, no Django."""

    code: str
    source: str
    condition_kind: str
    condition: dict[str, Any] = field(default_factory=dict)
    person_conditions: list[dict[str, Any]] = field(default_factory=list)
    window: str = "month"
    window_months: int = 1
    threshold: float | None = None
    applies_to: str = "all"
    values: dict[str, Any] = field(default_factory=dict)  # resolved person-condition parameters
    # An instance of the rule in a run (``rule_instances``): its window, whether it adds up records
    # screened before (a year's 住院 self-pay), and the counties it applies to (a province run applies
    # each county's own thresholds; empty = everyone).
    start: dt.date | None = None
    end: dt.date | None = None
    cumulative: bool = False
    counties: tuple[str, ...] = ()


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    y, m = (int(x) for x in month.split("-"))
    return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])


def window_bounds(rule: RuleSpec, month: str) -> tuple[dt.date, dt.date]:
    if rule.start is not None and rule.end is not None:
        return rule.start, rule.end
    start, end = month_bounds(month)
    if rule.window == "year_to_date":
        return dt.date(start.year, 1, 1), end
    if rule.window == "months":
        n = max(int(rule.window_months or 1), 1)
        y, m = start.year, start.month - (n - 1)
        while m <= 0:
            y, m = y - 1, m + 12
        return dt.date(y, m, 1), end
    return start, end


def _months_back(d: dt.date, n: int) -> dt.date:
    y, m = d.year, d.month - (max(int(n or 1), 1) - 1)
    while m <= 0:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def rule_instances(
    rules: Sequence[RuleSpec], new_ranges: dict[str, tuple[dt.date, dt.date]]
) -> list[RuleSpec]:
    """What a run evaluates so that every new record is screened exactly once, whatever month its
    file was filed under (``new_ranges``: per department, the dates of the records not screened before).

    - a record rule (window "month": a single stay, a death, a grade) looks at the new records only;
    - a cumulative rule (``sum_at_least`` over "year_to_date" or "months") gets one instance per
      calendar year (per month for "months") the new records fall in; it adds up every record of that
      window, old and new, and hits only when the new records carry the total over the threshold, so a
      rerun, or next month's file, does not repeat it.
    A rule of a department without new records has no instance."""
    out: list[RuleSpec] = []
    for r in rules:
        rng = new_ranges.get(r.source)
        if not rng:
            continue
        lo, hi = rng
        if r.window == "month" or r.condition_kind != "sum_at_least":
            if r.window == "month":
                out.append(replace(r, start=lo, end=hi, cumulative=False))
            else:  # a window rule that is not a sum: the new records in the window of their dates
                out.append(replace(r, start=window_bounds(replace(r, start=None, end=None), f"{lo:%Y-%m}")[0],
                                   end=hi, cumulative=False))  # fmt: skip
            continue
        if r.window == "year_to_date":
            for y in range(lo.year, hi.year + 1):
                out.append(replace(r, start=dt.date(y, 1, 1), end=dt.date(y, 12, 31), cumulative=True))
        else:
            m = dt.date(lo.year, lo.month, 1)
            while m <= hi:
                end = month_bounds(f"{m:%Y-%m}")[1]
                out.append(replace(r, start=_months_back(m, r.window_months), end=end, cumulative=True))
                m = end + dt.timedelta(days=1)
    return out


def _col(name: str, ns: str = "") -> str:
    """A department column (``ns``: its department's prefix in a stacked view, ``stacked_prefix``) or, with
    no prefix, a registry column ``p_*``."""
    if not _IDENT.match(name or ""):
        raise DomainError(E_RULE, f"规则中的列名“{name}”无效")
    return f"m.{ns}{name}"


def stacked_prefix(s: int) -> str:
    """The column prefix of the s-th department in a stacked view (``compile_stacked``)."""
    return f"s{int(s)}_"


def _where(rule: RuleSpec, d: Dialect, ns: str = "") -> list[str]:
    out = []
    for col, vals in (rule.condition.get("where") or {}).items():
        vals = vals if isinstance(vals, list) else [vals]
        out.append(f"{_col(col, ns)} IN ({', '.join(d.literal(v) for v in vals)})")
    return out


def _person_condition(pc: dict[str, Any], rule: RuleSpec, d: Dialect, ns: str = "") -> str:
    kind = pc.get("kind")
    if kind == "only_labourer":
        return "(m.p_is_labourer AND m.p_household_labourers = 1)"
    if kind == "main_earner":
        return "m.p_is_main_earner"
    if kind == "age_between":
        lo, hi = rule.values[pc["min_key"]], rule.values[pc["max_key"]]
        age = d.age_at("m.p_birth_date", "m.event_date")
        return f"({age} BETWEEN {int(lo)} AND {int(hi)})"
    if kind == "worse_than_registry":
        # e.g. new disability grade 1-2 where the registry had none or a milder grade (higher number)
        col, reg = _col(pc["column"], ns), _col("p_" + pc["registry_column"])
        return f"({reg} IS NULL OR {col} < {reg})"
    raise DomainError(E_RULE, f"未知的人员条件“{kind}”")


def _department_parts(rule: RuleSpec, month: str, d: Dialect, ns: str = "") -> list[str]:
    """The part of the rule's predicate on the department's own columns (window, values): what an engine
    can apply while scanning the file, before the join to the registry."""
    start, end = window_bounds(rule, month)
    parts = [f"m.event_date BETWEEN {d.date(start)} AND {d.date(end)}", *_where(rule, d, ns)]
    if rule.condition_kind == "value_in":
        vals = rule.condition.get("values") or []
        parts.append(f"{_col(rule.condition['column'], ns)} IN ({', '.join(d.literal(v) for v in vals)})")
    return parts


def rule_filter(rule: RuleSpec, month: str, d: Dialect, ns: str = "") -> str:
    """Record-level predicate of the rule: window, department values, who it applies to (``ns``: the
    department's column prefix in a stacked view)."""
    start, end = window_bounds(rule, month)
    parts = ["m.person_id IS NOT NULL", f"m.event_date BETWEEN {d.date(start)} AND {d.date(end)}"]
    if rule.applies_to not in APPLIES_TO_SQL:
        raise DomainError(E_RULE, f"未知的适用对象“{rule.applies_to}”")
    parts.append(APPLIES_TO_SQL[rule.applies_to])
    parts += _where(rule, d, ns)
    if rule.condition_kind == "value_in":
        vals = rule.condition.get("values") or []
        parts.append(f"{_col(rule.condition['column'], ns)} IN ({', '.join(d.literal(v) for v in vals)})")
    parts += [_person_condition(pc, rule, d, ns) for pc in rule.person_conditions]
    if rule.counties:
        parts.append(f"substr(m.p_village_code, 1, 6) IN ({', '.join(d.string(c) for c in rule.counties)})")
    if not rule.cumulative:
        parts.append("m._new")
    return " AND ".join(f"({p})" for p in parts)


def _aggregates(
    rule: RuleSpec, i: int | str, f: str, d: Dialect, ns: str = ""
) -> tuple[list[str], str, list[str]]:
    """SELECT expressions of rule i, its hit condition over them and the names they define."""
    kind = rule.condition_kind
    col = rule.condition.get("column")
    if kind in ("sum_at_least", "max_above", "value_above") and rule.threshold is None:
        raise DomainError(E_RULE, f"规则{rule.code}缺少阈值参数")
    if kind == "sum_at_least":
        value = f"sum({_col(col, ns)}) FILTER (WHERE {f})"
        cond = f"v_{i} >= {float(rule.threshold)}"
        by = _col(col, ns)
    elif kind in ("max_above", "value_above"):
        value = f"max({_col(col, ns)}) FILTER (WHERE {f})"
        cond = f"v_{i} > {float(rule.threshold)}"
        by = _col(col, ns)
    elif kind == "value_in":
        value = f"min({_col(col, ns)}) FILTER (WHERE {f})" if rule.condition.get("numeric") else "NULL"
        cond = f"n_{i} > 0"
        by = "m.event_date"
    elif kind == "any_record":
        value = f"max({_col(col, ns)}) FILTER (WHERE {f})" if col else "NULL"
        cond = f"n_{i} > 0"
        by = "m.event_date"
    else:
        raise DomainError(E_RULE, f"未知的条件类型“{kind}”")
    sel = [
        f"{d.count_if(f)} AS n_{i}",
        f"{value} AS v_{i}",
        f"{d.arg_max('m.record_key', by)} FILTER (WHERE {f}) AS k_{i}",
        f"min(m.event_date) FILTER (WHERE {f}) AS d0_{i}",
        f"max(m.event_date) FILTER (WHERE {f}) AS d1_{i}",
    ]
    names = [f"n_{i}", f"v_{i}", f"k_{i}", f"d0_{i}", f"d1_{i}"]
    if rule.cumulative:
        # the new records must carry the total over the threshold (the old ones alone stayed below)
        t = float(rule.threshold)
        sel += [f"{d.count_if(f'({f}) AND m._new')} AS nn_{i}",
                f"sum({_col(col, ns)}) FILTER (WHERE ({f}) AND NOT m._new) AS vo_{i}"]  # fmt: skip
        names += [f"nn_{i}", f"vo_{i}"]
        cond = f"{cond} AND nn_{i} > 0 AND coalesce(vo_{i}, 0) < {t}"
    return sel, f"(n_{i} > 0 AND {cond})", names


def compile_source(rules: list[RuleSpec], month: str, d: Dialect, *, view: str | None = None) -> str:
    """One query for all rules of one department (one scan). Rule i's columns are suffixed ``_i``."""
    if not rules:
        raise DomainError(E_RULE, "没有可运行的规则")
    source = rules[0].source
    if any(r.source != source for r in rules):
        raise DomainError(E_RULE, "同一查询中的规则必须属于同一部门数据")
    view = view or f"matched_{source}"
    sels, conds, filters = [], [], []
    starts, ends = [], []
    for i, r in enumerate(rules):
        f = rule_filter(r, month, d)
        filters.append(f)
        s, c, _ = _aggregates(r, i, f, d)
        sels += s
        conds.append(c)
        a, b = window_bounds(r, month)
        starts.append(a)
        ends.append(b)
    hits = ", ".join(f"{c} AS hit_{i}" for i, c in enumerate(conds))
    return (
        f"SELECT * FROM (SELECT *, {hits} FROM ("
        f"SELECT m.person_id, m.p_household_id AS household_id, {', '.join(sels)} "
        f"FROM {view} m "
        f"WHERE m.event_date BETWEEN {d.date(min(starts))} AND {d.date(max(ends))} "
        f"AND ({' OR '.join(f'({f})' for f in filters)}) "
        f"GROUP BY m.person_id, m.p_household_id) agg) t "
        f"WHERE {' OR '.join(f'hit_{i}' for i in range(len(rules)))}"
    )


def compile_rule(rule: RuleSpec, month: str, d: Dialect, *, view: str | None = None) -> str:
    """The rule on its own: one set-based query (used to explain a rule and to test the fusion)."""
    return compile_source([rule], month, d, view=view)


def _mapped(expr: str, mapping: dict[str, str], d: Dialect) -> str:
    if not mapping:
        return expr
    whens = " ".join(f"WHEN {d.string(k)} THEN {d.string(v)}" for k, v in mapping.items())
    return f"CASE {expr} {whens} ELSE {expr} END"


@dataclass
class MonthPart:
    """One department's share of a stacked month query (``compile_stacked``)."""

    source: str
    rules: list[RuleSpec]
    facts: Sequence[FactMap] = ()
    fact_batches: list[int] | None = None


def compile_month(
    source: str,
    rules: list[RuleSpec],
    facts: Sequence[FactMap],
    month: str,
    d: Dialect,
    *,
    view: str | None = None,
    fact_batches: list[int] | None = None,
    count_apart: bool = False,
) -> str:
    """The one query a run executes for a department, over ``matched_<source>`` (department rows joined
    to their registry person, by ID or by an accepted link: ``match_method`` id/linkage). It gives:
    - the run report's ``matched_id`` (rows matched by ID) on the row ``is_total = 1``;
    - rule i's aggregates and ``hit_i`` per person (columns as in ``compile_source``);
    - for fact j (``SourceSpec.facts``): the person's latest department value ``fv_j`` (by event date,
      then record), its record ``fk_j`` and date ``fd_j``, the registry value ``fr_j`` in the department's
      vocabulary, and ``fx_j`` = they differ. Only records of ``fact_batches`` (None = all) state facts.
    Only persons with a hit or a differing fact come back, plus the total row.

    Two plans, same rows:
    - fused (default, a small list): one pass over the joined rows; rows relevant to no rule and no fact
      are grouped under a NULL person, and a second level (GROUPING SETS over those few rows) adds the
      total row. One scan of the registry.
    - ``count_apart`` (a file bigger than the registry, 医保): the rules see only the rows passing their
      department-side conditions (window, values: applied while the file is scanned, before the join),
      and the total row is a count of the ID join, a narrow probe without the registry columns. Aggregating
      every joined row of a 10-million-row file to count them cost more than that probe: the medical
      query was 1.5-1.75x the bare one, now 1.05-1.1x."""
    view = view or f"matched_{source}"
    if any(r.source != source for r in rules):
        raise DomainError(E_RULE, "同一查询中的规则必须属于同一部门数据")
    if not count_apart:
        return _fused([MonthPart(source, rules, facts, fact_batches)], month, d, view=view, stacked=False)
    p = _month_parts(rules, facts, month, d, fact_batches)
    flag_sql = (", " + ", ".join(p["flags"] + p["fkey"])) if p["flags"] else ""
    relevant = p["relevant"] or "FALSE"
    conds, names = p["conds"], p["names"]
    hits = ""
    if p["sels"]:
        found = " OR ".join(p["found"])
        hits = (
            f"SELECT * FROM (SELECT 0 AS is_total, person_id, household_id, {', '.join(names)}, "
            f"CAST(NULL AS BIGINT) AS matched_id{''.join(', ' + c for c in conds)} FROM ("
            f"SELECT m.person_id, m.p_household_id AS household_id, {', '.join(p['sels'])} FROM ("
            f"SELECT m.*{flag_sql} FROM {view} m WHERE {p['pre']}) m "
            f"WHERE {relevant} GROUP BY m.person_id, m.p_household_id) agg) t WHERE {found} UNION ALL "
        )
    nulls = "".join(f", NULL AS {n}" for n in names)
    flags_null = "".join(f", CAST(NULL AS BOOLEAN) AS {c.rsplit(' AS ', 1)[1]}" for c in conds)
    return (
        f"{hits}SELECT 1 AS is_total, CAST(NULL AS BIGINT) AS person_id, CAST(NULL AS BIGINT) AS household_id"
        f"{nulls}, matched_id{flags_null} "
        f"FROM (SELECT count(*) AS matched_id FROM {view} m WHERE m.match_method = 'id') tot"
    )


def compile_stacked(parts: Sequence[MonthPart], month: str, d: Dialect, *, view: str) -> str:
    """``compile_month``'s fused plan for several departments at once, over one view of their rows stacked
    (``pipeline``: a typed UNION ALL, one join to the registry): the s-th department's own columns are
    prefixed ``stacked_prefix(s)``, every row names its department in ``_src``, and each rule's and fact's
    filter also tests the department. One aggregation instead of one query per department: on Spark each
    query is several stages of fixed cost over a few hundred rows.
    Columns: rule i of department s is suffixed ``_<s>_<i>`` (``hit_<s>_<i>``, ``v_<s>_<i>`` …), fact j
    ``_<s>_<j>``; the total row carries ``matched_id_<s>`` per department (``split_stacked`` gives back
    each department's rows in ``compile_month``'s columns)."""
    if not parts:
        raise DomainError(E_RULE, "没有可运行的部门数据")
    return _fused(list(parts), month, d, view=view, stacked=True)


def split_stacked(tbl: pa.Table, sources: Sequence[str]) -> dict[str, pa.Table]:
    """The rows of ``compile_stacked`` per department, named as ``compile_month`` names them; a person row
    goes to the departments in which it has a hit or a differing fact."""
    import pyarrow.compute as pc

    if not tbl.num_rows:
        return {k: pa.table({}) for k in sources}
    total = pc.fill_null(pc.cast(tbl["is_total"], pa.bool_()), False)
    out: dict[str, pa.Table] = {}
    for s, k in enumerate(sources):
        tag = f"_{s}_"
        own = {}
        for key in tbl.column_names:
            stem, sep, rest = key.partition(tag)
            if sep and rest.isdigit() and stem and not stem.startswith("matched_id"):
                own[key] = f"{stem}_{rest}"
        keep = total
        for key, name in own.items():
            if name.startswith(("hit_", "fx_")):
                keep = pc.or_(keep, pc.fill_null(pc.cast(tbl[key], pa.bool_()), False))
        sub = tbl.filter(keep)
        cols = {c: sub[c] for c in ("is_total", "person_id", "household_id")}
        cols["matched_id"] = sub[f"matched_id_{s}"]
        cols.update({name: sub[key] for key, name in own.items()})
        out[k] = pa.table(cols)
    return out


def _fused(parts: list[MonthPart], month: str, d: Dialect, *, view: str, stacked: bool) -> str:
    """One pass over the joined rows of one department, or of several stacked (``compile_stacked``); rows
    relevant to no rule and no fact are grouped under a NULL person, and a second level (GROUPING SETS over
    those few rows) adds the total row."""
    flags, sels, names, conds, relevant, found, counts = [], [], [], [], [], [], []
    fkey: list[str] = []
    for s, part in enumerate(parts):
        if any(r.source != part.source for r in part.rules):
            raise DomainError(E_RULE, "同一查询中的规则必须属于同一部门数据")
        src = f"m._src = {d.string(part.source)}" if stacked else None
        p = _month_parts(
            part.rules, part.facts, month, d, part.fact_batches,
            ns=stacked_prefix(s) if stacked else "", tag=f"{s}_" if stacked else "", src=src,
        )  # fmt: skip
        flags += p["flags"]
        fkey = fkey or p["fkey"]
        sels += p["sels"]
        names += p["names"]
        conds += p["conds"]
        relevant += [p["relevant"]] if p["relevant"] else []
        found += p["found"]
        by_id = "m.match_method = 'id'" + (f" AND {src}" if src else "")
        counts.append((d.count_if(by_id), f"matched_id_{s}" if stacked else "matched_id"))
    flag_sql = (", " + ", ".join(flags + fkey)) if flags else ""
    rel = " OR ".join(f"({r})" for r in relevant) or "FALSE"
    wanted = " OR ".join(["is_total = 1", *found])
    agg_sels = sels + [f"{c} AS {n}" for c, n in counts]
    level2 = ", ".join([f"max({n}) AS {n}" for n in names] + [f"sum({n}) AS {n}" for _, n in counts])
    return (
        f"WITH r AS (SELECT m.*{flag_sql} FROM {view} m), "
        f"g AS (SELECT m.*, CASE WHEN {rel} THEN m.person_id END AS _gp, "
        f"CASE WHEN {rel} THEN m.p_household_id END AS _gh FROM r m), "
        f"agg AS (SELECT m._gp AS person_id, m._gh AS household_id, {', '.join(agg_sels)} "
        f"FROM g m GROUP BY m._gp, m._gh), "
        f"agg2 AS (SELECT grouping(person_id) AS is_total, person_id, household_id, {level2} "
        f"FROM agg GROUP BY GROUPING SETS ((person_id, household_id), ())) "
        f"SELECT * FROM (SELECT *{''.join(', ' + c for c in conds)} FROM agg2) t WHERE {wanted}"
    )


def _month_parts(
    rules: list[RuleSpec],
    facts: Sequence[FactMap],
    month: str,
    d: Dialect,
    fact_batches: list[int] | None,
    *,
    ns: str = "",
    tag: str = "",
    src: str | None = None,
) -> dict[str, Any]:
    """The pieces of ``compile_month``: per-row flags, aggregates, hit conditions, the department-side
    pre-filter and the relevance test. In a stacked view (``compile_stacked``) the department's columns
    carry the prefix ``ns``, its names the tag (``hit_<tag><i>``), and ``src`` tests the row's department."""
    flags, sels, names, conds, raw, pre = [], [], [], [], [], []
    for i, r in enumerate(rules):
        raw.append(" AND ".join(([f"({src})"] if src else []) + [f"({rule_filter(r, month, d, ns)})"]))
        pre.append(" AND ".join(f"({p})" for p in _department_parts(r, month, d, ns)))
        flags.append(f"({raw[-1]}) AS _f{tag}{i}")
        s, c, nm = _aggregates(r, f"{tag}{i}", f"m._f{tag}{i}", d, ns)
        sels += s
        names += nm
        conds.append(f"{c} AS hit_{tag}{i}")
    for j, fm in enumerate(facts):
        g = [f"{_col(fm.column, ns)} IS NOT NULL"]
        for col, vals in fm.when.items():
            g.append(f"{_col(col, ns)} IN ({', '.join(d.literal(v) for v in vals)})")
        if fact_batches is not None:
            g.append(
                f"m.batch_id IN ({', '.join(str(int(b)) for b in fact_batches)})" if fact_batches else "FALSE"
            )
        pre.append(" AND ".join(f"({p})" for p in g))
        raw.append(" AND ".join(["m.person_id IS NOT NULL", *([src] if src else []), *g]))
        flags.append(f"({raw[-1]}) AS _g{tag}{j}")
        val = _mapped(d.text(_col(fm.column, ns)), fm.value_map, d)
        reg = f"coalesce({_mapped(d.text(_col('p_' + fm.registry_column)), fm.registry_map, d)}, '')"
        x = f"{tag}{j}"
        sels += [
            f"{d.arg_max(val, 'm._fkey')} FILTER (WHERE m._g{x}) AS fv_{x}",
            f"{d.arg_max('m.record_key', 'm._fkey')} FILTER (WHERE m._g{x}) AS fk_{x}",
            f"{d.arg_max('m.event_date', 'm._fkey')} FILTER (WHERE m._g{x}) AS fd_{x}",
            f"max({reg}) FILTER (WHERE m._g{x}) AS fr_{x}",
        ]
        names += [f"fv_{x}", f"fk_{x}", f"fd_{x}", f"fr_{x}"]
        conds.append(f"(fv_{x} IS NOT NULL AND fv_{x} <> fr_{x}) AS fx_{x}")
    fkey = [f"{d.text('m.event_date')} || lpad({d.text('m.record_key')}, 20, '0') AS _fkey"] if facts else []
    relevant = " OR ".join(
        [f"m._f{tag}{i}" for i in range(len(rules))] + [f"m._g{tag}{j}" for j in range(len(facts))]
    )
    return {
        "flags": flags, "fkey": fkey, "sels": sels, "names": names, "conds": conds, "relevant": relevant,
        "pre": " OR ".join(f"({x})" for x in pre) or "FALSE",
        "found": [f"hit_{tag}{i}" for i in range(len(rules))] + [f"fx_{tag}{j}" for j in range(len(facts))],
    }  # fmt: skip
