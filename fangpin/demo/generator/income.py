"""Yearly income records with every component, drawn around each year's monitoring line.

Most households sit well above the line (ratio ~ lognormal around 1.9×); monitoring objects dip below
it in the 12 months before identification and, once eliminated, climb back; 突发严重困难户 have high
合规自付支出 (illness) instead. Non-monitored 脱贫户 are kept at ≥ 1.08× the line every year for
today's members; the rule P-EXITED-UNDER-LINE divides by the members of last 31 December, so besides
the planted defects a household that had more members then (a death or marriage-out since) can be under
the line — ``defects.plant_pre_id`` records those as expected findings too.

The current year has a record too, from 1 January to the end of the month before as_of (prorated), so
the 12-month window at the cut-off is fully covered; it and the outlook at as_of (objects due for
elimination, eliminated ones that relapsed in their 渐退期, households newly at risk) come from their own
random stream (``IncomePlan.extend_to_as_of``), leaving the complete years as they were drawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import operator
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fangpin.core.clock import add_months
from fangpin.policy.rules.income import TRANSFER_ITEMS

from .params import GenParams

ABLE = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
# Every money column of an income record, in the registry's order.
MONEY_FIELDS = (
    "wage",
    "production_business",
    "property_income",
    *TRANSFER_ITEMS,
    "production_expense",
    "insurance_payout",
    "compliant_out_of_pocket",
)
TRANSFERS = TRANSFER_ITEMS


# The outlook at as_of, drawn for the current (partial) year from its own stream
RECOVERING = "recovering"  # active object whose income is back above the line: due for 风险消除
RELAPSING = "relapsing"  # eliminated, still in its 渐退期, hit again this year: due for 风险消除回退
NEW_RISK = "new_risk"  # not monitored, lost work income this year: a visit will find it
NEW_ILLNESS = "new_illness"  # not monitored, hospital bills last year: the 医保 data will flag it
RECOVERING_SHARE = 0.5
RELAPSING_SHARE = 0.35
NEW_RISK_SHARE = 0.015
NEW_ILLNESS_SHARE = 0.015
# The income record notes that mark these outlooks in the registry (demo/departments.py reads them to
# give the department files of the month the events behind them).
NOTE_NEW_RISK = "今年务工中断，收入下降"
NOTE_NEW_ILLNESS = "家庭成员住院治疗"
NOTE_RELAPSE = "家庭成员住院治疗，务工中断"


def _trajectory(
    rng: random.Random, y: int, mon: dict[str, Any], illness: set[int], fall_on: dt.date | None = None
) -> float | None:
    """A monitoring object's income / line in year ``y`` (one draw, whichever branch): unchanged
    before the year of its fall (``fall_on``, from the history; the identification month if none),
    under the line from the fall until it recovers."""
    ident: dt.date = mon["identified_on"]
    elim: dt.date | None = mon["eliminated_on"]
    fall_year = (fall_on or ident).year
    if y < fall_year:
        return None
    if elim and y >= elim.year - (1 if elim.month <= 6 else 0):
        return rng.uniform(1.2, 1.6)
    if mon["category"] == "突发严重困难户":
        if fall_year <= y <= ident.year:
            illness.add(y)
        return rng.uniform(1.15, 1.5)
    return rng.uniform(0.62, 0.85) if y <= ident.year else rng.uniform(0.8, 1.05)


@dataclass
class IncomePlan:
    ratio: dict[int, float]  # year → per-capita net income / line
    illness_years: set[int]
    flood_year: int | None
    cap: float | None = None  # ceiling of the ratio in the identification year and the one before
    outlook: str = ""  # RECOVERING / RELAPSING / NEW_RISK / NEW_ILLNESS, or "" (trajectory continues)
    after_rigid_target: float | None = None  # 12-month income after 合规自付支出 / line, at as_of
    recovered: dict[int, float] = field(default_factory=dict)  # complete years redrawn at these ratios
    fall_on: dt.date | None = None  # the month the history made the household fall (objects only)

    @classmethod
    def for_household(
        cls,
        rng: random.Random,
        hh: dict[str, Any],
        members: list[dict[str, Any]],
        p: GenParams,
        mon: dict[str, Any] | None,
        *,
        base: float | None = None,
        fall_on: dt.date | None = None,
    ) -> IncomePlan:
        """``base``: the household's income level (× line; the history's buffer, so income and risk go
        together; drawn here without one). ``fall_on``: the month of a monitoring object's fall."""
        years = p.income_years
        drawn = math.exp(rng.gauss(math.log(1.9), 0.33))
        base = drawn if base is None else base
        ratio = {y: max(1.08, base * rng.uniform(0.92, 1.08)) for y in years}
        illness: set[int] = set()
        flood = years[0] if rng.random() < 0.04 else None
        cap = None
        if mon:
            ident: dt.date = mon["identified_on"]
            fall_year = (fall_on or ident).year
            for y in years:
                r = _trajectory(rng, y, mon, illness, fall_on)
                if r is not None:
                    ratio[y] = r
            if "因病" in mon["risk_types"]:
                illness |= {y for y in range(fall_year, ident.year + 1) if y in ratio}
            if "因自然灾害" in mon["risk_types"]:
                flood = years[0]
            # 人均 at identification uses the members of that month: keep it plausible however many
            # members were born or died since (P-INCOME-IMPLAUSIBLE must only see planted rows).
            n_now = sum(1 for x in members if x["is_member"])
            n_then = max(
                1,
                sum(
                    1
                    for x in members
                    if (x["_entered_on"] or p.baseline) <= ident
                    and (x["_left_on"] is None or x["_left_on"] > ident)
                ),
            )
            cap = 0.6 * float(p.implausible_per_capita) * n_then / (n_now * float(max(p.lines.values())))
            for y in range(fall_year, ident.year + 1):
                if y in ratio:
                    ratio[y] = min(ratio[y], cap)
        return cls(ratio=ratio, illness_years=illness, flood_year=flood, cap=cap, fall_on=fall_on)

    def extend_to_as_of(
        self,
        rng: random.Random,
        hh: dict[str, Any],
        members: list[dict[str, Any]],
        p: GenParams,
        mon: dict[str, Any] | None,
    ) -> None:
        """The current year up to the month before as_of, from its own stream ``rng`` (the complete
        years keep what ``for_household`` drew; only a recovering object's recent years are redrawn,
        from this stream, in ``income_records``). Most households continue their trajectory; a few are at a turning
        point the scripted month should meet: an object due for 风险消除 (income above the line for a
        year, labour, 三保障 resolved), an eliminated one hit again in its 渐退期 (work lost and a
        hospital bill: due for 风险消除回退) and a household not monitored that lost its work income
        this year (a visit finds it under the line)."""
        if p.partial_year_end is None:
            return
        cur, last = p.as_of.year, p.as_of.year - 1
        k = p.partial_months
        line_ratio = float(p.line(last)) / float(p.line(cur))
        if mon is None:
            r = max(1.08, self.ratio[last] * rng.uniform(0.95, 1.05))
            u = rng.random()
            if hh["household_type"] == "脱贫户" and u < NEW_RISK_SHARE:
                # the cut that takes the 12-month income to ~0.75 of the line, if the months of this
                # year already weigh enough for that; otherwise the loss does not show yet
                need = (0.75 * 12 - (12 - k) * self.ratio[last] * line_ratio) / k
                r = need if need >= 0.1 else 0.3
                self.outlook = NEW_RISK
            elif hh["household_type"] == "脱贫户" and u < NEW_RISK_SHARE + NEW_ILLNESS_SHARE:
                self.outlook = NEW_ILLNESS
            self.ratio[cur] = r
            return
        ident: dt.date = mon["identified_on"]
        elim: dt.date | None = mon["eliminated_on"]
        r = _trajectory(rng, cur, mon, self.illness_years, self.fall_on)
        fall_year = (self.fall_on or ident).year
        if "因病" in mon["risk_types"] and fall_year <= cur <= ident.year:
            self.illness_years.add(cur)
        if fall_year <= cur <= ident.year and self.cap is not None:
            r = min(r, self.cap)
        able = not hh["no_labour_protected"] and any(
            x["is_member"] and x["labour_skill"] in ABLE for x in members
        )
        since = add_months(p.as_of, -13).year
        if elim is None and able and ident.year < since and rng.random() < RECOVERING_SHARE:
            self.recovered = {y: rng.uniform(1.2, 1.5) for y in range(since, cur)}
            r = rng.uniform(1.25, 1.6)
            self.illness_years.discard(cur)
            self.outlook = RECOVERING
            _resolve_guarantees(hh, mon, p)
        elif (
            elim is not None
            and add_months(elim, p.gradual_exit_months) >= p.as_of
            and rng.random() < RELAPSING_SHARE
        ):
            r = rng.uniform(0.5, 0.8)
            self.after_rigid_target = rng.uniform(0.55, 0.8)
            self.outlook = RELAPSING
        self.ratio[cur] = r


