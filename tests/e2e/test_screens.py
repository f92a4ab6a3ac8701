"""Every main screen at 1366 px and 360 px: renders, no page-wide horizontal scroll on the phone (tables
scroll inside their own box or become cards), screenshot saved."""

from __future__ import annotations

import pytest


def no_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _first_href(page, css: str) -> str:
    return page.locator(css).first.get_attribute("href")


@pytest.fixture(scope="module")
def targets(browser, e2e_server, _logins):
    ctx = browser.new_context(base_url=e2e_server.url, storage_state=_logins("county_admin"))
    page = ctx.new_page()
    page.goto("/households/?monitoring=active")
    household = _first_href(page, "#household-list a")
    page.goto("/cases/leads/?status=closed")
    lead = _first_href(page, "#lead-list a")
    ctx.close()
    return {"household": household, "lead": lead}


SCREENS = [
    ("county_admin", "/households/", "households-list", "户档案"),
    ("county_admin", "/households/?monitoring=active&sort=members", "households-monitored", "户档案"),
    ("village_cadre", "/households/?q=41", "households-search-cadre", "户档案"),
    ("county_admin", "/cases/", "cases-list", "识别办理"),
    ("township_reviewer", "/cases/?awaiting=me", "cases-awaiting-township", "识别办理"),
    ("county_admin", "/cases/leads/", "leads-list", "风险线索"),
]


@pytest.mark.parametrize(("username", "path", "name", "heading"), SCREENS)
def test_list_screens(both_sizes, username, path, name, heading):
    desktop, phone = both_sizes(username, path, name)
    assert desktop.locator("h1").first.inner_text().startswith(heading)
    assert no_overflow(phone), name


def test_household_file_and_lead_screens(both_sizes, targets):
    for key in ("household", "lead"):
        desktop, phone = both_sizes("county_admin", targets[key], f"{key}-detail")
        assert no_overflow(phone), key
    desktop, _ = both_sizes("county_admin", targets["household"], "household-file-monitored")
    text = desktop.inner_text("main")
    for section in (
        "家庭成员",
        "收入与监测收入线",
        "两不愁三保障及饮水安全",
        "逻辑校验",
        "全部记录（时间线）",
    ):
        assert section in text
    assert "监测中" in desktop.inner_text("#monitoring")


def test_household_edit_shows_errors_next_to_the_field(page_as, shoot, targets):
    page = page_as("county_admin", phone=True)
    page.goto(targets["household"].rstrip("/") + "/edit/?kind=condition")
    page.fill("input[name=house_grade]", "E")
    page.fill("input[name=reason]", "住房鉴定结果变更")
    page.fill("input[name=evidence]", "鉴定书 2024-17号")
    page.click("form.panel button")
    err = page.locator("label:has(input[name=house_grade]) .field-error")
    assert err.count() == 1 and "无效" in err.inner_text()
    shoot(page, "household-edit-error")
    assert no_overflow(page)
