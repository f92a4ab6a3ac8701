"""The case screens' other actions through the API: a lead opened / enrolled by the 绿色通道 / closed, a
case not approved, the batch review, measures, elimination, assigning a helper (whose API list then holds
only that household), findings, the 明白纸, visit targets, the dashboard numbers and the self-application
lookup — each through the monitoring, trust and reports services the browser calls."""

import datetime as dt
import json

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.monitoring.models import Case, Measure

pytestmark = pytest.mark.django_db


def _json(r):
    return json.loads(r.content.decode())


def _post(client, url, body, h, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **h, **extra)


def test_lead_opened_once_closed_with_a_reason_and_refusals_in_chinese(client, world, bearer):
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "open-1"}
    lead = world["a1"]["open_lead"]
    r1, r2 = (_post(client, f"/api/v1/leads/{lead.id}/case", {"on": "2025-06-03"}, h) for _ in range(2))
    assert r1.status_code == r2.status_code == 201 and _json(r1) == _json(r2)
    assert _json(r1)["current_step"] == "verify" and Case.objects.filter(lead=lead).count() == 1
    again = _post(client, f"/api/v1/leads/{lead.id}/case", {"on": "2025-06-03"}, bearer("cadre_a1"))
    assert again.status_code in (400, 409) and again.json()["message"]
    bad = _post(client, f"/api/v1/leads/{lead.id}/close", {"on": "2025-13-01"}, bearer("cadre_a1"))
    assert bad.status_code == 422 and _json(bad)["field"] == "on" and "日期" in _json(bad)["message"]


def test_case_rejection_needs_a_reason_and_a_stale_version_is_refused(client, world, bearer):
    case = world["a1"]["case"]
    h = bearer("cadre_a1")
    r = _post(client, f"/api/v1/cases/{case.id}/reject", {"version": case.version, "reason": ""}, h)
    assert r.status_code == 400 and _json(r) == {
        "code": "reason_required",
        "message": "不予通过须填写理由",
        "field": "reason",
    }
    stale = _post(
        client, f"/api/v1/cases/{case.id}/reject", {"version": case.version + 5, "reason": "不符合"}, h
    )
    assert stale.status_code == 409 and _json(stale)["code"] == "case_version_stale"
    ok = _post(
        client, f"/api/v1/cases/{case.id}/reject", {"version": case.version, "reason": "核实后不符合条件"}, h
    )
    assert ok.status_code == 200 and _json(ok)["status"] != "open"


def test_batch_preview_lists_what_would_change_and_a_wrong_step_is_refused(client, world, bearer):
    case = world["a1"]["case"]
    h = bearer("cadre_a1")
    r = _post(client, "/api/v1/case-batches/preview", {"case_ids": [case.id], "step": "verify"}, h)
    assert r.status_code == 200 and _json(r)[0]["case_id"] == case.id and _json(r)[0]["outcome"]
    bad = _post(client, "/api/v1/case-batches/preview", {"case_ids": [case.id], "step": "county"}, h)
    assert bad.status_code == 400 and "环节" in _json(bad)["message"]
    empty = _post(client, "/api/v1/case-batches/preview", {"case_ids": [], "step": "verify"}, h)
    assert empty.status_code == 422 and _json(empty)["field"] == "case_ids"


def test_green_channel_then_measures_added_once_and_done(client, world, bearer):
    lead = world["a1"]["open_lead"]
    g = _post(client, f"/api/v1/leads/{lead.id}/green-channel",
              {"risk_types": ["因自然灾害"], "reason": "暴雨冲毁住房", "on": "2025-06-03"}, bearer("township_a"))  # fmt: skip
    assert g.status_code == 201, g.content
    obj_id = Case.objects.get(pk=_json(g)["id"]).monitoring_object_id
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "m-1"}
    body = {"name": "临时救助", "start_on": "2025-06-04", "amount": "1500.00"}
    m1, m2 = (_post(client, f"/api/v1/monitoring-objects/{obj_id}/measures", body, h) for _ in range(2))
    assert m1.status_code == m2.status_code == 201 and _json(m1) == _json(m2)
    assert Measure.objects.filter(monitoring_object_id=obj_id).count() == 1
    unknown = _post(
        client,
        f"/api/v1/monitoring-objects/{obj_id}/measures",
        {**body, "name": "发红包"},
        bearer("cadre_a1"),
    )
    assert unknown.status_code == 400 and "发红包" in _json(unknown)["message"]
    done = _post(client, f"/api/v1/monitoring-objects/{obj_id}/measures/{_json(m1)['id']}/done",
                 {"on": "2025-06-20", "outcome": "已发放"}, bearer("cadre_a1"))  # fmt: skip
    assert done.status_code == 200 and _json(done)["status"] == "done"
    detail = _json(client.get(f"/api/v1/monitoring-objects/{obj_id}", **bearer("cadre_a1")))
    assert detail["status"] == "active" and [m["name"] for m in detail["measures"]] == ["临时救助"]
    early = _post(
        client, f"/api/v1/monitoring-objects/{obj_id}/elimination", {"on": "2025-06-21"}, bearer("cadre_a1")
    )
    assert early.status_code == 400 and early.json()["message"]  # the guards: too early to eliminate


