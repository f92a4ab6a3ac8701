"""INT-01 for the remaining approvals: the case history (CaseEvent: approvals, rejections with their reasons)
and the maker-checker decisions on a household's record (trust ChangeRequest) are sealed; a change behind
the application is named in Chinese by `fangpin integrity verify`. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from fangpin.core.integrity import integrity_verify
from fangpin.monitoring.models import CaseEvent
from fangpin.testing import factories as f
from fangpin.trust.models import ChangeRequest, ChangeStatus
from fangpin.trust.services.changes import (
    change_request_approve,
    change_request_reject,
    change_request_submit,
    change_requests_bulk_approve,
)

from .test_integrity import _approved_identification

pytestmark = [pytest.mark.django_db, pytest.mark.tampers_seals]
EV = [{"path": "files/evidence/1.jpg", "description": "证明材料"}]
ON = dt.date(2025, 6, 2)


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _verify_text() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("integrity", "verify", stdout=out)
    except CommandError as e:
        return 1, out.getvalue() + str(e)
    return 0, out.getvalue()


def _requests(personas, hh):
    """Every write path of a change request: applied at once, approved, rejected, bulk-approved, and a
    pending one whose village follows a move."""
    cadre = personas["cadre_a1"]

    def submit(kind, payload, evidence=EV):
        return change_request_submit(actor=cadre, household_id=hh.pk, kind=kind, payload=payload,
                                     reason="核实变更", on=ON, evidence=evidence)  # fmt: skip

    at_once = submit("contact", {"fields": {"phone": "13912345678"}}, evidence=None)
    income = {"period_start": "2024-01-01", "period_end": "2024-12-31", "components": {"wage": "9000"}}
    approved = change_request_approve(
        actor=personas["township_a"], request_id=submit("income", income).pk, reason="凭证齐全"
    )
    rejected = change_request_reject(
        actor=personas["township_a"],
        request_id=submit("condition", {"fields": {"house_grade": "D"}}).pk,
        reason="鉴定报告不全",
    )
    bulk = submit("condition", {"fields": {"house_grade": "C"}})
    change_requests_bulk_approve(actor=personas["township_a"], request_ids=[bulk.pk], dry_run=False)
    return at_once, approved, rejected, ChangeRequest.objects.get(pk=bulk.pk)


def test_every_write_of_a_change_request_and_a_case_event_verifies(personas):
    hh0, case = _approved_identification(personas)
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    reqs = _requests(personas, hh)
    assert [r.status for r in reqs] == [ChangeStatus.APPLIED, ChangeStatus.APPLIED, ChangeStatus.REJECTED,
                                        ChangeStatus.APPLIED]  # fmt: skip
    pending = change_request_submit(actor=personas["cadre_a1"], household_id=hh.pk, kind="condition",
                                    payload={"fields": {"house_grade": "B"}}, reason="再鉴定", on=ON,
                                    evidence=EV)  # fmt: skip
    # the household moves: the pending request follows it (village is not sealed; the rest is untouched)
    ChangeRequest.objects.filter(pk=pending.pk).update(village_id=f.VILLAGE_A2)
    res = integrity_verify()
    assert res.ok, [t.as_dict() for t in res.tampered]
    assert res.checked["trust.ChangeRequest"] == 5
    assert res.checked["monitoring.CaseEvent"] == CaseEvent.objects.count() >= 5
    kinds = set(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert "approved" in kinds
    assert all(m.startswith("dev1:") for m in ChangeRequest.objects.values_list("integrity_mac", flat=True))


def test_a_case_approval_changed_behind_the_app_is_named(personas):
    hh, case = _approved_identification(personas)
    ev = CaseEvent.objects.filter(case=case, kind="approved").order_by("id").last()
    other = CaseEvent.objects.filter(case=case).exclude(pk=ev.pk).first()
    assert _verify_text()[0] == 0
    # the county's approval turned into a rejection with a reason, in the case's own history
    _raw(f"UPDATE {CaseEvent._meta.db_table} SET kind = %s, data = %s WHERE id = %s",
         ["rejected", '{"reason": "不符合条件"}', ev.pk])  # fmt: skip
    res = integrity_verify()
    assert [(t.model, t.pk) for t in res.tampered] == [("monitoring.CaseEvent", ev.pk)]
    t = res.tampered[0]
    assert t.name == "办理记录" and hh.household_no in t.label and f"办理程序编号 {case.pk}" in t.label
    assert "校验码不符" in t.reason
    code, out = _verify_text()
    assert code == 1 and f"monitoring.CaseEvent #{ev.pk}" in out and "办理记录" in out
    assert f"#{other.pk}）" not in out


def test_a_maker_checker_decision_changed_behind_the_app_is_named(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    at_once, approved, rejected, bulk = _requests(personas, hh)
    t = ChangeRequest._meta.db_table
    # the checker replaced by the maker (a self-approval), and a rejection turned into an approval
    _raw(f"UPDATE {t} SET checker_id = maker_id WHERE id = %s", [approved.pk])
    _raw(f"UPDATE {t} SET status = %s WHERE id = %s", [ChangeStatus.APPLIED, rejected.pk])
    res = integrity_verify()
    named = {t.pk: t for t in res.tampered}
    assert set(named) == {approved.pk, rejected.pk}
    assert {t.model for t in res.tampered} == {"trust.ChangeRequest"}
    assert named[approved.pk].name == "变更申请" and approved.number in named[approved.pk].label
    assert hh.household_no in named[rejected.pk].label
    code, out = _verify_text()
    assert code == 1 and f"trust.ChangeRequest #{approved.pk}" in out and rejected.number in out
    assert at_once.number not in out and bulk.number not in out
