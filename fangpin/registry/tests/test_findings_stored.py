"""The household file's 逻辑校验 section read from the maintained flags (``HouseholdFlags.finding_list``) is
what running every rule over the household gives — same findings, same order, same messages — and the rows
are trusted only while clean and of the day: a dirty row, a row of another day or one stored before the
list existed runs the rules; the cross-household rule (a duplicate ID number) always runs live."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangpin.core import clock
from fangpin.monitoring.models import MonitoringObject
from fangpin.registry import flags
from fangpin.registry.checks import codes as C
from fangpin.registry.checks import report
from fangpin.registry.models import Household, HouseholdFlags
from fangpin.testing import factories as f

TODAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def _wide(number: str, *at: int) -> str:
    """The same ID number with the digits at ``at`` full-width: another string, the same person."""
    return "".join(chr(ord(ch) + 0xFEE0) if i in at and ch.isdigit() else ch for i, ch in enumerate(number))


@pytest.fixture
def county(db):
    """Households with several kinds of findings (and one without)."""
    a = f.household(phone="12345", group_name="", address="马家乡")  # 户联系电话格式错误, 户必填项缺失
    f.person(a, name="钱一", ethnicity="", education="初中")  # 成员必填项缺失
    f.person(a, name="孙二", relation="配偶", education="初中")  # 配偶与户主性别相同
    f.person(a, name="李三", relation="之子", education="初中", dibao="农村低保", tekun="农村特困")
    b = f.household(phone="13800001112", address="一组", group_name="一组")
    twin = f.person(b, name="周四", education="初中")
    c = f.household(phone="13800001113", address="二组", group_name="二组")
    f.person(c, name="周四", education="初中", id_number=_wide(twin.id_number, 0))
    d = f.household(phone="13800001114", address="三组", group_name="三组")
    p = f.person(d, name="吴五", education="初中", medical_resident=False)  # 未参加任何基本医疗保险
    p.birth_date = dt.date(1981, 5, 1)  # no longer what the ID number says
    p.save()
    MonitoringObject.objects.create(  # active for over a year without a measure
        household=d, category="边缘易致贫户", identified_on=dt.date(2023, 6, 1), origin="procedure"
    )
    e = f.household(phone="13800001115", address="四组", group_name="四组")
    f.person(e, name="郑六", education="初中")
    f.income(e, year=2024, wage=60000)
    hhs = [a, b, c, d, e]
    flags.household_flags_refresh(Household.objects.filter(pk__in=[h.pk for h in hhs]), on=TODAY)
    return hhs


@pytest.fixture
def ran(monkeypatch) -> list[int]:
    """The households ``household_findings`` (every rule) ran for."""
    out: list[int] = []
    real = report.household_findings
    monkeypatch.setattr(report, "household_findings", lambda h, on: out.append(h.pk) or real(h, on=on))
    return out


def _direct(hh: Household) -> list:
    return report.run_checks(report.context_for(Household.objects.filter(pk=hh.pk), on=TODAY))


def _cached(hh: Household) -> tuple[int, list]:
    hh.refresh_from_db()
    with CaptureQueriesContext(connection) as cq:
        out = report.household_findings_cached(hh, on=TODAY)
    return len(cq.captured_queries), out


def test_fresh_rows_give_the_rules_findings_without_running_them(county, ran):
    codes = set()
    for hh in county:
        n, found = _cached(hh)
        assert found == _direct(hh)  # code, household, message, person, field; in order
        assert n <= 4  # the flags row and the duplicate-ID look-up, nothing more
        codes |= {x.code for x in found}
    assert ran == []
    assert {
        C.PHONE_HH,
        C.MISSING_HH,
        C.MISSING_PERSON,
        C.SPOUSE_GENDER,
        C.DIBAO_TEKUN,
        C.ID_DUPLICATE,
        C.ID_MISMATCH,
        C.MED_INSURANCE,
        "M-NO-MEASURE",
    } <= codes
    assert _cached(county[4])[1] == []  # the clean household
    row = HouseholdFlags.objects.get(household=county[0])
    assert row.findings == len(row.finding_list) == len(_direct(county[0])) >= 5


def test_a_change_after_the_flags_never_shows_their_findings(county, ran):
    a = county[0]
    before = _direct(a)
    a.phone = "13800009999"  # fixes 户联系电话格式错误: the row is marked dirty
    a.save()
    n, found = _cached(a)
    assert ran == [a.pk] and found == _direct(a) != before
    assert C.PHONE_HH not in {x.code for x in found}
    # a member's change, too
    d = county[3]
    p = d.persons.get()
    p.medical_resident = True
    p.save()
    _, found = _cached(d)
    assert ran[-1] == d.pk and found == _direct(d)
    assert C.MED_INSURANCE not in {x.code for x in found}
    # once the refresh ran the rows are trusted again
    flags.household_flags_refresh(Household.objects.filter(pk__in=[a.pk, d.pk]), on=TODAY)
    del ran[:]
    assert _cached(a)[1] == _direct(a) and _cached(d)[1] == _direct(d) and ran == []


def test_rows_of_another_day_or_without_the_list_run_the_rules(county, ran):
    a, d = county[0], county[3]
    flags.household_flags_refresh(Household.objects.filter(pk=a.pk), on=TODAY - dt.timedelta(days=1))
    assert _cached(a)[1] == _direct(a) and ran == [a.pk]
    HouseholdFlags.objects.filter(household=d).update(finding_list=None)  # stored before the column
    assert _cached(d)[1] == _direct(d) and ran == [a.pk, d.pk]
    HouseholdFlags.objects.filter(household=a).delete()  # no row at all: the rules (here: remembered)
    assert _cached(a)[1] == _direct(a)


def test_a_duplicate_id_number_in_another_household_marks_the_household(county, ran):
    """The one rule across households: a member added elsewhere with the same number, or the 户编号 of the
    household holding the twin renumbered (the finding names it), marks the household's row dirty."""
    b, c = county[1], county[2]
    twin = b.persons.get()
    assert C.ID_DUPLICATE in {x.code for x in _cached(b)[1]} and ran == []
    third = f.household(phone="13800001116", address="五组", group_name="五组")
    f.person(third, name="周四", education="初中", id_number=_wide(twin.id_number, 1))
    assert HouseholdFlags.objects.get(household=b).dirty
    found = _cached(b)[1]
    dup = [x.message for x in found if x.code == C.ID_DUPLICATE]
    assert ran == [b.pk] and found == _direct(b) and len(dup) == 1 and third.household_no in dup[0]
    flags.household_flags_refresh(Household.objects.filter(pk__in=[b.pk, c.pk, third.pk]), on=TODAY)
    assert _cached(b)[1] == _direct(b) and ran == [b.pk]
    c.household_no = "410506205201999999"
    c.save()
    assert HouseholdFlags.objects.get(household=b).dirty and HouseholdFlags.objects.get(household=third).dirty
    found = _cached(b)[1]
    assert found == _direct(b) and "410506205201999999" in next(
        x.message for x in found if x.code == C.ID_DUPLICATE
    )
    assert ran[-1] == b.pk
