"""工作台 per role and the Chinese error pages (DEBUG is off in tests, as in the demo)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from fangpin.core import clock
from fangpin.monitoring.services import identification, leads
from fangpin.monitoring.tests.helpers import assigned_helper, poor_exited_household

TODAY = dt.date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _today():
    with clock.pinned_today(TODAY):
        yield


def test_cadre_home_counts_link_to_lists_and_overdue_in_red(client, personas):
    hh = poor_exited_household(per_capita=4000)
    lead = leads.lead_submit(
        actor=assigned_helper(personas, hh),
        household=hh,
        channel="cadre_visit",
        risk_types=["因病"],
        on=dt.date(2025, 1, 2),
    )
    identification.case_open(actor=personas["cadre_a1"], lead=lead, on=dt.date(2025, 1, 2))
    client.force_login(personas["cadre_a1"])
    body = client.get("/").content.decode()
    assert 'href="/cases/?awaiting=me">1</a>待我办理的环节' in body
    assert 'href="/households/">1</a>户' in body
    assert "“入户核查”环节超过时限" in body and 'class="overdue"' in body
    # the days over are counted from the step's deadline
    assert "天</td>" in body


def test_department_officer_and_auditor_get_their_own_home(client, personas, db):
    client.force_login(personas["dept_yibao"])
    body = client.get("/").content.decode()
    assert "我的上传批次" in body and "0户" not in body
    from fangpin.accounts.models import User

    auditor = User.objects.create(username="aud", role="auditor", region_id="410506000000")
    client.force_login(auditor)
    body = client.get("/").content.decode()
    assert "被拒绝的访问" in body and "审计事件" in body


def test_navigation_follows_the_role(client, personas):
    client.force_login(personas["dept_yibao"])
    body = client.get("/").content.decode()
    assert 'href="/households/"' not in body
    client.force_login(personas["township_a"])
    body = client.get("/").content.decode()
    assert 'href="/households/"' in body and 'href="/cases/"' in body
    assert "/admin/" not in body  # no dead-end link to the Django admin


def test_404_and_csrf_pages_are_chinese(client, personas):
    client.force_login(personas["cadre_a1"])
    r = client.get("/no-such-page/")
    assert (
        r.status_code == 404 and "页面不存在" in r.content.decode() and "Not Found" not in r.content.decode()
    )
    strict = Client(enforce_csrf_checks=True)
    r = strict.post("/login/", {"username": "x", "password": "y"})
    assert (
        r.status_code == 403
        and "页面已过期" in r.content.decode()
        and "CSRF verification failed" not in r.content.decode()
    )


def test_500_page_is_chinese(client, personas, monkeypatch):
    from fangpin.web.views import home as home_view

    def boom(*a, **k):
        raise RuntimeError("kaputt")

    monkeypatch.setattr(home_view, "home_summary", boom)
    client.raise_request_exception = False
    client.force_login(personas["cadre_a1"])
    r = client.get("/")
    assert (
        r.status_code == 500 and "系统出现错误" in r.content.decode() and "kaputt" not in r.content.decode()
    )
