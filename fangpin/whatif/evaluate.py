"""The vectorised evaluator: one parameter set applied to a ``Snapshot`` in DuckDB, giving per household
the judgements the per-household services give one at a time:

- 人均纯收入 of the business date's month and its verdict (``registry.services.assessment.
  household_income_assess``: the 12 months before the month, per month the latest recorded income record
  covering it, a partly covered window scaled to a year, members at the end of the month, missing income
  said as missing), and the category it implies (``monitoring.rules.derive_category``, the same function);
- for every active monitoring object, the consecutive months with income above the line
  (``monitoring.services.facts.income_months_above``) and the elimination refusals
  (``monitoring.rules.elimination_refusals``, the same function, on the same facts);
- whether the household is a monitoring object on the date (``monitoring_objects_on``), its 渐退期 end
  recomputed when the parameter set changes ``elimination.gradual_exit_months``.

Arithmetic is exact, as in the rule: per household the record lengths' lcm L makes every month's share
of a record an integer (fen × L / months); a window's sum is the difference of two prefix sums (an ASOF
join, so a preview is two lookups per household); 人均纯收入 in fen is then N/D with N = sum × window months
and D = months covered × members × L, rounded half away from zero in integers. Households whose L is too
large for that (odd record lengths) are recomputed by ``policy.rules.income.per_capita_net_income``
itself. The verdicts are the Python rule's, household for household (``tests/test_agreement.py``,
``tests/test_edge_cases.py``)."""

from __future__ import annotations

import datetime as dt
import math
import time
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.monitoring.rules import EliminationFacts, derive_category, elimination_refusals
from fangpin.policy.rules.income import IncomeFacts, per_capita_net_income

from .paramset import ParamSet
from .snapshot import Snapshot, month_index

MAX_BACK = 48  # months of income history prepared before the business date's month
MAX_LCM = 10**4  # beyond (or amounts over 1亿元 a record): the Python rule decides; BIGINT cannot overflow


def _month_end(t: int) -> dt.date:
    y, m = divmod(t, 12)
    first = dt.date(y, m + 1, 1)
    return clock.add_months(first, 1) - dt.timedelta(days=1)


def _line_cents(line: Any) -> int:
    """q < line ⇔ q_fen < ceil(line·100) for a q in whole fen."""
    return int(math.ceil(Decimal(str(line)) * 100))


def param_table(snap: Snapshot, pset: ParamSet, years: list[int]) -> pd.DataFrame:
    rows = []
    for v in snap.villages:
        for y in years:
            line = pset.value("income.monitoring_line", region_code=v, year=y)
            rows.append(
                {
                    "village_id": v,
                    "year": y,
                    "W": int(pset.value("income.window_months", region_code=v, year=y)),
                    "payout": bool(pset.value("income.include_insurance_payout", region_code=v, year=y)),
                    "line": str(line),
                    "line_c": _line_cents(line),
                }
            )
    return pd.DataFrame(rows, columns=["village_id", "year", "W", "payout", "line", "line_c"])


_PREPARE = """
CREATE TABLE lcm AS
SELECT household_id, CASE WHEN L0 <= {max_lcm} THEN L0 END AS L FROM (
    SELECT household_id,
           CASE WHEN max(greatest(abs(base_f), abs(payout_f), abs(oop_f))) <= 10000000000 THEN
           list_reduce(list(DISTINCT months::BIGINT), lambda a, b: CASE WHEN a > {max_lcm} THEN a ELSE lcm(a, b) END)
           END AS L0
    FROM income WHERE r1 >= {lo} AND r0 <= {hi} GROUP BY household_id
);
CREATE TABLE ch AS
SELECT e.household_id, e.m,
       CAST(e.base_f AS BIGINT) * (l.L // e.months) AS qb, CAST(e.payout_f AS BIGINT) * (l.L // e.months) AS qp,
       CAST(e.oop_f AS BIGINT) * (l.L // e.months) AS qo,
       count(*) OVER (PARTITION BY e.household_id, e.m) AS n_rec
FROM (
    SELECT household_id, unnest(range(greatest(r0, {lo}), least(r1, {hi}) + 1)) AS m, months, base_f, payout_f,
           oop_f, rec_at, ord
    FROM income WHERE r1 >= {lo} AND r0 <= {hi}
) e JOIN lcm l USING (household_id) WHERE l.L IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY e.household_id, e.m ORDER BY e.rec_at DESC NULLS LAST, e.ord DESC) = 1;
CREATE TABLE cumw AS
WITH grid AS (
    SELECT l.household_id, unnest(range({lo}, {hi} + 1)) AS m FROM lcm l WHERE l.L IS NOT NULL
), dense AS (
    SELECT g.household_id, g.m, coalesce(ch.qb, 0) AS qb, coalesce(ch.qp, 0) AS qp, coalesce(ch.qo, 0) AS qo,
           CASE WHEN ch.m IS NULL THEN 0 ELSE 1 END AS qn, CASE WHEN ch.n_rec > 1 THEN 1 ELSE 0 END AS qv
    FROM grid g LEFT JOIN ch USING (household_id, m)
), c AS (
    SELECT household_id, m, sum(qb) OVER w::BIGINT AS cb, sum(qp) OVER w::BIGINT AS cp,
           sum(qo) OVER w::BIGINT AS co, sum(qn) OVER w::BIGINT AS cn, sum(qv) OVER w::BIGINT AS cov
    FROM dense WINDOW w AS (PARTITION BY household_id ORDER BY m)
)
SELECT household_id, list(cb ORDER BY m) AS cb, list(cp ORDER BY m) AS cp, list(co ORDER BY m) AS co,
       list(cn ORDER BY m) AS cn, list(cov ORDER BY m) AS cov
FROM c GROUP BY household_id;
CREATE TABLE hh AS SELECT household_id, village_id FROM hh_df;
CREATE TABLE spells AS SELECT * FROM spells_df;
"""

