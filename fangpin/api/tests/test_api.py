import datetime as dt
import io
import json

import pytest

from fangpin.api.models import ApiToken
from fangpin.api.tokens import token_issue, token_revoke
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Lead, LeadSource, Visit
from fangpin.monitoring.tests.helpers import checklist

pytestmark = pytest.mark.django_db


def _json(r):
    return json.loads(r.content.decode())


def test_no_token_bad_token_revoked_and_expired_are_401_with_one_error_body(client, personas):
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and _json(r)["code"] == "unauthenticated" and "令牌" in _json(r)["message"]
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer fp_nonsense").status_code == 401
    u = personas["cadre_a1"]
    tok, raw = token_issue(actor=u, user=u, name="x", days=1, on=dt.date.today())
    h = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/v1/me", **h).status_code == 200
    assert (
        ApiToken.objects.get(pk=tok.pk).key_hash != raw and raw not in ApiToken.objects.get(pk=tok.pk).prefix
    )
    token_revoke(actor=u, token=tok)
    assert client.get("/api/v1/me", **h).status_code == 401
    tok2, raw2 = token_issue(actor=u, user=u, name="old", days=1, on=dt.date.today() - dt.timedelta(days=5))
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw2}").status_code == 401


def test_only_a_county_admin_issues_tokens_for_others(personas):
    from fangpin.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        token_issue(
            actor=personas["cadre_a1"], user=personas["cadre_b1"], name="x", days=1, on=dt.date.today()
        )
    tok, _ = token_issue(
        actor=personas["county_admin"], user=personas["cadre_b1"], name="x", days=1, on=dt.date.today()
    )
    assert AuditEvent.objects.filter(event_type="api.token_issue", object_id=str(tok.pk)).exists()


def test_household_list_is_scoped_and_searches_are_audited(client, world, bearer):
    h = bearer("cadre_a1")
    body = _json(client.get("/api/v1/households", **h))
    ids = {row["id"] for row in body["items"]}
    assert world["a1"]["household"].id in ids and world["b1"]["household"].id not in ids
    assert body["count"] == 2
    r = _json(client.get("/api/v1/households", {"q": "王建"}, **h))
    assert r["count"] == 2 and all(row["village_code"].startswith("410506205201") for row in r["items"])
    ev = AuditEvent.objects.filter(event_type="registry.household_search").last()
    assert ev.data["via"] == "api" and ev.data["query"] == "王建"
    county = _json(client.get("/api/v1/households", {"limit": 10}, **bearer("county_admin")))
    assert county["count"] == 4
    # a full ID number (encrypted at rest) is found through its blind index; another village's is not
    own, other = world["a1"]["household"], world["b1"]["household"]
    pid = own.persons.filter(id_number__isnull=False).values_list("id_number", flat=True).first()
    r = _json(client.get("/api/v1/households", {"q": pid}, **h))
    assert [row["id"] for row in r["items"]] == [own.id] and pid not in str(r)
    theirs = other.persons.values_list("id_number", flat=True).first()
    assert _json(client.get("/api/v1/households", {"q": theirs}, **h))["count"] == 0


def test_household_file_is_masked_without_birth_dates_and_audited(client, world, bearer):
    hh = world["a1"]["household"]
    r = client.get(f"/api/v1/households/{hh.id}", **bearer("cadre_a1"))
    assert r.status_code == 200
    text = r.content.decode()
    for p in hh.persons.all():
        assert p.id_number not in text
        assert p.birth_date.isoformat() not in text and p.id_number[6:14] not in text
    members = _json(r)["member_list"]
    assert members[0]["id_number_masked"].count("*") == 8 and isinstance(members[0]["age"], int)
    ev = AuditEvent.objects.filter(event_type="registry.household_view").last()
    assert ev.household_id == hh.id and ev.data["via"] == "api"