def test_a_helper_assigned_through_the_api_sees_only_that_household(client, world, bearer):
    hh = world["a1"]["household"]
    helper = bearer("helper_a1")
    assert _json(client.get("/api/v1/households", **helper))["count"] == 0
    from fangpin.accounts.models import User

    uid = User.objects.get(username="helper_a1").pk
    r = _post(client, f"/api/v1/households/{hh.id}/assignments", {"user_id": uid, "kind": "helper", "on": "2025-06-01"}, bearer("township_a"))  # fmt: skip
    assert r.status_code == 201, r.content
    assert [x["id"] for x in _json(client.get("/api/v1/households", **helper))["items"]] == [hh.id]
    other = world["a1"]["household2"]
    assert client.get(f"/api/v1/households/{other.id}/findings", **helper).status_code == 404
    nobody = _post(
        client, f"/api/v1/households/{hh.id}/assignments", {"user_id": 999999}, bearer("township_a")
    )
    assert nobody.status_code == 400 and _json(nobody)["field"] == "user_id"


def test_findings_mingbaizhi_and_visit_targets_are_masked(client, world, bearer):
    hh = world["a1"]["household"]
    h = bearer("cadre_a1")
    assert client.get(f"/api/v1/households/{hh.id}/findings", **h).status_code == 200
    page = client.get(f"/api/v1/households/{hh.id}/mingbaizhi", **h)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    for p in hh.persons.all():
        assert p.id_number not in text
    targets = _json(client.get("/api/v1/visit-targets", **h))
    assert {t["village_code"] for t in targets} == {"410506205201"}
    heads = {p.name for p in hh.persons.filter(relation="户主")}
    assert not heads & {t["head_name"] for t in targets}


def test_dashboard_numbers_and_the_households_behind_one(client, world, bearer):
    h = bearer("county_admin")
    r = client.get("/api/v1/stats/indicators", {"month": "2025-06"}, **h)
    assert r.status_code == 200 and _json(r)["start"] == "2025-06-01" and _json(r)["total"]["name"] == "合计"
    drill = client.get("/api/v1/stats/households", {"code": "new", "month": "2025-06"}, **h)
    assert drill.status_code == 200 and "count" in _json(drill)
    assert (
        client.get("/api/v1/stats/households", {"code": "nope", "month": "2025-06"}, **h).status_code == 404
    )
    bad = client.get("/api/v1/stats/indicators", {"month": "2025-13"}, **h)
    assert bad.status_code == 422 and _json(bad)["field"] == "month"


def test_self_application_lookup_by_acknowledgement_number_is_scoped_and_audited(
    client, world, bearer, personas
):
    from fangpin.trust.services.self_application import self_application_receive

    ack = self_application_receive(
        actor=personas["cadre_a1"], household_id=world["a1"]["household2"].id,
        form={"difficulties": "孩子上学费用高", "risk_types": [], "note": ""}, consent={"signed": False},
        on=dt.date(2025, 6, 4),
    ).ack_no  # fmt: skip
    r = client.get(f"/api/v1/self-applications/{ack}", **bearer("cadre_a1"))
    assert r.status_code == 200 and _json(r)["ack_no"] == ack and _json(r)["status"]
    assert client.get(f"/api/v1/self-applications/{ack}", **bearer("cadre_b1")).status_code == 404
    assert AuditEvent.objects.filter(event_type="trust.self_application_lookup", result="refused").exists()