_SQL = """
WITH q AS MATERIALIZED (
    SELECT tg.household_id, tg.t, tg.me, p.W, p.payout
    FROM tg JOIN hh USING (household_id) JOIN pv p ON p.village_id = hh.village_id AND p.year = tg.t // 12
),
mem AS (
    SELECT q.household_id, q.t, count(s.person_id) AS members
    FROM q LEFT JOIN spells s ON s.household_id = q.household_id
        AND s.start <= q.me AND (s.stop IS NULL OR s.stop > q.me)
    GROUP BY ALL
),
x AS MATERIALIZED (
    SELECT q.household_id, q.t, q.W, q.payout AS payout_on, l.L,
           l.household_id IS NOT NULL AND l.L IS NULL AS odd, c.cb, c.cp, c.co, c.cn, c.cov,
           q.t - 1 - {lo} + 1 AS i_hi, q.t - q.W - 1 - {lo} + 1 AS i_lo
    FROM q LEFT JOIN cumw c USING (household_id) LEFT JOIN lcm l USING (household_id)
),
w AS (
    SELECT x.household_id, x.t, W, payout_on, mem.members, L, odd,
        coalesce(cn[i_hi], 0) - CASE WHEN i_lo >= 1 THEN coalesce(cn[i_lo], 0) ELSE 0 END AS n_cov,
        coalesce(cov[i_hi], 0) - CASE WHEN i_lo >= 1 THEN coalesce(cov[i_lo], 0) ELSE 0 END > 0 AS overlapped,
        coalesce(cb[i_hi], 0) - CASE WHEN i_lo >= 1 THEN coalesce(cb[i_lo], 0) ELSE 0 END
            + CASE WHEN payout_on THEN coalesce(cp[i_hi], 0) - CASE WHEN i_lo >= 1 THEN coalesce(cp[i_lo], 0) ELSE 0 END
                   ELSE 0 END AS sb,
        coalesce(co[i_hi], 0) - CASE WHEN i_lo >= 1 THEN coalesce(co[i_lo], 0) ELSE 0 END AS so
    FROM x JOIN mem USING (household_id, t)
),
nd AS (
    SELECT *, CAST(sb AS BIGINT) * W AS n, CAST(sb - so AS BIGINT) * W AS nr,
           CAST(greatest(n_cov, 1) AS BIGINT) * greatest(members, 1) * coalesce(L, 1) AS d
    FROM w
)
SELECT household_id, t, W, payout_on, n_cov, members, overlapped,
    CASE WHEN n_cov = 0 OR members <= 0 THEN 0
         ELSE sign(n) * ((2 * abs(n) + d) // (2 * d)) END::DOUBLE AS p_c,
    CASE WHEN n_cov = 0 OR members <= 0 THEN 0
         ELSE sign(nr) * ((2 * abs(nr) + d) // (2 * d)) END::DOUBLE AS pr_c,
    n_cov > 0 AND members > 0 AND ((2 * abs(n)) % (2 * d) = d OR (2 * abs(nr)) % (2 * d) = d) AS tie,
    odd AS ambiguous
FROM nd
"""