def test_out_of_scope_is_the_same_404_as_missing_and_both_are_audited(client, world, bearer):
    h = bearer("cadre_a1")
    other = client.get(f"/api/v1/households/{world['b1']['household'].id}", **h)
    missing = client.get("/api/v1/households/999999", **h)
    assert other.status_code == missing.status_code == 404
    assert (
        _json(other)
        == _json(missing)
        == {"code": "not_found", "message": "户不存在或无权访问", "field": None}
    )
    refused = AuditEvent.objects.filter(event_type="api.refused", result="refused")
    assert refused.count() == 2 and {e.data["path"] for e in refused} == {
        f"/api/v1/households/{world['b1']['household'].id}",
        "/api/v1/households/999999",
    }


def test_validation_errors_name_the_field_in_chinese(client, world, bearer):
    r = client.post(
        "/api/v1/leads", data={"note": "x"}, content_type="application/json", **bearer("cadre_a1")
    )
    assert r.status_code == 422
    assert _json(r) == {"code": "invalid", "message": "参数“household_id”必填", "field": "household_id"}
    r = client.get("/api/v1/households", {"limit": "abc"}, **bearer("cadre_a1"))
    assert r.status_code == 422 and _json(r)["field"] == "limit"


def test_lead_create_with_idempotency_key_creates_once_and_refuses_another_body(client, world, bearer):
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "phone-42"}
    hh = world["a1"]["household2"]
    payload = {"household_id": hh.id, "channel": "cadre_visit", "risk_types": ["因病"], "on": "2025-06-10"}
    before = LeadSource.objects.count()
    r1 = client.post("/api/v1/leads", data=payload, content_type="application/json", **h)
    r2 = client.post("/api/v1/leads", data=payload, content_type="application/json", **h)
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    assert LeadSource.objects.count() == before + 1
    r3 = client.post(
        "/api/v1/leads", data={**payload, "note": "另一份"}, content_type="application/json", **h
    )
    assert r3.status_code == 409 and _json(r3)["code"] == "idempotency_key_conflict"
    assert LeadSource.objects.count() == before + 1


def test_a_lead_for_another_village_is_refused_and_writes_nothing(client, world, bearer):
    before = Lead.objects.count(), LeadSource.objects.count()
    r = client.post(
        "/api/v1/leads",
        data={"household_id": world["b1"]["household2"].id},
        content_type="application/json",
        **bearer("cadre_a1"),
    )
    assert r.status_code == 404 and (Lead.objects.count(), LeadSource.objects.count()) == before


def test_visit_resent_by_a_phone_is_stored_once(client, world, bearer):
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "visit-uuid-1"}
    payload = {
        "household_id": world["a1"]["household2"].id,
        "visited_on": "2025-06-05",
        "checklist": checklist(),
        "has_risk": False,
    }
    for _ in range(3):
        r = client.post("/api/v1/visits", data=payload, content_type="application/json", **h)
        assert r.status_code == 201
    assert Visit.objects.filter(household=world["a1"]["household2"]).count() == 1


def test_case_step_with_a_stale_version_is_refused_no_lost_update(client, world, bearer):
    case = world["a1"]["case"]
    h = bearer("cadre_a1")
    url = f"/api/v1/cases/{case.id}/steps/verify"
    body = {"version": case.version, "data": {"findings": "入户核实"}, "on": "2025-06-03"}
    ok = client.post(url, data=body, content_type="application/json", **h)
    assert ok.status_code == 200 and _json(ok)["current_step"] != "verify"
    assert _json(ok)["version"] == case.version + 1
    stale = client.post(
        f"/api/v1/cases/{case.id}/steps/{_json(ok)['current_step']}",
        data=body,
        content_type="application/json",
        **h,
    )
    assert stale.status_code == 409 and _json(stale)["code"] == "case_version_stale"


def test_domain_refusals_come_back_in_chinese(client, world, bearer):
    case = world["a1"]["case"]
    r = client.post(
        f"/api/v1/cases/{case.id}/steps/county",
        data={"version": case.version},
        content_type="application/json",
        **bearer("cadre_a1"),
    )
    assert r.status_code in (400, 409) and "环节" in _json(r)["message"]


