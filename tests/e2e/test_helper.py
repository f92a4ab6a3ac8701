"""A helper (帮扶责任人) sees only the households assigned to them: the township assigns one on the
household file, and the helper's home and list then show exactly that household."""

from __future__ import annotations


def test_township_assigns_and_helper_sees_only_that_household(page_as, shoot, e2e_server):
    helper = page_as("helper")
    helper.goto("/")
    assert "尚未给您分配帮扶户" in helper.inner_text("main")
    town = page_as("township_reviewer")
    town.goto("/households/?region=" + e2e_server.regions["helper"])
    first = town.locator("#household-list tbody a").first
    household_no = first.inner_text()
    first.click()
    form = town.locator("#assign")
    form.locator("select[name=kind]").select_option("helper")
    form.locator("select[name=user]").select_option(label="帮扶责任人（帮扶责任人）")
    form.locator("button").click()
    assert "已指定帮扶责任人" in town.inner_text(".messages")
    helper.goto("/")
    assert "我帮扶的户" in helper.inner_text("main")
    assert helper.locator("#counts li").first.inner_text().startswith("1")
    shoot(helper, "home-helper-assigned")
    helper.goto("/households/")
    rows = helper.locator("#household-list tbody tr")
    assert rows.count() == 1 and household_no in rows.first.inner_text()
