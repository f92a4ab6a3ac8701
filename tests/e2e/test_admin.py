"""系统管理 in a browser: a policy parameter changed with its basis and document number becomes a new
version, and its history and audit trail show who changed what."""

from __future__ import annotations


def test_parameter_changed_and_audit_trail_shown(page_as, shoot):
    page = page_as("county_admin")
    page.goto("/manage/")
    shoot(page, "admin-home")
    page.click("text=政策参数")
    page.click("#param-keys a:text-is('income.monitoring_line')")
    page.wait_for_selector("#param-form")
    versions_before = page.locator("#versions tbody tr").count()
    page.fill("#value", "8400")
    page.fill("#basis", "龙安区防返贫监测范围调整")
    page.click("#save-param")  # no document number: refused, nothing saved
    page.wait_for_selector(".field-error")
    assert "文件号" in page.content()
    page.fill("#doc_no", "龙政办〔2026〕15号")
    page.click("#save-param")
    # a monitoring line change goes straight to its recomputation offer: that year's judgements before and
    # after the new version, the households named, nothing applied
    page.wait_for_selector("#recompute-note")
    note = page.locator("#recompute-note").inner_text()
    assert "income.monitoring_line" in note and "已保存" in note
    shoot(page, "admin-param-recompute-offer")
    page.goto("/manage/params/income.monitoring_line/")
    page.wait_for_selector("#param-form")
    assert page.locator("#versions tbody tr").count() == versions_before + 1
    assert "龙政办〔2026〕15号" in page.locator("#versions").inner_text()
    trail = page.locator("#trail").inner_text()
    assert "8400" in trail and "县管理员" in trail
    assert page.locator("#current-value").inner_text() == "8400"
    shoot(page, "admin-param-trail")
    phone = page_as("county_admin", phone=True)
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(phone, "admin-param-trail")


def test_measure_catalogue_entry_added_and_retired(page_as, shoot):
    """A measure added and another retired as one new version of the catalogue (basis and 文件号 required),
    and the new measure offered on a monitoring object's measure form."""
    page = page_as("county_admin")
    page.goto("/manage/measures/")
    page.fill("#name", "光伏收益分红")
    page.select_option("#kind", "developmental")
    page.check("#catalogue input[name=retire][value=消费帮扶]")
    page.fill("#basis", "龙安区帮扶措施目录调整")
    page.click("#save-catalogue")  # no 文件号: refused
    page.wait_for_selector("#doc-no-error")
    page.fill("#doc_no", "龙乡振〔2026〕5号")
    page.click("#save-catalogue")
    page.wait_for_selector(".messages")
    assert "新增：光伏收益分红" in page.inner_text(".messages") and "停用：消费帮扶" in page.inner_text(
        ".messages"
    )
    assert "光伏收益分红" in page.inner_text("#catalogue") and "消费帮扶" not in page.inner_text("#catalogue")
    assert "龙乡振〔2026〕5号" in page.inner_text("#versions")
    shoot(page, "admin-measures")


def test_calendar_screen_says_which_years_are_loaded(page_as, shoot):
    page = page_as("county_admin")
    page.goto("/manage/calendar/?year=2026")
    assert "国办发明电〔2025〕7号" in page.inner_text("#calendar-current")
    assert "2026-02-14" in page.input_value("#workdays")
    assert page.locator("#calendar-missing").count() == 0
    shoot(page, "admin-calendar")
    page.goto("/manage/calendar/?year=2027")
    assert "2027年的工作日历尚未录入" in page.inner_text("#calendar-missing")
