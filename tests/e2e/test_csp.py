"""The work screens run under the Content-Security-Policy the security work sets (``script-src 'self'``, no
inline scripts): the header is added to every response here, and the page must log no CSP violation while the
visit outbox, the charts and the print buttons still work."""

from __future__ import annotations

import pytest

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def _with_csp(page) -> list[str]:
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    def add_header(route):
        resp = route.fetch()
        route.fulfill(response=resp, headers={**resp.headers, "content-security-policy": CSP})

    page.route("**/*", add_header)
    return violations


@pytest.mark.parametrize(
    ("username", "path", "ready"),
    [
        ("village_cadre", "/visits/", "#outbox-count"),
        ("county_admin", "/stats/", "#ch-category[data-ready='1'] svg"),
        ("county_admin", "/imports/", "#upload-form"),
        ("county_admin", "/screening/", "#run-start"),
        ("county_admin", "/manage/params/income.monitoring_line/", "#param-form"),
        ("village_cadre", "/apply/", "#apply-form"),
    ],
)
def test_no_csp_violation(page_as, username, path, ready):
    page = page_as(username)
    violations = _with_csp(page)
    page.goto(path)
    page.wait_for_selector(ready)
    if path == "/visits/":
        page.wait_for_function("window.fangpinOutbox !== undefined")
    page.wait_for_timeout(300)
    assert violations == []
