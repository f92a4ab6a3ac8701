"""Every API route that names an object, tried with another village's (or another owner's) ids: not found,
audited as refused, nothing written.

The routes come from the served OpenAPI schema, so a new route is covered the day it is added: a path
parameter or body field listed in ``OUTSIDER`` is tried by the persona named there, who holds the route's
capability but not that object (村A1's cadre for 村B1's households, leads, cases, change requests, working
lists and link reviews; another county's admin for an import batch, a screening run or a user; another
department's officer for a department batch or a pending upload). A new object parameter without an
outsider fails ``test_every_object_parameter_has_an_outsider``."""

import datetime as dt
import json

import pytest

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.api.api import api
from fangpin.api.tokens import token_issue
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Assignment, Case, Lead, LeadSource, Measure, MonitoringObject, Visit
from fangpin.monitoring.services.assistance import measure_add
from fangpin.monitoring.services.identification import green_channel_enrol
from fangpin.policy.params import param_value
from fangpin.registry.models import ImportBatch
from fangpin.screening.models import DeptBatch, DeptMapping, LinkReview, ScreeningRun
from fangpin.screening.pending import pending_store
from fangpin.trust.models import Appeal, ChangeRequest
from fangpin.trust.services.appeals import appeal_lodge
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.services.self_application import self_application_receive
from fangpin.worklists.models import SavedList
from fangpin.worklists.services import worklist_save

pytestmark = pytest.mark.django_db

OTHER_COUNTY = "410505000000"
OUTSIDER = {
    "household_id": "cadre_a1",
    "case_ids": "cadre_a1",
    "lead_id": "cadre_a1",
    "case_id": "cadre_a1",
    "change_id": "cadre_a1",
    "worklist_id": "cadre_a1",
    "review_id": "cadre_a1",
    "object_id": "cadre_a1",
    "measure_id": "cadre_a1",
    "ack_no": "cadre_a1",
    "appeal_id": "township_a",  # an appeal handler of another township (a cadre may not handle appeals)
    "import_batch_id": "admin_other_county",
    "run_id": "admin_other_county",
    "user_id": "admin_other_county",
    "dept_batch_id": "dept_minzheng",
    "upload_token": "dept_minzheng",
    "job_id": "cadre_a1",  # another cadre's export job (a job is its requester's only)
}
NOT_OBJECTS = {"step", "key", "code", "kind", "year", "number"}


def _schema():
    return api.get_openapi_schema()


def _params(op) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}


def _body_props(schema, op) -> set[str]:
    """The body's fields, JSON or multipart (a form with a file, e.g. the self-application's photo)."""
    content = op.get("requestBody", {}).get("content", {})
    body = (content.get("application/json") or content.get("multipart/form-data") or {}).get("schema", {})
    if "$ref" in body:
        name = body["$ref"].rsplit("/", 1)[-1]
        body = schema["components"]["schemas"][name]
    return set(body.get("properties", {}))


def _multipart(method: str, path: str) -> bool:
    op = _schema()["paths"][path][method.lower()]
    return "multipart/form-data" in op.get("requestBody", {}).get("content", {})


def _routes():
    schema = _schema()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            names = _params(op) | (_body_props(schema, op) & {"household_id", "case_ids"})
            named = names & set(OUTSIDER)
            if named:
                yield method.upper(), path, OUTSIDER[sorted(named)[0]]


ROUTES = sorted(set(_routes()))


def test_the_route_list_covers_reads_and_writes_of_every_area():
    methods = {m for m, _, _ in ROUTES}
    paths = {p for _, p, _ in ROUTES}
    assert {"GET", "POST", "DELETE"} <= methods and len(ROUTES) >= 25
    for area in ("imports", "dept-uploads", "dept-batches", "screening-runs", "link-reviews", "change-requests",
                 "worklists", "users", "appeals"):  # fmt: skip
        assert any(p.startswith(f"/api/v1/{area}") for p in paths), area


def test_every_object_parameter_has_an_outsider():
    schema = _schema()
    for path, ops in schema["paths"].items():
        for op in ops.values():
            unknown = _params(op) - set(OUTSIDER) - NOT_OBJECTS
            assert not unknown, (path, unknown)


@pytest.fixture
def outsiders(personas):
    admin_x = User.objects.create(
        username="admin_other_county", role=Role.COUNTY_ADMIN, region_id=OTHER_COUNTY
    )
    minzheng = User.objects.create(
        username="dept_minzheng", role=Role.DEPT_OFFICER, region_id="410506000000", department="民政"
    )
    personas["admin_other_county"], personas["dept_minzheng"] = admin_x, minzheng
    return personas