def _resolve_guarantees(hh: dict[str, Any], mon: dict[str, Any], p: GenParams) -> None:
    """An object due for elimination has had its 住房/饮水 problem fixed."""
    if "因安全住房" in mon["risk_types"] and hh["house_grade"] in ("C", "D"):
        hh["house_grade"], hh["house_appraised_on"] = "B", add_months(p.as_of, -4)
    if "因安全饮水" in mon["risk_types"]:
        hh["water_interruption_days"] = min(hh["water_interruption_days"], 5)


_transfers_of = operator.itemgetter(*TRANSFERS)


def net_of(rec: dict[str, Any]) -> Any:
    """Net income as the registry formula counts it (insurance payouts included): an int for the
    generator's rows (whole yuan), a Decimal for the database's."""
    return (
        rec["wage"]
        + rec["production_business"]
        + rec["property_income"]
        + sum(_transfers_of(rec))
        - rec["production_expense"]
        + rec["insurance_payout"]
    )


def lower_to(rec: dict[str, Any], target_net: Any) -> bool:
    """Take income away (wage, then business, support, property) until net ≤ target. False if the
    fixed transfers alone are above the target."""
    for f in ("wage", "transfer_support", "property_income", "transfer_other"):
        excess = net_of(rec) - target_net
        if excess <= 0:
            return True
        rec[f] = max(0, rec[f] - excess)
    excess = net_of(rec) - target_net
    if excess > 0 and rec["production_business"] > 0:
        cut = min(excess, rec["production_business"] - rec["production_expense"])
        if cut > 0:
            rec["production_business"] -= cut
    return net_of(rec) <= target_net


