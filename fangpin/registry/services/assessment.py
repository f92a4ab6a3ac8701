"""Income and 三保障/饮水 assessments of one household, with the parameters they used."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from fangpin.core import clock
from fangpin.policy.params import ParamValue, param_cache, param_get, params_preload
from fangpin.policy.rules.guarantees import (
    GuaranteeParams,
    GuaranteeResult,
    HouseholdFacts,
    MemberFacts,
    judge_guarantees,
)
from fangpin.policy.rules.income import IncomeFacts, IncomeResult, per_capita_net_income

from ..models import Household, IncomeRecord, MemberChange, Person
from ..selectors import (
    _in_effect,
    _members_on,
    history_instance,
    history_versions,
    household_as_of,
    members_as_of,
)

INCOMPLETE = "收入数据不完整"


@dataclass
class IncomeAssessment:
    result: IncomeResult
    line: Decimal
    below_line: bool
    below_line_after_rigid: bool
    missing: bool = False  # no income covers the window (or no member): 收入数据不完整, not a judgement
    params: list[dict[str, Any]] = field(default_factory=list)

    @property
    def per_capita(self) -> Decimal:
        return self.result.per_capita

    @property
    def verdict(self) -> str:
        """The judgement in words, the same on every page: missing data is said as missing."""
        if self.missing:
            return INCOMPLETE
        return "低于监测收入线" if self.below_line else "高于监测收入线"


def _param(key: str, region_code: str, year: int, used: list[ParamValue]) -> Any:
    """Looks a parameter up and remembers it, so the assessment can say which versions it used."""
    pv = param_get(key, region_code=region_code, year=year)
    used.append(pv)
    return pv.value


def _p(key: str, hh: Household, year: int, used: list[ParamValue]) -> Any:
    return _param(key, hh.village_id, year, used)


def income_records_as_of(hh: Household, *, known_on: dt.date | None = None) -> list[IncomeRecord]:
    """The household's income records — as now recorded, or as the system knew them at the end of
    ``known_on`` (each record's version of that day; records entered later left out)."""
    if known_on is None:
        return list(hh.income_records.all())
    out = []
    for versions in history_versions(IncomeRecord, hh.income_records.values("id"), known_on).values():
        last = versions[-1]
        if last.history_type != "-":
            rec = history_instance(last)  # updated_at: when this version was recorded
            out.append(rec)
    return out


def income_facts(hh: Household, *, known_on: dt.date | None = None) -> list[IncomeFacts]:
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
            recorded_at=r.updated_at,
        )
        for r in sorted(income_records_as_of(hh, known_on=known_on), key=lambda r: (r.period_start, r.pk))
    ]


def month_end(month: dt.date) -> dt.date:
    return clock.add_months(month.replace(day=1), 1) - dt.timedelta(days=1)


def household_income_assess(
    hh: Household, *, month: dt.date, members: int | None = None, known_on: dt.date | None = None
) -> IncomeAssessment:
    """人均纯收入 of month ``month``: income over the 12 months before it, over the household's members
    at the end of that month (a death on 8 November counts from November, never before), compared with
    the monitoring line of that year. ``known_on``: as the system knew it on that day (reprints, audit).
    ``missing`` when no income record covers the window: the judgement is then 收入数据不完整, never
    "above the line"."""
    used: list[ParamValue] = []
    window = int(_p("income.window_months", hh, month.year, used))
    include_payout = bool(_p("income.include_insurance_payout", hh, month.year, used))
    line = Decimal(str(_p("income.monitoring_line", hh, month.year, used)))
    if members is None:
        members = len(members_as_of(hh.id, month_end(month), known_on=known_on))
    res = per_capita_net_income(
        income_facts(hh, known_on=known_on),
        members=members,
        month=month,
        window_months=window,
        include_insurance_payout=include_payout,
    )
    missing = res.months_covered == 0 or members <= 0
    return IncomeAssessment(
        result=res,
        line=line,
        below_line=not missing and res.per_capita < line,
        below_line_after_rigid=not missing and res.per_capita_after_rigid < line,
        missing=missing,
        params=[p.ref() for p in used],
    )


GUARANTEE_KEYS = ("water.min_litres_per_day", "education.compulsory_ages", "housing.unsafe_grades",
                  "water.max_fetch_minutes", "water.max_horizontal_m", "water.max_vertical_m",
                  "water.max_interruption_days")  # fmt: skip


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
        safe_drinking_water=hh.safe_drinking_water,
    )


