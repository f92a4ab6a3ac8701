"""The API's routes for what the browser's back-office screens do: registry imports, department uploads,
screening runs and link reviews, change requests, working lists, reports, users and policy parameters.
Each: the happy path through the same services as the screens, the Chinese error body naming the field,
an idempotent replay, and who may not (403 without the capability; out of scope is in
test_every_route_scope.py)."""

import io
import json
from pathlib import Path

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.registry.models import ImportBatch, Person

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data"
DEPT_FILE = "医保结算_自定义表头.csv"


def _json(r):
    return json.loads(r.content.decode())


def _post(client, url, body, h, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **h, **extra)


def _file(name: str):
    f = io.BytesIO((DATA / name).read_bytes())
    f.name = name
    return f


# ---- registry imports --------------------------------------------------------------------------------


def test_import_rejects_row_by_row_then_the_fixed_file_is_confirmed_and_imported(client, personas, bearer):
    h = bearer("county_admin")
    r = client.post("/api/v1/imports", {"file": _file("监测对象信息_有错误.csv"), "income_year": 2025}, **h)
    assert r.status_code == 201, r.content
    bad = _json(r)
    assert bad["status"] == "failed" and bad["rejected"] >= 2 and not bad["can_confirm"] and bad["has_report"]
    rejects = _json(client.get(f"/api/v1/imports/{bad['id']}/rejects", **h))
    assert {3, 4} <= {x["row"] for x in rejects["items"]}
    assert any(x["column"] == "证件号码" for x in rejects["items"]) and all(
        x["reason"] for x in rejects["items"]
    )
    for x in rejects["items"]:  # ID numbers in rejects are masked (the full row is in the private report)
        assert not any(len(t) == 18 and t[:17].isdigit() for t in x["value"].split())
    report = client.get(f"/api/v1/imports/{bad['id']}/report", **h)
    assert report.status_code == 200 and report["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(event_type="registry.import_report_download").exists()
    assert not Person.objects.filter(name="杜保国").exists()

    key = {"HTTP_IDEMPOTENCY_KEY": "import-fixed-1"}
    r1 = client.post(
        "/api/v1/imports", {"file": _file("监测对象信息_已改正.csv"), "income_year": 2025}, **h, **key
    )
    r2 = client.post(
        "/api/v1/imports", {"file": _file("监测对象信息_已改正.csv"), "income_year": 2025}, **h, **key
    )
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    checked = _json(r1)
    assert checked["status"] == "checked" and checked["can_confirm"]
    assert (
        ImportBatch.objects.filter(file_name="监测对象信息_已改正.csv").count() == 1
    )  # the replay made none
    assert not Person.objects.filter(name="杜保国").exists()  # validation wrote nothing

    done = client.post(f"/api/v1/imports/{checked['id']}/confirm", **h)
    assert done.status_code == 201, done.content
    real = _json(done)
    status = _json(client.get(f"/api/v1/imports/{real['id']}", **h))
    assert status["status"] == "imported" and status["progress_pct"] == 100 and status["persons"] == 3
    assert Person.objects.filter(name="杜保国", household__household_no="410506205201990001").exists()
    again = client.post(f"/api/v1/imports/{checked['id']}/confirm", **h)
    assert again.status_code == 409 and "待确认" in _json(again)["message"]


def test_import_without_a_file_names_the_field_and_cadres_may_not_import(client, personas, bearer):
    r = client.post("/api/v1/imports", {"income_year": 2025}, **bearer("county_admin"))
    assert r.status_code == 422 and _json(r) == {
        "code": "invalid",
        "message": "参数“file”必填",
        "field": "file",
    }
    r = client.post("/api/v1/imports", {"file": _file("监测对象信息_已改正.csv"), "income_year": 1800},
                    **bearer("county_admin"))  # fmt: skip
    assert r.status_code == 422 and _json(r)["field"] == "income_year"
    denied = client.get("/api/v1/imports", **bearer("cadre_a1"))
    assert denied.status_code == 403 and _json(denied)["code"] == "permission_denied"
    assert AuditEvent.objects.filter(event_type="api.refused", data__path="/api/v1/imports").exists()


# ---- department uploads ---------------------------------------------------------------------------------


def test_officer_upload_answers_the_mapping_question_previews_masked_and_confirms(client, personas, bearer):
    from fangpin.screening.models import DeptBatch, DeptMapping

    h = bearer("dept_yibao")
    r = client.post("/api/v1/dept-uploads", {"file": _file(DEPT_FILE), "kind": "medical"}, **h)
    assert r.status_code == 201, r.content
    p = _json(r)
    assert p["needs_answer"] and p["question"] and p["department"] == "医保" and p["on_behalf_of"] is None
    token = p["token"]
    bad = _post(client, f"/api/v1/dept-uploads/{token}/mapping", {"kind": "medical", "columns": {"out_of_pocket": "没有这列"}}, h)  # fmt: skip
    assert bad.status_code == 400 and _json(bad)["field"] == "columns" and "没有这列" in _json(bad)["message"]
    r = _post(client, f"/api/v1/dept-uploads/{token}/mapping", {"kind": "medical", "columns": {"out_of_pocket": "自负部分(元)"}}, h)  # fmt: skip
    assert r.status_code == 200, r.content
    p = _json(r)
    assert not p["needs_answer"] and p["saved"]["out_of_pocket"] == "自负部分(元)"
    assert any(row.get("out_of_pocket") == 9120.55 for row in p["parsed"])
    text = json.dumps(p, ensure_ascii=False)
    raw_text = (DATA / DEPT_FILE).read_text(encoding="utf-8-sig", errors="ignore")
    for tok in raw_text.replace(",", " ").split():  # no full ID number of the file in the answer
        if len(tok) == 18 and tok[:17].isdigit():
            assert tok not in text and tok[6:14] not in text
    assert (
        DeptMapping.objects.get(department="医保", kind="medical").columns["out_of_pocket"] == "自负部分(元)"
    )
    key = {"HTTP_IDEMPOTENCY_KEY": "dept-confirm-1"}
    body = {"kind": "medical", "period": "2026-11", "filename": DEPT_FILE}
    c1 = _post(client, f"/api/v1/dept-uploads/{token}/confirm", body, h, **key)
    c2 = _post(client, f"/api/v1/dept-uploads/{token}/confirm", body, h, **key)
    assert c1.status_code == c2.status_code == 201 and _json(c1) == _json(c2)
    batch = _json(c1)
    assert batch["rows_ok"] == 2 and batch["department"] == "医保" and not batch["on_behalf"]
    assert DeptBatch.objects.count() == 1
    assert _json(client.get("/api/v1/dept-batches", **h))["count"] == 1
    issues = client.get(f"/api/v1/dept-batches/{batch['id']}/issues", **h)
    assert issues.status_code == 200
    gone = client.get(f"/api/v1/dept-uploads/{token}", {"kind": "medical"}, **h)
    assert gone.status_code == 404  # the pending file is used up
    saved = _json(client.get("/api/v1/dept-mappings", **h))
    assert [m["department"] for m in saved["items"]] == ["医保"]


def test_county_admin_uploads_on_a_departments_behalf_recorded_as_such(client, personas, bearer):
    h = bearer("county_admin")
    p = _json(client.post("/api/v1/dept-uploads", {"file": _file(DEPT_FILE), "kind": "medical"}, **h))
    assert p["on_behalf_of"] == "医保"
    _post(client, f"/api/v1/dept-uploads/{p['token']}/mapping", {"kind": "medical", "columns": {"out_of_pocket": "自负部分(元)"}}, h)  # fmt: skip
    r = _post(
        client, f"/api/v1/dept-uploads/{p['token']}/confirm", {"kind": "medical", "period": "2026-11"}, h
    )
    assert r.status_code == 201 and _json(r)["on_behalf"] and _json(r)["department"] == "医保"
    ev = AuditEvent.objects.filter(event_type="screening.batch_upload").last()
    assert ev.data["on_behalf"] is True and ev.actor.username == "county_admin"


def test_a_cadre_cannot_upload_department_data_and_a_bad_period_names_the_field(client, personas, bearer):
    r = client.post(
        "/api/v1/dept-uploads", {"file": _file(DEPT_FILE), "kind": "medical"}, **bearer("cadre_a1")
    )
    assert r.status_code == 403
    h = bearer("county_admin")
    p = _json(client.post("/api/v1/dept-uploads", {"file": _file(DEPT_FILE), "kind": "medical"}, **h))
    r = _post(
        client, f"/api/v1/dept-uploads/{p['token']}/confirm", {"kind": "medical", "period": "2026-13"}, h
    )
    assert r.status_code == 400 and _json(r)["field"] == "period" and "格式错误" in _json(r)["message"]


# ---- screening runs and link reviews ------------------------------------------------------------------------


def test_county_starts_a_run_in_the_background_and_reads_its_result(client, personas, bearer):
    h = bearer("county_admin")
    key = {"HTTP_IDEMPOTENCY_KEY": "run-2026-11"}
    r1 = _post(client, "/api/v1/screening-runs", {"month": "2026-11"}, h, **key)
    r2 = _post(client, "/api/v1/screening-runs", {"month": "2026-11"}, h, **key)
    assert r1.status_code == r2.status_code == 202 and _json(r1)["id"] == _json(r2)["id"]
    run = _json(client.get(f"/api/v1/screening-runs/{_json(r1)['id']}", **h))
    assert run["status"] == "done" and run["progress"] == 100 and not run["running"]
    assert isinstance(run["hits_per_rule"], dict) and run["leads_total"] == sum(
        run["leads_per_rule"].values()
    )
    assert _json(client.get("/api/v1/screening-runs", **h))["count"] == 1
    assert client.get(f"/api/v1/screening-runs/{run['id']}/hits", **h).status_code == 200
    bad = _post(client, "/api/v1/screening-runs", {"month": "2026-13"}, h)
    assert bad.status_code == 400 and _json(bad)["field"] == "month" and "格式错误" in _json(bad)["message"]
    assert (
        _post(client, "/api/v1/screening-runs", {"month": "2026-11"}, bearer("dept_yibao")).status_code == 403
    )


def test_link_review_queue_is_masked_and_a_decision_is_recorded(client, world, bearer):
    from fangpin.screening.models import LinkReview

    person = world["a1"]["household"].persons.filter(is_member=True).first()
    review = LinkReview.objects.create(
        source="medical", fingerprint="a" * 64, probability=0.82, candidate=person,
        record={"name": person.name, "id_number": person.id_number, "birth_date": person.birth_date.isoformat(),
                "phone": "13912345678"},
    )  # fmt: skip
    h = bearer("cadre_a1")
    q = client.get("/api/v1/link-reviews", **h)
    assert q.status_code == 200 and _json(q)["count"] == 1
    text = q.content.decode()
    assert (
        person.id_number not in text
        and person.birth_date.isoformat() not in text
        and "13912345678" not in text
    )
    bad = _post(client, f"/api/v1/link-reviews/{review.id}/decision", {"accept": "maybe"}, h)
    assert (
        bad.status_code == 422
        and _json(bad)["field"] == "accept"
        and "true 或 false" in _json(bad)["message"]
    )
    r = _post(client, f"/api/v1/link-reviews/{review.id}/decision", {"accept": True, "note": "同一人"}, h)
    assert r.status_code == 200 and _json(r)["status"] != "pending"
    assert _json(client.get("/api/v1/link-reviews", **h))["count"] == 0


# ---- change requests (maker-checker) ---------------------------------------------------------------------


def test_change_request_waits_for_a_second_person_and_is_approved_once(client, world, bearer):
    hh = world["a1"]["household"]
    body = {
        "household_id": hh.id,
        "kind": "condition",
        "payload": {"fields": {"house_grade": "C"}},
        "reason": "房屋安全鉴定为C级",
        "evidence": [{"kind": "说明", "ref": "鉴定报告第3号"}],
    }
    maker = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "bg-1"}
    r1, r2 = (_post(client, "/api/v1/change-requests", body, maker) for _ in range(2))
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    req = _json(r1)
    assert req["status"] == "pending" and req["plan"][0]["new"] == "C"
    listed = _json(client.get("/api/v1/change-requests", **bearer("township_a")))
    assert [x["id"] for x in listed["items"]] == [req["id"]]
    no_reason = _post(
        client, f"/api/v1/change-requests/{req['id']}/reject", {"reason": ""}, bearer("township_a")
    )
    assert no_reason.status_code == 400 and "理由" in _json(no_reason)["message"]
    assert (
        _post(client, f"/api/v1/change-requests/{req['id']}/approve", {}, bearer("cadre_a1")).status_code
        == 403
    )
    ok = _post(
        client, f"/api/v1/change-requests/{req['id']}/approve", {"reason": "同意"}, bearer("township_a")
    )
    assert ok.status_code == 200 and _json(ok)["status"] == "applied" and _json(ok)["checker"] == "township_a"
    hh.refresh_from_db()
    assert hh.house_grade == "C"
    twice = _post(client, f"/api/v1/change-requests/{req['id']}/approve", {}, bearer("township_a"))
    assert twice.status_code == 400 and "待审批" in _json(twice)["message"]


