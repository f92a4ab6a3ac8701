"""Every API route, tried by every role that can log in with the ids of objects outside its area: not found
(the same answer, byte for byte, as for an id that does not exist), audited as refused, nothing written.

The routes come from the served OpenAPI schema, so a route added tomorrow is tried too. Every path
parameter, body field and query parameter of every operation must be known here — as naming an object
(``FOREIGN``: filled with another area's object, and with a missing id for the control request) or as plain
data (``PLAIN``) — or ``test_every_route_input_is_known`` fails: a route the test cannot fill fails, it is
never skipped.

Who tries (``ROLES``), each placed so that the objects (all in 村B1 of 410506, or owned by someone else) are
outside their area: 村A1's cadre (another village), a 帮扶责任人 of 村B1 assigned to a third household (not the
target's), 乡镇A's reviewer (another township), the county admin, reviewer and leader of another county, the
民政 department's officer (the objects are 医保's), and the auditor (no registry scope at all).

What each attempt must answer, by route class:

* **object routes** (a path parameter or a body ``household_id``/``case_ids``/``person_id`` names an object):
  404 ``not_found`` when the role may use the route, or 403 when the role may not use it at all (refused by
  capability before any look-up). Either way the answer must equal the answer to the same request with a
  missing id (status and body), never 2xx or 5xx; exactly one ``api.refused`` audit event; nothing changes;
  the body never carries the other area's 户编号.
* **filtered lists** (a query parameter names a region: ``region``, ``village``, ``township``, ``code``),
  asked for 村B1 / 乡镇B: never 5xx, and no 户编号 of the target households in the body (the rows stay in the
  caller's scope whatever the filter says).
* **other reads** (no object input): never 5xx, no foreign 户编号 in the body (the list scope, ACL-02).
* other writes without an object input (creating a working list, an import, a user …) are not object
  accesses: the schema fuzz (test_schema_fuzz.py) runs them as every role.

The browser's URLs have the same test over the resolver: tests/security/test_every_url_scope.py."""

import datetime as dt
import json

import pytest

from fangpin.accounts.models import User
from fangpin.accounts.roles import Role
from fangpin.api.api import api
from fangpin.api.tokens import token_issue
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Assignment, Case, Lead, LeadSource, Measure, MonitoringObject, Visit
from fangpin.monitoring.services.assistance import assignment_set, measure_add
from fangpin.monitoring.services.identification import green_channel_enrol
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.policy.params import param_value
from fangpin.registry.models import ImportBatch
from fangpin.screening.models import DeptBatch, DeptMapping, LinkReview, ScreeningRun
from fangpin.screening.pending import pending_store
from fangpin.testing import factories as f
from fangpin.trust.models import Appeal, ChangeRequest
from fangpin.trust.services.appeals import appeal_lodge
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.services.self_application import self_application_receive
from fangpin.worklists.models import SavedList
from fangpin.worklists.services import worklist_save

pytestmark = pytest.mark.django_db

OTHER_COUNTY = "410505000000"
MISSING = 987_654_321
MISSING_REGION = "410506999999"

# role persona → where it sits (created by ``outsiders`` unless a shared persona)
ROLES = {
    "cadre_a1": "村A1的村干部（另一个村）",
    "helper_b1": "村B1的帮扶责任人，只负责另一户",
    "township_a": "乡镇A的审核人（另一个乡镇）",
    "admin_x": "另一个县的县级管理员",
    "reviewer_x": "另一个县的县级审定人",
    "leader_x": "另一个县的领导（只读）",
    "dept_minzheng": "民政部门数据专员（对象属于医保）",
    "auditor": "本县安全审计员（无户档案范围）",
}
assert {r for r, _ in Role.choices} == {
    Role.VILLAGE_CADRE, Role.HELPER, Role.TOWNSHIP_REVIEWER, Role.COUNTY_ADMIN, Role.COUNTY_REVIEWER,
    Role.LEADER, Role.DEPT_OFFICER, Role.AUDITOR,
}, "a new role: add a persona of it to ROLES"  # fmt: skip