def prepare(snap: Snapshot) -> duckdb.DuckDBPyConnection:
    """The parameter-independent part, once per snapshot: per household and month the record that counts,
    its share in integers, and prefix sums over the months (what every preview then only looks up)."""
    con = getattr(snap, "_con", None)
    if con is not None:
        return con
    t0 = month_index(snap.on)
    lo, hi = t0 - MAX_BACK, t0 - 1
    inc = snap.income
    con = duckdb.connect()
    con.register("income", inc[["household_id", "ord", "r0", "r1", "months", "rec_at", "base_f", "payout_f",
                                "oop_f"]])  # fmt: skip
    con.register("hh_df", snap.households[["household_id", "village_id"]])
    con.register("spells_df", snap.spells)
    con.execute(_PREPARE.format(lo=lo, hi=hi, max_lcm=MAX_LCM))
    for name in ("income", "hh_df", "spells_df"):
        con.unregister(name)
    snap._con = con
    return con


def _exact(snap: Snapshot, rows: pd.DataFrame) -> pd.DataFrame:
    """The rows whose rounding DOUBLE cannot decide, recomputed by the Python rule itself."""
    if rows.empty:
        return rows
    rows = rows.copy()
    inc = snap.income[snap.income["household_id"].isin(rows["household_id"])]
    by_hh = {h: g.sort_values("ord") for h, g in inc.groupby("household_id")}
    for ix, r in rows.iterrows():
        g = by_hh.get(r["household_id"])
        facts = [
            IncomeFacts(
                period_start=x.period_start,
                period_end=x.period_end,
                **{
                    c: Decimal(getattr(x, c))
                    for c in (
                        "wage",
                        "production_business",
                        "property_income",
                        "transfer",
                        "production_expense",
                        "insurance_payout",
                        "compliant_out_of_pocket",
                    )
                },
                recorded_at=x.rec_at.to_pydatetime() if pd.notna(x.rec_at) else None,
            )  # fmt: skip
            for x in (g.itertuples() if g is not None else [])
        ]
        y, m = divmod(int(r["t"]), 12)
        res = per_capita_net_income(
            facts,
            members=int(r["members"]),
            month=dt.date(y, m + 1, 1),
            window_months=int(r["W"]),
            include_insurance_payout=bool(r["payout_on"]),
        )
        rows.at[ix, "n_cov"] = res.months_covered
        rows.at[ix, "overlapped"] = any("不相加" in w for w in res.warnings)
        rows.at[ix, "p_c"] = float(res.per_capita * 100)
        rows.at[ix, "pr_c"] = float(res.per_capita_after_rigid * 100)
    return rows


