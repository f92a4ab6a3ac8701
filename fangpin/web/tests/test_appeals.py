"""异议申诉 screens through the test client: lodged from the household file, listed for the township office
that owns it (overdue in red), assigned and decided with reasons; another township gets the 404 page."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.trust.models import Appeal, AppealStatus

TODAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def test_lodge_list_assign_decide(client, personas):
    hh = poor_exited_household(per_capita=4000)
    client.force_login(personas["cadre_a1"])
    assert "登记异议申诉" in client.get(f"/households/{hh.id}/").content.decode()
    r = client.post(f"/appeals/lodge/{hh.id}/", {"kind": "wrong_fact", "lodged_by_name": "王大山",
                    "lodged_by_relation": "本户", "content": "家庭人口登记有误，女儿已出嫁", "on": "2025-02-10"})  # fmt: skip
    a = Appeal.objects.get(household=hh)
    assert r.status_code == 302 and r["Location"] == f"/appeals/{a.id}/"
    assert a.lodged_on == dt.date(2025, 2, 10) and a.owner_level == "township" and a.deadline < TODAY

    client.force_login(personas["township_a"])
    body = client.get("/appeals/?mine=1").content.decode()
    assert a.number in body and 'class="overdue"' in body and "已逾期" in body
    assert f"/appeals/{a.id}/" in client.get("/").content.decode()  # the workbench's to-do links to it
    client.post(f"/appeals/{a.id}/", {"action": "assign", "owner": personas["township_a"].pk})
    r = client.post(f"/appeals/{a.id}/", {"action": "decide", "outcome": "upheld", "reason": "短",
                                          "on": "2025-03-09"})  # fmt: skip
    assert "请填写办理结果的理由" in r.content.decode()
    client.post(f"/appeals/{a.id}/", {"action": "decide", "outcome": "upheld",
                                      "reason": "经核实户口本，已启动信息变更", "on": "2025-03-09"})  # fmt: skip
    a.refresh_from_db()
    assert a.status == AppealStatus.DECIDED and a.owner == personas["township_a"] and a.outcome == "upheld"
    assert AuditEvent.objects.filter(event_type="trust.appeal_decide", object_id=str(a.id)).exists()
    assert f'href="/appeals/{a.id}/"' not in client.get("/appeals/").content.decode()  # no longer open
    assert f'href="/appeals/{a.id}/"' in client.get("/appeals/?status=decided").content.decode()


def test_other_township_and_future_date_are_refused(client, personas):
    hh = poor_exited_household(per_capita=4000)
    client.force_login(personas["cadre_a1"])
    r = client.post(f"/appeals/lodge/{hh.id}/", {"kind": "wrong_fact", "lodged_by_name": "王大山",
                    "content": "家庭人口登记有误", "on": "2025-03-11"})  # fmt: skip
    assert r.status_code == 200 and "日期不能晚于今天" in r.content.decode()
    assert not Appeal.objects.exists()
    client.post(f"/appeals/lodge/{hh.id}/", {"kind": "wrong_fact", "lodged_by_name": "王大山",
                "content": "家庭人口登记有误", "on": "2025-03-10"})  # fmt: skip
    a = Appeal.objects.get()
    client.force_login(personas["township_b"])
    assert client.get(f"/appeals/{a.id}/").status_code == 404
    r = client.post(f"/appeals/{a.id}/", {"action": "decide", "outcome": "upheld", "reason": "越权办理尝试"})
    assert r.status_code == 404 and Appeal.objects.get().status == AppealStatus.OPEN
    assert AuditEvent.objects.filter(event_type="access.refused", actor=personas["township_b"]).count() == 2


def test_the_command_line_lodges_assigns_and_decides(personas):
    import io

    from django.core.management import CommandError, call_command

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("appeal", *args, stdout=out)
        return out.getvalue()

    hh = poor_exited_household(per_capita=4000)
    run("lodge", hh.household_no, "--kind", "not_included", "--by", "王大山", "--content", "收入算错了，请复核",
        "--on", "2025-02-10", "--as", "cadre_a1")  # fmt: skip
    a = Appeal.objects.get(household=hh)
    assert "逾期" in run("list", "--mine", "--as", "township_a")
    with pytest.raises(CommandError, match="不存在或无权访问"):
        run("decide", a.number, "--outcome", "dismissed", "--reason", "经核实收入无误", "--as", "township_b")
    run("assign", a.number, "--owner", "township_a", "--as", "township_a")
    out = run("decide", a.number, "--outcome", "dismissed", "--reason", "经核实收入无误", "--on", "2025-03-05",
              "--as", "township_a")  # fmt: skip
    a.refresh_from_db()
    assert "异议不成立" in out and a.status == AppealStatus.DECIDED and a.owner == personas["township_a"]
    assert a.number in run("list", "--all", "--as", "township_a")
