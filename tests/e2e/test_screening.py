"""部门筛查 in a browser: the 医保 officer uploads a file whose 个人自付 header is unknown, answers the mapping
question, sees the parsed rows and uploads; the county starts a run, follows it to the end and reviews the
hits of the demo month's run with their evidence and match probability."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def test_department_upload_with_mapping(page_as, shoot):
    page = page_as("dept_officer")
    page.goto("/screening/")
    page.select_option("#kind", "medical")
    page.fill("#period", "2026-11")
    page.set_input_files("#file", str(DATA / "医保结算_自定义表头.csv"))
    page.click("#dept-upload button[type=submit]")
    page.wait_for_selector("#mapping-question")
    assert "个人自付" in page.locator("#mapping-question").inner_text()
    shoot(page, "screening-mapping")
    page.select_option("#map_out_of_pocket", "自负部分(元)")
    page.click("#save-mapping")
    page.wait_for_selector("#confirm-upload")
    assert "9120.55" in page.locator("#preview-rows").inner_text()
    shoot(page, "screening-preview")
    page.click("#confirm-upload")
    page.wait_for_selector("#batch-summary")
    assert "医保" in page.locator("#batch-summary").inner_text()
    shoot(page, "screening-batch")


def _monitored_person(e2e_server) -> tuple[str, str, str]:
    """Name, ID number and village name of a member of a household in monitoring (from the demo county)."""
    out = e2e_server.manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from fangpin.monitoring.models import MonitoringObject\n"
        "from fangpin.regions.models import Region\n"
        "mo = MonitoringObject.objects.filter(status='active').order_by('id').first()\n"
        "p = mo.household.persons.filter(is_member=True, id_number__isnull=False).first()\n"
        "print('P', p.name, p.id_number, Region.objects.get(code=mo.household.village_id).name)",
    ).stdout
    return tuple(next(line.split()[1:4] for line in out.splitlines() if line.startswith("P ")))


def test_screening_run_followed_and_reviewed(page_as, e2e_server, tmp_path, shoot):
    name, id_number, village = _monitored_person(e2e_server)
    # the 医保 office's layout (as in 医保结算_自定义表头.csv), one inpatient settlement of a monitored person
    rows = (
        "医保结算明细（本县自定义导出）\r\n"
        "序号,参保人姓名,公民身份号码,所在村,结算时间,医疗类别,医疗总费用,自负部分(元),定点医疗机构\r\n"
        f"1,{name},{id_number},{village},2026-12-01,普通住院,52300.00,15800.40,安阳市人民医院\r\n"
    )
    path = tmp_path / "医保结算_12月.csv"
    path.write_bytes(rows.encode("gbk"))
    officer = page_as("dept_officer")
    officer.goto("/screening/")
    officer.select_option("#kind", "medical")
    officer.fill("#period", "2026-12")
    officer.set_input_files("#file", str(path))
    officer.click("#dept-upload button[type=submit]")
    officer.wait_for_selector("#mapping-question, #confirm-upload")
    if officer.locator("#mapping-question").count():
        officer.select_option("#map_out_of_pocket", "自负部分(元)")
        officer.click("#save-mapping")
    officer.click("#confirm-upload")
    officer.wait_for_selector("#batch-summary")

    page = page_as("county_admin")
    page.goto("/screening/")
    page.fill("#month", "2026-12")
    page.click("#run-start button[type=submit]")
    page.wait_for_selector("#run-bar")
    page.wait_for_function("document.querySelector('#run-bar').value === 100", timeout=60000)
    assert "已完成" in page.locator("#run-progress").inner_text()
    rows = page.locator("#hits tbody tr")
    assert rows.count() >= 1
    hits = page.locator("#hits").inner_text()
    assert "证件号" in hits and "15800.4" in hits  # matched by ID, the department's value shown
    assert "部门批次#" in hits  # evidence points at the department row
    shoot(page, "screening-run")
    page.goto("/screening/reviews/")
    shoot(page, "screening-reviews")
    reviews = page.locator(".review")
    if reviews.count():
        before = reviews.count()
        reviews.first.locator("button[value=accept]").click()
        page.wait_for_selector(".messages")
        assert page.locator(".review").count() == before - 1
