"""No screen or export of the masked kind lets prefix + birth date + last four rebuild an ID number."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.accounts.actors import system_actor
from fangpin.registry.checks.report import registry_findings, write_xlsx
from fangpin.registry.io.export import registry_export
from fangpin.testing import factories as f

from .pii_scan import file_text, rebuildable

EXPORT_ON = dt.date(2026, 12, 1)  # the business date of the exports

BIRTHS = [dt.date(1958, 11, 23), dt.date(1983, 2, 7), dt.date(2011, 9, 30)]


@pytest.fixture
def village(db):
    hh = f.household(f.VILLAGE_A1, phone="13812345678")
    people = [
        f.person(hh, name="周桂兰", birth=BIRTHS[0], gender="F"),
        f.person(hh, name="周建国", birth=BIRTHS[1], relation="之子"),
        f.person(hh, name="周小雨", birth=BIRTHS[2], relation="之孙女", gender="F", school_status="义务教育"),
    ]
    # A birth date that disagrees with the ID (a check finding that used to print both dates).
    p = people[1]
    p.birth_date = dt.date(1983, 2, 9)
    p.save()
    f.income(hh, year=2025, wage=30000)
    return hh, [(x.id_number, b) for x, b in zip(people, BIRTHS, strict=True)]


def test_the_scan_can_fail():
    idn = "410506198302070031"
    assert rebuildable("410506********0031 出生日期 19830207", [(idn, dt.date(1983, 2, 7))]) == [idn]
    assert rebuildable("410506********0031 1983年2月7日", [(idn, dt.date(1983, 2, 7))]) == [idn]
    assert rebuildable("410506********0031 41岁", [(idn, dt.date(1983, 2, 7))]) == []


def test_household_pages_show_age_not_birth_date(client, personas, village):
    hh, people = village
    client.force_login(personas["cadre_a1"])
    for url in (f"/households/{hh.id}/", f"/households/{hh.id}/mingbaizhi/", "/households/", "/"):
        body = client.get(url).content.decode()
        assert rebuildable(body, people) == [], url
    body = client.get(f"/households/{hh.id}/").content.decode()
    assert "410506********" in body  # the masked ID is shown, its birth date is not (year only, or age)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_masked_exports_cannot_rebuild(personas, village, tmp_path, suffix):
    _, people = village
    res = registry_export(
        on=EXPORT_ON, actor=personas["county_admin"], out_path=tmp_path / f"r{suffix}", income_year=2025
    )
    text = file_text(res.path)
    assert res.rows == 3 and "410506********" in text
    assert rebuildable(text, people) == []
    assert "1983****" in text  # the year stays (age groups), the month and day do not


def test_unmasked_export_still_has_full_birth_dates(personas, village, tmp_path):
    _, people = village
    res = registry_export(
        on=EXPORT_ON,
        actor=personas["county_admin"],
        out_path=tmp_path / "plain.xlsx",
        unmasked=True,
        income_year=2025,
    )
    text = file_text(res.path)
    assert "19581123" in text and people[0][0] in text


def test_check_report_cannot_rebuild(village, tmp_path):
    _, people = village
    findings = registry_findings(
        actor=system_actor("test"), region_code=f.VILLAGE_A1, on=dt.date(2026, 6, 30)
    )
    assert any("相差2天" in x.message for x in findings)
    path = write_xlsx(findings, tmp_path / "checks.xlsx")
    assert rebuildable(file_text(path), people) == []
    assert rebuildable("\n".join(x.message for x in findings), people) == []


def _web_routes() -> list[tuple[str, tuple[str, ...]]]:
    """(name, parameter names) of every page of the web app (including pages added later)."""
    from django.urls import URLPattern, URLResolver

    from fangpin.web import urls

    out: set[tuple[str, tuple[str, ...]]] = set()

    def walk(patterns, converters: tuple[str, ...]) -> None:  # the areas are included url lists
        for p in patterns:
            here = converters + tuple(p.pattern.converters)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, here)
            elif isinstance(p, URLPattern) and p.name:
                out.add((p.name, tuple(sorted(here))))

    walk(urls.urlpatterns, ())
    return sorted(out)


def test_every_household_page_of_the_web_app_cannot_rebuild(client, personas, village):
    """Crawls every web page that needs nothing or only a household id, as a village cadre and the county."""
    from django.urls import reverse

    hh, people = village
    seen = 0
    for user in ("cadre_a1", "county_admin"):
        client.force_login(personas[user])
        for name, params in _web_routes():
            if name in ("logout", "login") or set(params) - {"household_id"}:
                continue
            url = reverse(f"web:{name}", kwargs={"household_id": hh.id} if params else {})
            r = client.get(url)
            if r.status_code == 200 and r.get("Content-Type", "").startswith("text/html"):
                seen += 1
                assert rebuildable(r.content.decode(), people) == [], url
    assert seen >= 6  # at least home, search and the household file and 明白纸, for both users


def test_audit_diffs_mask_the_birth_date_with_the_id():
    from fangpin.audit.record import diff

    d = diff(
        {"id_number": "410506198302070031", "birth_date": dt.date(1983, 2, 7)},
        {"id_number": "410506198302090035", "birth_date": dt.date(1983, 2, 9)},
    )
    text = str(d)
    assert "19830207" not in text and "1983-02-07" not in text and d["birth_date"] == ["1983****", "1983****"]


def test_trusted_household_file_cannot_rebuild(personas, village):
    """The trust part's household file (every field with its source) for the same household."""
    from fangpin.trust.selectors import household_file

    hh, people = village
    view = household_file(actor=personas["cadre_a1"], household_id=hh.id)
    assert "410506********" in str(view)
    assert rebuildable(str(view), people) == []
