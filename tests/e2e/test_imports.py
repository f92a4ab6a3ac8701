"""An import with bad rows, seen row by row with its reject report, fixed and re-uploaded, confirmed, and
followed to the end of its progress bar."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def test_import_bad_rows_fixed_and_reuploaded(page_as, shoot):
    page = page_as("county_admin")
    page.goto("/imports/")
    page.set_input_files("#file", str(DATA / "监测对象信息_有错误.csv"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#rejects")
    text = page.locator("#rejects").inner_text()
    assert "第3行" in text and "第4行" in text
    assert page.locator("#confirm-import").count() == 0
    shoot(page, "import-rejects")
    with page.expect_download() as dl:
        page.click("#reject-report")
    assert Path(dl.value.path()).read_bytes()[:2] == b"PK"  # an xlsx

    page.goto("/imports/")
    page.set_input_files("#file", str(DATA / "监测对象信息_已改正.csv"))
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#confirm-import")
    shoot(page, "import-checked")
    page.click("#confirm-import")
    page.wait_for_selector("#batch-status")
    assert "已导入" in page.locator("#batch-status").inner_text()
    assert page.locator("#progress-bar").get_attribute("value") == "100"
    shoot(page, "import-done")
    page.goto("/households/?q=410506205201990001")
    assert "410506205201990001" in page.content()