def test_a_phone_change_applies_at_once_masked_and_a_bad_kind_names_the_field(client, world, bearer):
    hh = world["a1"]["household"]
    h = bearer("cadre_a1")
    r = _post(client, "/api/v1/change-requests", {"household_id": hh.id, "kind": "contact",
              "payload": {"fields": {"phone": "13911112222"}}, "reason": "本人更换号码"}, h)  # fmt: skip
    assert r.status_code == 201 and _json(r)["status"] == "applied"
    assert "13911112222" not in r.content.decode() and _json(r)["plan"][0]["new"] == "139****2222"
    bad = _post(client, "/api/v1/change-requests", {"household_id": hh.id, "kind": "colour", "payload": {},
                "reason": "x"}, h)  # fmt: skip
    assert bad.status_code == 422 and _json(bad)["field"] == "kind" and "不支持" in _json(bad)["message"]


# ---- working lists -------------------------------------------------------------------------------------------


def test_worklist_saved_shared_and_reopened_in_the_openers_scope(client, world, bearer):
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "wl-1"}
    body = {"name": "脱贫户", "filters": {"household_type": "脱贫户"}, "columns": ["household_no", "head"],
            "share": True}  # fmt: skip
    r1, r2 = (_post(client, "/api/v1/worklists", body, h) for _ in range(2))
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    wl = _json(r1)
    assert wl["filters"] == {"household_type": "脱贫户"} and wl["shared_township"] == "410506205000"
    rows = _json(client.get(f"/api/v1/worklists/{wl['id']}/households", **h))
    assert rows["count"] == 2 and all(x["village_code"] == "410506205201" for x in rows["items"])
    seen = _json(client.get("/api/v1/worklists", **bearer("cadre_a2")))  # the same township
    assert [x["id"] for x in seen["items"]] == [wl["id"]] and not seen["items"][0]["mine"]
    assert _json(client.get(f"/api/v1/worklists/{wl['id']}/households", **bearer("cadre_a2")))["count"] == 0
    dup = _post(client, "/api/v1/worklists", body, bearer("cadre_a1"))
    assert dup.status_code == 400 and _json(dup)["field"] == "name"
    empty = _post(client, "/api/v1/worklists", {"name": ""}, bearer("cadre_a1"))
    assert empty.status_code == 422 and _json(empty) == {"code": "invalid", "message": "参数“name”过短", "field": "name"}  # fmt: skip
    assert client.delete(f"/api/v1/worklists/{wl['id']}", **bearer("cadre_a1")).status_code == 204


