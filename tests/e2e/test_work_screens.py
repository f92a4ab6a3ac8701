"""Screenshots (desktop and phone) of the visit, self-application, import, screening, statistics and
administration screens, each checked for a Chinese heading and no horizontal overflow at 360 px."""

from __future__ import annotations

import pytest

SCREENS = [
    ("village_cadre", "/visits/", "work-visits"),
    ("village_cadre", "/apply/", "work-selfapply"),
    ("county_admin", "/imports/", "work-imports"),
    ("county_admin", "/screening/", "work-screening"),
    ("dept_officer", "/screening/", "work-screening-officer"),
    ("county_admin", "/screening/reviews/", "work-link-reviews"),
    ("township_reviewer", "/appeals/", "work-appeals"),
    ("leader", "/stats/", "work-stats-leader"),
    ("county_admin", "/stats/reports/", "work-reports"),
    ("county_admin", "/manage/", "work-admin"),
    ("county_admin", "/manage/params/", "work-admin-params"),
    ("county_admin", "/manage/users/", "work-admin-users"),
    ("county_admin", "/manage/calendar/", "work-admin-calendar"),
]


@pytest.mark.parametrize(("username", "path", "name"), SCREENS)
def test_screen_at_both_sizes(both_sizes, username, path, name):
    desktop, phone = both_sizes(username, path, name)
    for page in (desktop, phone):
        heading = page.locator("h1").first.inner_text()
        assert heading and not heading.isascii(), heading
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
