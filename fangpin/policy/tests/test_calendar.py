"""Working days skip public holidays and count the weekend days worked instead, once the year's calendar
(the State Council notice) is recorded; without it Monday–Friday."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.clock import add_working_days
from fangpin.core.errors import DomainError
from fangpin.policy.calendar import (
    calendar_clear,
    calendar_load,
    calendar_missing,
    calendar_set,
    calendar_years,
)
from fangpin.policy.models import Parameter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    calendar_clear()
    yield
    calendar_clear()


def test_national_day_2025_with_and_without_the_calendar():
    start = dt.date(2025, 9, 30)  # Tuesday
    assert add_working_days(start, 1) == dt.date(2025, 10, 1)  # plain Mon–Fri
    assert calendar_load() == 2  # 2025 and 2026
    calendar_clear()
    # 10-01..10-08 off; 10-09 Thu, 10-10 Fri, 10-11 Sat is a working day (调休)
    assert add_working_days(start, 1) == dt.date(2025, 10, 9)
    assert add_working_days(start, 3) == dt.date(2025, 10, 11)
    assert add_working_days(dt.date(2025, 9, 26), 1) == dt.date(2025, 9, 28)  # Sunday 9-28 worked
    assert calendar_load() == 0  # idempotent


def test_a_change_is_a_new_audited_version_and_bad_dates_are_refused(personas):
    calendar_load()
    p = calendar_set(
        actor=personas["county_admin"],
        year=2025,
        holidays=["2025-10-01"],
        workdays=[],
        doc_no="测试〔2025〕1号",
    )
    assert p.version == 2 and not Parameter.objects.get(key="calendar.days", year=2025, version=1).is_active
    assert AuditEvent.objects.filter(event_type="policy.parameter_set", object_id=str(p.pk)).exists()
    assert add_working_days(dt.date(2025, 9, 30), 1) == dt.date(2025, 10, 2)
    with pytest.raises(DomainError, match="不在2025年"):
        calendar_set(
            actor=personas["county_admin"], year=2025, holidays=["2026-01-01"], workdays=[], doc_no="x"
        )
    with pytest.raises(DomainError):
        calendar_set(actor=personas["cadre_a1"], year=2025, holidays=[], workdays=[], doc_no="x")


def test_2026_spring_festival_and_make_up_days_and_years_without_a_calendar():
    assert calendar_missing(dt.date(2026, 2, 13)) == [2026]
    calendar_load()
    calendar_clear()
    # Fri 2026-02-13 → Sat 02-14 is worked (调休); 02-15..02-23 off; Tue 02-24 next
    assert add_working_days(dt.date(2026, 2, 13), 1) == dt.date(2026, 2, 14)
    assert add_working_days(dt.date(2026, 2, 14), 1) == dt.date(2026, 2, 24)
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)  # 国庆 10-01..10-07
    assert add_working_days(dt.date(2026, 10, 9), 1) == dt.date(2026, 10, 10)  # Sat 10-10 worked
    assert calendar_missing(dt.date(2026, 12, 30), dt.date(2027, 1, 8)) == [2027]
    assert calendar_years() == [2025, 2026]
