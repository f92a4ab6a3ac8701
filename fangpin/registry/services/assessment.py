"""Income and 三保障/饮水 assessments of one household, with the parameters they used."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fangpin.policy.params import ParamValue, param_get
from fangpin.policy.rules.guarantees import (
    GuaranteeParams,
    GuaranteeResult,
    HouseholdFacts,
    MemberFacts,
    judge_guarantees,
)
from fangpin.policy.rules.income import IncomeFacts, IncomeResult, per_capita_net_income

from ..models import Household, Person
from ..selectors import member_count_as_of


@dataclass
class IncomeAssessment:
    result: IncomeResult
    line: Decimal
    below_line: bool
    below_line_after_rigid: bool
    params: list[dict[str, Any]] = field(default_factory=list)

    @property
    def per_capita(self) -> Decimal:
        return self.result.per_capita


def _param(key: str, region_code: str, year: int, used: list[ParamValue]) -> Any:
    """Looks a parameter up and remembers it, so the assessment can say which versions it used."""
    pv = param_get(key, region_code=region_code, year=year)
    used.append(pv)
    return pv.value


def _p(key: str, hh: Household, year: int, used: list[ParamValue]) -> Any:
    return _param(key, hh.village_id, year, used)


def income_facts(hh: Household) -> list[IncomeFacts]:
    return [
        IncomeFacts(
            period_start=r.period_start,
            period_end=r.period_end,
            wage=r.wage,
            production_business=r.production_business,
            property_income=r.property_income,
            transfer=r.transfer,
            production_expense=r.production_expense,
            insurance_payout=r.insurance_payout,
            compliant_out_of_pocket=r.compliant_out_of_pocket,
        )
        for r in hh.income_records.all()
    ]


def household_income_assess(hh: Household, *, month: dt.date, members: int | None = None) -> IncomeAssessment:
    """人均纯收入 over the 12 months before ``month`` compared with the monitoring line of that year."""
    used: list[ParamValue] = []
    window = int(_p("income.window_months", hh, month.year, used))
    include_payout = bool(_p("income.include_insurance_payout", hh, month.year, used))
    line = Decimal(str(_p("income.monitoring_line", hh, month.year, used)))
    if members is None:
        members = (
            member_count_as_of(hh.id, month.replace(day=1) - dt.timedelta(days=1))
            or hh.persons.filter(is_member=True).count()
        )
    res = per_capita_net_income(
        income_facts(hh),
        members=members,
        month=month,
        window_months=window,
        include_insurance_payout=include_payout,
    )
    return IncomeAssessment(
        result=res,
        line=line,
        below_line=res.months_covered > 0 and res.per_capita < line,
        below_line_after_rigid=res.months_covered > 0 and res.per_capita_after_rigid < line,
        params=[p.ref() for p in used],
    )


def guarantee_params(region_code: str, year: int, used: list[ParamValue] | None = None) -> GuaranteeParams:
    used = used if used is not None else []

    def g(key: str) -> Any:
        return _param(key, region_code, year, used)

    litres = g("water.min_litres_per_day")
    ages = g("education.compulsory_ages")
    return GuaranteeParams(
        compulsory_ages=(int(ages[0]), int(ages[1])),
        unsafe_grades=tuple(g("housing.unsafe_grades")),
        min_litres_rich=float(litres["rich"]),
        min_litres_scarce=float(litres["scarce"]),
        max_fetch_minutes=float(g("water.max_fetch_minutes")),
        max_horizontal_m=float(g("water.max_horizontal_m")),
        max_vertical_m=float(g("water.max_vertical_m")),
        max_interruption_days=int(g("water.max_interruption_days")),
    )


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def household_facts(hh: Household, members: list[Person]) -> HouseholdFacts:
    return HouseholdFacts(
        members=tuple(
            MemberFacts(
                name=p.name,
                birth_date=p.birth_date,
                school_status=p.school_status,
                out_of_school=p.out_of_school,
                out_of_school_reason=p.out_of_school_reason,
                medical_resident=p.medical_resident,
                medical_employee=p.medical_employee,
            )
            for p in members
        ),
        food_ok=hh.food_ok,
        clothing_ok=hh.clothing_ok,
        house_grade=hh.house_grade,
        relocated_keys_received=hh.relocated_keys_received,
        water_litres_per_day=_f(hh.water_litres_per_day),
        water_scarce_area=hh.water_scarce_area,
        water_quality_ok=hh.water_quality_ok,
        water_piped=hh.water_piped,
        water_fetch_minutes=_f(hh.water_fetch_minutes),
        water_horizontal_m=_f(hh.water_horizontal_m),
        water_vertical_m=_f(hh.water_vertical_m),
        water_interruption_days=hh.water_interruption_days,
    )


def household_guarantees_assess(
    hh: Household, *, on: dt.date
) -> tuple[GuaranteeResult, list[dict[str, Any]]]:
    used: list[ParamValue] = []
    params = guarantee_params(hh.village_id, on.year, used)
    members = list(hh.persons.filter(is_member=True))
    return judge_guarantees(household_facts(hh, members), params, on=on), [p.ref() for p in used]
