"""Yearly income records with every component, drawn around each year's monitoring line.

Most households sit well above the line (ratio ~ lognormal around 1.9×); monitoring objects dip below
it in the 12 months before identification and, once eliminated, climb back; 突发严重困难户 have high
合规自付支出 (illness) instead. Non-monitored 脱贫户 are kept at ≥ 1.08× the line every year, so the
only ones under the line are the planted defects (rule P-EXITED-UNDER-LINE).

The current year has a record too, from 1 January to the end of the month before as_of (prorated), so
the 12-month window at the cut-off is fully covered; it and the outlook at as_of (objects due for
elimination, eliminated ones that relapsed in their 渐退期, households newly at risk) come from their own
random stream (``IncomePlan.extend_to_as_of``), leaving the complete years as they were drawn.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fangpin.core.clock import add_months
from fangpin.policy.rules.income import TRANSFER_ITEMS

from .params import GenParams

ABLE = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
_ZERO = Decimal(0)
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


def _d(x: float) -> Decimal:
    return Decimal(round(x))  # round() of a float (or int, Decimal) is an int


_transfers_of = operator.itemgetter(*TRANSFERS)


def net_of(rec: dict[str, Any]) -> Decimal:
    """Net income as the registry formula counts it (insurance payouts included)."""
    return (
        rec["wage"]
        + rec["production_business"]
        + rec["property_income"]
        + sum(_transfers_of(rec), _ZERO)
        - rec["production_expense"]
        + rec["insurance_payout"]
    )


def lower_to(rec: dict[str, Any], target_net: Decimal) -> bool:
    """Take income away (wage, then business, support, property) until net ≤ target. False if the
    fixed transfers alone are above the target."""
    for f in ("wage", "transfer_support", "property_income", "transfer_other"):
        excess = net_of(rec) - target_net
        if excess <= 0:
            return True
        rec[f] = max(_ZERO, rec[f] - excess)
    excess = net_of(rec) - target_net
    if excess > 0 and rec["production_business"] > 0:
        cut = min(excess, rec["production_business"] - rec["production_expense"])
        if cut > 0:
            rec["production_business"] -= cut
    return net_of(rec) <= target_net


def _record(
    rng: random.Random,
    hh: dict[str, Any],
    y: int,
    ratio: float,
    line: float,
    ctx: dict[str, Any],
    plan: IncomePlan,
    illness: bool = True,
) -> dict[str, Any]:
    """One complete year's record of household ``hh`` at ``ratio`` × ``line`` per head (``illness``:
    the plan's illness years apply)."""
    # rng.uniform(a, b) is a + (b - a) * rng.random(): inlined (same draws, same order), this is the
    # generator's innermost loop (5-6 records per household)
    rand = rng.random
    n, workers = ctx["n"], ctx["workers"]
    land = ctx["land"]
    target = ratio * line * n
    elders = sum(1 for b in ctx["birth_years"] if y - b >= 60)
    gross = land * (600 + 800 * rand())
    if plan.flood_year == y:
        gross *= 0.2 + (0.5 - 0.2) * rand()
    D = Decimal
    rec: dict[str, Any] = {
        "household_no": hh["household_no"],
        "period_start": dt.date(y, 1, 1),
        "period_end": dt.date(y, 12, 31),
        "wage": _ZERO,
        "production_business": D(round(gross)),
        "property_income": D(round(500 + 400 * rand() if ctx["solar"] else 200 * rand())),
        "transfer_pension": D(round(elders * (1450 + 60 * (y - 2021) + 300 * rand()))),
        "transfer_dibao": D(ctx["dibao_n"] * (4000 + 200 * (y - 2021))),
        "transfer_tekun": ctx["tekun"],
        "transfer_eco_compensation": ctx["eco"],
        "transfer_family_planning": D(960 * min(elders, 2)) if ctx["fp"] and elders else _ZERO,
        "transfer_subsidies": ctx["subsidies"],
        "transfer_support": D(round(800 + 2200 * rand())) if elders and not workers else _ZERO,
        "transfer_other": _ZERO,
        "production_expense": D(round(gross * (0.35 + (0.5 - 0.35) * rand()))),
        "insurance_payout": _ZERO,
        "compliant_out_of_pocket": D(round(sum(300 + 2200 * rand() for _ in ctx["sick"]))),
        "excluded": {},
        "note": "",
    }
    remainder = Decimal(int(target)) - net_of(rec)
    if remainder > 0:
        if workers:
            rec["wage"] = remainder
        elif rec["transfer_support"] > 0 or rng.random() < 0.5:
            rec["transfer_support"] += remainder
        else:
            rec["transfer_other"] += remainder
    elif ratio < 1:
        lower_to(rec, Decimal(int(target)))
    if illness and y in plan.illness_years:
        rec["compliant_out_of_pocket"] += _d(rng.uniform(8000, 40000))
        rec["note"] = "家庭成员住院治疗"
    if plan.flood_year == y:
        rec["excluded"] = {"救灾救助金": int(rng.choice([1000, 1500, 2000]))}
        rec["note"] = f"{y}年7月洪涝灾害，农作物受损"
    elif rng.random() < 0.1:
        rec["excluded"] = {"慰问金": 500}
    return rec


