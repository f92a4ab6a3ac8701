"""The Idempotency-Key header is declared in the served schema on exactly the routes that honour it (a client —
the phone's outbox, a provincial system, the schema fuzz — learns it from the schema), and what the schema
declares is what the server accepts: a key outside the declared pattern is refused, never read as "no key"."""

import inspect
import json
import pkgutil
from importlib import import_module

import pytest

from fangpin.api import routers
from fangpin.api.idempotency import OPENAPI
from fangpin.monitoring.models import Lead
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.testing import factories as f

pytestmark = pytest.mark.django_db

HEADER = OPENAPI["parameters"][0]


def _honouring_routes() -> set[tuple[str, str]]:
    """(METHOD, path) of every route whose view runs its change through ``idempotency.once``."""
    out = set()
    for info in pkgutil.iter_modules(routers.__path__):
        module = import_module(f"{routers.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is None:
            continue
        for path, view in router.path_operations.items():
            for op in view.operations:
                if "once(" in inspect.getsource(op.view_func):
                    out |= {(m.upper(), "/api/v1" + path) for m in op.methods}
    return out


def test_the_header_is_declared_on_exactly_the_routes_that_honour_it(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    declared = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if any(p.get("in") == "header" and p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
    }
    honouring = _honouring_routes()
    assert len(honouring) >= 20  # the creates: leads, cases, visits, measures, imports, uploads, users, …
    assert declared == honouring
    op = schema["paths"]["/api/v1/leads"]["post"]
    (param,) = [p for p in op["parameters"] if p["name"] == "Idempotency-Key"]
    assert param["required"] is False and param["schema"]["maxLength"] == 100


@pytest.mark.parametrize("key", ["", "has space", "x" * 101, "键"])
def test_a_key_outside_the_declared_pattern_is_refused_and_nothing_is_created(client, world, bearer, key):
    hh = world["a1"]["household"]
    before = Lead.objects.count()
    headers = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": key}
    body = {"household_id": hh.id, "channel": "cadre_visit", "risk_types": ["因病"], "on": "2025-06-03"}
    r = client.post("/api/v1/leads", data=json.dumps(body), content_type="application/json", **headers)
    assert r.status_code == 400, r.content
    assert json.loads(r.content)["code"] == "idempotency_key_invalid"
    assert json.loads(r.content)["field"] == "Idempotency-Key"
    assert Lead.objects.count() == before


def test_a_declared_key_replays_the_first_answer(client, world, bearer):
    hh = poor_exited_household(f.VILLAGE_A1)  # no lead yet: the first call creates one
    headers = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "3f0c8a52-6d1e-4b7a-9c55-0e1f2a3b4c5d"}
    body = {"household_id": hh.id, "channel": "cadre_visit", "risk_types": ["因病"], "on": "2025-06-03"}
    before = Lead.objects.count()
    r1, r2 = (
        client.post("/api/v1/leads", data=json.dumps(body), content_type="application/json", **headers)
        for _ in range(2)
    )
    assert r1.status_code == r2.status_code == 201 and r1.content == r2.content
    assert Lead.objects.count() == before + 1
