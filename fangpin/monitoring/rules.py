"""Pure judgements of the lifecycle: category, elimination guards. Facts and parameters in, decision
and reasons (Chinese) out; services store the decision with the parameter refs they used."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from fangpin.core.clock import months_between

from .models.choices import Category

EXITED = "脱贫户"


@dataclass(frozen=True)
class CategoryDecision:
    category: str  # "" = income does not qualify for any category
    reason: str


def derive_category(
    *, household_type: str, below_line: bool, below_line_after_rigid: bool
) -> CategoryDecision:
    """policy-research §1.1: within the line → 脱贫不稳定户 (脱贫户) / 边缘易致贫户 (一般农户);
    above the line but below it after 刚性支出 → 突发严重困难户 (either household type)."""
    if below_line:
        if household_type == EXITED:
            return CategoryDecision(Category.UNSTABLE_EXITED, "脱贫户，人均纯收入低于监测范围")
        return CategoryDecision(Category.EDGE, "一般农户，人均纯收入低于监测范围")
    if below_line_after_rigid:
        return CategoryDecision(Category.SUDDEN, "人均纯收入高于监测范围，但扣除合规自付支出后低于监测范围")
    return CategoryDecision("", "人均纯收入（含扣除刚性支出后）均高于监测范围")


@dataclass
class EliminationFacts:
    identified_on: dt.date
    on: dt.date
    measures_done: int
    labour_members: int
    income_months_above: int  # consecutive months (ending now) with income and after-rigid income above line
    guarantees_ok: bool
    guarantee_failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


E_TOO_EARLY = "elimination_too_early"
E_SAME_OR_NEXT_MONTH = "elimination_same_or_next_month"
E_NO_MEASURE_DONE = "elimination_no_measure_done"
E_NO_LABOUR = "elimination_no_labour"
E_INCOME_UNSTABLE = "elimination_income_unstable"
E_GUARANTEES = "elimination_guarantees_unresolved"


def elimination_refusals(
    f: EliminationFacts, *, min_months: int, stable_months: int, min_measures_done: int
) -> list[Refusal]:
    """policy-research §3.5 hard rules; an empty list means the proposal may go to the review chain."""
    out: list[Refusal] = []
    month_gap = (f.on.year - f.identified_on.year) * 12 + f.on.month - f.identified_on.month
    if month_gap <= 1:
        out.append(Refusal(E_SAME_OR_NEXT_MONTH, "不得在识别纳入的当月或次月标注风险消除"))
    if months_between(f.identified_on, f.on) < min_months:
        out.append(Refusal(E_TOO_EARLY, f"识别纳入不满{min_months}个月，不得标注风险消除"))
    if f.labour_members == 0:
        out.append(Refusal(E_NO_LABOUR, "整户无劳动能力的监测对象不标注风险消除，须持续跟踪帮扶"))
    if f.measures_done < min_measures_done:
        out.append(Refusal(E_NO_MEASURE_DONE, f"至少落实{min_measures_done}项帮扶措施后方可标注风险消除"))
    if f.income_months_above < stable_months:
        out.append(
            Refusal(
                E_INCOME_UNSTABLE,
                f"收入稳定高于监测范围不足{stable_months}个月（仅{f.income_months_above}个月）",
            )
        )
    if not f.guarantees_ok:
        out.append(
            Refusal(E_GUARANTEES, "“三保障”和饮水安全问题尚未解决：" + "；".join(f.guarantee_failures))
        )
    return out
