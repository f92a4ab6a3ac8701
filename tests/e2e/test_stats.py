"""统计分析 in a browser: the dashboard draws its charts, a number opens the households behind it, and the
monthly report is exported as Excel (and as PDF)."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook


def test_dashboard_charts_and_drill_down(both_sizes, page_as, shoot):
    desktop, phone = both_sizes("county_admin", "/stats/", "stats-dashboard")
    for page in (desktop, phone):
        page.wait_for_selector("#ch-category[data-ready='1'] svg")
        assert page.locator("#ch-income svg").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    # a chart with nothing in the period says 本期无数据 instead of bare axes; one with data does not
    data = json.loads(desktop.locator("#chart-data").text_content())
    departments_empty = not any(v for label in data["departments"]["values"].values() for v in label.values())
    duration_empty = not any(v for v in data["duration"] if v is not None)
    for chart, empty in (
        ("ch-category", False),
        ("ch-departments", departments_empty),
        ("ch-duration", duration_empty),
    ):
        desktop.wait_for_selector(f"#{chart}[data-ready='1'] svg")
        assert ("本期无数据" in desktop.locator(f"#{chart} svg").inner_html()) is empty, chart
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
