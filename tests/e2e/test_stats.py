"""统计分析 in a browser: the dashboard draws its charts, a number opens the households behind it, and the
monthly report is exported as Excel (and as PDF)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook


def test_dashboard_charts_and_drill_down(both_sizes, page_as, shoot):
    desktop, phone = both_sizes("county_admin", "/stats/", "stats-dashboard")
    for page in (desktop, phone):
        page.wait_for_selector("#ch-category[data-ready='1'] svg")
        assert page.locator("#ch-income svg").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(desktop, "stats-dashboard")
    desktop.locator("ul.cards a.num").first.click()
    desktop.wait_for_url("**/stats/list/**")
    assert desktop.locator("h1").inner_text().startswith("监测对象")
    assert desktop.locator("table tbody tr").count() >= 1
    shoot(desktop, "stats-drilldown")


def test_monthly_report_exported(page_as, shoot):
    page = page_as("county_admin")
    page.goto("/stats/reports/")
    page.click("#monthly-last")
    page.wait_for_selector("table.rep")
    assert "月推进表" in page.locator("h1").first.inner_text()
    shoot(page, "report-monthly")
    with page.expect_download() as dl:
        page.click("#dl-xlsx")
    ws = load_workbook(BytesIO(Path(dl.value.path()).read_bytes())).worksheets[0]
    assert "月推进表" in ws["A1"].value
    names = [ws.cell(row=r, column=1).value for r in range(5, ws.max_row + 1)]
    assert "合计" in names
    with page.expect_download() as dl2:
        page.click("#dl-pdf")
    assert Path(dl2.value.path()).read_bytes()[:4] == b"%PDF"
