"""Shared test builders for the monitoring tests: households with incomes, a full pass through a chain."""

from __future__ import annotations

import datetime as dt

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.monitoring.services.cases import case_step_complete
from fangpin.testing import factories as f

ASPECTS = ("guarantees", "water", "members", "farming", "environment", "income", "work", "health", "disaster")


def checklist(**problems: str) -> dict:
    return {a: ({"ok": False, "note": problems[a]} if a in problems else {"ok": True}) for a in ASPECTS}


def poor_exited_household(village: str = f.VILLAGE_A1, *, per_capita: int = 5000, year: int = 2024):
    """脱贫户 of three with labour, one member seriously ill, income ``per_capita`` a head in ``year``."""
    hh = f.household(village, household_type="脱贫户")
    f.person(hh, name="王建国", health="患有大病")
    f.person(hh, name="李秀英", gender="F", relation="配偶", birth=dt.date(1982, 3, 4))
    f.person(hh, name="王小明", relation="之子", birth=dt.date(2004, 8, 9))
    f.income(hh, year=year, wage=per_capita * 3)
    return hh


def sudden_household(village: str = f.VILLAGE_A1):
    """一般农户 above the line (10000/head in 2024) but 8000/head of 合规自付支出 → 突发严重困难户."""
    hh = f.household(village, household_type="一般农户")
    f.person(hh, name="赵大山")
    f.person(hh, name="钱桂兰", gender="F", relation="配偶", birth=dt.date(1983, 1, 2))
    f.income(hh, year=2024, wage=20000, compliant_out_of_pocket=8000)
    return hh


def extra_user(username: str, role: str, region: str) -> User:
    return User.objects.create(username=username, role=role, region_id=region)


def run_village_steps(case, cadre, *, start: dt.date, kind_has_compare: bool = True, publicity_days: int = 5):
    """入户核查 → (信息比对) → 民主评议 → 村内公示 with the minimum publicity; returns the date it ended."""
    d = start
    case_step_complete(actor=cadre, case=case, step="verify", on=d, data={"findings": "入户核实"})
    if kind_has_compare:
        d += dt.timedelta(days=1)
        case_step_complete(actor=cadre, case=case, step="compare", on=d, data={"asset_red_flags": []})
    d += dt.timedelta(days=1)
    case_step_complete(
        actor=cadre,
        case=case,
        step="deliberate",
        on=d,
        data={"meeting_on": d, "attendance": 15, "votes_for": 13, "votes_against": 1},
    )
    d += dt.timedelta(days=publicity_days)
    case_step_complete(actor=cadre, case=case, step="publicize", on=d, data={"place": "村务公开栏"})
    return d


__all__ = [
    "Role",
    "assigned_helper",
    "checklist",
    "extra_user",
    "poor_exited_household",
    "run_village_steps",
    "sudden_household",
]


def assigned_helper(personas, hh, *, name: str = "helper_a1"):
    """The persona ``name`` made the household's 帮扶责任人 (a helper acts only for households assigned to
    them), by the township of 村A1."""
    from fangpin.monitoring.services.assistance import assignment_set

    assignment_set(
        actor=personas["township_a"], household=hh, user=personas[name], kind="helper", on=dt.date(2024, 1, 2)
    )
    return personas[name]