# ---- reports -------------------------------------------------------------------------------------------------


def test_monthly_report_as_json_and_as_an_audited_file(client, world, bearer):
    h = bearer("county_admin")
    r = client.get("/api/v1/reports/monthly/2025/6", **h)
    assert r.status_code == 200, r.content
    t = _json(r)
    assert (
        "月" in t["title"]
        and t["rows"][-1]["name"] == "合计"
        and any(c["key"] == "objects" for c in t["columns"])
    )
    f = client.get("/api/v1/reports/quarterly/2025/2/file", {"format": "xlsx"}, **h)
    assert f.status_code == 200 and f["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f.content[:2] == b"PK"
    assert AuditEvent.objects.filter(event_type="reports.export", data__format="xlsx").exists()
    assert client.get("/api/v1/reports/weekly/2025/6", **h).status_code == 404
    bad = client.get("/api/v1/reports/monthly/2025/6/file", {"format": "doc"}, **h)
    assert bad.status_code == 422 and _json(bad)["field"] == "format"
    assert client.get("/api/v1/reports/monthly/2025/6", **bearer("dept_yibao")).status_code == 403


# ---- users and policy parameters (county admin) ------------------------------------------------------------


def test_county_admin_creates_a_user_once_and_the_password_is_never_replayed(client, personas, bearer):
    from fangpin.accounts.models import User
    from fangpin.api.models import IdempotencyRecord

    h = {**bearer("county_admin"), "HTTP_IDEMPOTENCY_KEY": "user-1"}
    body = {
        "username": "cadre_new",
        "display_name": "新干部",
        "role": "village_cadre",
        "region_code": "410506205201",
    }
    r1 = _post(client, "/api/v1/users", body, h)
    r2 = _post(client, "/api/v1/users", body, h)
    assert r1.status_code == r2.status_code == 201
    pw = _json(r1)["initial_password"]
    assert pw and _json(r2)["initial_password"] is None and _json(r2)["id"] == _json(r1)["id"]
    assert User.objects.filter(username="cadre_new").count() == 1
    assert pw not in json.dumps(list(IdempotencyRecord.objects.values_list("response", flat=True)))
    uid = _json(r1)["id"]
    r = _post(client, f"/api/v1/users/{uid}", {"role": "helper", "region_code": "410506205201", "is_active": False},
              bearer("county_admin"))  # fmt: skip
    assert r.status_code == 200 and _json(r)["role"] == "helper" and not _json(r)["is_active"]
    bad = _post(client, f"/api/v1/users/{uid}", {"role": "helper", "region_code": "410506999999"}, bearer("county_admin"))  # fmt: skip
    assert bad.status_code == 400 and _json(bad)["field"] == "region"
    assert client.get("/api/v1/users", **bearer("cadre_a1")).status_code == 403


def test_a_parameter_edit_is_a_new_version_with_basis_and_document_number(client, personas, bearer):
    h = bearer("county_admin")
    url = "/api/v1/parameters/procedure.publicity_days/versions"
    before = _json(client.get(url, **h))["count"]
    no_doc = _post(client, url, {"value": 7, "year": 2026, "basis": "县政府通知", "doc_no": " "}, h)
    assert (
        no_doc.status_code == 400
        and _json(no_doc)["field"] == "doc_no"
        and "文件号" in _json(no_doc)["message"]
    )
    wrong = _post(
        client, url, {"value": "七天", "year": 2026, "basis": "县政府通知", "doc_no": "X政〔2026〕1号"}, h
    )
    assert wrong.status_code == 400 and _json(wrong)["field"] == "value"
    body = {"value": 7, "year": 2026, "basis": "县政府通知", "doc_no": "X政〔2026〕1号"}
    key = {"HTTP_IDEMPOTENCY_KEY": "param-1"}
    r1, r2 = _post(client, url, body, h, **key), _post(client, url, body, h, **key)
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    p = _json(r1)
    assert p["value"] == 7 and p["region_prefix"] == "410506" and p["doc_no"] == "X政〔2026〕1号"
    assert _json(client.get(url, **h))["count"] == before + 1
    got = _json(
        client.get(
            "/api/v1/parameters/procedure.publicity_days", {"region": "410506205201", "year": 2026}, **h
        )
    )
    assert got["value"] == 7
    trail = _json(client.get("/api/v1/parameters/procedure.publicity_days/audit", **h))
    assert trail and trail[0]["actor"] == "county_admin"
    assert _post(client, url, body, bearer("cadre_a1")).status_code == 403
    assert client.get("/api/v1/parameters/no.such.key/versions", **h).status_code == 404


def test_export_of_exactly_what_is_searched_and_unmasked_only_when_allowed(client, world, bearer):
    import openpyxl

    hh = world["a1"]["household"]
    r = client.get("/api/v1/households/export", {"q": hh.household_no}, **bearer("cadre_a1"))
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    text = "\n".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    assert hh.household_no in text and world["a1"]["household2"].household_no not in text
    ev = AuditEvent.objects.filter(event_type="registry.export").last()
    assert ev.data["filters"]["q"] == hh.household_no and ev.data["filters"]["via"] == "api"
    denied = client.get("/api/v1/households/export", {"unmasked": "true"}, **bearer("cadre_a1"))
    assert denied.status_code == 403 and "脱敏" in _json(denied)["message"]