def _partial(
    rng: random.Random,
    hh: dict[str, Any],
    p: GenParams,
    ctx: dict[str, Any],
    plan: IncomePlan,
    last: dict[str, Any] | None,
) -> dict[str, Any]:
    """The current year from 1 January to the end of the month before as_of: the year's record at
    the plan's ratio, prorated to the months elapsed (money fields only)."""
    y, k = p.as_of.year, p.partial_months
    rec = _record(rng, hh, y, plan.ratio[y], float(p.line(y)), ctx, plan)
    share = Decimal(k) / Decimal(12)
    for f in MONEY_FIELDS:
        rec[f] = (rec[f] * share).quantize(Decimal(1))
    rec["period_end"] = p.partial_year_end
    if plan.outlook == NEW_RISK:
        rec["note"] = NOTE_NEW_RISK
    if plan.after_rigid_target is not None and last is not None:
        # a hospital bill this year that takes the 12-month income after 合规自付支出 to the target
        n = ctx["n"]
        weight = Decimal(12 - k) / Decimal(12)
        window_net = net_of(last) * weight + net_of(rec)
        window_oop = last["compliant_out_of_pocket"] * weight + rec["compliant_out_of_pocket"]
        target = Decimal(str(plan.after_rigid_target)) * p.line(y) * n
        bill = window_net - window_oop - target
        if bill > 0:
            rec["compliant_out_of_pocket"] += bill.quantize(Decimal(1))
        rec["note"] = NOTE_RELAPSE
    return rec


def income_records(
    rng: random.Random,
    hh: dict[str, Any],
    members: list[dict[str, Any]],
    p: GenParams,
    plan: IncomePlan,
    partial_rng: random.Random | None = None,
) -> list[dict[str, Any]]:
    """One record per complete year (``p.income_years``) and, with ``partial_rng`` and a plan
    extended to as_of, the current year's record up to the month before as_of."""
    current = [x for x in members if x["is_member"]]
    ctx = {
        "current": current,
        "n": len(current),
        "workers": [x for x in current if x["labour_skill"] in ABLE and x["work_status"] != "未务工"],
        "dibao_n": sum(1 for x in current if x["dibao"] != "未享受"),
        "tekun": sum((x["tekun_amount"] for x in current), _ZERO),
        "land": float(hh["cultivated_land_mu"]),
        "solar": rng.random() < 0.35 and hh["household_type"] == "脱贫户",
        "fp": rng.random() < 0.05,
        "sick": [x for x in current if x["health"] in ("长期慢性病", "患有大病")],
        "birth_years": [x["birth_date"].year for x in current],
        # the same every year: computed once per household
        "eco": _d(float(hh["grain_for_green_mu"]) * 150 + float(hh["forest_land_mu"]) * 15),
        "subsidies": _d(float(hh["cultivated_land_mu"]) * 110),
    }
    out = [_record(rng, hh, y, plan.ratio[y], float(p.line(y)), ctx, plan) for y in p.income_years]
    if partial_rng is None:
        return out
    for i, y in enumerate(p.income_years):
        if y in plan.recovered:  # a recovering object: these years are redrawn above the line
            out[i] = _record(
                partial_rng, hh, y, plan.recovered[y], float(p.line(y)), ctx, plan, illness=False
            )
    if plan.outlook == NEW_ILLNESS and out:
        # a member was in hospital last year: the bills are in last year's record (net income
        # unchanged, so P-EXITED-UNDER-LINE is not concerned)
        out[-1]["compliant_out_of_pocket"] += _d(partial_rng.uniform(8000, 40000))
        out[-1]["note"] = NOTE_NEW_ILLNESS
    if p.partial_year_end is not None and p.as_of.year in plan.ratio:
        out.append(_partial(partial_rng, hh, p, ctx, plan, out[-1] if out else None))
    return out