# inputs that name an object: filled with another area's object (and, for the control, a missing one)
FOREIGN_PATH = {
    "household_id", "lead_id", "case_id", "change_id", "worklist_id", "review_id", "object_id", "measure_id",
    "ack_no", "appeal_id", "import_batch_id", "run_id", "user_id", "dept_batch_id", "upload_token", "job_id",
}  # fmt: skip
FOREIGN_BODY = {"household_id", "case_ids", "person_id"}
REGION_QUERY = {"region", "village", "township", "code"}
# path parameters that name no village's object: reference data, a step name, a statistics table
PLAIN_PATH = {
    "step": "verify",
    "key": "line.monitoring",
    "code": f.TOWNSHIP_B,  # the division tree: the same reference data for everyone
    "kind": "monthly",
    "year": 2025,
    "number": 6,
}
# body fields and query parameters that are data, not a reference to an object of an area
PLAIN_FIELDS = {
    # bodies
    "channel", "note", "on", "risk_types", "data", "version", "checklist", "has_risk", "visited_on", "category",
    "reason", "outcome", "raised_by", "text", "opinion", "step", "amount", "name", "start_on", "status", "method",
    "owner_id", "applicant", "applicant_phone", "consent_signed", "difficulties", "on_behalf", "paper_holder",
    "photo", "scope", "signed_by_name", "signed_on", "evidence", "kind", "payload", "content", "lodged_by_name",
    "lodged_by_relation", "columns", "filters", "share", "file", "income_year", "answers", "on_behalf_of",
    "filename", "period", "month", "accept", "department", "display_name", "role", "username", "is_active",
    "basis", "doc_no", "value", "holidays", "workdays", "user_id",
    "region_code",  # a user's or parameter's region: reference data, checked by the service (own region here)
    # query
    "year", "q", "household_type", "monitoring", "risk_type", "below_line", "has_findings", "overdue", "sort",
    "limit", "offset", "unmasked", "awaiting", "mine", "consent_missing", "internal", "format", "event_type",
    "actor", "result", "object_type", "object_id", "region_prefix", "since", "until",
}  # fmt: skip


def _schema():
    return api.get_openapi_schema()


def _path_params(op) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}


def _query_params(op) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}


def _body(schema, op) -> tuple[str | None, set[str]]:
    """The body's media type (json / multipart form) and its fields."""
    content = op.get("requestBody", {}).get("content", {})
    for media in ("application/json", "multipart/form-data"):
        if media in content:
            body = content[media].get("schema", {})
            if "$ref" in body:
                body = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
            return media, set(body.get("properties", {}))
    assert not content, ("a body of another media type", content)
    return None, set()


def operations() -> list[dict]:
    schema = _schema()
    out = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            media, body = _body(schema, op)
            path_params, query = _path_params(op), _query_params(op)
            objects = (path_params & FOREIGN_PATH) | (body & FOREIGN_BODY)
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "path_params": path_params,
                    "query": query,
                    "body": body,
                    "media": media,
                    "cls": "object" if objects else "filtered" if query & REGION_QUERY else "other",
                }
            )
    return out


OPERATIONS = operations()


def test_every_route_input_is_known():
    unknown = []
    for op in OPERATIONS:
        for p in op["path_params"] - FOREIGN_PATH - set(PLAIN_PATH):
            unknown.append((op["method"], op["path"], "path", p))
        for p in op["query"] - REGION_QUERY - PLAIN_FIELDS:
            unknown.append((op["method"], op["path"], "query", p))
        for p in op["body"] - FOREIGN_BODY - PLAIN_FIELDS:
            unknown.append((op["method"], op["path"], "body", p))
    assert not unknown, f"teach FOREIGN_* or PLAIN_* (fangpin/api/tests/test_every_route_scope.py): {unknown}"


def test_the_route_list_covers_reads_and_writes_of_every_area():
    objects = [op for op in OPERATIONS if op["cls"] == "object"]
    assert {op["method"] for op in objects} >= {"GET", "POST", "DELETE"} and len(objects) >= 50
    for area in ("households", "leads", "cases", "monitoring-objects", "self-applications", "imports",
                 "dept-uploads", "dept-batches", "screening-runs", "link-reviews", "change-requests",
                 "worklists", "users", "appeals", "exports", "case-batches", "visits"):  # fmt: skip
        assert any(op["path"].startswith(f"/api/v1/{area}") for op in objects), area
    assert any(op["cls"] == "filtered" for op in OPERATIONS)


@pytest.fixture
def outsiders(personas, world):
    made = {
        "admin_x": (Role.COUNTY_ADMIN, OTHER_COUNTY, ""),
        "reviewer_x": (Role.COUNTY_REVIEWER, OTHER_COUNTY, ""),
        "leader_x": (Role.LEADER, OTHER_COUNTY, ""),
        "dept_minzheng": (Role.DEPT_OFFICER, f.COUNTY, "民政"),
        "auditor": (Role.AUDITOR, f.COUNTY, ""),
        "helper_b1": (Role.HELPER, f.VILLAGE_B1, ""),
    }
    for name, (role, region, dept) in made.items():
        personas[name] = User.objects.create(username=name, role=role, region_id=region, department=dept)
    own = poor_exited_household(f.VILLAGE_B1)  # the helper's own household in 村B1
    assignment_set(actor=personas["township_b"], household=own, user=personas["helper_b1"], kind="helper",
                   on=dt.date(2025, 6, 1))  # fmt: skip
    return personas