# -- the records, drawn for all the households of a village at once (numpy) ----------------------
# One row of draws per record, whichever branch it takes, so a village's complete years depend only on
# its households and plans (never on the current year's draws, which come from the as-of stream).
_U_COLS = 10  # gross, flood, property, pension, support, expense, remainder, illness, aid, gift
_FLOOD_AID = np.array([1000, 1500, 2000])
_ILLNESS_NOTE = "家庭成员住院治疗"


def income_streams(seed: int, code: str) -> tuple[np.random.Generator, np.random.Generator]:
    """The village's income streams: the complete years, and the current year (with the outlook's
    redrawn years), each ``numpy.random.default_rng`` seeded from (seed, village code)."""

    def rng(salt: str) -> np.random.Generator:
        h = hashlib.blake2b(f"fangpin-income:{seed}:{code}:{salt}".encode(), digest_size=8).digest()
        return np.random.default_rng(int.from_bytes(h, "little"))

    return rng("years"), rng("as-of")


@dataclass
class _Households:
    """The per-household inputs of the income draws (arrays over a village's households)."""

    n: np.ndarray  # current members
    workers: np.ndarray  # bool: a member with labour who works
    dibao_n: np.ndarray
    tekun: np.ndarray  # yuan a year (the members' 特困 amounts)
    land: np.ndarray
    solar: np.ndarray  # bool: a 光伏 share (脱贫户 only)
    fp: np.ndarray  # bool: 计划生育奖励扶助
    n_sick: np.ndarray
    births: np.ndarray  # (households, max members) birth years of current members, padded with 9999
    eco: np.ndarray
    subsidies: np.ndarray

    @classmethod
    def of(
        cls, u: np.ndarray, households: list[dict[str, Any]], members: list[list[dict[str, Any]]]
    ) -> _Households:
        """``u``: two uniforms per household (光伏, 计划生育奖励扶助)."""
        cur = [[x for x in m if x["is_member"]] for m in members]
        H = len(households)
        width = max((len(c) for c in cur), default=0) or 1
        births = np.full((H, width), 9999, dtype=np.int64)
        # one pass over each household's members (the per-household facts as Python values, then arrays)
        w_l, d_l, t_l, s_l = [], [], [], []
        for i, c in enumerate(cur):
            births[i, : len(c)] = [x["birth_date"].year for x in c]
            w, d, t, s_ = False, 0, 0, 0
            for x in c:
                if not w and x["labour_skill"] in ABLE and x["work_status"] != "未务工":
                    w = True
                d += x["dibao"] != "未享受"
                t += x["tekun_amount"]
                s_ += x["health"] in ("长期慢性病", "患有大病")
            w_l.append(w)
            d_l.append(d)
            t_l.append(int(t))
            s_l.append(s_)
        exited = np.array([h["household_type"] == "脱贫户" for h in households], dtype=bool)
        land = np.array([float(h["cultivated_land_mu"]) for h in households])
        return cls(
            n=np.array([len(c) for c in cur], dtype=np.int64),
            workers=np.array(w_l, dtype=bool),
            dibao_n=np.array(d_l, dtype=np.int64),
            tekun=np.array(t_l, dtype=np.int64),
            land=land,
            solar=(u[:, 0] < 0.35) & exited,
            fp=u[:, 1] < 0.05,
            n_sick=np.array(s_l, dtype=np.int64),
            births=births,
            eco=np.rint(
                np.array(
                    [
                        float(h["grain_for_green_mu"]) * 150 + float(h["forest_land_mu"]) * 15
                        for h in households
                    ]
                )
            ).astype(np.int64),
            subsidies=np.rint(land * 110).astype(np.int64),
        )


