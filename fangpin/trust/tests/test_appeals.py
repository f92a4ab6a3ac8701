import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError
from fangpin.testing import factories as f
from fangpin.trust.models import AppealStatus, OutgoingMessage
from fangpin.trust.selectors import my_tasks
from fangpin.trust.services import appeals as svc
from fangpin.trust.services import integrations

MON = dt.date(2025, 3, 3)  # a Monday


@pytest.mark.django_db
def test_appeal_numbered_with_working_day_deadline_goes_overdue_and_escalates(personas):
    hh = f.household(f.VILLAGE_A1)
    a = svc.appeal_lodge(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="not_included",
        content="家中有大病患者，不予纳入不合理",
        lodged_by_name="张三",
        lodged_on=MON,
    )
    b = svc.appeal_lodge(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="wrong_fact",
        content="耕地面积登记错误",
        lodged_by_name="张三",
        lodged_on=MON,
    )
    assert a.number == "SS-410506-2025-0001" and b.number == "SS-410506-2025-0002"
    assert a.deadline == dt.date(2025, 3, 17)  # 10 working days
    assert (a.owner_level, a.owner_region_id) == ("township", f.TOWNSHIP_A)
    assert any(i.ref == f"appeal:{a.pk}" for i in my_tasks(personas["township_a"], on=MON))
    assert not any(i.kind == "appeal" for i in my_tasks(personas["township_b"], on=MON))
    assert (
        OutgoingMessage.objects.filter(recipient=personas["township_a"], subject="新的异议申诉").count() == 2
    )
    # decided in time: not escalated
    svc.appeal_decide(
        actor=personas["township_a"], appeal_id=b.pk, outcome="upheld", reason="经核实已更正面积", on=MON
    )
    assert svc.appeals_escalate(on=dt.date(2025, 3, 17)) == []  # due today: not yet overdue
    moved = svc.appeals_escalate(on=dt.date(2025, 3, 18))
    assert [m.pk for m in moved] == [a.pk]
    a.refresh_from_db()
    assert (a.owner_level, a.owner_region_id) == ("county", f.COUNTY)
    assert a.deadline == dt.date(2025, 4, 1) and a.escalations[0]["from"] == "township"
    assert OutgoingMessage.objects.filter(
        recipient=personas["county_admin"], subject="异议申诉逾期升级"
    ).exists()
    assert AuditEvent.objects.filter(event_type="trust.appeal_escalate", object_id=str(a.pk)).count() == 1
    assert svc.appeals_escalate(on=dt.date(2025, 3, 19)) == []  # idempotent
    # the township may no longer decide it
    with pytest.raises(DomainError) as e:
        svc.appeal_decide(
            actor=personas["township_a"], appeal_id=a.pk, outcome="dismissed", reason="理由充分", on=MON
        )
    assert e.value.code == "appeal_level"
    # overdue at the top: flagged once
    assert [m.pk for m in svc.appeals_escalate(on=dt.date(2025, 4, 2))] == [a.pk]
    a.refresh_from_db()
    assert a.overdue_at_top and svc.appeals_escalate(on=dt.date(2025, 4, 3)) == []
    a = svc.appeal_decide(
        actor=personas["county_reviewer"],
        appeal_id=a.pk,
        outcome="upheld",
        reason="重新入户核查，符合纳入条件",
        on=MON,
    )
    assert a.status == AppealStatus.DECIDED


@pytest.mark.django_db
def test_objection_during_publicity_pauses_and_resumes_the_case_step(personas, monkeypatch):
    calls = []
    monkeypatch.setattr(
        integrations, "case_pause", lambda **kw: calls.append(("pause", kw["case_id"])) or True
    )
    monkeypatch.setattr(
        integrations, "case_resume", lambda **kw: calls.append(("resume", kw["case_id"])) or True
    )
    hh = f.household(f.VILLAGE_A1)
    a = svc.appeal_lodge(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="publicity",
        content="该户有经营性车辆，不应纳入",
        lodged_by_name="匿名群众",
        lodged_by_relation="群众",
        case_id=42,
        case_step="publicize",
        lodged_on=MON,
    )
    assert a.during_publicity and a.case_paused and calls == [("pause", 42)]
    svc.appeal_decide(
        actor=personas["township_a"], appeal_id=a.pk, outcome="dismissed", reason="车辆已于去年转让", on=MON
    )
    assert calls == [("pause", 42), ("resume", 42)]