@pytest.fixture
def objects(world, outsiders):
    """One object of each kind, in 村B1 (or owned by 村B1's cadre, 医保, 410506's admin): outside every ROLE."""
    from django.utils import timezone

    from fangpin.registry.services.export_jobs import export_job_create

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
    job = export_job_create(actor=p["cadre_b1"], on=on, filters={}, queue=False)
    token = pending_store(
        actor=p["dept_yibao"], file_name="医保.csv", data="姓名,证件号码\n王某,1\n".encode()
    )
    return {
        "household_id": b["household"].id,
        "lead_id": b["lead"].id,
        "case_id": b["case"].id,
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
        "person_id": person.id,
        "body_household_id": b["household2"].id,
        "case_version": b["case"].version,
        "region": f.VILLAGE_B1,
        "township": f.TOWNSHIP_B,
        "household_nos": [b["household"].household_no, b["household2"].household_no],
    }


MISSING_VALUES = {"upload_token": "0" * 32 + ".csv", "ack_no": "SQ20250602000000"}


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


def _request(client, op, headers, objects, actor, *, foreign: bool):
    """The operation with every object input foreign (or, for the control, missing)."""

    def obj(name):
        return objects[name] if foreign else MISSING_VALUES.get(name, MISSING)

    path_values = {p: obj(p) if p in FOREIGN_PATH else PLAIN_PATH[p] for p in op["path_params"]}
    url = op["path"].format(**path_values)
    region = objects["region"] if foreign else MISSING_REGION
    query = {"kind": "medical"} if "kind" in op["query"] else {}
    for q in op["query"] & REGION_QUERY:
        query[q] = objects["township"] if q == "township" and foreign else region
    if op["method"] == "GET":
        return client.get(url, query, **headers)
    if op["method"] == "DELETE":
        return client.delete(url, **headers)
    body = {
        "household_id": obj("body_household_id") if foreign else MISSING,
        "case_ids": [obj("case_id")],
        "person_id": obj("person_id"),
        "region_code": actor.region_id,
        "basis": "县政府文件",
        "user_id": actor.id,
        "visited_on": "2025-06-05",
        "difficulties": "看病花费大",
        "consent": {"signed": False},
        "version": objects["case_version"],
        "kind": "medical" if "dept-uploads" in op["path"] else "contact",
        "payload": {"fields": {"phone": "13800001111"}},
        "reason": "核实后修改",
        "period": "2025-06",
        "columns": {"out_of_pocket": "自负"},
        "accept": True,
        "role": "village_cadre",
        "risk_types": ["因自然灾害"],
        "text": "有村民提出异议",
        "name": "产业帮扶",
        "start_on": "2025-06-05",
        "step": "verify",
        "answers": {"家庭编号": "household_no"},
        "content": "对识别结果有异议",
        "lodged_by_name": "王某",
        "owner_id": actor.id,
        "outcome": "upheld",
        "username": "new_user_x",
        "value": "1",
        "year": 2025,
    }
    body = {k: v for k, v in body.items() if k in op["body"]}
    if op["media"] == "multipart/form-data":  # a form: its scalar and list fields
        return client.post(url, {k: v for k, v in body.items() if not isinstance(v, dict)}, **headers)
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def _refusals() -> int:
    return AuditEvent.objects.filter(event_type="api.refused").count()


@pytest.mark.parametrize("role", ROLES)
def test_every_route_as_every_role_with_another_areas_ids(client, objects, outsiders, role):
    user = outsiders[role]
    _, raw = token_issue(actor=user, user=user, name="t", days=30, on=dt.date.today())
    h = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    problems, seen = [], {"object": 0, "filtered": 0, "other": 0}
    before = _state()
    for op in OPERATIONS:
        if op["cls"] == "other" and op["method"] != "GET":
            continue  # a write naming no object: fuzzed as every role in test_schema_fuzz.py
        label = f"{op['method']} {op['path']}"
        n = _refusals()
        r = _request(client, op, h, objects, user, foreign=True)
        refused = _refusals() - n
        seen[op["cls"]] += 1
        text = r.content.decode(errors="replace")
        if r.status_code >= 500:
            problems.append((label, r.status_code, "server error", text[:200]))
            continue
        if any(no in text for no in objects["household_nos"]):
            problems.append((label, r.status_code, "another area's 户编号 in the body"))
        if op["cls"] != "object":
            continue  # lists and filtered lists: no other area's row (above), whatever the filter
        control = _request(client, op, h, objects, user, foreign=False)
        if (r.status_code, r.content) != (control.status_code, control.content):
            problems.append(
                (label, r.status_code, f"differs from a missing id: {control.status_code}", text[:200])
            )
        else:
            if r.status_code not in (403, 404):
                problems.append((label, r.status_code, "neither 404 nor 403", text[:200]))
            elif json.loads(r.content)["code"] != (
                "not_found" if r.status_code == 404 else "permission_denied"
            ):
                problems.append((label, r.status_code, "unexpected error code", text[:200]))
            if refused != 1:
                problems.append((label, r.status_code, f"{refused} api.refused events, not 1"))
    assert not problems, "\n".join(map(str, problems))
    assert seen["object"] >= 50 and seen["filtered"] >= 2, seen
    assert _state() == before
