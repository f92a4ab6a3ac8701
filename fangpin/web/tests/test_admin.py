"""系统管理: a parameter change is a new version with basis and document number, shown with its history and
audit trail; a bad value or a missing document number changes nothing; users, calendar, read-only lists."""

from __future__ import annotations

import pytest

from fangpin.accounts.models import User
from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.policy.calendar import calendar_clear
from fangpin.policy.models import Parameter

pytestmark = pytest.mark.django_db
KEY = "income.monitoring_line"


def test_parameter_change_is_a_new_version_with_its_trail(client, personas):
    client.force_login(personas["county_admin"])
    year = clock.today().year
    before = Parameter.objects.filter(key=KEY).count()
    r = client.post(
        f"/manage/params/{KEY}/",
        {"value": "8300", "region_code": "410506", "year": year, "basis": "县政府常务会议", "doc_no": ""},
    )
    assert r.status_code == 400 and "文件号" in r.content.decode()
    r = client.post(
        f"/manage/params/{KEY}/",
        {"value": '"八千"', "region_code": "410506", "year": year, "basis": "x", "doc_no": "y"},
    )
    assert r.status_code == 400 and "类型" in r.content.decode()
    r = client.post(
        f"/manage/params/{KEY}/",
        {"value": "8300", "region_code": "41", "year": year, "basis": "x", "doc_no": "y"},
    )
    assert r.status_code == 400 and "本辖区" in r.content.decode()
    assert Parameter.objects.filter(key=KEY).count() == before
    r = client.post(
        f"/manage/params/{KEY}/",
        {
            "value": "8300",
            "region_code": "410506",
            "year": year,
            "basis": "县政府常务会议",
            "doc_no": "龙政〔2026〕8号",
        },
    )
    assert r.status_code == 302
    p = Parameter.objects.get(key=KEY, region_code="410506", year=year, is_active=True)
    assert p.value == 8300 and p.doc_no == "龙政〔2026〕8号" and p.created_by == personas["county_admin"]
    page = client.get(f"/manage/params/{KEY}/").content.decode()
    assert "龙政〔2026〕8号" in page and "8300" in page and 'id="trail"' in page
    assert AuditEvent.objects.filter(event_type="policy.parameter_set", object_id=str(p.pk)).exists()


def test_only_params_editors_reach_administration(client, personas):
    client.force_login(personas["county_reviewer"])
    assert client.get("/manage/").status_code == 403
    client.force_login(personas["county_admin"])
    for path in (
        "/manage/",
        "/manage/params/",
        "/manage/measures/",
        "/manage/screening/",
        "/manage/regions/",
        "/manage/users/",
    ):
        assert client.get(path).status_code == 200, path


def test_user_created_in_scope_and_audited(client, personas):
    client.force_login(personas["county_admin"])
    client.post(
        "/manage/users/",
        {"action": "create", "username": "new_cadre", "role": "village_cadre", "region": "410506205201"},
    )
    u = User.objects.get(username="new_cadre")
    assert u.role == "village_cadre" and u.has_usable_password()
    assert AuditEvent.objects.filter(event_type="accounts.user_create", object_id=str(u.pk)).exists()
    client.post(
        "/manage/users/",
        {"action": "create", "username": "outsider", "role": "village_cadre", "region": "420625000000"},
    )
    assert not User.objects.filter(username="outsider").exists()
    r = client.post(
        "/manage/users/",
        {
            "user_id": personas["county_admin"].pk,
            "role": "leader",
            "region": "410506000000",
            "is_active": "on",
        },
    )
    personas["county_admin"].refresh_from_db()
    assert r.status_code == 302 and personas["county_admin"].role == "county_admin"


def test_calendar_screen_saves_a_year(client, personas):
    calendar_clear()
    client.force_login(personas["county_admin"])
    r = client.post(
        "/manage/calendar/",
        {"year": 2027, "holidays": "2027-01-01, 2027-10-01", "workdays": "", "doc_no": "测试〔2026〕1号"},
    )
    assert r.status_code == 302
    assert "2027-10-01" in client.get("/manage/calendar/?year=2027").content.decode()
    bad = client.post("/manage/calendar/", {"year": 2027, "holidays": "2027-02-30", "doc_no": "x"})
    assert bad.status_code == 400
    calendar_clear()


def test_measure_catalogue_add_and_retire_is_a_new_audited_version(client, personas):
    admin = personas["county_admin"]
    client.force_login(admin)
    year = clock.today().year
    before = Parameter.objects.filter(key="catalogue.measures").count()
    r = client.post(
        "/manage/measures/",
        {"name": "光伏收益分红", "kind": "developmental", "region_code": "410506", "year": year, "basis": "县乡村振兴局通知", "doc_no": ""},
    )  # fmt: skip
    assert r.status_code == 400 and "文件号" in r.content.decode()
    r = client.post(
        "/manage/measures/",
        {"name": "低保", "kind": "protection", "region_code": "410506", "year": year, "basis": "x", "doc_no": "y"},
    )  # fmt: skip
    assert r.status_code == 400 and "目录中已有措施“低保”" in r.content.decode()
    assert Parameter.objects.filter(key="catalogue.measures").count() == before
    r = client.post(
        "/manage/measures/",
        {"name": "光伏收益分红", "kind": "developmental", "retire": ["消费帮扶"], "region_code": "410506",
         "year": year, "basis": "县乡村振兴局通知", "doc_no": "龙乡振〔2026〕5号"},
    )  # fmt: skip
    assert r.status_code == 302
    p = Parameter.objects.get(key="catalogue.measures", region_code="410506", year=year, is_active=True)
    assert p.value["光伏收益分红"] == "developmental" and "消费帮扶" not in p.value and "低保" in p.value
    assert p.doc_no == "龙乡振〔2026〕5号" and "新增：光伏收益分红" in p.note and "停用：消费帮扶" in p.note
    ev = AuditEvent.objects.filter(event_type="policy.parameter_set", object_id=str(p.pk)).get()
    assert ev.actor_id == admin.pk
    page = client.get("/manage/measures/").content.decode()
    assert "光伏收益分红" in page and "龙乡振〔2026〕5号" in page
    # the cases screen offers the new measure, no longer the retired one
    from fangpin.policy.params import param_value

    cat = param_value("catalogue.measures", region_code="410506205201", year=year)
    assert "光伏收益分红" in cat and "消费帮扶" not in cat


def test_calendar_years_loaded_and_missing_are_said(client, personas):
    from fangpin.policy.calendar import calendar_load

    calendar_clear()
    client.force_login(personas["county_admin"])
    page = client.get("/manage/calendar/?year=2026").content.decode()
    assert "2026年的工作日历尚未录入" in page
    calendar_load()
    calendar_clear()
    page = client.get("/manage/calendar/?year=2026").content.decode()
    assert 'id="calendar-missing"' not in page and "2026-02-14" in page and "2026-10-07" in page
    assert '>2025年</a>、<a href="?year=2026">2026年</a>' in page
    page = client.get("/manage/calendar/?year=2027").content.decode()
    assert 'id="calendar-missing"' in page and "2027年的工作日历尚未录入" in page
    calendar_clear()
