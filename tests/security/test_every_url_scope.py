"""Every URL of the browser application (and of the admin), tried by every role with the ids of objects in
another village (for county roles: another county): the answer is the Chinese "not found" page — the same
as for an id that does not exist, so nothing reveals that the object is there — the refusal is audited,
and nothing changes.

The URL list comes from walking ``fangpin.urls`` (the resolver), so a URL added tomorrow is tried too; a
URL parameter nobody taught ``FILLERS`` to fill fails ``test_every_url_parameter_has_a_filler``. The API
(``api/``) has the same test over its OpenAPI schema: fangpin/api/tests/test_every_route_scope.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver

from fangpin.accounts.roles import Role
from fangpin.accounts.scope import REGION_PATHS, scoped
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Measure, MonitoringObject, Visit
from fangpin.monitoring.services.assistance import assignment_set
from fangpin.monitoring.services.identification import case_open
from fangpin.monitoring.services.leads import lead_submit
from fangpin.monitoring.tests.helpers import extra_user, poor_exited_household
from fangpin.registry.services.imports import registry_import
from fangpin.screening.models import DeptBatch, ScreeningRun
from fangpin.testing import factories as f
from fangpin.trust.models import Appeal, Task
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.services.self_application import self_application_submit
from fangpin.worklists.services import worklist_save

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 6, 2)
OTHER_COUNTY_VILLAGE = "420625100201"  # 谷城县 城关镇: "another village" for the county roles
MISSING = 987_654_321

# role persona → which world is "another village" for it
ROLES = {
    "cadre_a1": "b1",
    "helper_a1": "b1",
    "helper_b1": "b1",  # a helper of 村B1 itself, assigned to another household of the village
    "township_a": "b1",  # a township reviewer of another township
    "dept_yibao": "b1",
    "auditor": "b1",
    "county_admin": "c1",
    "county_reviewer": "c1",
    "leader": "c1",
}


# ---- the URL walk -------------------------------------------------------------------------------------


def _walk(resolver, prefix="", ns=()):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p, prefix + str(p.pattern), ns + ((p.namespace,) if p.namespace else ()))
        elif isinstance(p, URLPattern):
            yield ":".join(ns + (p.name or "",)), prefix + str(p.pattern), p


def url_patterns() -> list[tuple[str, str, list[str]]]:
    """(name, route, parameter names) of every URL outside the API (tested over its schema)."""
    out = []
    for name, route, p in _walk(get_resolver()):
        if name.startswith("api:"):
            continue
        params = list(p.pattern.regex.groupindex)
        out.append((name, route, params))
    return out


_ADMIN_OBJECT = re.compile(r"^admin:(\w+?)_(\w+)_(change|history|delete)$")


def _admin_model(name: str):
    m = _ADMIN_OBJECT.match(name)
    if not m:
        return None
    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == f"{m.group(1)}_{m.group(2)}":
            return model
    return None


# ---- the world: the same kinds of objects in 村B1 and in a village of another county -------------------


def _village_objects(village: str, cadre, county_admin, *, dept_officer) -> dict:
    hh = poor_exited_household(village)
    lead = lead_submit(actor=cadre, household=hh, channel="cadre_visit", risk_types=["因病"], on=ON)
    case = case_open(actor=cadre, lead=lead, on=ON)
    hh2 = poor_exited_household(village)
    obj = MonitoringObject.objects.create(
        household=hh2, category="边缘易致贫户", identified_on=ON, origin="procedure"
    )
    Measure.objects.create(
        village_id=village,
        monitoring_object=obj,
        household=hh2,
        name="医疗救助",
        kind="健康帮扶",
        start_on=ON,
    )
    Visit.objects.create(village_id=village, household=hh2, visitor=cadre, visited_on=ON, has_risk=False)
    appeal = Appeal.objects.create(
        number=f"SS{village}", household=hh2, village_id=village, kind="识别", content="对结果有异议",
        lodged_by_name="王建国", lodged_on=ON, owner_level="township", owner_region_id=village[:9] + "000",
        deadline=ON + dt.timedelta(days=15), recorded_by=cadre,
    )  # fmt: skip
    Task.objects.create(kind="recert", household=hh2, title="复核", due_on=ON)
    change = change_request_submit(
        actor=cadre,
        household_id=hh.pk,
        kind="income",
        evidence=[{"path": "files/evidence/1.jpg", "description": "证明材料"}],
        reason="年度收入",
        payload={"period_start": "2024-01-01", "period_end": "2024-12-31", "components": {"wage": "9000"}},
        on=ON,
    )
    wl = worklist_save(actor=cadre, name="本村清单", params={"q": ""}, columns=None, share=True)
    app = self_application_submit(
        actor=cadre, household_id=hh2.pk, form={"difficulty": "因病住院", "risk_types": ["因病"]},
        consent={"signed": False}, on=ON,
    )  # fmt: skip
    batch = registry_import(on=ON, actor=county_admin, file_name="bad.csv", data=b"\xff\xfe not a registry")
    run = ScreeningRun.objects.create(
        month="2025-05", region_id=village[:6] + "000000", started_by=county_admin
    )
    dept = DeptBatch.objects.create(
        kind="civil", department="民政", period="2025-04" if village.startswith("42") else "2025-05", filename="低保.xlsx", sha256="0" * 64,
        uploaded_by=dept_officer, uploaded_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC), parquet_path="",
    )  # fmt: skip
    from fangpin.registry.services.export_jobs import export_job_create

    job = export_job_create(actor=cadre, on=ON, filters={}, queue=False)  # the 下载中心: its requester's only
    pending = Path(settings.FANGPIN_FILES_DIR) / "dept_pending" / str(dept_officer.pk)
    pending.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16) + ".csv"
    (pending / token).write_bytes(b"a,b\r\n1,2\r\n")
    return {
        "household_id": hh.pk,
        "case_id": case.pk,
        "lead_id": lead.pk,
        "object_id": obj.pk,
        "request_id": change.pk,
        "worklist_id": wl.pk,
        "batch_id": batch.pk,
        "dept_batch_id": dept.pk,
        "run_id": run.pk,
        "token": token,
        "ack_no": app.sources.get().source_ref,
        "appeal_id": appeal.pk,
        "job_id": job.pk,
    }


@pytest.fixture
def world(personas):
    c_admin = extra_user("county_admin_c", Role.COUNTY_ADMIN, "420625000000")
    c_cadre = extra_user("cadre_c1", Role.VILLAGE_CADRE, OTHER_COUNTY_VILLAGE)
    minzheng = extra_user("dept_minzheng", Role.DEPT_OFFICER, f.COUNTY)
    minzheng.department = "民政"
    minzheng.save()
    extra_user("auditor", Role.AUDITOR, f.COUNTY)
    helper_b1 = extra_user("helper_b1", Role.HELPER, f.VILLAGE_B1)
    assignment_set(
        actor=personas["township_b"], household=poor_exited_household(f.VILLAGE_B1), user=helper_b1,
        kind="helper", on=ON,
    )  # fmt: skip
    personas["cadre_b1"].totpdevice_set.create(name="手机", confirmed=True)  # its QR code is the secret
    a1 = poor_exited_household(f.VILLAGE_A1)  # the actors' own village has data too
    f.person(a1, name="本村人")
    return {
        "b1": _village_objects(
            f.VILLAGE_B1, personas["cadre_b1"], personas["county_admin"], dept_officer=minzheng
        ),
        "c1": _village_objects(OTHER_COUNTY_VILLAGE, c_cadre, c_admin, dept_officer=minzheng),
    }


# ---- parameter fillers: (objects of the other village, actor) → value, or SKIP with the reason -----------


REFERENCE_MODELS = {"regions.Region", "policy.Parameter"}


class Skip(str):
    """A parameter that names no object of a village (the reason says why it needs no scope test)."""


def _admin_object(model, actor):
    """A row of ``model`` the actor may not see (outside their region), or any row for unscoped models
    (the admin shows those to superusers only)."""
    if model._meta.label in REFERENCE_MODELS:
        return Skip("reference data (region codes, versioned parameters), the same for every village")
    qs = model._default_manager.all()
    if model._meta.label in REGION_PATHS:
        qs = qs.exclude(pk__in=scoped(actor, model._default_manager.all()).values("pk"))
    elif model._meta.label == "accounts.User" and actor.scope_prefix:  # the user admin is region-scoped
        qs = qs.exclude(region__code__startswith=actor.scope_prefix)
    elif model._meta.label == "audit.AuditEvent" and actor.can("audit.view"):
        return Skip("the auditor reads the whole audit log by role")
    row = qs.order_by("pk").first()
    return str(row.pk) if row is not None else str(MISSING)


FILLERS = {
    "household_id": lambda o, actor, name: o["household_id"],
    "case_id": lambda o, actor, name: o["case_id"],
    "lead_id": lambda o, actor, name: o["lead_id"],
    "object_id": lambda o, actor, name: (
        o["object_id"]
        if not name.startswith("admin:")
        else _admin_object(_admin_model(name), actor)
        if _admin_model(name)
        else Skip("admin view-on-site: redirects to the object's own page, tried above")
    ),
    "request_id": lambda o, actor, name: o["request_id"],
    "appeal_id": lambda o, actor, name: o["appeal_id"],
    "worklist_id": lambda o, actor, name: o["worklist_id"],
    "batch_id": lambda o, actor, name: o["dept_batch_id"] if name == "web:dept_batch" else o["batch_id"],
    "run_id": lambda o, actor, name: o["run_id"],
    "job_id": lambda o, actor, name: o["job_id"],
    "token": lambda o, actor, name: o["token"],
    "ack_no": lambda o, actor, name: o["ack_no"],
    "key": lambda o, actor, name: Skip("a parameter key: county configuration, not a village's object"),
    "param_id": lambda o, actor, name: Skip(
        "a parameter version: county configuration, not a village's object"
    ),
    "kind": lambda o, actor, name: Skip("a statistics table: built within the actor's own region"),
    "year": lambda o, actor, name: Skip("a statistics table: built within the actor's own region"),
    "number": lambda o, actor, name: Skip("a statistics table: built within the actor's own region"),
    "app_label": lambda o, actor, name: Skip("an admin app index: lists only what the user may see"),
    "content_type_id": lambda o, actor, name: Skip("admin view-on-site: tested with object_id below"),
    "id": lambda o, actor, name: _admin_object(apps.get_model("accounts.User"), actor),  # password change
    "pk": lambda o, actor, name: _admin_object(apps.get_model("otp_totp.TOTPDevice"), actor),  # QR code
    "url": lambda o, actor, name: Skip("the admin catch-all: answers 404 for every address"),
    "path": lambda o, actor, name: Skip("static files"),
}
MISSING_VALUES = {"token": "0" * 32 + ".csv", "ack_no": "SQ000000000000"}
# department batches are county-wide (one county per deployment): a county role sees them all
COUNTY_WIDE = {("web:dept_batch", "county_admin"), ("web:dept_batch", "county_reviewer")}
# 村B1's working list is shared with 乡镇B (worklists.services: shared with the township), where 村B1's helper
# works: it opens for them and re-runs in their own scope (the households assigned to them), by design
COUNTY_WIDE |= {("web:worklist", "helper_b1")}


def test_every_url_parameter_has_a_filler():
    missing = {(name, p) for name, _, params in url_patterns() for p in params if p not in FILLERS}
    assert not missing, f"teach FILLERS (tests/security/test_every_url_scope.py) these parameters: {missing}"
    names = {name for name, _, params in url_patterns() if params}
    assert {
        "web:household",
        "web:case",
        "web:lead",
        "web:change_decide",
        "web:worklist",
        "web:import_batch",
    } <= names
    assert len(names) >= 30  # the admin's object pages are in the walk too


def _snapshot() -> str:
    h = hashlib.sha256()
    for label in sorted(REGION_PATHS) + [
        "worklists.SavedList",
        "screening.DeptBatch",
        "registry.ImportBatch",
    ]:
        model = apps.get_model(label)
        rows = list(model._default_manager.order_by("pk").values())
        h.update(json.dumps([label, rows], default=str, sort_keys=True).encode())
    return h.hexdigest()


def _make_staff(user):
    """Staff with every view permission, so the admin pages answer on their scoping, not on missing rights."""
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, {"action": "approve", "reason": "越权测试", "step": "verify", "version": "1"})


def _refusals() -> int:
    return AuditEvent.objects.filter(result="refused").count()


@pytest.mark.parametrize("role", ROLES)
def test_another_villages_ids_are_not_found_and_audited(client, personas, world, role):
    actor = personas.get(role) or apps.get_model("accounts.User").objects.get(username=role)
    _make_staff(actor)
    client.force_login(actor)
    objects = world[ROLES[role]]
    before = _snapshot()
    problems, tried = [], 0
    for name, route, params in url_patterns():
        if not params or (name, role) in COUNTY_WIDE:
            continue
        values = {p: FILLERS[p](objects, actor, name) for p in params}
        if any(isinstance(v, Skip) for v in values.values()):
            continue
        url = "/" + _route_url(route, values)
        missing_url = "/" + _route_url(route, {p: MISSING_VALUES.get(p, MISSING) for p in params})
        for method in ("GET", "POST"):
            n = _refusals()
            r = _request(client, method, url)
            control = _request(client, method, missing_url)
            tried += 1
            body = r.content.decode(errors="replace")
            if r.status_code >= 500 or "Traceback" in body:
                problems.append((method, url, r.status_code, "server error"))
            elif r.status_code == 405 and control.status_code == 405:
                continue  # the view does not take this method at all
            elif r.status_code != control.status_code:
                problems.append(
                    (method, url, r.status_code, f"differs from a missing id ({control.status_code})")
                )
            elif r.status_code == 403 and control.status_code == 403:
                continue  # refused by role before any look-up: the same for every id, audited elsewhere
            elif r.status_code != 404:
                problems.append((method, url, r.status_code, "not 404"))
            elif not re.search(r"不存在|无权|未找到|找不到", body):
                problems.append((method, url, r.status_code, "no Chinese not-found page"))
            elif _refusals() < n + 2:  # the foreign id and the missing id: one refusal each
                problems.append((method, url, r.status_code, "refusal not audited"))
    assert tried >= 40
    assert not problems, "\n".join(map(str, problems))
    assert _snapshot() == before


def _route_url(route: str, values: dict) -> str:
    out = route
    for k, v in values.items():
        out = re.sub(rf"<(?:\w+:)?{k}>|\(\?P<{k}>[^)]*\)", str(v), out)
    return out.lstrip("^").rstrip("$").replace("\\Z", "")