def _draw(
    u: np.ndarray,
    sick: np.ndarray,
    hh: _Households,
    hidx: np.ndarray,
    year: np.ndarray,
    ratio: np.ndarray,
    line: np.ndarray,
    flood: np.ndarray,
    illness: np.ndarray,
) -> dict[str, np.ndarray]:
    """The money of records (household ``hidx``, ``year``) at ``ratio`` × ``line`` per head: every
    component, the remainder to the target put on wages (a household with workers), family support or
    other transfers; ``lower``: records above a target under the line (``lower_to`` takes income away)."""
    R = len(hidx)
    n_sick = hh.n_sick[hidx]
    n, land, workers = hh.n[hidx], hh.land[hidx], hh.workers[hidx]
    target = np.floor(ratio * line * n)
    elders = (hh.births[hidx] <= (year - 60)[:, None]).sum(axis=1)
    gross = land * (600 + 800 * u[:, 0])
    gross = np.where(flood, gross * (0.2 + 0.3 * u[:, 1]), gross)
    business = np.rint(gross)
    prop = np.rint(np.where(hh.solar[hidx], 500 + 400 * u[:, 2], 200 * u[:, 2]))
    pension = np.rint(elders * (1450 + 60 * (year - 2021) + 300 * u[:, 3]))
    dibao = hh.dibao_n[hidx] * (4000 + 200 * (year - 2021))
    fp = np.where(hh.fp[hidx] & (elders > 0), 960 * np.minimum(elders, 2), 0)
    support = np.where((elders > 0) & ~workers, np.rint(800 + 2200 * u[:, 4]), 0)
    expense = np.rint(gross * (0.35 + 0.15 * u[:, 5]))
    oop = np.rint(((300 + 2200 * sick) * (np.arange(sick.shape[1]) < n_sick[:, None])).sum(axis=1))
    tekun, eco, subs = hh.tekun[hidx], hh.eco[hidx], hh.subsidies[hidx]
    net = business + prop + pension + dibao + tekun + eco + fp + subs + support - expense
    rem = target - net
    pos = rem > 0
    to_support = pos & ~workers & ((support > 0) | (u[:, 6] < 0.5))
    wage = np.where(pos & workers, rem, 0)
    support = support + np.where(to_support, rem, 0)
    other = np.where(pos & ~workers & ~to_support, rem, 0)
    oop = oop + np.where(illness, np.rint(8000 + 32000 * u[:, 7]), 0)
    i64 = np.int64
    return {
        "wage": wage.astype(i64),
        "production_business": business.astype(i64),
        "property_income": prop.astype(i64),
        "transfer_pension": pension.astype(i64),
        "transfer_dibao": dibao.astype(i64),
        "transfer_tekun": tekun.astype(i64),
        "transfer_eco_compensation": eco.astype(i64),
        "transfer_family_planning": fp.astype(i64),
        "transfer_subsidies": subs.astype(i64),
        "transfer_support": support.astype(i64),
        "transfer_other": other.astype(i64),
        "production_expense": expense.astype(i64),
        "insurance_payout": np.zeros(R, dtype=i64),
        "compliant_out_of_pocket": oop.astype(i64),
        "_target": target.astype(i64),
        "_lower": ~pos & (ratio < 1),
        "_aid": np.where(flood, _FLOOD_AID[(u[:, 8] * 3).astype(int)], 0),
        "_gift": ~flood & (u[:, 9] < 0.1),
    }


