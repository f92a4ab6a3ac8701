"""Plain-Chinese reasons from the model's per-feature contributions: the features that raised the
household's score the most, each said with its value (e.g. "近12个月住院自付累计8,600元")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _yuan(v: float) -> str:
    return f"{v:,.0f}元"


def _n(v: float) -> str:
    return f"{v:.0f}"


# An income is a reason for risk only near the monitoring line: "上年人均纯收入为监测范围的2.77倍" said as
# a reason (a small positive contribution of a comfortable household) reads as nonsense to a cadre.
NEAR_LINE = 1.5
# A contribution below this (log-odds; 0.05 ≈ 5 % more risk) is not worth a sentence: a low-risk
# household's largest contributions are often of this size, and "no prominent factor" is the honest answer.
MIN_CONTRIBUTION = 0.05


# Features that say the same thing in other words: a household's reasons name at most one of each group
# (its largest contribution), e.g. not "近年人均纯收入平均仅为…" and "前年人均纯收入仅为…" side by side.
GROUPS: dict[str, str] = {
    **dict.fromkeys(
        (
            "income_ratio",
            "income_ratio_prev",
            "income_ratio_mean",
            "income_ratio_min",
            "income_years_near_line",
        ),
        "income",
    ),
    **dict.fromkeys(("dibao", "tekun"), "assistance"),  # "享受低保/特困" and "享受特困供养"
    # "家中无劳动力" said once, whichever of them the model leaned on
    **dict.fromkeys(("full_labour", "labour_share", "no_full_labour"), "labour"),
    # "家庭成员均为60岁以上老人或未成年人" and "1名60岁以上老人" of the same household
    **dict.fromkeys(("dependants_share", "elders", "children"), "dependants"),
}


def _near_line(ratio: float, what: str) -> str | None:
    if ratio != ratio or ratio >= NEAR_LINE:  # NaN: no income known
        return None
    if ratio < 1:
        return f"{what}低于监测范围（为监测范围的{ratio:.2f}倍）"
    return f"{what}仅为监测范围的{ratio:.2f}倍（接近监测范围）"


# feature → sentence from the household's row (None: not worth saying at this value)
PHRASES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "selfpay_12m": lambda r: (
        f"近12个月住院自付累计{_yuan(r['selfpay_12m'])}" if r["selfpay_12m"] > 0 else None
    ),
    "selfpay_12m_ratio": lambda r: (
        f"近12个月住院自付人均约为监测范围的{r['selfpay_12m_ratio']:.0%}" if r["selfpay_12m"] > 0 else None
    ),
    "selfpay_3m": lambda r: f"近3个月住院自付{_yuan(r['selfpay_3m'])}" if r["selfpay_3m"] > 0 else None,
    "hospital_3m": lambda r: f"近3个月住院{_n(r['hospital_3m'])}次" if r["hospital_3m"] > 0 else None,
    "hospital_36m": lambda r: f"近3年住院{_n(r['hospital_36m'])}次" if r["hospital_36m"] > 0 else None,
    "selfpay_36m_ratio": lambda r: (
        f"近3年住院自付人均约为监测范围的{r['selfpay_36m_ratio']:.0%}" if r["selfpay_36m_ratio"] > 0 else None
    ),
    "no_full_labour": lambda r: "家中无技能或普通劳动力" if r["no_full_labour"] > 0 else None,
    "high_school_continuing": lambda r: (
        f"{_n(r['high_school_continuing'])}名子女今年9月升入高中二、三年级（学费等支出）"
        if r["high_school_continuing"] > 0
        else None
    ),
    "selfpay_ytd": lambda r: f"今年住院自付累计{_yuan(r['selfpay_ytd'])}" if r["selfpay_ytd"] > 0 else None,
    "rule_flags": lambda r: (
        f"触及{_n(r['rule_flags'])}项筛查预警条件（收入、住院自付、失业、重度残疾、死亡、灾损、危房）"
        if r["rule_flags"] > 0
        else None
    ),
    "hospital_12m": lambda r: f"近12个月住院{_n(r['hospital_12m'])}次" if r["hospital_12m"] > 0 else None,
    "months_since_hospital": lambda r: (
        f"{_n(r['months_since_hospital'])}个月前住院"
        if r["months_since_hospital"] == r["months_since_hospital"]
        else None
    ),
    "job_loss_6m": lambda r: "家庭成员近半年失业登记（务工中断）" if r["job_loss_6m"] > 0 else None,
    "months_since_job_loss": lambda r: (
        f"{_n(r['months_since_job_loss'])}个月前有成员失业返乡"
        if r["months_since_job_loss"] == r["months_since_job_loss"]
        else None
    ),
    "disaster_loss_12m": lambda r: (
        f"近12个月受灾损失{_yuan(r['disaster_loss_12m'])}" if r["disaster_loss_12m"] > 0 else None
    ),
    "village_disaster_12m": lambda r: "本村近12个月受灾" if r["village_disaster_12m"] > 0 else None,
    "school_cost_12m": lambda r: (
        f"子女就读高中/大学，近12个月学费等{_yuan(r['school_cost_12m'])}"
        if r["school_cost_12m"] > 0
        else None
    ),
    "advanced_students": lambda r: (
        f"家中{_n(r['advanced_students'])}名高中及以上在校生" if r["advanced_students"] > 0 else None
    ),
    "disability_new_12m": lambda r: "近12个月新办残疾人证" if r["disability_new_12m"] > 0 else None,
    "death_12m": lambda r: "近12个月家庭成员去世" if r["death_12m"] > 0 else None,
    "income_ratio": lambda r: _near_line(r["income_ratio"], "上年人均纯收入"),
    "income_change": lambda r: (
        f"上年人均纯收入比前年减少，减少额约为监测范围的{-r['income_change']:.0%}"
        if r["income_change"] <= -0.05  # a drop of under 5 % of the line is noise, not a reason
        else None
    ),
    "oop_ratio": lambda r: "上年合规自付医疗支出较高" if r["oop_ratio"] > 0.2 else None,
    "full_labour": lambda r: (
        "家中无劳动力" if r["full_labour"] == 0 else ("家中仅一名劳动力" if r["full_labour"] == 1 else None)
    ),
    "labour_share": lambda r: (
        "家中无劳动力"
        if r["labour_share"] == 0
        else (f"劳动力占家庭人口{r['labour_share']:.0%}" if r["labour_share"] < 0.5 else None)
    ),
    "dependants_share": lambda r: (
        "家庭成员均为60岁以上老人或未成年人"
        if r["dependants_share"] >= 1
        else (
            f"老人和未成年人占家庭人口{r['dependants_share']:.0%}" if r["dependants_share"] >= 0.5 else None
        )
    ),
    "serious_ill": lambda r: f"{_n(r['serious_ill'])}人患大病" if r["serious_ill"] > 0 else None,
    "chronic_ill": lambda r: f"{_n(r['chronic_ill'])}人患长期慢性病" if r["chronic_ill"] > 0 else None,
    "disabled": lambda r: f"{_n(r['disabled'])}名残疾人" if r["disabled"] > 0 else None,
    "disabled_severe": lambda r: "有一、二级重度残疾人" if r["disabled_severe"] > 0 else None,
    "migrant_workers": lambda r: (
        f"{_n(r['migrant_workers'])}人县外务工（收入依赖外出务工）" if r["migrant_workers"] > 0 else None
    ),
    "elders": lambda r: f"{_n(r['elders'])}名60岁以上老人" if r["elders"] > 0 else None,
    "dibao": lambda r: "享受低保/特困" if r["dibao"] > 0 else None,
    "house_unsafe": lambda r: "住房鉴定为C/D级" if r["house_unsafe"] > 0 else None,
    "leads_rejected_24m": lambda r: (
        "近两年曾有风险线索（核实未纳入）" if r["leads_rejected_24m"] > 0 else None
    ),
    "village_entries_24m": lambda r: (
        f"本村近两年新纳入监测户占{r['village_entries_24m']:.1%}" if r["village_entries_24m"] > 0 else None
    ),
    "members": lambda r: f"家庭人口多（{_n(r['members'])}人）" if r["members"] >= 5 else None,
    "children": lambda r: f"{_n(r['children'])}名16岁以下未成年人" if r["children"] > 0 else None,
    "weak_labour": lambda r: f"{_n(r['weak_labour'])}名弱劳动力或半劳动力" if r["weak_labour"] > 0 else None,
    "tekun": lambda r: "享受特困供养" if r["tekun"] > 0 else None,
    "land_per_head": lambda r: (
        f"人均耕地{r['land_per_head']:.1f}亩（收入受灾情影响大）" if r["land_per_head"] >= 2 else None
    ),
    "water_scarce": lambda r: "地处缺水地区" if r["water_scarce"] > 0 else None,
    "years_since_exit": lambda r: (
        f"脱贫{_n(r['years_since_exit'])}年" if r["years_since_exit"] == r["years_since_exit"] else None
    ),
    "income_ratio_prev": lambda r: _near_line(r["income_ratio_prev"], "前年人均纯收入"),
    "shock_stock": lambda r: (
        f"近几个月住院、受灾、学费等支出冲击约合全家一年监测范围收入的{r['shock_stock']:.0%}"
        if r["shock_stock"] >= 0.05
        else None
    ),
    "income_ratio_mean": lambda r: _near_line(r["income_ratio_mean"], "近年人均纯收入平均"),
    "income_ratio_min": lambda r: _near_line(r["income_ratio_min"], "近年人均纯收入最低"),
    "income_years_near_line": lambda r: (
        f"{_n(r['income_years_near_line'])}个年度人均纯收入不足监测范围的1.2倍"
        if r["income_years_near_line"] > 0
        else None
    ),
    "months_to_september": lambda r: (
        f"{_n(r['months_to_september'])}个月后秋季开学，家中有学生（学费支出）"
        if r["months_to_september"] <= 5 and (r["advanced_students"] > 0 or r["entering_high_school"] > 0)
        else None
    ),
    "entering_high_school": lambda r: (
        f"{_n(r['entering_high_school'])}名子女今年秋季升入高中阶段（学费支出增加）"
        if r["entering_high_school"] > 0
        else None
    ),
    "migrant_per_labour": lambda r: (
        f"县外务工人数占家庭劳动力的{r['migrant_per_labour']:.0%}（务工中断即收入中断）"
        if r["migrant_per_labour"] > 0
        else None
    ),
    "leads_rejected_ever": lambda r: (
        f"曾{_n(r['leads_rejected_ever'])}次有风险线索（核实未纳入）"
        if r["leads_rejected_ever"] > 0
        else None
    ),
    "months_since_lead": lambda r: (
        f"{_n(r['months_since_lead'])}个月前曾有风险线索"
        if r["months_since_lead"] == r["months_since_lead"]
        else None
    ),
}


def reasons_for(
    row: dict[str, Any],
    contrib: np.ndarray,
    features: tuple[str, ...],
    *,
    top: int = 3,
    min_contribution: float = MIN_CONTRIBUTION,
) -> list[str]:
    """The ``top`` features that raised this household's score most (each by at least
    ``min_contribution`` log-odds), as Chinese phrases. A missing value (None from Polars' rows, NaN from
    numpy) is NaN for the phrases: no reason is said of it. An empty list: no prominent factor."""
    row = {k: float("nan") if v is None else v for k, v in row.items()}
    out: list[str] = []
    said: set[str] = set()
    for i in np.argsort(-contrib[: len(features)]):
        if contrib[i] < min_contribution or contrib[i] <= 0 or len(out) >= top:
            break
        group = GROUPS.get(features[i], features[i])
        if group in said:
            continue
        phrase = PHRASES.get(features[i], lambda _r: None)(row)
        if phrase and phrase not in out:
            out.append(phrase)
            said.add(group)
    return out
