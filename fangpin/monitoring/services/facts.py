"""What the 入户核查 step collects about a household, in a JSON-safe snapshot with parameter refs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from fangpin.core import clock
from fangpin.registry.choices import LABOUR_ABLE, LabourSkill
from fangpin.registry.models import Household
from fangpin.registry.selectors import members_as_of
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess


def _s(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {k: _s(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_s(x) for x in v]
    return v


def labour_counts(hh: Household, *, on: dt.date) -> dict[str, int]:
    """Labour of the members in effect on ``on`` (a member who died or left before then does not count)."""
    members = [p.labour_skill for p in members_as_of(hh.id, on)]
    able = 0 if hh.no_labour_protected else sum(1 for s in members if s in LABOUR_ABLE)
    full = sum(1 for s in members if s in (LabourSkill.SKILLED, LabourSkill.ORDINARY))
    return {"members": len(members), "labour": able, "full_labour": full}


def household_snapshot(hh: Household, *, on: dt.date) -> dict[str, Any]:
    """Members, 人均纯收入 over the 12 months before ``on``'s month (and after 合规自付支出),
    三保障/饮水 failures, labour; with every parameter used."""
    month = clock.month_start(on)
    inc = household_income_assess(hh, month=month)
    guar, gparams = household_guarantees_assess(hh, on=on)
    r = inc.result
    return _s(
        {
            "on": on,
            "labour": labour_counts(hh, on=on),
            "income": {
                "window": [r.window_start, r.window_end],
                "members": r.members,
                "months_covered": r.months_covered,
                "net_income": r.net_income,
                "per_capita": r.per_capita,
                "per_capita_after_rigid": r.per_capita_after_rigid,
                "rigid_spending": r.totals.get("compliant_out_of_pocket", Decimal(0)),
                "line": inc.line,
                "missing": inc.missing,
                "below_line": inc.below_line,
                "below_line_after_rigid": inc.below_line_after_rigid,
                "warnings": r.warnings,
            },
            "guarantees": {
                "ok": guar.ok,
                "failures": [
                    {"dimension": x.dimension, "code": x.code, "message": x.message} for x in guar.failures
                ],
            },
            "params": inc.params + gparams,
        }
    )


def income_months_above(hh: Household, *, on: dt.date, months: int) -> tuple[int, list[dict[str, Any]]]:
    """Consecutive months, ending with ``on``'s month, whose 12-month 人均纯收入 (also after rigid
    spending) was at or above that year's line. Stops counting at ``months``."""
    count = 0
    refs: list[dict[str, Any]] = []
    start = clock.month_start(on)
    for i in range(months):
        a = household_income_assess(hh, month=clock.add_months(start, -i))
        refs = refs or a.params
        if a.missing or a.below_line or a.below_line_after_rigid:
            break
        count += 1
    return count, _s(refs)


def elimination_check(obj, *, on: dt.date) -> tuple[list, dict[str, Any], list[dict[str, Any]]]:
    """Runs the elimination guards of policy-research §3.5 for a monitoring object on ``on``.
    Returns (refusals, facts recorded, parameter refs)."""
    from fangpin.policy.params import param_get

    from ..models import MeasureStatus
    from ..rules import EliminationFacts, elimination_refusals

    hh = obj.household
    used = {
        k: param_get(k, region_code=hh.village_id, year=on.year)
        for k in (
            "elimination.min_months",
            "elimination.income_stable_months",
            "elimination.min_measures_done",
        )
    }
    stable = int(used["elimination.income_stable_months"].value)
    months_above, income_refs = income_months_above(hh, on=on, months=stable)
    guar, gparams = household_guarantees_assess(hh, on=on)
    labour = labour_counts(hh, on=on)
    f = EliminationFacts(
        identified_on=obj.identified_on,
        on=on,
        measures_done=obj.measures.filter(status=MeasureStatus.DONE).count(),
        labour_members=labour["labour"],
        income_months_above=months_above,
        guarantees_ok=guar.ok,
        guarantee_failures=[x.message for x in guar.failures],
    )
    refusals = elimination_refusals(
        f,
        min_months=int(used["elimination.min_months"].value),
        stable_months=stable,
        min_measures_done=int(used["elimination.min_measures_done"].value),
    )
    facts = _s(
        {
            "on": on,
            "identified_on": obj.identified_on,
            "measures_done": f.measures_done,
            "labour": labour,
            "income_months_above": months_above,
            "guarantees_ok": guar.ok,
            "guarantee_failures": f.guarantee_failures,
        }
    )
    refs = [pv.ref() for pv in used.values()] + income_refs + gparams
    return refusals, facts, refs
