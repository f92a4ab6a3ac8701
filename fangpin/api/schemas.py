"""Request and response bodies. Personal data leaves the API masked: ID numbers and phones masked, and the
birth date replaced by the age (a masked ID plus a birth date would rebuild the full number)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator

from fangpin.core.text import MULTILINE_TEXT_PATTERN, PLAIN_TEXT_PATTERN, text_problem


def _plain(v: str) -> str:
    problem = text_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _multiline(v: str) -> str:
    problem = text_problem(v, multiline=True)
    if problem:
        raise ValueError(problem)
    return v


def _business_date(v: dt.date) -> dt.date:
    from fangpin.core import clock

    if v > clock.today():
        raise ValueError("日期不能晚于今天")
    if v.year < 2000:
        raise ValueError("日期不能早于2000年")
    return v


# A date a caller says something happened or is decided on: from 2000 up to today (2099 or 0001 refused).
BusinessDate = Annotated[dt.date, AfterValidator(_business_date)]


class _Pattern:
    """Adds core.text's character policy to the OpenAPI schema as a ``pattern`` (validated by ``_plain``)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        js = handler(core_schema)
        js["pattern"] = self.pattern
        return js


# Text the API accepts: no control, bidi-override or invisible characters (core.text), a 422 naming the field.
PlainText = Annotated[str, AfterValidator(_plain), _Pattern(PLAIN_TEXT_PATTERN)]
MultilineText = Annotated[str, AfterValidator(_multiline), _Pattern(MULTILINE_TEXT_PATTERN)]


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_name: str
    region_code: str | None
    region_name: str
    capabilities: list[str]


class RegionOut(Schema):
    code: str
    name: str
    level: int


class HouseholdRow(Schema):
    id: int
    household_no: str
    village_code: str
    village_name: str
    household_type: str
    status: str
    head_name: str
    phone_masked: str
    members: int
    monitoring_status: str


class MemberOut(Schema):
    id: int
    name: str
    relation: str
    gender: str
    age: int | None
    id_number_masked: str
    phone_masked: str
    health: str
    labour_skill: str
    school_status: str


class IncomeParamOut(Schema):
    key: str
    version: int | None
    region: str
    year: int
    value: str


class IncomeYearOut(Schema):
    """One row of the household file's income table, with the formula's inputs (元, two decimals)."""

    label: str
    window_start: dt.date
    window_end: dt.date
    months_covered: int
    members: int
    totals: dict[str, str]
    net_income: str
    per_capita: str
    per_capita_after_rigid: str
    line: str
    below_line: bool
    below_line_after_rigid: bool
    missing: bool
    verdict: str
    formula: str
    warnings: list[str]
    params: list[IncomeParamOut]


class GuaranteeFailureOut(Schema):
    dimension: str
    dimension_name: str
    code: str
    message: str


class GuaranteesOut(Schema):
    """两不愁三保障及饮水安全 on the day asked: ``ok``, or each failing item and why."""

    on: dt.date
    ok: bool
    failures: list[GuaranteeFailureOut]


class TimelineEntryOut(Schema):
    on: dt.date
    kind: str
    title: str
    detail: str
    who: str
    case_id: int | None


class HouseholdOut(HouseholdRow):
    address: str
    group_name: str
    member_list: list[MemberOut]
    version: int
    incomes: list[IncomeYearOut]
    guarantees: GuaranteesOut
    timeline: list[TimelineEntryOut]


class LeadSourceOut(Schema):
    channel: str
    submitted_on: dt.date
    risk_types: list[str]
    note: str
    outcome: str


class LeadOut(Schema):
    id: int
    household_id: int
    household_no: str
    village_code: str
    status: str
    outcome: str
    risk_types: list[str]
    opened_on: dt.date
    closed_on: dt.date | None
    sources: list[LeadSourceOut] = []


class LeadIn(Schema):
    household_id: int = Field(..., ge=1)
    channel: PlainText = Field("cadre_visit", max_length=24)
    risk_types: list[PlainText] = Field(default_factory=list, max_length=20)
    note: MultilineText = Field("", max_length=2000)
    on: BusinessDate | None = Field(None, description="业务日期（缺省为今天）")


class StepOut(Schema):
    code: str
    name: str
    status: str
    started_on: dt.date | None
    due_on: dt.date | None
    completed_on: dt.date | None


class CaseOut(Schema):
    id: int
    kind: str
    household_id: int
    household_no: str
    village_code: str
    status: str
    current_step: str
    green_channel: bool
    started_on: dt.date
    due_on: dt.date
    closed_on: dt.date | None
    version: int
    steps: list[StepOut] = []


class StepIn(Schema):
    version: int = Field(..., ge=1, description="办理前读到的程序版本号（乐观锁）")
    data: dict[str, Any] = Field(default_factory=dict)
    on: BusinessDate | None = Field(None, description="业务日期（缺省为今天）")


class ObjectOut(Schema):
    id: int
    household_id: int
    household_no: str
    category: str
    status: str
    risk_types: list[str]
    identified_on: dt.date
    eliminated_on: dt.date | None


class VisitIn(Schema):
    household_id: int = Field(..., ge=1)
    visited_on: BusinessDate
    checklist: dict[str, Any] = Field(default_factory=dict)
    has_risk: bool = False
    risk_types: list[PlainText] = Field(default_factory=list, max_length=20)
    note: MultilineText = Field("", max_length=2000)


class VisitOut(Schema):
    id: int
    household_id: int
    visited_on: dt.date
    has_risk: bool
    risk_types: list[str]
    lead_id: int | None


class ParameterOut(Schema):
    key: str
    region_prefix: str
    year: int
    version: int
    value: Any


class AuditOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    actor_role: str
    event_type: str
    object_type: str
    object_id: str
    region_code: str
    result: str
    reason: str
