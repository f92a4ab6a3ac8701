"""Assistance and risk-type warnings for monitoring objects (policy-research §2.4, §3.4).

Codes are stable (tests, the checks registry and the per-case view use them). Each rule is evaluated
from one object's facts and parameters; ``object_warnings`` is shown per case, ``checks.py`` registers the
same rules in the registry's check runner."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fangpin.core.clock import months_between
from fangpin.registry.choices import LABOUR_ABLE, Dibao, Health, LabourSkill

from .models import MeasureStatus, MonitoringObject

NO_MEASURE = "M-NO-MEASURE"
NO_DEVELOPMENTAL = "M-NO-DEVELOPMENTAL"
RISK_UNMATCHED = "M-RISK-UNMATCHED"
DIBAO_NO_MEMBER = "M-DIBAO-NO-MEMBER"
DIBAO_NO_MEASURE = "M-DIBAO-NO-MEASURE"
RISK_ILLNESS = "M-RISK-ILLNESS"
RISK_DISABILITY = "M-RISK-DISABILITY"
RISK_LABOUR_SHORT = "M-RISK-LABOUR-SHORT"
RISK_WORK = "M-RISK-WORK"

TITLES = {
    NO_MEASURE: "纳入后超过时限无帮扶措施",
    NO_DEVELOPMENTAL: "有劳动力的监测户未落实开发式帮扶",
    RISK_UNMATCHED: "风险类型无对应帮扶措施",
    DIBAO_NO_MEMBER: "有低保措施但无享受低保的成员",
    DIBAO_NO_MEASURE: "有享受低保的成员但无低保措施",
    RISK_ILLNESS: "因病但无大病或慢性病成员",
    RISK_DISABILITY: "因残但无残疾成员",
    RISK_LABOUR_SHORT: "缺劳动力但劳动力占比超过规定",
    RISK_WORK: "因务工就业不稳但家中无劳动力",
}
KEYS = (
    "assistance.first_measure_within_months",
    "assistance.developmental_within_months",
    "catalogue.risk_measure_fit",
    "risk.labour_short_max_share",
)


@dataclass(frozen=True)
class Warning:
    code: str
    message: str


def object_warnings(
    obj: MonitoringObject, *, on: dt.date, members: list[Any], measures: list[Any], params: dict[str, Any]
) -> list[Warning]:
    """``members``: current Person rows; ``measures``: the object's Measure rows; ``params``: KEYS → value."""
    out: list[Warning] = []
    live = [m for m in measures if m.status != MeasureStatus.STOPPED]
    names = {m.name for m in live}
    age = months_between(obj.identified_on, on)
    first = int(params["assistance.first_measure_within_months"])
    if not measures and age >= first:
        out.append(Warning(NO_MEASURE, f"纳入已{age}个月，尚无帮扶措施（应在{first}个月内落实）"))
    able = [p for p in members if p.labour_skill in LABOUR_ABLE]
    dev = int(params["assistance.developmental_within_months"])
    if able and age >= dev and not any(m.kind == "developmental" for m in live):
        out.append(
            Warning(NO_DEVELOPMENTAL, f"家中有劳动力，纳入{age}个月仍未落实开发式帮扶（应在{dev}个月内）")
        )
    fit = params["catalogue.risk_measure_fit"]
    for r in obj.risk_types:
        fitting = fit.get(r) or []
        if fitting and not names & set(fitting):
            out.append(
                Warning(RISK_UNMATCHED, f"风险类型“{r}”无对应帮扶措施（应有：{'、'.join(fitting)}之一）")
            )
    dibao_members = [p for p in members if p.dibao != Dibao.NONE]
    if "低保" in names and not dibao_members:
        out.append(Warning(DIBAO_NO_MEMBER, "登记了低保帮扶措施，但家庭成员均未享受低保"))
    if dibao_members and "低保" not in names:
        out.append(Warning(DIBAO_NO_MEASURE, f"{len(dibao_members)}名成员享受低保，但帮扶措施中无低保"))
    if "因病" in obj.risk_types and not any(p.health in (Health.SERIOUS, Health.CHRONIC) for p in members):
        out.append(Warning(RISK_ILLNESS, "风险类型为因病，但家庭成员中无患有大病或长期慢性病者"))
    if "因残" in obj.risk_types and not any(
        p.health == Health.DISABLED or p.disability_category for p in members
    ):
        out.append(Warning(RISK_DISABILITY, "风险类型为因残，但家庭成员中无残疾人"))
    if "缺劳动力" in obj.risk_types and members:
        full = sum(1 for p in members if p.labour_skill in (LabourSkill.SKILLED, LabourSkill.ORDINARY))
        share = float(params["risk.labour_short_max_share"])
        if full / len(members) > share:
            out.append(
                Warning(
                    RISK_LABOUR_SHORT,
                    f"风险类型为缺劳动力，但劳动力{full}人/家庭{len(members)}人超过{share:.0%}",
                )
            )
    if "因务工就业不稳" in obj.risk_types and not able:
        out.append(Warning(RISK_WORK, "风险类型为因务工就业不稳，但家中无劳动力"))
    return out
