"""Yearly income records with every component, drawn around each year's monitoring line.

Most households sit well above the line (ratio ~ lognormal around 1.9×); monitoring objects dip below
it in the 12 months before identification and, once eliminated, climb back; 突发严重困难户 have high
合规自付支出 (illness) instead. Non-monitored 脱贫户 are kept at ≥ 1.08× the line every year, so the
only ones under the line are the planted defects (rule P-EXITED-UNDER-LINE).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .params import GenParams

ABLE = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
_ZERO = Decimal(0)
MONEY_FIELDS = (
    "wage",
    "production_business",
    "property_income",
    "transfer_pension",
    "transfer_dibao",
    "transfer_tekun",
    "transfer_eco_compensation",
    "transfer_family_planning",
    "transfer_subsidies",
    "transfer_support",
    "transfer_other",
    "production_expense",
    "insurance_payout",
    "compliant_out_of_pocket",
)
TRANSFERS = tuple(f for f in MONEY_FIELDS if f.startswith("transfer_"))


@dataclass
class IncomePlan:
    ratio: dict[int, float]  # year → per-capita net income / line
    illness_years: set[int]
    flood_year: int | None

    @classmethod
    def for_household(
        cls,
        rng: random.Random,
        hh: dict[str, Any],
        members: list[dict[str, Any]],
        p: GenParams,
        mon: dict[str, Any] | None,
    ) -> IncomePlan:
        years = p.income_years
        base = math.exp(rng.gauss(math.log(1.9), 0.33))
        ratio = {y: max(1.08, base * rng.uniform(0.92, 1.08)) for y in years}
        illness: set[int] = set()
        flood = years[0] if rng.random() < 0.04 else None
        if mon:
            ident: dt.date = mon["identified_on"]
            elim: dt.date | None = mon["eliminated_on"]
            sudden = mon["category"] == "突发严重困难户"
            for y in years:
                if y < ident.year - 1:
                    continue
                if elim and y >= elim.year - (1 if elim.month <= 6 else 0):
                    ratio[y] = rng.uniform(1.2, 1.6)
                elif sudden:
                    ratio[y] = rng.uniform(1.15, 1.5)
                    if y in (ident.year - 1, ident.year):
                        illness.add(y)
                else:
                    ratio[y] = rng.uniform(0.62, 0.85) if y <= ident.year else rng.uniform(0.8, 1.05)
            if "因病" in mon["risk_types"]:
                illness |= {y for y in (ident.year - 1, ident.year) if y in ratio}
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
            for y in (ident.year - 1, ident.year):
                if y in ratio:
                    ratio[y] = min(ratio[y], cap)
        return cls(ratio=ratio, illness_years=illness, flood_year=flood)


def _d(x: float) -> Decimal:
    return Decimal(int(round(x)))


def net_of(rec: dict[str, Any]) -> Decimal:
    """Net income as the registry formula counts it (insurance payouts included)."""
    return (
        rec["wage"]
        + rec["production_business"]
        + rec["property_income"]
        + sum((rec[f] for f in TRANSFERS), _ZERO)
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


def income_records(
    rng: random.Random,
    hh: dict[str, Any],
    members: list[dict[str, Any]],
    p: GenParams,
    plan: IncomePlan,
) -> list[dict[str, Any]]:
    current = [x for x in members if x["is_member"]]
    n = len(current)
    workers = [x for x in current if x["labour_skill"] in ABLE and x["work_status"] != "未务工"]
    dibao_n = sum(1 for x in current if x["dibao"] != "未享受")
    tekun = sum((x["tekun_amount"] for x in current), _ZERO)
    land = float(hh["cultivated_land_mu"])
    solar = rng.random() < 0.35 and hh["household_type"] == "脱贫户"
    fp = rng.random() < 0.05
    sick = [x for x in current if x["health"] in ("长期慢性病", "患有大病")]
    out = []
    for y in p.income_years:
        line = float(p.line(y))
        target = plan.ratio[y] * line * n
        elders = sum(1 for x in current if y - x["birth_date"].year >= 60)
        gross = land * rng.uniform(600, 1400)
        if plan.flood_year == y:
            gross *= rng.uniform(0.2, 0.5)
        rec: dict[str, Any] = {
            "household_no": hh["household_no"],
            "period_start": dt.date(y, 1, 1),
            "period_end": dt.date(y, 12, 31),
            "wage": _ZERO,
            "production_business": _d(gross),
            "property_income": _d(rng.uniform(500, 900) if solar else rng.uniform(0, 200)),
            "transfer_pension": _d(elders * (1450 + 60 * (y - 2021) + rng.uniform(0, 300))),
            "transfer_dibao": _d(dibao_n * (4000 + 200 * (y - 2021))),
            "transfer_tekun": tekun,
            "transfer_eco_compensation": _d(
                float(hh["grain_for_green_mu"]) * 150 + float(hh["forest_land_mu"]) * 15
            ),
            "transfer_family_planning": _d(960 * min(elders, 2)) if fp and elders else _ZERO,
            "transfer_subsidies": _d(land * 110),
            "transfer_support": _d(rng.uniform(800, 3000)) if elders and not workers else _ZERO,
            "transfer_other": _ZERO,
            "production_expense": _d(gross * rng.uniform(0.35, 0.5)),
            "insurance_payout": _ZERO,
            "compliant_out_of_pocket": _d(sum(rng.uniform(300, 2500) for _ in sick)),
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
        elif plan.ratio[y] < 1:
            lower_to(rec, Decimal(int(target)))
        if y in plan.illness_years:
            rec["compliant_out_of_pocket"] += _d(rng.uniform(8000, 40000))
            rec["note"] = "家庭成员住院治疗"
        if plan.flood_year == y:
            rec["excluded"] = {"救灾救助金": int(rng.choice([1000, 1500, 2000]))}
            rec["note"] = f"{y}年7月洪涝灾害，农作物受损"
        elif rng.random() < 0.1:
            rec["excluded"] = {"慰问金": 500}
        out.append(rec)
    return out
