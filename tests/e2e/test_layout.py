"""The layout in a real browser: every role gets a home page and its own navigation, phone pages do not
overflow 360 px, Chinese renders in a CJK font, and error pages are Chinese (never the framework's)."""

from __future__ import annotations

import pytest

ROLES = [
    "county_admin",
    "county_reviewer",
    "township_reviewer",
    "village_cadre",
    "helper",
    "dept_officer",
    "leader",
    "auditor",
]


def no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("username", ROLES)
def test_every_role_has_a_home_page_at_both_sizes(both_sizes, username):
    desktop, phone = both_sizes(username, "/", f"home-{username}")
    for page in (desktop, phone):
        assert page.locator("h1").first.inner_text().startswith("工作台")
        assert "0户 0人" not in page.content()
    assert no_horizontal_overflow(phone)
    nav = desktop.locator("nav.mainnav a").all_inner_texts()
    assert nav[0] == "工作台"
    if username in ("dept_officer", "auditor"):
        assert "户档案" not in nav
    else:
        assert "户档案" in nav


def test_login_page_and_cjk_font(page_as, shoot):
    page = page_as(None, phone=True)
    page.goto("/login/")
    shoot(page, "login")
    assert page.evaluate("document.fonts.check('16px \"WenQuanYi Micro Hei\"')")
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "WenQuanYi Micro Hei" in family
    page.fill("input[name=username]", "county_admin")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("main")


def test_error_pages_are_chinese(page_as, shoot):
    page = page_as("village_cadre")
    r = page.goto("/no-such-page/")
    assert r.status == 404
    assert "页面不存在" in page.inner_text("main") and "Not Found" not in page.content()
    shoot(page, "error-404")
    # a form posted without its CSRF token: the Chinese "page expired" page, not Django's English one
    anon = page_as(None)
    anon.goto("/login/")
    r = anon.request.post(anon.url, form={"username": "x", "password": "y"})
    assert r.status == 403
    body = r.text()
    assert "页面已过期" in body and "CSRF verification failed" not in body


def test_phone_page_weight_is_small(page_as):
    """First load of a phone page (HTML + CSS + htmx, uncompressed here) stays far under 250 KB."""
    page = page_as("village_cadre", phone=True)
    page.goto("/households/")
    total = page.evaluate(
        """() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        return (nav.encodedBodySize || 0) + res.reduce((s, r) => s + (r.encodedBodySize || 0), 0);
    }"""
    )
    assert 0 < total < 250_000, total