_YEAR_BOUNDS: dict[int, tuple[dt.date, dt.date]] = {}


_ROW_KEYS = ("household_no", "period_start", "period_end", *MONEY_FIELDS, "excluded", "note")


def _rows(
    households: list[dict[str, Any]],
    hidx: np.ndarray,
    year: np.ndarray,
    cols: dict[str, np.ndarray],
    illness: np.ndarray,
    months: int | None = None,
) -> list[dict[str, Any]]:
    """Row dicts (money in whole yuan, ints) of drawn records; ``lower_to`` applied where due, then
    the money prorated to ``months`` of 12 if given (the current year's months elapsed)."""
    lower = np.nonzero(cols["_lower"])[0].tolist()
    if months is not None:
        cols = dict(cols)
        keep = cols["_lower"]  # lowered to the whole year's target first, prorated after
        for f in MONEY_FIELDS:
            cols[f] = np.where(keep, cols[f], np.rint(cols[f] * months / 12).astype(np.int64))
    nos = [h["household_no"] for h in households]
    years = year.tolist()
    for y in set(years):
        if y not in _YEAR_BOUNDS:
            _YEAR_BOUNDS[y] = (dt.date(y, 1, 1), dt.date(y, 12, 31))
    aid, gift = cols["_aid"].tolist(), cols["_gift"].tolist()
    excluded = [
        {"救灾救助金": a} if a else {"慰问金": 500} if g else {} for a, g in zip(aid, gift, strict=True)
    ]
    notes = [
        f"{y}年7月洪涝灾害，农作物受损" if a else _ILLNESS_NOTE if ill else ""
        for y, a, ill in zip(years, aid, illness.tolist(), strict=True)
    ]
    out = [
        dict(zip(_ROW_KEYS, r))  # noqa: B905 (r has one value per key: the zip below is strict)
        for r in zip(
            [nos[h] for h in hidx.tolist()],
            [_YEAR_BOUNDS[y][0] for y in years],
            [_YEAR_BOUNDS[y][1] for y in years],
            *(cols[f].tolist() for f in MONEY_FIELDS),
            excluded,
            notes,
            strict=True,
        )
    ]
    for i in lower:
        lower_to(out[i], int(cols["_target"][i]))
        if months is not None:
            for f in MONEY_FIELDS:
                out[i][f] = round(out[i][f] * months / 12)
    return out


