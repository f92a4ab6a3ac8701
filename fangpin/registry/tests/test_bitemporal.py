"""Bitemporal history (#14 item 4): month M is judged on the facts in effect in M, a late entry never
changes the months before its effective date, and "what did the system know on day T" stays answerable."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from fangpin.registry import selectors
from fangpin.registry.choices import MemberChangeKind
from fangpin.registry.models import Person
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess
from fangpin.registry.services.changes import do_fields_update
from fangpin.registry.services.members import do_member_add, do_member_remove
from fangpin.testing import factories as f

DEATH = dt.date(2025, 11, 8)
RECORDED = dt.datetime(2025, 12, 10, 10, 0, tzinfo=dt.UTC)


def _household_of_three():
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        hh = f.household()
        head = f.person(hh, name="王建国")
        f.person(hh, name="李秀兰", gender="F", relation="配偶")
        grandpa = f.person(hh, name="王德福", birth=dt.date(1940, 2, 3), relation="之父")
        f.income(hh, year=2024, wage=18000, transfer_pension=3000)
        f.income(hh, year=2025, wage=18000, transfer_pension=3000)
    return hh, head, grandpa


def _month(hh, m: dt.date, **kw):
    a = household_income_assess(hh, month=m, **kw)
    return a.result.members, a.per_capita, a.below_line


@pytest.mark.django_db
def test_a_death_recorded_in_december_effective_8_november_changes_november_onward_only(personas):
    hh, _head, grandpa = _household_of_three()
    months = [dt.date(2025, m, 1) for m in range(1, 13)]
    before = {m: _month(hh, m) for m in months}
    assert before[dt.date(2025, 6, 1)] == (3, Decimal("7000.00"), True)  # 21000 / 3, under the 7600 line

    with time_machine.travel(RECORDED, tick=False):
        do_member_remove(actor=personas["cadre_a1"], person=grandpa, kind=MemberChangeKind.DEATH, date=DEATH)

    after = {m: _month(hh, m) for m in months}
    for m in months[:10]:  # January … October: exactly as before the late entry
        assert after[m] == before[m], m
    for m in months[10:]:  # November (he died on the 8th) and December
        assert after[m] == (2, Decimal("10500.00"), False), m
    # as the system knew it on 30 November, before the death was recorded: the old state
    assert _month(hh, dt.date(2025, 11, 1), known_on=dt.date(2025, 11, 30)) == before[dt.date(2025, 11, 1)]
    assert {p.name for p in selectors.members_as_of(hh.id, dt.date(2025, 11, 20))} == {"王建国", "李秀兰"}
    assert {
        p.name for p in selectors.members_as_of(hh.id, dt.date(2025, 11, 20), known_on=dt.date(2025, 12, 9))
    } == {"王建国", "李秀兰", "王德福"}
    assert {p.name for p in selectors.members_as_of(hh.id, dt.date(2025, 11, 7))} == {
        "王建国",
        "李秀兰",
        "王德福",
    }


@pytest.mark.django_db
def test_a_birth_counts_from_its_date_and_an_ordinary_edit_keeps_its_own_date(personas):
    hh, head, _ = _household_of_three()
    with time_machine.travel(dt.datetime(2025, 9, 20, tzinfo=dt.UTC), tick=False):
        baby, _ = do_member_add(
            actor=personas["cadre_a1"],
            household=hh,
            person={"name": "王小宝", "gender": "M", "relation": "之孙子", "birth_date": "2025-07-02"},
            kind=MemberChangeKind.BIRTH,
            date=dt.date(2025, 7, 2),
        )
    with time_machine.travel(dt.datetime(2025, 10, 5, tzinfo=dt.UTC), tick=False):
        do_fields_update(
            actor=personas["cadre_a1"], entity="person", obj_id=head.pk, changes={"phone": "13900001111"}
        )
    # back-dated fact recorded later: the head's insurance lapsed on 1 August (recorded in December)
    with time_machine.travel(RECORDED, tick=False):
        do_fields_update(
            actor=personas["cadre_a1"],
            entity="person",
            obj_id=head.pk,
            changes={"medical_resident": False},
            observed_on=dt.date(2025, 8, 1),
        )
    names = lambda d, **kw: {p.name for p in selectors.members_as_of(hh.id, d, **kw)}  # noqa: E731
    assert "王小宝" not in names(dt.date(2025, 7, 1)) and "王小宝" in names(dt.date(2025, 7, 2))
    assert "王小宝" not in names(dt.date(2025, 8, 1), known_on=dt.date(2025, 9, 19))  # not yet recorded

    def head_on(d, **kw):
        return next(p for p in selectors.members_as_of(hh.id, d, **kw) if p.pk == head.pk)

    assert head_on(dt.date(2025, 7, 31)).medical_resident is True
    assert head_on(dt.date(2025, 8, 15)).medical_resident is False
    assert head_on(dt.date(2025, 8, 15)).phone == ""  # the phone changed on 5 October, not on 1 August
    assert head_on(dt.date(2025, 10, 6)).phone == "13900001111"
    assert head_on(dt.date(2025, 8, 15), known_on=dt.date(2025, 12, 1)).medical_resident is True
    # the guarantee judgement reads the same facts in effect
    july, _ = household_guarantees_assess(hh, on=dt.date(2025, 7, 31))
    sept, _ = household_guarantees_assess(hh, on=dt.date(2025, 9, 1))
    reprint, _ = household_guarantees_assess(hh, on=dt.date(2025, 9, 1), known_on=dt.date(2025, 11, 30))
    assert "uninsured" not in {x.code for x in july.failures}
    assert "uninsured" in {x.code for x in sept.failures}
    assert "uninsured" not in {x.code for x in reprint.failures}
    assert Person.objects.get(pk=head.pk).medical_resident is False  # the current row is the latest state


@pytest.mark.django_db
def test_a_back_dated_household_fact_holds_from_its_date(personas):
    hh, _, _ = _household_of_three()
    with time_machine.travel(RECORDED, tick=False):
        do_fields_update(
            actor=personas["cadre_a1"],
            entity="household",
            obj_id=hh.pk,
            changes={"house_grade": "D"},
            observed_on=dt.date(2025, 10, 1),
        )
    assert selectors.household_as_of(hh.id, dt.date(2025, 9, 30)).house_grade == ""
    assert selectors.household_as_of(hh.id, dt.date(2025, 10, 1)).house_grade == "D"
    assert (
        selectors.household_as_of(hh.id, dt.date(2025, 10, 1), known_on=dt.date(2025, 12, 9)).house_grade
        == ""
    )
    assert (
        selectors.household_as_of(hh.id, dt.date(2024, 1, 1)) is not None
    )  # the first version: since always


@pytest.mark.django_db
def test_household_as_of_command_answers_a_month_now_and_as_known_then(personas):
    from io import StringIO

    from django.core.management import call_command

    from fangpin.audit.models import AuditEvent

    hh, _head, grandpa = _household_of_three()
    with time_machine.travel(RECORDED, tick=False):
        do_member_remove(actor=personas["cadre_a1"], person=grandpa, kind=MemberChangeKind.DEATH, date=DEATH)

    def run(*args):
        out = StringIO()
        call_command("household_as_of", hh.household_no, *args, "--as", "county_admin", stdout=out)
        return out.getvalue()

    october, november = run("--month", "2025-10"), run("--month", "2025-11")
    assert "家庭人口：3人" in october and "7000.00 元" in october and "低于监测收入线" in october
    assert "家庭人口：2人" in november and "10500.00 元" in november and "高于监测收入线" in november
    assert "王德福" not in october and "王*福" in october  # masked
    then = run("--month", "2025-11", "--known-on", "2025-11-30")
    assert "家庭人口：3人" in then and "按2025年11月30日系统所记" in then
    assert AuditEvent.objects.filter(event_type="registry.household_view", household_id=hh.pk).count() == 3


@pytest.mark.django_db
def test_a_late_recorded_move_between_households_takes_effect_on_its_date(personas):
    """Two versions in one change (left A, joined B), both back-dated: each holds from the stated date;
    a later bulk copy of the row (the importer) does not inherit the date."""
    hh_a, _, grandpa = _household_of_three()
    with time_machine.travel(dt.datetime(2025, 3, 1, tzinfo=dt.UTC), tick=False):
        hh_b = f.household()
        f.person(hh_b, name="王建军")
    moved = dt.date(2025, 9, 1)
    with time_machine.travel(RECORDED, tick=False):
        do_member_add(
            actor=personas["cadre_a1"],
            household=hh_b,
            person={"id_number": grandpa.id_number, "name": "王德福", "gender": "M", "relation": "之公公"},
            kind=MemberChangeKind.MIGRATION_IN,
            date=moved,
        )
    names = lambda hh, d: {p.name for p in selectors.members_as_of(hh.id, d)}  # noqa: E731
    assert "王德福" in names(hh_a, dt.date(2025, 8, 31)) and "王德福" not in names(hh_a, moved)
    assert "王德福" not in names(hh_b, dt.date(2025, 8, 31)) and "王德福" in names(hh_b, moved)
    version = next(p for p in selectors.members_as_of(hh_b.id, dt.date(2025, 10, 1)) if p.name == "王德福")
    assert version.household_id == hh_b.id and version.relation == "之公公"  # from 1 September, not December
    before = next(p for p in selectors.members_as_of(hh_a.id, dt.date(2025, 8, 31)) if p.name == "王德福")
    assert before.relation == "之父"
    assert Person.objects.get(pk=grandpa.pk).effective_on is None  # the row itself carries no date
    assert [h.effective_on for h in Person.history.filter(id=grandpa.pk).order_by("history_date")][-2:] == [
        moved,
        moved,
    ]
