"""Overlapping income records never add up (#14 item 6): per month the latest recorded record counts.

Reported case: a 12-month record (July 2024 – June 2025, 8,000 yuan) entered beside the imported calendar
year 2024 (7,800 yuan) made the household's income 11,900 (8,000 + half of 7,800)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from fangpin.registry.models import Household, IncomeRecord
from fangpin.registry.services.assessment import household_income_assess
from fangpin.registry.services.changes import do_income_record_save, income_plan
from fangpin.registry.services.imports import registry_import
from fangpin.testing import factories as f

from .national_file import xlsx_bytes
from .test_import import HEADERS, good_rows

ON = dt.date(2026, 12, 1)  # the business date the imports act on

pytestmark = pytest.mark.django_db

TWELVE_MONTHS = {
    "period_start": "2024-07-01",
    "period_end": "2025-06-30",
    "components": {"wage": "6000", "transfer_pension": "2000"},
}


def test_a_12_month_record_beside_the_imported_year_replaces_its_months(personas):
    with time_machine.travel(dt.datetime(2025, 1, 10, tzinfo=dt.UTC), tick=False):
        hh = f.household()
        f.person(hh)
        f.income(hh, year=2024, wage=7000, transfer_pension=800)
    plan = income_plan(hh, TWELVE_MONTHS)
    assert [c["new"] for c in plan if c["field"] == "replaced_months"] == [
        "其中2024年07月至2024年12月由本条记录替代（不相加，原记录保留）"
    ]
    with time_machine.travel(dt.datetime(2025, 7, 2, tzinfo=dt.UTC), tick=False):
        do_income_record_save(actor=personas["cadre_a1"], household=hh, payload=TWELVE_MONTHS)
    a = household_income_assess(hh, month=dt.date(2025, 7, 1))
    assert a.result.months_covered == 12
    assert a.per_capita == Decimal("8000.00")  # not 11,900
    assert any("不相加" in w for w in a.result.warnings)
    # both records are kept; the calendar year still speaks for its own months
    assert IncomeRecord.objects.filter(household=hh).count() == 2
    jan = household_income_assess(hh, month=dt.date(2025, 1, 1))  # window = calendar 2024
    assert jan.per_capita == Decimal("3900.00") + Decimal("4000.00")  # Jan-Jun of 2024 + the new Jul-Dec
    # as known before the new record was entered: the year alone
    known = household_income_assess(hh, month=dt.date(2025, 1, 1), known_on=dt.date(2025, 6, 30))
    assert known.per_capita == Decimal("7800.00")


def test_an_import_of_a_year_after_a_12_month_record_replaces_only_the_shared_months(personas):
    admin = personas["county_admin"]
    with time_machine.travel(dt.datetime(2025, 7, 2, tzinfo=dt.UTC), tick=False):
        registry_import(
            on=ON,
            actor=admin,
            file_name="监测对象信息.xlsx",
            data=xlsx_bytes(HEADERS, good_rows()),
            income_year=2023,
        )
        hh = Household.objects.get(household_no="H1")  # three members
        do_income_record_save(actor=admin, household=hh, payload=TWELVE_MONTHS)
    # next year's export of the calendar year 2024 (工资性 12000 + 转移性 3000 for the household)
    with time_machine.travel(dt.datetime(2025, 8, 1, tzinfo=dt.UTC), tick=False):
        batch = registry_import(
            on=ON,
            actor=admin,
            file_name="监测对象信息2024.xlsx",
            data=xlsx_bytes(HEADERS, good_rows()),
            income_year=2024,
        )
    assert batch.status == "imported", batch.message
    a = household_income_assess(hh, month=dt.date(2025, 7, 1))
    # July-December 2024 from the later import (half of 15,000), January-June 2025 from the record (4,000)
    assert a.result.net_income == Decimal("11500.00")
    assert a.per_capita == Decimal("3833.33")


def test_the_under_line_check_does_not_add_up_overlapping_records_of_the_year(personas):
    from fangpin.registry.checks import codes as C
    from fangpin.registry.checks.report import household_findings

    with time_machine.travel(dt.datetime(2025, 1, 10, tzinfo=dt.UTC), tick=False):
        hh = f.household(household_type="脱贫户")
        f.person(hh)
        f.income(hh, year=2024, wage=6000)
        missing = f.household(household_type="脱贫户")
        f.person(missing)
    with time_machine.travel(dt.datetime(2025, 2, 1, tzinfo=dt.UTC), tick=False):
        do_income_record_save(
            actor=personas["cadre_a1"],
            household=hh,
            payload={
                "period_start": "2024-07-01",
                "period_end": "2024-12-31",
                "components": {"wage": "3000"},
            },
        )
    findings = household_findings(hh, on=dt.date(2025, 3, 1))
    under = [x for x in findings if x.code == C.EXITED_UNDER_LINE]
    # 3,000 (January-June of the year record) + 3,000 (the later half-year record) = 6,000, under 7,300;
    # adding the records up (9,000) would have hidden it
    assert len(under) == 1 and "人均纯收入6000.00元" in under[0].message
    gone = [x for x in household_findings(missing, on=dt.date(2025, 3, 1)) if x.code == C.INCOME_MISSING]
    assert len(gone) == 1 and "收入数据不完整" in gone[0].message


def test_the_under_line_check_counts_the_members_of_the_year_not_of_today(personas):
    """A death recorded in this year does not lift last year's 人均纯收入 above the line after the fact."""
    from fangpin.registry.checks import codes as C
    from fangpin.registry.checks.report import household_findings
    from fangpin.registry.services.members import do_member_remove

    with time_machine.travel(dt.datetime(2025, 1, 10, tzinfo=dt.UTC), tick=False):
        hh = f.household(household_type="脱贫户")
        f.person(hh, name="王建国")
        grandpa = f.person(hh, name="王德福", relation="之父", birth=dt.date(1940, 1, 1))
        f.income(hh, year=2024, wage=12000)  # 6,000 a head in 2024, under the 7,300 line
    with time_machine.travel(dt.datetime(2025, 2, 20, tzinfo=dt.UTC), tick=False):
        do_member_remove(actor=personas["cadre_a1"], person=grandpa, kind="death", date=dt.date(2025, 2, 2))
    under = [x for x in household_findings(hh, on=dt.date(2025, 3, 1)) if x.code == C.EXITED_UNDER_LINE]
    assert len(under) == 1 and "人均纯收入6000.00元（2人）" in under[0].message