def _income_core(snap: Snapshot, pv: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """Per (household, target month): members, months covered and 人均纯收入 (before and after rigid
    spending) in fen — what depends on the window and the payout rule but not on the line. Memoised on the
    snapshot per (window, payout) table and target set, so a scenario that moves only the line (or a
    baseline evaluated again on the same snapshot) does not run the query again."""
    core = pv[["village_id", "year", "W", "payout"]]
    key = (
        "income",
        tuple(core.itertuples(index=False, name=None)),
        len(targets),
        int(pd.util.hash_pandas_object(targets[["household_id", "t"]], index=False).sum()),
    )
    memo = snap._memo
    if key in memo:
        return memo[key]
    tg = targets.copy()
    ends = {t: pd.Timestamp(_month_end(int(t))) for t in tg["t"].unique()}
    tg["me"] = tg["t"].map(ends).astype("datetime64[ns]")
    con = prepare(snap).cursor()
    try:
        con.register("tg", tg)
        con.register("pv", core)
        out = con.sql(_SQL.format(lo=month_index(snap.on) - MAX_BACK)).df()
    finally:
        con.close()
    amb = out["ambiguous"].fillna(False).astype(bool)
    if amb.any():
        out.loc[amb] = _exact(snap, out.loc[amb])
    _remember(memo, key, out)
    return out


def income_table(snap: Snapshot, pset: ParamSet, targets: pd.DataFrame) -> pd.DataFrame:
    """Per (household, target month t): members, months covered, 人均纯收入 in fen (and after rigid
    spending), the line in fen, below / below after rigid, missing."""
    years = sorted({int(t) // 12 for t in targets["t"].unique()})
    pv = param_table(snap, pset, years)
    back = month_index(snap.on) - int(targets["t"].min()) + int(pv["W"].max() if len(pv) else 0)
    if back > MAX_BACK:
        raise DomainError(
            "whatif_window_too_long",
            f"收入计算期与收入稳定月数合计不能超过{MAX_BACK}个月",
            field="income.window_months",
        )
    out = _income_core(snap, pv, targets).copy()
    # the line of each target month's year in the household's village (vectorised lookup)
    village = snap.households.set_index("household_id")["village_id"]
    lines = pv.set_index(["village_id", "year"])["line_c"]
    ix = pd.MultiIndex.from_arrays(
        [village.reindex(out["household_id"]).to_numpy(), (out["t"] // 12).to_numpy()]
    )
    out["line_c"] = lines.reindex(ix).to_numpy()
    out["missing"] = (out["n_cov"] == 0) | (out["members"] <= 0)
    out["below"] = ~out["missing"] & (out["p_c"] < out["line_c"])
    out["below_rigid"] = ~out["missing"] & (out["pr_c"] < out["line_c"])
    out["per_capita"] = out["p_c"] / 100
    out["per_capita_after_rigid"] = out["pr_c"] / 100
    out["line"] = out["line_c"] / 100
    return out


def _stable_params(snap: Snapshot, pset: ParamSet) -> dict[str, dict[str, int]]:
    y = snap.on.year
    return {
        v: {
            k: int(pset.value(k, region_code=v, year=y))
            for k in (
                "elimination.min_months",
                "elimination.income_stable_months",
                "elimination.min_measures_done",
            )
        }
        for v in snap.villages
    }


def evaluate(snap: Snapshot, pset: ParamSet) -> pd.DataFrame:
    """One row per household of the snapshot with the judgements under ``pset`` (see the module doc).

    Memoised on the snapshot by the parameters as resolved (every value the evaluation reads, per village
    and year, and the 渐退期 ends), not by the set's identity: the same parameters on the same snapshot give
    the same judgements, so the baseline of a maintained snapshot is computed once (``store.warm``). At most
    ``MEMO_KEEP`` evaluations and income tables are kept per snapshot (the first, the baseline, always).
    The frame returned is shared: read it, do not change it."""
    on = snap.on
    t0 = month_index(on)
    objs = snap.objects
    guards = _stable_params(snap, pset)
    key = "elimination.gradual_exit_months"
    until = objs["gradual_exit_until"].copy()
    if pset.touches(key):
        elim = objs["eliminated_on"].notna()
        until = until.astype(object)
        for ix in objs.index[elim]:
            e = objs.at[ix, "eliminated_on"]
            months = int(pset.value(key, region_code=objs.at[ix, "village_id"], year=e.year))
            until.at[ix] = clock.add_months(e, months)
    back_max = max((g["elimination.income_stable_months"] for g in guards.values()), default=1)
    years = sorted({y for y in range((t0 - max(back_max, 1)) // 12, t0 // 12 + 1)})
    sig = (
        "evaluate",
        tuple(param_table(snap, pset, years).itertuples(index=False, name=None)),
        tuple(sorted((v, tuple(sorted(g.items()))) for v, g in guards.items())),
        tuple(until.tolist()),
    )
    hit = snap._memo.get(sig)
    if hit is not None:
        return hit
    res = _evaluate(snap, pset, guards, until)
    _remember(snap._memo, sig, res)
    return res


MEMO_KEEP = 8


def _remember(memo: dict[Any, Any], key: tuple, value: Any) -> None:
    """Stores ``value``; beyond ``MEMO_KEEP`` entries of its kind, drops the oldest but the first."""
    same = [k for k in memo if isinstance(k, tuple) and k[:1] == key[:1]]
    for k in same[1 : max(len(same) - MEMO_KEEP + 2, 1)]:
        del memo[k]
    memo[key] = value


def _evaluate(
    snap: Snapshot, pset: ParamSet, guards: dict[str, dict[str, int]], until: pd.Series
) -> pd.DataFrame:
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    on = snap.on
    t0 = month_index(on)
    hh = snap.households
    objs = snap.objects
    active = objs[objs["status"] == "active"]
    # target months: the date's month for everyone, and the months before it an active object's income
    # stability looks back over
    tg = [pd.DataFrame({"household_id": hh["household_id"].to_numpy(), "t": t0})]
    act_h = active["household_id"].to_numpy()
    back = np.array(
        [guards[v]["elimination.income_stable_months"] - 1 for v in active["village_id"].astype(object)],
        dtype=int,
    )
    if back.sum() > 0:
        rep = np.repeat(act_h, back)
        offs = np.concatenate([np.arange(1, b + 1) for b in back]) if len(back) else np.array([], dtype=int)
        tg.append(pd.DataFrame({"household_id": rep, "t": t0 - offs}))
    targets = pd.concat(tg, ignore_index=True)
    inc = income_table(snap, pset, targets)
    timings["income"] = time.perf_counter() - t_start

    now = inc[inc["t"] == t0].set_index("household_id")
    res = hh.set_index("household_id")[
        ["household_no", "village_id", "township_id", "household_type", "head"]
    ].join(
        now[
            [
                "members",
                "n_cov",
                "missing",
                "per_capita",
                "per_capita_after_rigid",
                "line",
                "below",
                "below_rigid",
                "overlapped",
                "tie",
                "ambiguous",
            ]
        ].rename(columns={"ambiguous": "exact"})  # fmt: skip
    )
    res["flagged"] = res["below"] | res["below_rigid"]
    # category: the rule itself, once per distinct combination of its inputs
    types = res["household_type"].astype(object).to_numpy()
    below, rigid = res["below"].fillna(False).to_numpy(bool), res["below_rigid"].fillna(False).to_numpy(bool)
    cats = np.empty(len(res), dtype=object)
    for ht in pd.unique(types):
        of_type = types == ht
        for b in (False, True):
            for r in (False, True):
                cats[of_type & (below == b) & (rigid == r)] = derive_category(
                    household_type=ht, below_line=b, below_line_after_rigid=r
                ).category
    res["category"] = cats

    # monitoring objects on the date (渐退期 ends as the set gives them: ``until``)
    elim_on = pd.to_datetime(objs["eliminated_on"], errors="coerce")
    until_ts = pd.to_datetime(until, errors="coerce")
    on_ts = pd.Timestamp(on)
    on_list = (elim_on.isna() | (elim_on > on_ts) | (until_ts >= on_ts)).to_numpy(bool)
    monitored = objs.loc[on_list, "household_id"].unique()
    res["monitored"] = res.index.isin(monitored)
    res["current"] = res.index.isin(list(snap.monitored_now))
    in_exit = on_list & elim_on.notna().to_numpy(bool)
    exit_until = pd.Series(until[in_exit].to_numpy(), index=objs.loc[in_exit, "household_id"].to_numpy())
    exit_until = exit_until[~exit_until.index.duplicated(keep="last")]
    res["gradual_exit_until"] = (
        exit_until.reindex(res.index).astype(object).where(res.index.isin(exit_until.index), None)
    )

    # elimination guards for the active objects: the same rule, on the same facts
    t = time.perf_counter()
    ok = inc[inc["household_id"].isin(act_h) & ~inc["missing"] & ~inc["below"] & ~inc["below_rigid"]]
    ok_months = set(zip(ok["household_id"].tolist(), ok["t"].tolist(), strict=True))
    sp = snap.spells
    live = sp[(sp["start"] <= on_ts) & (sp["stop"].isna() | (sp["stop"] > on_ts))]
    labour = live[live["labour_able"]].groupby("household_id").size().to_dict()
    protected = dict(zip(hh["household_id"].tolist(), hh["no_labour_protected"].tolist(), strict=True))
    res["object_active"] = res.index.isin(list(active["household_id"]))
    above_col, eligible_col, refusals_col = {}, {}, {}
    for o in active.itertuples():
        g = guards[o.village_id]
        s = g["elimination.income_stable_months"]
        above = 0
        while above < s and (o.household_id, t0 - above) in ok_months:
            above += 1
        f = EliminationFacts(
            identified_on=o.identified_on,
            on=on,
            measures_done=int(o.measures_done),
            labour_members=0 if protected.get(o.household_id) else int(labour.get(o.household_id, 0)),
            income_months_above=above,
            guarantees_ok=bool(o.guarantees_ok),
            guarantee_failures=list(o.guarantee_failures or []),
        )
        refusals = elimination_refusals(
            f,
            min_months=g["elimination.min_months"],
            stable_months=s,
            min_measures_done=g["elimination.min_measures_done"],
        )
        above_col[o.household_id] = above
        eligible_col[o.household_id] = not refusals
        refusals_col[o.household_id] = [r.code for r in refusals]
    res["months_above"] = pd.Series(above_col, dtype="float64").reindex(res.index)
    res["eligible"] = pd.Series(eligible_col, dtype=bool).reindex(res.index, fill_value=False).astype(bool)
    res["refusals"] = pd.Series(refusals_col, dtype=object).reindex(res.index)
    timings["guards"] = time.perf_counter() - t
    res["enter"] = res["flagged"] & ~res["monitored"]
    res["leave"] = res["current"] & ~res["monitored"]
    res.attrs["timings"] = timings
    return res
