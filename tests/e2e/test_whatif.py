"""政策模拟测算 in a browser: raise the line by 10 %, read the table by township, open the households behind
a number, export the masked workbook."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook


def test_whatif_scenario_table_drill_down_and_export(page_as, shoot):
    page = page_as("county_admin")
    page.goto("/stats/")
    page.click("#to-whatif")
    page.wait_for_selector("#whatif-form")
    page.fill("input[name='income.monitoring_line']", "+10%")
    page.click("#whatif-run", no_wait_after=True)  # the first run builds the snapshot: slow under load
    page.wait_for_selector("#whatif-table", timeout=240_000)
    assert "合计" in page.locator("#whatif-table").inner_text()
    shoot(page, "whatif-table")
    page.locator("#whatif-table a.num.changed").first.click(no_wait_after=True)
    page.wait_for_url("**/stats/whatif/list/**", timeout=120_000)
    page.wait_for_selector("#whatif-households", timeout=120_000)
    assert page.locator("#whatif-households tbody tr").count() >= 1
    shoot(page, "whatif-list")
    page.go_back(timeout=120_000)
    page.wait_for_selector("#whatif-xlsx", timeout=120_000)
    with page.expect_download(timeout=120_000) as dl:
        page.click("#whatif-xlsx")
    wb = load_workbook(BytesIO(Path(dl.value.path()).read_bytes()))
    assert wb.sheetnames == ["按乡镇对比", "判定变化的户"]
    heads = [r[1] for r in wb["判定变化的户"].iter_rows(min_row=2, values_only=True)]
    assert all("*" in h for h in heads if h)