@pytest.fixture
def objects(world, outsiders):
    """One object of each kind that the outsider must not reach."""
    from django.utils import timezone

    p = outsiders
    b = world["b1"]
    on = dt.date(2025, 6, 2)
    change = change_request_submit(
        actor=p["cadre_b1"],
        household_id=b["household"].id,
        kind="condition",
        payload={"fields": {"house_grade": "C"}},
        reason="房屋鉴定为C级",
        evidence=[{"kind": "说明", "ref": "鉴定报告"}],
        on=on,
    )
    wl = worklist_save(actor=p["cadre_b1"], name="B1的清单", params={}, columns=None)
    person = b["household"].persons.filter(is_member=True).first()
    review = LinkReview.objects.create(
        source="medical", fingerprint="f" * 64, record={"name": "王某"}, candidate=person, probability=0.8
    )
    batch = ImportBatch.objects.create(
        file_name="x.csv", sha256="0" * 64, created_by=p["county_admin"], status="checked", dry_run=True
    )
    dept = DeptBatch.objects.create(
        kind="medical", department="医保", period="2025-06", filename="医保.csv", sha256="1" * 64,
        uploaded_by=p["dept_yibao"], uploaded_at=timezone.now(), parquet_path="none.parquet",
    )  # fmt: skip
    run = ScreeningRun.objects.create(month="2025-06", region_id="410506000000", started_by=p["county_admin"])
    green = green_channel_enrol(
        actor=p["township_b"], lead=b["open_lead"], risk_types=["因自然灾害"], reason="暴雨冲毁住房", on=on
    )
    obj = green.monitoring_object
    catalogue = param_value("catalogue.measures", region_code="410506000000", year=on.year)
    measure = measure_add(actor=p["cadre_b1"], monitoring_object=obj, name=next(iter(catalogue)), start_on=on)
    ack = self_application_receive(
        actor=p["cadre_b1"],
        household_id=b["household"].id,
        form={"difficulties": "看病花费大", "risk_types": [], "note": ""},
        consent={"signed": False},
        on=on,
    ).ack_no
    appeal = appeal_lodge(
        actor=p["cadre_b1"], household_id=b["household"].id, kind="wrong_fact", content="家庭人口登记有误",
        lodged_by_name="王某", lodged_on=on,
    )  # fmt: skip
    from fangpin.registry.services.export_jobs import export_job_create

    job = export_job_create(actor=p["cadre_b1"], on=on, filters={}, queue=False)
    token = pending_store(
        actor=p["dept_yibao"], file_name="医保.csv", data="姓名,证件号码\n王某,1\n".encode()
    )
    return {
        "household_id": b["household"].id,
        "lead_id": b["lead"].id,
        "case_id": b["case"].id,
        "step": "verify",
        "change_id": change.id,
        "worklist_id": wl.id,
        "review_id": review.id,
        "import_batch_id": batch.id,
        "run_id": run.id,
        "user_id": p["cadre_b1"].id,
        "dept_batch_id": dept.id,
        "upload_token": token,
        "job_id": job.id,
        "object_id": obj.id,
        "measure_id": measure.id,
        "ack_no": ack,
        "appeal_id": appeal.id,
        "household2_id": b["household2"].id,
        "case_version": b["case"].version,
    }


def _state():
    return (
        Lead.objects.count(),
        LeadSource.objects.count(),
        Case.objects.count(),
        Visit.objects.count(),
        ChangeRequest.objects.filter(status="pending").count(),
        SavedList.objects.count(),
        ImportBatch.objects.count(),
        DeptBatch.objects.count(),
        DeptMapping.objects.count(),
        LinkReview.objects.filter(status="pending").count(),
        sorted(User.objects.values_list("role", "region_id", "is_active")),
        MonitoringObject.objects.filter(status="active").count(),
        Measure.objects.filter(status="done").count(),
        Measure.objects.count(),
        Assignment.objects.count(),
        sorted(Case.objects.values_list("id", "status", "version")),
        sorted(Appeal.objects.values_list("id", "status", "owner_id")),
    )


@pytest.mark.parametrize("method,path,who", ROUTES)
def test_another_villages_object_is_not_found_and_audited(client, objects, outsiders, method, path, who):
    url = path.format(**objects)
    user = outsiders[who]
    _, raw = token_issue(actor=user, user=user, name="t", days=30, on=dt.date.today())
    h = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    before = _state()
    refused = AuditEvent.objects.filter(event_type="api.refused").count()
    if method == "GET":
        r = client.get(url, {"kind": "medical"}, **h)
    elif method == "DELETE":
        r = client.delete(url, **h)
    else:
        body = {
            "household_id": objects["household2_id"],
            "visited_on": "2025-06-05",
            "difficulties": "看病花费大",
            "consent": {"signed": False},
            "version": objects["case_version"],
            "kind": "medical" if "dept-uploads" in path else "contact",
            "payload": {"fields": {"phone": "13800001111"}},
            "reason": "核实后修改",
            "period": "2025-06",
            "columns": {"out_of_pocket": "自负"},
            "accept": True,
            "role": "village_cadre",
            "region_code": OTHER_COUNTY,
            "risk_types": ["因自然灾害"],
            "text": "有村民提出异议",
            "name": "产业帮扶",
            "start_on": "2025-06-05",
            "user_id": outsiders["cadre_a1"].id,
            "case_ids": [objects["case_id"]],
            "step": "verify",
            "answers": {"家庭编号": "household_no"},
            "content": "对识别结果有异议",
            "lodged_by_name": "王某",
            "owner_id": outsiders["township_a"].id,
            "outcome": "upheld",
        }
        if _multipart(method, path):  # a form: its scalar and list fields
            form = {k: v for k, v in body.items() if not isinstance(v, dict)}
            r = client.post(url, form, **h)
        else:
            r = client.post(url, data=json.dumps(body), content_type="application/json", **h)
    assert r.status_code == 404, (url, r.content)
    assert json.loads(r.content)["code"] == "not_found"
    assert AuditEvent.objects.filter(event_type="api.refused").count() == refused + 1
    assert _state() == before
