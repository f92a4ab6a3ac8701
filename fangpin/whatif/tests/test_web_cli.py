"""The screen (统计分析 → 政策模拟测算), its drill-down, Excel (masked), the background full run, the
recomputation a saved parameter version offers, and the ``fangpin whatif`` command."""

from __future__ import annotations

import io
from io import BytesIO

import pytest
import time_machine
from django.core.management import call_command
from openpyxl import load_workbook

from fangpin.audit.models import AuditEvent
from fangpin.policy.models import Parameter

from .helpers import ON

pytestmark = pytest.mark.django_db
Q = f"?income.monitoring_line=%2B10%25&on={ON.isoformat()}"


def test_the_screen_compares_by_township_and_drills_down(client, county, personas):
    client.force_login(personas["county_admin"])
    page = client.get("/stats/whatif/" + Q).content.decode()
    assert 'id="whatif-table"' in page and "合计" in page and "判定变化的户" in page
    # raising 7,600 by 10% (8,360) brings the active object at 8,000 a head into the range; 30,000 stays out
    assert county["active"].household_no in page  # named among the households whose judgement changes
    lst = client.get("/stats/whatif/list/" + Q + "&measure=flagged").content.decode()
    assert county["active"].household_no in lst and county["rich"].household_no not in lst
    base = client.get("/stats/whatif/list/" + Q + "&measure=flagged&which=base").content.decode()
    assert county["active"].household_no not in base
    r = client.get("/stats/whatif/export/" + Q)
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == ["按乡镇对比", "判定变化的户"]
    heads = [row[1] for row in wb["判定变化的户"].iter_rows(min_row=2, values_only=True)]
    assert heads and all("*" in h for h in heads)  # masked names
    assert AuditEvent.objects.filter(event_type="whatif.export").exists()
    assert client.get("/stats/whatif/?income.monitoring_line=abc").status_code == 400


def test_the_full_run_is_a_background_job_with_its_result_page(client, county, personas):
    client.force_login(personas["county_admin"])
    r = client.post("/stats/whatif/full/", {"income.monitoring_line": "+10%", "on": ON.isoformat()})
    assert r.status_code == 302 and "/stats/whatif/result/" in r["Location"]
    page = client.get(r["Location"]).content.decode()  # Huey runs immediately in tests
    assert 'id="whatif-result"' in page and "判定变化的户" in page
    assert client.get(r["Location"] + "?format=xlsx")["Content-Type"].startswith("application/vnd.openxml")
    client.force_login(personas["township_a"])  # another user's token is not theirs
    assert client.get(r["Location"]).status_code == 404


def test_saving_a_line_offers_the_recomputation_of_its_year(client, county, personas):
    client.force_login(personas["county_admin"])
    with time_machine.travel("2025-07-15 10:00+08:00", tick=False):
        r = client.post(
            "/manage/params/income.monitoring_line/",
            {
                "value": "8360",
                "region_code": "410506",
                "year": 2025,
                "basis": "测试",
                "doc_no": "测〔2025〕1号",
            },
        )
        p = Parameter.objects.get(
            key="income.monitoring_line", region_code="410506", year=2025, is_active=True
        )
        assert r.status_code == 302 and r["Location"] == f"/stats/whatif/recompute/{p.pk}/"
        page = client.get(r["Location"]).content.decode()
    assert 'id="recompute-note"' in page and county["active"].household_no in page
    assert "以前年度不受影响" in page


def test_the_command(county, personas, tmp_path):
    out = io.StringIO()
    xlsx = tmp_path / "w.xlsx"
    call_command("whatif", "--set", "monitoring_line=+10%", "--on", ON.isoformat(), "--as", "county_admin",
                 "--list", "changed", "--excel", str(xlsx), stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "8360" in text and "合计" in text and county["active"].household_no in text
    assert xlsx.read_bytes()[:2] == b"PK"
    with pytest.raises(Exception, match="不能模拟参数"):
        call_command("whatif", "--set", "water.max_fetch_minutes=10", "--as", "county_admin", stdout=out)
