"""The visit page and its sync API (the browser journey itself is in tests/e2e/test_visits.py)."""

from __future__ import annotations

import json

import pytest

from fangpin.core import clock
from fangpin.monitoring.models import Visit
from fangpin.monitoring.tests.helpers import ASPECTS, checklist
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db


def _body(hh, key, **kw):
    b = {
        "client_key": key,
        "household_id": hh.pk,
        "visited_on": clock.today().isoformat(),
        "checklist": checklist(),
        "has_risk": False,
    }
    b.update(kw)
    return json.dumps(b)


def test_page_lists_my_households_with_masked_names(client, personas):
    hh = f.household(f.VILLAGE_A1)
    f.person(hh, name="王建国")
    other = f.household(f.VILLAGE_B1)
    client.force_login(personas["cadre_a1"])
    r = client.get("/visits/")
    body = r.content.decode()
    assert r.status_code == 200
    assert "王*国" in body and "王建国" not in body
    assert f'value="{hh.pk}"' in body and f'value="{other.pk}"' not in body
    for a in ASPECTS:
        assert f'name="aspect_{a}"' in body


def test_sync_is_idempotent_and_answers_the_stored_id(client, personas):
    hh = f.household(f.VILLAGE_A1)
    client.force_login(personas["cadre_a1"])
    token = client.get("/visits/sync/token/").json()["csrf"]
    assert token
    r1 = client.post("/visits/sync/", _body(hh, "phone-key-0001"), content_type="application/json")
    r2 = client.post("/visits/sync/", _body(hh, "phone-key-0001"), content_type="application/json")
    assert r1.json()["status"] == "stored" and r2.json()["status"] == "duplicate"
    assert r1.json()["visit_id"] == r2.json()["visit_id"] == Visit.objects.get(household=hh).pk


def test_sync_refuses_without_login_and_never_redirects(client):
    r = client.post("/visits/sync/", "{}", content_type="application/json")
    assert r.status_code == 401 and r.json()["error"] == "login"


def test_sync_rejects_malformed_and_other_village(client, personas):
    hh_b = f.household(f.VILLAGE_B1)
    client.force_login(personas["cadre_a1"])
    bad = client.post("/visits/sync/", "not json", content_type="application/json").json()
    assert bad["status"] == "rejected" and bad["visit_id"] is None
    other = client.post(
        "/visits/sync/", _body(hh_b, "phone-key-0002"), content_type="application/json"
    ).json()
    assert other["status"] == "rejected"
    assert not Visit.objects.filter(household=hh_b).exists()


def test_form_post_without_javascript_saves_a_visit(client, personas):
    hh = f.household(f.VILLAGE_A1)
    client.force_login(personas["cadre_a1"])
    data = {"household_id": hh.pk, "visited_on": clock.today().isoformat(), "has_risk": "no"}
    data.update({f"aspect_{a}": "ok" for a in ASPECTS})
    r = client.post("/visits/", data)
    assert r.status_code == 302
    assert Visit.objects.filter(household=hh, visitor=personas["cadre_a1"]).count() == 1
    data.pop("aspect_water")
    r = client.post("/visits/", data)
    assert r.status_code == 200 and "饮水安全" in r.content.decode()


def test_service_worker_is_served_with_its_scope(client, personas):
    client.force_login(personas["cadre_a1"])
    r = client.get("/visits/sw.js")
    assert r.status_code == 200 and r["Service-Worker-Allowed"] == "/visits/"
    assert "FANGPIN_SW_PRECACHE" in r.content.decode()


def test_leader_cannot_log_visits(client, personas):
    client.force_login(personas["leader"])
    assert client.get("/visits/").status_code == 403


def test_first_load_of_the_phone_page_is_small(client, personas):
    """HTML + every stylesheet and script it loads, gzip-compressed, under the 250 KB phone budget."""
    import datetime as dt
    import gzip
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    for i in range(300):
        f.person(
            f.household(f.VILLAGE_A1), name="王建国", birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28)
        )
    client.force_login(personas["cadre_a1"])
    html = client.get("/visits/").content
    total = len(gzip.compress(html))
    assets = set(re.findall(rb'(?:src|href)="/static/([^"]+\.(?:js|css))"', html))
    assert b"web/visits/outbox.js" in assets and b"web/site.css" in assets
    for a in assets:
        total += len(gzip.compress(Path(finders.find(a.decode())).read_bytes()))
    print(f"visit page first load, gzip: {total / 1024:.1f} KB ({len(assets)} assets)")
    assert total < 250 * 1024, total


def test_first_load_of_every_phone_page_is_small(client, personas):
    """The village's phone pages (workbench, households, household file, visits, self-application, cases):
    HTML + the stylesheets and scripts each loads, gzip, each under the 250 KB budget."""
    import gzip
    import re
    from pathlib import Path

    from django.contrib.staticfiles import finders

    hh = f.household(f.VILLAGE_A1)
    f.person(hh, name="王建国")
    client.force_login(personas["cadre_a1"])
    sizes = {}
    for path in ("/", "/households/", f"/households/{hh.pk}/", "/visits/", "/apply/", "/cases/"):
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.content
        total = len(gzip.compress(html))
        for a in set(re.findall(rb'(?:src|href)="/static/([^"]+\.(?:js|css))"', html)):
            total += len(gzip.compress(Path(finders.find(a.decode())).read_bytes()))
        sizes[path] = total
    print("phone pages, first load gzip (KB):", {p: round(n / 1024, 1) for p, n in sizes.items()})
    assert all(n < 250 * 1024 for n in sizes.values()), sizes
    assert all(n > 5 * 1024 for n in sizes.values()), sizes  # the stylesheet and htmx are counted