def household_guarantees_assess(
    hh: Household, *, on: dt.date, known_on: dt.date | None = None
) -> tuple[GuaranteeResult, list[dict[str, Any]]]:
    """两不愁三保障 and 饮水安全 on ``on`` from the household's facts and members in effect that day."""
    used: list[ParamValue] = []
    params = guarantee_params(hh.village_id, on.year, used)
    facts = household_as_of(hh.id, on, known_on=known_on) or hh
    members = members_as_of(hh.id, on, known_on=known_on)
    return judge_guarantees(household_facts(facts, members), params, on=on), [p.ref() for p in used]


def households_guarantees_assess(
    households: QuerySet[Household], *, on: dt.date
) -> dict[int, tuple[GuaranteeResult, list[dict[str, Any]]]]:
    """``household_guarantees_assess(hh, on=on)`` (as known now) for every household of ``households``, by
    household id: the histories of all of them read at once (seven queries whatever their number; the
    parameters once per village), then per household the same facts in effect (``household_as_of``'s
    ``_in_effect``), the same members (``members_as_of``'s persons and ``_members_on``) and the same rule.
    For a county's active monitoring objects (the what-if snapshot), where one call each costs a dozen
    queries."""
    ids = households.values("id")
    hh_versions: dict[int, list[Any]] = defaultdict(list)
    hh_history = Household.history.filter(id__in=ids).order_by("id", "history_date", "history_id")
    for v in hh_history.iterator(chunk_size=2000):
        hh_versions[v.id].append(v)
    # members_as_of's inputs (``_member_inputs_now``) for all households: the persons of each household's
    # person history and those its member changes name, with all their versions and changes
    in_history = Person.history.filter(household_id__in=ids).values("id")
    in_changes = MemberChange.objects.filter(household_id__in=ids).values("person_id")
    versions: dict[int, Any] = {}
    changes_by_pk: dict[int, MemberChange] = {}
    for persons in (in_history, in_changes):
        for v in Person.history.filter(id__in=persons).iterator(chunk_size=2000):
            versions[v.history_id] = v
        for c in MemberChange.objects.filter(person_id__in=persons).iterator(chunk_size=2000):
            changes_by_pk[c.pk] = c
    by_person: dict[int, list[Any]] = defaultdict(list)
    persons_of: dict[int, set[int]] = defaultdict(set)
    for v in sorted(versions.values(), key=lambda v: (v.id, v.history_date, v.history_id)):
        by_person[v.id].append(v)
        persons_of[v.household_id].add(v.id)
    changes: dict[int, list[MemberChange]] = defaultdict(list)
    for c in sorted(changes_by_pk.values(), key=lambda c: (c.date, c.pk)):
        changes[c.person_id].append(c)
        persons_of[c.household_id].add(c.person_id)
    out: dict[int, tuple[GuaranteeResult, list[dict[str, Any]]]] = {}
    live = list(households.order_by("id"))
    with param_cache():
        params_preload(GUARANTEE_KEYS, region_codes={hh.village_id for hh in live}, year=on.year)
        for hh in live:
            used: list[ParamValue] = []
            params = guarantee_params(hh.village_id, on.year, used)
            facts = _in_effect(hh_versions.get(hh.id, []), on) or hh
            mine = sorted(persons_of.get(hh.id, ()))
            members = _members_on(
                {p: changes[p] for p in mine if p in changes},
                {p: by_person[p] for p in mine if p in by_person},
                household_id=hh.id,
                on=on,
            )
            out[hh.id] = (
                judge_guarantees(household_facts(facts, members), params, on=on),
                [p.ref() for p in used],
            )
    return out


def household_income_years(hh: Household, *, on: dt.date) -> list[dict[str, Any]]:
    """人均纯收入 for the rolling 12 months and each of the last three calendar years, with the line: the
    household file's income table (browser and API). Periods without any income record are left out.
    Each: ``label``, ``a`` (the IncomeAssessment), ``t`` (the formula's totals)."""
    from fangpin.core.precompiled import precompiled_prefetch
    from fangpin.registry.selectors import member_counts_as_of

    out = []
    months = [("近12个月", on.replace(day=1))] + [
        (f"{y}年", dt.date(y + 1, 1, 1)) for y in range(on.year - 1, on.year - 4, -1)
    ]
    # the history and the income records are read once for the four months (was once per month)
    counts = member_counts_as_of(hh.pk, [month_end(m) for _, m in months])
    precompiled_prefetch(hh, "income_records", "registry.household_income_records", _income_records)
    for label, month in months:
        a = household_income_assess(hh, month=month, members=counts[month_end(month)])
        if a.result.months_covered == 0:
            continue
        out.append({"label": label, "a": a, "t": a.result.totals})
    return out


def _income_records(h: int):
    """``hh.income_records`` by the household's id (what ``prefetch_related_objects`` reads)."""
    return IncomeRecord.objects.filter(household_id=h)
