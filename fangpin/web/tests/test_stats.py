"""统计分析 pages: numbers link to the list behind them, reports download as Excel/PDF (audited)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from openpyxl import load_workbook

from fangpin.audit.models import AuditEvent
from fangpin.core import clock
from fangpin.monitoring.models import MonitoringObject
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(db):
    today = clock.today()
    a = f.household(f.VILLAGE_A1)
    f.person(a, name="王建国")
    b = f.household(f.VILLAGE_B1)
    f.person(b, name="李小河")
    for hh in (a, b):
        MonitoringObject.objects.create(
            household=hh, category="边缘易致贫户", identified_on=today.replace(day=1), origin="procedure"
        )
    return a, b


def test_dashboard_and_drill_down_are_scoped(client, personas, objects):
    a, b = objects
    client.force_login(personas["county_admin"])
    body = client.get("/stats/").content.decode()
    assert 'id="chart-data"' in body and "echarts.min.js" in body
    assert "马家乡" in body and "龙泉镇" in body
    client.force_login(personas["township_a"])
    today = clock.today().isoformat()
    lst = client.get("/stats/list/", {"code": "objects", "start": today, "end": today}).content.decode()
    assert a.household_no in lst and b.household_no not in lst
    assert "王*国" in lst and "王建国" not in lst


def test_monthly_report_downloads_and_is_audited(client, personas, objects):
    today = clock.today()
    client.force_login(personas["county_admin"])
    page = client.get(f"/stats/reports/monthly/{today.year}/{today.month}/")
    assert page.status_code == 200 and "月推进表" in page.content.decode()
    r = client.get(f"/stats/reports/monthly/{today.year}/{today.month}/", {"format": "xlsx"})
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    ws = load_workbook(BytesIO(r.content)).worksheets[0]
    assert ws.cell(row=5 + 0, column=1).value  # a township row
    ev = AuditEvent.objects.filter(event_type="reports.export").last()
    assert ev.data["format"] == "xlsx" and ev.actor == personas["county_admin"]
    pdf = client.get(
        f"/stats/reports/quarterly/{today.year}/{(today.month - 1) // 3 + 1}/", {"format": "pdf"}
    )
    assert pdf.content.startswith(b"%PDF")


def test_department_officer_has_no_statistics(client, personas):
    client.force_login(personas["dept_yibao"])
    assert client.get("/stats/").status_code == 403


def test_unknown_indicator_is_a_chinese_error(client, personas):
    client.force_login(personas["county_admin"])
    r = client.get("/stats/list/", {"code": "nope", "start": dt.date(2025, 1, 1).isoformat()})
    assert r.status_code in (400, 404)
