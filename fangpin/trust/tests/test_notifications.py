import datetime as dt
import re

import pytest
from django.test import override_settings

from fangpin.testing import factories as f
from fangpin.trust import messaging
from fangpin.trust.models import OutgoingMessage, Task, TaskKind
from fangpin.trust.selectors import my_tasks
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.services.notifications import message_send, notify_due

ON = dt.date(2025, 9, 1)


def _trust(items):
    """my_tasks items of this part (monitoring adds visits and case steps when it is installed)."""
    return [i for i in items if not i.kind.startswith(("visit", "case_"))]


@pytest.mark.django_db
def test_my_tasks_per_user_due_and_overdue(personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh)
    Task.objects.create(
        kind=TaskKind.RECERT, household=hh, title="定期复核", due_on=ON - dt.timedelta(days=3)
    )
    Task.objects.create(
        kind=TaskKind.DISASTER_VISIT, household=hh, title="灾后走访", due_on=ON + dt.timedelta(days=3)
    )
    change_request_submit(
        actor=personas["cadre_a1"],
        household_id=hh.pk,
        kind="condition",
        reason="危房",
        evidence=[{"path": "x.jpg", "description": "照片"}],
        payload={"fields": {"house_grade": "C"}},
        on=dt.date(2025, 6, 2),
    )
    mine = _trust(my_tasks(personas["cadre_a1"], on=ON))
    assert [(i.kind, i.overdue) for i in mine] == [("recert", True), ("disaster_visit", False)]
    town = _trust(my_tasks(personas["township_a"], on=ON))
    assert {i.kind for i in town} == {"supervise_recert", "change_request"}  # overdue tasks + approvals
    assert _trust(my_tasks(personas["township_b"], on=ON)) == []
    assert my_tasks(personas["dept_yibao"], on=ON) == []


@pytest.mark.django_db
def test_local_outbox_records_masked_messages_once(personas):
    u = personas["cadre_a1"]
    u.phone = "13812345678"
    u.save()
    assert message_send(recipient=u, subject="提醒", body="请核实 410506198005010011 的信息", dedupe_key="k1")
    assert not message_send(recipient=u, subject="提醒", body="again", dedupe_key="k1")
    [m] = OutgoingMessage.objects.all()
    assert m.to_address == "13812345678" and m.backend == "local"
    assert "410506********0011" in m.body and "198005010011" not in m.body


@pytest.mark.django_db
def test_backend_chosen_by_setting_and_daily_digest(personas):
    sent = []

    class Gateway:
        name = "county_sms"

        def send(self, message):
            sent.append(message)
            return "sent"

    messaging.register_backend("county_sms", Gateway)
    hh = f.household(f.VILLAGE_A1)
    Task.objects.create(kind=TaskKind.RECERT, household=hh, title="定期复核", due_on=ON)
    with override_settings(FANGPIN_MESSAGE_BACKEND="county_sms"):
        assert notify_due(on=ON) >= 1
    assert any(
        m.recipient_id == personas["cadre_a1"].pk and re.search(r"待办事项\d+项", m.body) for m in sent
    )
    assert not OutgoingMessage.objects.exists()
    with override_settings(FANGPIN_MESSAGE_BACKEND="nope"), pytest.raises(RuntimeError):
        messaging.get_backend()
