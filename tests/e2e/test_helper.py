"""A helper (帮扶责任人) sees only the households assigned to them. The demo gives the helper households of
their village; the township assigns one more on a household file, and the helper's home and list then show
exactly the assigned households, the new one included."""

from __future__ import annotations


def _numbers(page) -> set[str]:
    return {
        t.strip() for t in page.locator("#household-list tbody a").all_inner_texts() if t.strip().isdigit()
    }


def test_township_assigns_and_helper_sees_only_those_households(page_as, shoot, e2e_server):
    helper = page_as("helper")
    helper.goto("/")
    assert "我帮扶的户" in helper.inner_text("main")
    helper.goto("/households/")
    before = _numbers(helper)
    assert 0 < len(before) <= 12
    town = page_as("township_reviewer")
    town.goto("/households/?region=" + e2e_server.regions["helper"])
    listed = _numbers(town)
    others = [n for n in listed if n not in before]
    assert others, "the helper's village has households not assigned to them"
    household_no = sorted(others)[0]
    town.locator("#household-list tbody a", has_text=household_no).first.click()
    form = town.locator("#assign")
    form.locator("select[name=kind]").select_option("helper")
    form.locator("select[name=user]").select_option(label="帮扶责任人（帮扶责任人）")
    form.locator("button").click()
    assert "已指定帮扶责任人" in town.inner_text(".messages")
    helper.goto("/")
    assert helper.locator("#counts li").first.inner_text().startswith(str(len(before) + 1))
    shoot(helper, "home-helper-assigned")
    helper.goto("/households/")
    assert _numbers(helper) == before | {household_no}
