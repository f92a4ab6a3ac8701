"""异议申诉 through the API: lodged by the village, listed and decided by its township, refused elsewhere."""

from __future__ import annotations

import json

import pytest

from fangpin.trust.models import Appeal, AppealStatus

pytestmark = pytest.mark.django_db
API = "/api/v1"


def post(client, url, body, headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def test_lodge_list_assign_decide(client, world, personas, bearer):
    hh = world["a1"]["household"]
    cadre, town = bearer("cadre_a1"), bearer("township_a")
    r = post(client, f"{API}/appeals", {"household_id": hh.id, "kind": "bogus", "content": "收入算错",
                                        "lodged_by_name": "王某"}, cadre)  # fmt: skip
    assert r.status_code == 400 and r.json()["field"] == "kind" and "异议类型" in r.json()["message"]
    r = post(client, f"{API}/appeals", {"household_id": hh.id, "kind": "not_included", "content": "收入算错了",
                                        "lodged_by_name": "王某", "on": "2025-06-03"}, cadre)  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert (
        body["owner_level"] == "township" and body["status"] == "open" and body["lodged_on"] == "2025-06-03"
    )
    listed = client.get(f"{API}/appeals", {"mine": "true"}, **town).json()
    assert [a["number"] for a in listed["items"]] == [body["number"]]
    assert client.get(f"{API}/appeals", **bearer("township_b")).json()["items"] == []
    r = post(client, f"{API}/appeals/{body['id']}/assign", {"owner_id": personas["township_a"].id}, town)
    assert r.status_code == 200 and r.json()["owner"] == "township_a"
    r = post(client, f"{API}/appeals/{body['id']}/decide", {"outcome": "partly", "reason": "短"}, town)
    assert r.status_code == 400 and "理由" in r.json()["message"]
    r = post(client, f"{API}/appeals/{body['id']}/decide",
             {"outcome": "partly", "reason": "收入已按新证明重算", "on": "2025-06-10"}, town)  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == AppealStatus.DECIDED
    assert Appeal.objects.get(pk=body["id"]).outcome == "partly"
    r = post(
        client, f"{API}/appeals/{body['id']}/decide", {"outcome": "upheld", "reason": "再办一次看看"}, town
    )
    assert r.status_code == 409 and "已办结" in r.json()["message"]
