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
