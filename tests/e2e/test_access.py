"""A village cadre cannot reach another village's household — not by URL, not by search, not by export —
and each attempt is in the audit log (the auditor's home page lists refused accesses)."""

from __future__ import annotations

import pytest

OTHER = """
from fangpin.registry.models import Household
hh = Household.objects.exclude(village_id="{village}").filter(status="active", persons__is_member=True).order_by("id").first()
print("HH", hh.id, hh.household_no, hh.village_id)
"""

REFUSALS = """
from fangpin.audit.models import AuditEvent
for e in AuditEvent.objects.filter(actor__username="village_cadre", result="refused").order_by("seq"):
    print("EV", e.event_type, e.object_id, e.data.get("path", ""))
"""


@pytest.fixture(scope="module")
def other_household(e2e_server):
    out = e2e_server.shell(OTHER.replace("{village}", e2e_server.regions["village_cadre"]))
    _, hid, no, village = next(x for x in out.splitlines() if x.startswith("HH ")).split()
    return int(hid), no, village


def test_cadre_blocked_by_url_search_and_export(page_as, shoot, e2e_server, other_household):
    hid, no, village = other_household
    cadre = page_as("village_cadre")
    # by URL
    r = cadre.goto(f"/households/{hid}/")
    assert r.status == 404
    assert "不存在或无权访问" in cadre.inner_text("main") and no not in cadre.content()
    shoot(cadre, "refused-household")
    # by search: nothing found, the 户编号 appears nowhere
    cadre.goto(f"/households/?q={no}")
    assert "没有符合条件的户" in cadre.inner_text("#household-list")
    # by export: the other village's region is refused
    r = cadre.request.get(f"/households/export/?region={village}")
    assert r.status == 404 and "不存在或无权访问" in r.text()
    # the owning village's cadre sees it; the county sees it
    county = page_as("county_admin")
    assert county.goto(f"/households/{hid}/").status == 200
    events = [x.split() for x in e2e_server.shell(REFUSALS).splitlines() if x.startswith("EV ")]
    kinds = [e[1] for e in events]
    assert "registry.search_refused" in kinds
    paths = [e[3] for e in events if e[1] == "web.access_refused" and len(e) > 3]
    assert f"/households/{hid}/" in paths and any(p.startswith("/households/export/") for p in paths)
    # and the auditor sees the refusals on their home page
    auditor = page_as("auditor")
    auditor.goto("/")
    assert f"/households/{hid}/" in auditor.inner_text("main")
    shoot(auditor, "home-auditor-refusals")


def test_cadre_export_contains_only_the_filtered_households_masked(page_as, e2e_server, tmp_path):
    cadre = page_as("village_cadre")
    cadre.goto("/households/?household_type=脱贫户")
    n = int(cadre.inner_text("p.muted").split("共")[1].split("户")[0].strip())
    with cadre.expect_download() as dl:
        cadre.click("a.export")
    path = tmp_path / "export.xlsx"
    dl.value.save_as(path)
    from openpyxl import load_workbook

    ws = load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    header_i = next(i for i, r in enumerate(rows) if r and "证件号码" in [str(c) for c in r if c])
    header = [str(c) if c else "" for c in rows[header_i]]
    data = [r for r in rows[header_i + 1 :] if any(r)]
    hh_col = next(i for i, h in enumerate(header) if "户编号" in h)
    id_col = header.index("证件号码")
    households = {r[hh_col] for r in data}
    assert len(households) == n > 0
    assert all("*" in str(r[id_col]) for r in data)  # masked by default
    village = e2e_server.regions["village_cadre"]
    assert all(str(h).startswith(village) for h in households)