def _uniforms(rng: np.random.Generator, n_sick: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms of records whose households have ``n_sick`` ill members: a row of ``_U_COLS`` each,
    then one per ill member (as many columns as the most)."""
    u = rng.random((len(n_sick), _U_COLS))
    return u, rng.random((len(n_sick), int(n_sick.max(initial=0))))


def _stack(blocks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The uniforms of several villages' records, one after the other (ill members' columns padded)."""
    if not blocks:
        return np.zeros((0, _U_COLS)), np.zeros((0, 0))
    width = max(b[1].shape[1] for b in blocks)
    sick = [np.pad(b[1], ((0, 0), (0, width - b[1].shape[1]))) for b in blocks]
    return np.concatenate([b[0] for b in blocks]), np.concatenate(sick)


def _draw_rows(
    uniforms: tuple[np.ndarray, np.ndarray],
    hh: _Households,
    households: list[dict[str, Any]],
    picks: tuple[np.ndarray, ...],
    p: GenParams,
    months: int | None = None,
) -> list[dict[str, Any]]:
    """Records of ``picks`` = arrays (household index, year, ratio, flood, illness)."""
    h, y, r, fl, il = picks
    if not len(h):
        return []
    lines = {yr: float(p.line(yr)) for yr in set(y.tolist())}
    line = np.array([lines[x] for x in y.tolist()])
    return _rows(households, h, y, _draw(*uniforms, hh, h, y, r, line, fl, il), il, months)


def _picks(rows: list[tuple[int, int, float, bool, bool]]) -> tuple[np.ndarray, ...]:
    """(household index, year, ratio, flood, illness) rows as arrays."""
    if not rows:
        return tuple(np.zeros(0, dtype=t) for t in (np.int64, np.int64, float, bool, bool))
    h, y, r, fl, il = zip(*rows, strict=True)
    return (
        np.array(h, dtype=np.int64), np.array(y, dtype=np.int64), np.array(r, dtype=float),
        np.array(fl, dtype=bool), np.array(il, dtype=bool),
    )  # fmt: skip


IncomeVillage = tuple[
    np.random.Generator,
    "np.random.Generator | None",
    list[dict[str, Any]],
    list[list[dict[str, Any]]],
    list[IncomePlan],
]


def village_income_records(
    rng: np.random.Generator,
    partial_rng: np.random.Generator | None,
    households: list[dict[str, Any]],
    members: list[list[dict[str, Any]]],
    plans: list[IncomePlan],
    p: GenParams,
) -> list[list[dict[str, Any]]]:
    """The income records of one village's households (see ``incomes_of_villages``)."""
    return incomes_of_villages([(rng, partial_rng, households, members, plans)], p)[0]


def incomes_of_villages(villages: list[IncomeVillage], p: GenParams) -> list[list[list[dict[str, Any]]]]:
    """The income records of villages, each given as (complete-years stream, as-of stream, households,
    their members, their plans): per village, a list per household (in the order of its households) of
    one record per complete year (``p.income_years``) from the first stream and, with an as-of stream and
    plans extended to as_of, the current year's record up to the month before as_of (plus a recovering
    object's redrawn years and last year's hospital bills of a newly ill household) from the as-of stream.
    Each village's draws come from its own streams in the same order as alone; the arithmetic is done
    on all the villages' records at once."""
    years = p.income_years
    Y = len(years)
    ys = np.array(years, dtype=np.int64)
    households = [h for v in villages for h in v[2]]
    plans = [pl for v in villages for pl in v[4]]
    starts = np.cumsum([0] + [len(v[2]) for v in villages])
    # the draws, village by village, in each village's order: its households' uniforms and complete
    # years, then (as-of stream) the redrawn years, the hospital bills, the current year
    first = [rng.random((len(hhs), 2)) for rng, _a, hhs, _m, _p in villages]
    hh = _Households.of(
        np.concatenate(first) if first else np.zeros((0, 2)), households, [m for v in villages for m in v[3]]
    )
    complete, again_u, ill_u, now_u = [], [], [], []
    again: list[tuple[int, int, float, bool, bool]] = []
    ill: list[int] = []
    now: list[tuple[int, int, float, bool, bool]] = []
    cur, k = p.as_of.year, p.partial_months
    for (rng, partial_rng, hhs, _m, pls), s0 in zip(villages, starts.tolist(), strict=False):
        idx = np.arange(s0, s0 + len(hhs))
        complete.append(_uniforms(rng, np.repeat(hh.n_sick[idx], Y)))
        if partial_rng is None:
            continue
        a = [
            (s0 + i, y, plan.recovered[y], plan.flood_year == y, False)
            for i, plan in enumerate(pls)
            for y in years
            if y in plan.recovered
        ]
        if a:
            again_u.append(_uniforms(partial_rng, hh.n_sick[[r[0] for r in a]]))
            again += a
        i_ = [s0 + i for i, plan in enumerate(pls) if plan.outlook == NEW_ILLNESS and Y]
        ill_u.append(partial_rng.uniform(8000, 40000, len(i_)))
        ill += i_
        if p.partial_year_end is not None:
            n_ = [
                (s0 + i, cur, plan.ratio[cur], plan.flood_year == cur, cur in plan.illness_years)
                for i, plan in enumerate(pls)
                if cur in plan.ratio
            ]
            if n_:
                now_u.append(_uniforms(partial_rng, hh.n_sick[[r[0] for r in n_]]))
                now += n_
    H = len(households)
    flood_year = np.array([plan.flood_year or 0 for plan in plans], dtype=np.int64)
    picks = (
        np.repeat(np.arange(H), Y),
        np.tile(ys, H),
        np.array([plan.ratio[y] for plan in plans for y in years], dtype=float).reshape(H * Y),
        (flood_year[:, None] == ys[None, :]).reshape(H * Y),
        np.array([y in plan.illness_years for plan in plans for y in years], dtype=bool).reshape(H * Y),
    )
    flat = _draw_rows(_stack(complete), hh, households, picks, p)
    out = [flat[i * Y : (i + 1) * Y] for i in range(H)]
    # a recovering object: these years are redrawn above the line
    for (i, y, *_), rec in zip(
        again, _draw_rows(_stack(again_u), hh, households, _picks(again), p), strict=True
    ):
        out[i][years.index(y)] = rec
    # a member was in hospital last year: the bills are in last year's record (net income unchanged,
    # so P-EXITED-UNDER-LINE is not concerned)
    amounts = np.rint(np.concatenate(ill_u)).tolist() if ill_u else []
    for i, amount in zip(ill, amounts, strict=True):
        out[i][-1]["compliant_out_of_pocket"] += int(amount)
        out[i][-1]["note"] = NOTE_NEW_ILLNESS
    if now:
        line = float(p.line(cur))
        # the year's record at the plan's ratio, prorated to the months elapsed
        for (i, *_), rec in zip(
            now, _draw_rows(_stack(now_u), hh, households, _picks(now), p, k), strict=True
        ):
            rec["period_end"] = p.partial_year_end
            plan, last = plans[i], (out[i][-1] if out[i] else None)
            if plan.outlook == NEW_RISK:
                rec["note"] = NOTE_NEW_RISK
            if plan.after_rigid_target is not None and last is not None:
                # a hospital bill this year that takes the 12-month income after 合规自付支出 to the target
                weight = (12 - k) / 12
                window_net = float(net_of(last)) * weight + float(net_of(rec))
                window_oop = float(last["compliant_out_of_pocket"]) * weight + rec["compliant_out_of_pocket"]
                bill = window_net - window_oop - plan.after_rigid_target * line * int(hh.n[i])
                if bill > 0:
                    rec["compliant_out_of_pocket"] += round(bill)
                rec["note"] = NOTE_RELAPSE
            out[i].append(rec)
    return [out[a:b] for a, b in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True)]
