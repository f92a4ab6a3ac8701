"""Reads memoised per request (``core.memo``) and the household file's cheaper paths: the member history is
read once per request and a write in the same request is seen by the next read; a history row becomes a
model instance without a query; the 逻辑校验 section trusts the maintained flags (and the findings they
stored) only when they are fresh and clean."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangpin.core import clock
from fangpin.core.memo import request_memo
from fangpin.registry import flags
from fangpin.registry.checks import report
from fangpin.registry.models import Household, Person
from fangpin.registry.selectors import history_instance, members_as_of
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_years
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def _count(fn) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as cq:
        out = fn()
    return len(cq.captured_queries), out


def test_the_member_history_is_read_once_per_request(db):
    hh = f.household()
    f.person(hh, name="张一")
    f.person(hh, name="张二", relation="配偶")
    n_outside, _ = _count(
        lambda: (household_income_years(hh, on=TODAY), household_guarantees_assess(hh, on=TODAY))
    )
    with request_memo():
        first, _ = _count(lambda: household_income_years(hh, on=TODAY))
        again, (result, _) = _count(lambda: household_guarantees_assess(hh, on=TODAY))
        names, members = _count(lambda: members_as_of(hh.pk, TODAY))
    assert again < first and names == 0  # 三保障 and a second look-up reuse the income table's read
    assert first + again < n_outside
    assert sorted(p.name for p in members) == ["张一", "张二"]
    assert result.ok in (True, False)


def test_a_write_in_the_request_is_seen_by_the_next_read(db):
    hh = f.household()
    f.person(hh, name="李一")
    with request_memo():
        assert [p.name for p in members_as_of(hh.pk, TODAY)] == ["李一"]
        f.person(hh, name="李二", relation="之子")  # a save marks the household's flags and clears the memo
        assert sorted(p.name for p in members_as_of(hh.pk, TODAY)) == ["李一", "李二"]
        later = dt.date(2099, 1, 1)  # a deletion takes effect on the (real) day it is recorded
        assert sorted(p.name for p in members_as_of(hh.pk, later)) == ["李一", "李二"]
        Person.objects.filter(household=hh, name="李一").get().delete()
        assert [p.name for p in members_as_of(hh.pk, later)] == ["李二"]


def test_a_history_row_becomes_an_instance_without_a_query(db):
    hh = f.household()
    p = f.person(hh, name="王五", phone="13800001234")
    v = p.history.order_by("-history_date").first()
    n, obj = _count(lambda: history_instance(v))
    assert n == 0
    assert (obj.pk, obj.name, obj.phone, obj.household_id) == (p.pk, "王五", "13800001234", hh.pk)
    assert obj.updated_at == v.history_date


def _clean_household():
    hh = f.household(phone="13800001112", address="马家乡一组", group_name="一组")
    f.person(hh, name="钱三", ethnicity="汉族", education="初中")
    f.income(hh, year=2024, wage=60000)
    return hh


def test_the_findings_section_trusts_only_fresh_clean_flags(db, monkeypatch):
    clean, dirty = _clean_household(), f.household(phone="12345")  # 户联系电话格式错误
    f.person(dirty, name="赵一")
    assert report.household_findings(clean, on=TODAY) == []
    assert report.household_findings(dirty, on=TODAY)
    flags.household_flags_refresh(Household.objects.filter(pk__in=[clean.pk, dirty.pk]), on=TODAY)
    ran: list[int] = []
    real = report.household_findings
    monkeypatch.setattr(report, "household_findings", lambda h, on: ran.append(h.pk) or real(h, on=on))
    n, found = _count(lambda: report.household_findings_cached(clean, on=TODAY))
    assert found == [] and ran == [] and n == 1  # one read of the flags row, no rule run
    # a fresh row with findings: the findings the flags computation stored, no rule run either
    n, found = _count(lambda: report.household_findings_cached(dirty, on=TODAY))
    assert found == real(dirty, on=TODAY) and found and ran == [] and n == 1
    # a change marks the clean household dirty: the rules run again and see the new finding
    clean.phone = "12345"
    clean.save()
    assert [x.code for x in report.household_findings_cached(clean, on=TODAY)] == [
        x.code for x in real(clean, on=TODAY)
    ]
    assert ran == [clean.pk] and real(clean, on=TODAY)
    # flags of another day are not trusted either
    other = _clean_household()
    flags.household_flags_refresh(Household.objects.filter(pk=other.pk), on=TODAY - dt.timedelta(days=1))
    report.household_findings_cached(other, on=TODAY)
    assert ran[-1] == other.pk