def test_self_application_through_the_api_records_consent(client, world, bearer):
    from fangpin.trust.models import Consent

    hh = world["a1"]["household2"]
    photo = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    photo.name = "授权书.png"
    r = client.post(
        "/api/v1/self-applications",
        data={
            "household_id": hh.id,
            "difficulties": "孩子上学费用高",
            "risk_types": ["因学"],
            "consent_signed": "true",
            "signed_on": "2025-06-04",
            "signed_by_name": "王建国",
            "scope": ["all"],
            "paper_holder": "村委会档案室",
            "photo": photo,
        },
        **bearer("cadre_a1"),
    )
    assert r.status_code == 201, r.content
    body = _json(r)
    assert body["ack_no"].startswith("SQ") and body["consent_id"]
    assert any(s["channel"] == "self_application" for s in body["lead"]["sources"])
    assert Consent.objects.filter(household_id=hh.id).exists()


def test_audit_log_is_for_the_auditor_only(client, world, bearer, personas):
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Role

    auditor = User.objects.create(username="auditor1", role=Role.AUDITOR)
    personas["auditor1"] = auditor
    r = client.get("/api/v1/audit-events", {"event_type": "monitoring."}, **bearer("auditor1"))
    assert r.status_code == 200 and _json(r)["count"] >= 4
    assert all(row["event_type"].startswith("monitoring.") for row in _json(r)["items"])
    denied = client.get("/api/v1/audit-events", **bearer("cadre_a1"))
    assert denied.status_code == 403
    assert AuditEvent.objects.filter(event_type="api.refused", data__code="permission_denied").exists()


def test_the_openapi_schema_is_served_without_login(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = _json(r)["paths"]
    assert "/api/v1/households" in paths and "/api/v1/cases/{case_id}/steps/{step}" in paths


def test_export_is_masked_scoped_and_audited(client, world, bearer):
    import io

    import openpyxl

    r = client.get("/api/v1/households/export", **bearer("cadre_a1"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    text = "\n".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    for key in ("a1", "b1"):
        for p in world[key]["household"].persons.all():
            assert p.id_number not in text
    assert world["a1"]["household"].household_no in text and world["b1"]["household"].household_no not in text
    assert AuditEvent.objects.filter(event_type="registry.export", actor__username="cadre_a1").exists()
    other = client.get("/api/v1/households/export", {"region": "410506100201"}, **bearer("cadre_a1"))
    assert other.status_code == 404


def test_control_characters_in_filters_and_bodies_are_a_422_naming_the_field(client, world, bearer):
    h = bearer("cadre_a1")
    r = client.get("/api/v1/cases", {"kind": "识别\x00"}, **h)
    assert r.status_code == 422 and _json(r)["field"] == "kind" and "空字符" in _json(r)["message"]
    r = client.post(
        "/api/v1/leads",
        data={"household_id": world["a1"]["household2"].id, "note": "住院\u202e付自"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 422 and _json(r)["field"] == "note"


def test_household_file_row_head_and_status_as_the_list_row_reads_them(client, world, bearer):
    """The file's 户主 and 监测状态 come from the members and monitoring objects it has read already: they must
    be what ``serialize.household_row`` reads itself (the first head by id, the status of the latest object
    by 识别监测时间 then id) — here with an eliminated object from 2023 and an active one from 2025."""
    import datetime as dt

    from fangpin.api import serialize
    from fangpin.monitoring.models import MonitoringObject, ObjectStatus

    hh = world["a1"]["household"]
    for identified, status, gone in (
        (dt.date(2023, 3, 1), "eliminated", dt.date(2024, 1, 5)),
        (dt.date(2025, 2, 1), "active", None),
    ):
        MonitoringObject.objects.create(
            household=hh, category="脱贫不稳定户", identified_on=identified, status=status, eliminated_on=gone,
            origin="procedure", risk_types=["因病"],
        )  # fmt: skip
    body = _json(client.get(f"/api/v1/households/{hh.id}", **bearer("cadre_a1")))
    hh.refresh_from_db()
    want = serialize.household_row(hh)
    assert (body["head_name"], body["monitoring_status"], body["members"]) == (
        want["head_name"],
        want["monitoring_status"],
        want["members"],
    )
    assert want["monitoring_status"] == ObjectStatus("active").label and want["head_name"]
