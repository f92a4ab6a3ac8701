"""The review chains as data (OpenSPP validation sequence / oscar pipeline style).

Each procedure kind is an ordered tuple of steps; a step names the capability that may perform it and
its level (the separation-of-duties rule: whoever acted at an earlier step, or reported the lead, may
not approve at the township or county level). Step deadlines come from ``procedure.step_days`` keyed by
step code, the whole procedure's from ``procedure.total_days`` (both working days, core.clock)."""

from __future__ import annotations

from dataclasses import dataclass

from fangpin.accounts.roles import Cap

from .models.choices import CaseKind


@dataclass(frozen=True)
class StepDef:
    code: str
    name: str
    cap: str
    level: str  # village / township / county

    @property
    def is_review(self) -> bool:
        return self.level in ("township", "county")


VERIFY = StepDef("verify", "入户核查", Cap.CASE_VILLAGE, "village")
COMPARE = StepDef("compare", "信息比对", Cap.CASE_VILLAGE, "village")
DELIBERATE = StepDef("deliberate", "民主评议", Cap.CASE_VILLAGE, "village")
PUBLICIZE = StepDef("publicize", "村内公示", Cap.CASE_VILLAGE, "village")
TOWNSHIP = StepDef("township", "乡镇审核", Cap.CASE_TOWNSHIP, "township")
COUNTY = StepDef("county", "县级审定", Cap.CASE_COUNTY, "county")

WORKFLOWS: dict[str, tuple[StepDef, ...]] = {
    CaseKind.IDENTIFICATION: (VERIFY, COMPARE, DELIBERATE, PUBLICIZE, TOWNSHIP, COUNTY),
    # 风险消除: 入户核实 → 民主评议 → 公示 → 乡镇审核 → 县级审定 (policy-research §3.5)
    CaseKind.ELIMINATION: (
        StepDef("verify", "入户核实", Cap.CASE_VILLAGE, "village"),
        DELIBERATE,
        PUBLICIZE,
        TOWNSHIP,
        COUNTY,
    ),
    # 风险消除回退 follows the elimination procedure again
    CaseKind.REVERSAL: (
        StepDef("verify", "入户核实", Cap.CASE_VILLAGE, "village"),
        DELIBERATE,
        PUBLICIZE,
        TOWNSHIP,
        COUNTY,
    ),
}


def steps_of(kind: str) -> tuple[StepDef, ...]:
    return WORKFLOWS[kind]


def step_def(kind: str, code: str) -> StepDef:
    for s in WORKFLOWS[kind]:
        if s.code == code:
            return s
    raise KeyError(code)


def next_step(kind: str, code: str) -> StepDef | None:
    steps = WORKFLOWS[kind]
    for i, s in enumerate(steps):
        if s.code == code:
            return steps[i + 1] if i + 1 < len(steps) else None
    raise KeyError(code)
