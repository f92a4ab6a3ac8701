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
    page.wait_for_selector(".messages")
    assert (
        "新版本" in page.locator(".messages").inner_text() or "版" in page.locator(".messages").inner_text()
    )
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
