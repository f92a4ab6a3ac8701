"""Every API route that names an object, tried by 村A1's cadre with 村B1's ids: not found, audited, unchanged.

The routes come from the served OpenAPI schema, so a new route is covered the day it is added."""

import json

import pytest

from fangpin.api.api import api
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Case, Lead, LeadSource, Visit

pytestmark = pytest.mark.django_db

OBJECT_PARAMS = {"household_id", "lead_id", "case_id"}


def _routes():
    schema = api.get_openapi_schema()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body_props = set()
            if "$ref" in body:
                name = body["$ref"].rsplit("/", 1)[-1]
                body_props = set(schema["components"]["schemas"][name].get("properties", {}))
            if params & OBJECT_PARAMS or "household_id" in body_props:
                yield method.upper(), path


ROUTES = sorted(set(_routes()))


def test_the_route_list_covers_reads_and_writes():
    methods = {m for m, _ in ROUTES}
    assert {"GET", "POST"} <= methods and len(ROUTES) >= 7


# 村B1's objects (龙泉镇), seen from the cadres of two villages of 马家乡, a helper there and 马家乡's reviewer
ROLES = ["cadre_a1", "cadre_a2", "helper_a1", "township_a"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path", ROUTES)
def test_another_villages_object_is_not_found_and_audited(client, world, bearer, method, path, role):
    b = world["b1"]
    ids = {
        "household_id": b["household"].id,
        "lead_id": b["lead"].id,
        "case_id": b["case"].id,
        "step": "verify",
    }
    url = path.format(**ids)
    before = (Lead.objects.count(), LeadSource.objects.count(), Case.objects.count(), Visit.objects.count())
    refused = AuditEvent.objects.filter(event_type="api.refused").count()
    h = bearer(role)
    if method == "GET":
        r = client.get(url, **h)
    else:
        body = {
            "household_id": b["household2"].id,
            "visited_on": "2025-06-05",
            "difficulties": "看病花费大",
            "consent": {"signed": False},
            "version": b["case"].version,
        }
        r = client.post(url, data=json.dumps(body), content_type="application/json", **h)
    assert r.status_code == 404, (url, r.content)
    assert json.loads(r.content)["code"] == "not_found"
    assert AuditEvent.objects.filter(event_type="api.refused").count() == refused + 1
    after = (Lead.objects.count(), LeadSource.objects.count(), Case.objects.count(), Visit.objects.count())
    assert after == before
