"""The API's answers to what the browser already did: the national import's column-mapping question, the
phone form's self-application (受理编号, signed 承诺授权书 photo), and the full household file (income
years with the formula, 两不愁三保障 assessment, timeline). Each through the browser's own service."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from fangpin.accounts.models import User
from fangpin.audit.models import AuditEvent
from fangpin.registry.models import ImportBatch, ImportStatus
from fangpin.registry.models.imports import ImportMapping

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data"
MESSY = "监测对象信息_县自定义表头.csv"
KEYS = {"所属县": "county", "行政村名称": "village", "家庭编号": "household_no", "身份证件号码（18位）": "id_number",
        "联系电话（手机）": "person_phone", "人均纯收入【元】": "stated_per_capita", "村里备注": "不导入"}  # fmt: skip


def _json(r):
    return json.loads(r.content.decode())


def _post(client, url, body, h, **extra):
    return client.post(url, data=json.dumps(body), content_type="application/json", **h, **extra)


def _file(name: str):
    f = io.BytesIO((DATA / name).read_bytes())
    f.name = name
    return f


def _is_full_id(t: str) -> bool:
    return len(t) == 18 and t[:17].isdigit()


def test_import_mapping_question_is_asked_masked_answered_once_and_rechecked(client, personas, bearer):
    h = bearer("county_admin")
    saved = (
        ImportMapping.objects.count()
    )  # the answers the test files' own 备注 column already has (conftest)
    r = client.post("/api/v1/imports", {"file": _file(MESSY), "income_year": 2025}, **h)
    assert r.status_code == 201, r.content
    b = _json(r)
    assert b["status"] == "mapping" and b["needs_mapping"] and not b["can_confirm"]
    assert b["mapping_url"] == f"/api/v1/imports/{b['id']}/mapping"
    assert _json(client.get(f"/api/v1/imports/{b['id']}", **h))["mapping_url"] == b["mapping_url"]

    q = _json(client.get(b["mapping_url"], **h))
    headers = {u["header"]: u for u in q["unknown"]}
    assert set(KEYS) <= set(headers)
    assert "户编号" in q["missing_required"]
    sug = [u for u in q["unknown"] if u["suggestion"]]
    assert sug and all(u["source"] == "proposal" and u["key"] for u in sug)
    assert any(u["header"] == "家庭成员编号" or u["label"] == "人编号" for u in sug)
    assert q["rows"] and {"key": "household_no", "label": "户编号"} in q["choices"]
    texts = [t for row in q["rows"] for c in row["cells"] for t in (c["text"], c["value"])]
    assert not any(_is_full_id(t.strip()) for t in texts)  # IDs masked
    assert any("*" in t and len(t.strip()) == 18 for t in texts)
    assert not any(len(t) >= 11 and t.isdigit() and t.startswith("1") for t in texts)  # phones masked
    assert ImportMapping.objects.count() == saved  # asking changes nothing

    # one header unanswered: a Chinese refusal naming it, nothing saved
    partial = {k: v for k, v in KEYS.items() if k != "所属县"}
    bad = _post(client, b["mapping_url"], {"answers": partial}, h)
    assert bad.status_code == 400 and _json(bad)["field"] == "所属县"
    assert "所属县" in _json(bad)["message"] and ImportMapping.objects.count() == saved
    wrong = _post(client, b["mapping_url"], {"answers": {**KEYS, "村里备注": "不存在的列"}}, h)
    assert wrong.status_code == 400 and _json(wrong)["field"] == "村里备注"

    key = {"HTTP_IDEMPOTENCY_KEY": "map-1"}
    r1 = _post(client, b["mapping_url"], {"answers": KEYS}, h, **key)
    r2 = _post(client, b["mapping_url"], {"answers": KEYS}, h, **key)
    assert r1.status_code == r2.status_code == 201, r1.content
    assert _json(r1) == _json(r2)
    new = _json(r1)
    assert new["id"] != b["id"] and new["status"] == "checked" and new["can_confirm"]
    assert ImportBatch.objects.count() == 2 and ImportMapping.objects.count() == saved + 1
    ev = AuditEvent.objects.get(event_type="registry.import_mapping_save")
    assert ev.data["after"]["家庭编号"] == "household_no" and ev.data["before"] == {}
    old = _json(client.get(f"/api/v1/imports/{b['id']}", **h))
    assert old["remapped_batch_id"] == new["id"] and old["mapping_url"] is None
    again = _post(client, b["mapping_url"], {"answers": KEYS}, h)
    assert again.status_code == 409 and f"#{new['id']}" in _json(again)["message"]
    assert client.get(b["mapping_url"], **h).status_code == 409
    # the same layout uploaded again is not asked again
    r = client.post("/api/v1/imports", {"file": _file(MESSY), "income_year": 2025}, **h)
    assert _json(r)["status"] == "checked"


def test_another_users_mapping_question_is_not_found_and_audited(client, personas, bearer):
    saved = ImportMapping.objects.count()  # the test files' own 备注 column answered already (conftest)
    r = client.post("/api/v1/imports", {"file": _file(MESSY), "income_year": 2025}, **bearer("county_admin"))
    url = _json(r)["mapping_url"]
    admin = personas["county_admin"]  # a colleague of the same county: a batch is its uploader's
    personas["colleague"] = User.objects.create(
        username="colleague", role=admin.role, region_id=admin.region_id
    )
    other = bearer("colleague")
    n = AuditEvent.objects.filter(event_type="api.refused").count()
    assert client.get(url, **other).status_code == 404
    assert _post(client, url, {"answers": KEYS}, other).status_code == 404
    assert AuditEvent.objects.filter(event_type="api.refused").count() == n + 2
    assert ImportBatch.objects.get().status == ImportStatus.MAPPING and ImportMapping.objects.count() == saved
    assert client.get(url, **bearer("cadre_a1")).status_code == 403


# ---- 农户自主申报 through the phone form's service ---------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _photo(data: bytes = PNG, name: str = "授权书.png"):
    f = io.BytesIO(data)
    f.name = name
    return f


def _apply(hh, **extra) -> dict:
    return {"household_id": hh.id, "difficulties": "看病花了很多钱", "risk_types": ["因病"], **extra}


def test_self_application_answers_the_ack_number_and_keeps_the_signed_photo(client, world, bearer):
    from fangpin.monitoring.models import LeadSource
    from fangpin.trust.models import Consent

    hh = world["a1"]["household2"]
    h = {**bearer("cadre_a1"), "HTTP_IDEMPOTENCY_KEY": "sa-1"}
    form = _apply(hh, consent_signed="true", signed_by_name="王建国", scope=["all"], applicant="王建国",
                  paper_holder="村委会档案室")  # fmt: skip
    r1 = client.post("/api/v1/self-applications", {**form, "photo": _photo()}, **h)
    r2 = client.post("/api/v1/self-applications", {**form, "photo": _photo()}, **h)
    assert r1.status_code == r2.status_code == 201, r1.content
    a = _json(r1)
    assert a == _json(r2) and LeadSource.objects.filter(channel="self_application").count() == 1
    src = LeadSource.objects.get(channel="self_application")
    assert src.source_ref == a["ack_no"] and a["lead"]["id"] == a["lead_id"] == src.lead_id
    consent = Consent.objects.get(pk=a["consent_id"])
    assert consent.household_id == hh.id and Path(consent.evidence_path).read_bytes() == PNG
    # the household can quote the number
    st = client.get(f"/api/v1/self-applications/{a['ack_no']}", **bearer("cadre_a1"))
    assert st.status_code == 200 and _json(st)["ack_no"] == a["ack_no"]


def test_self_application_refuses_a_photo_without_consent_and_consent_without_photo(client, world, bearer):
    from fangpin.monitoring.models import LeadSource

    hh = world["a1"]["household2"]
    h = bearer("cadre_a1")
    r = client.post("/api/v1/self-applications", {**_apply(hh), "photo": _photo()}, **h)
    assert r.status_code == 400 and _json(r)["field"] == "photo" and "未签署承诺授权书" in _json(r)["message"]
    r = client.post(
        "/api/v1/self-applications", _apply(hh, consent_signed="true", paper_holder="村委会"), **h
    )
    assert r.status_code == 400 and _json(r)["field"] == "photo" and "照片" in _json(r)["message"]
    r = client.post(
        "/api/v1/self-applications",
        {
            **_apply(hh, consent_signed="true", paper_holder="村委会"),
            "photo": _photo(b"MZ\x90\0not a picture", "a.exe"),
        },
        **h,
    )
    assert r.status_code == 400 and "JPG" in _json(r)["message"]
    assert not LeadSource.objects.filter(channel="self_application").exists()
    assert AuditEvent.objects.filter(event_type="trust.self_application_refused").count() == 3
    # without consent (the household did not sign): filed, no photo
    ok = client.post("/api/v1/self-applications", _apply(hh), **h)
    assert ok.status_code == 201 and _json(ok)["consent_id"] is None and _json(ok)["ack_no"]
    # another village's household: not found, audited
    out = client.post("/api/v1/self-applications", _apply(world["b1"]["household2"]), **h)
    assert out.status_code == 404


# ---- the household file: income years with the formula, 两不愁三保障, timeline ------------------------------


def test_household_file_has_income_formula_failing_guarantee_and_timeline(client, world, bearer):
    hh = world["a1"]["household"]  # 5000 a head in 2024 (wage 15000, three members), a lead and a case
    hh.house_grade = "D"
    hh.save()
    r = client.get(f"/api/v1/households/{hh.id}", **bearer("cadre_a1"))
    assert r.status_code == 200, r.content
    body = _json(r)
    y2024 = next(y for y in body["incomes"] if y["label"] == "2024年")
    assert y2024["totals"]["wage"] == "15000.00" and y2024["members"] == 3
    assert y2024["per_capita"] == "5000.00" and y2024["window_start"] == "2024-01-01"
    assert (
        "人均纯收入 =（工资性 15000.00" in y2024["formula"]
        and "÷ 家庭人口 3 = 5000.00 元" in y2024["formula"]
    )
    line = next(p for p in y2024["params"] if p["key"] == "income.monitoring_line")
    assert y2024["line"] == f"{float(line['value']):.2f}" and line["year"] == 2025  # judged in January 2025
    assert y2024["below_line"] == (float(line["value"]) > 5000)
    g = body["guarantees"]
    assert not g["ok"] and any(
        f["dimension"] == "housing" and f["dimension_name"] == "住房安全" and f["message"]
        for f in g["failures"]
    )
    kinds = {e["kind"] for e in body["timeline"]}
    assert {"lead", "case"} <= kinds
    assert any(e["case_id"] == world["a1"]["case"].pk for e in body["timeline"])
    text = r.content.decode()
    for p in hh.persons.all():
        assert p.id_number not in text and p.birth_date.isoformat() not in text
    assert not any(m.get("birth_date") for m in body["member_list"])
    ev = AuditEvent.objects.filter(event_type="registry.household_view").last()
    assert ev.household_id == hh.id and ev.data["via"] == "api"
    assert (
        client.get(f"/api/v1/households/{world['b1']['household'].id}", **bearer("cadre_a1")).status_code
        == 404
    )


def test_a_birth_in_the_timeline_gives_only_its_year(client, world, bearer):
    from fangpin.registry.choices import MemberChangeKind
    from fangpin.registry.models import MemberChange
    from fangpin.testing import factories as f

    hh = world["a1"]["household"]
    baby = f.person(hh, name="王小宝", relation="之孙", birth=dt.date(2025, 3, 17))
    MemberChange.objects.create(household=hh, person=baby, kind=MemberChangeKind.BIRTH, date=baby.birth_date)
    r = client.get(f"/api/v1/households/{hh.id}", **bearer("cadre_a1"))
    birth = next(e for e in _json(r)["timeline"] if e["kind"] == "member" and "出生" in e["title"])
    assert birth["on"] == "2025-01-01" and "2025-03-17" not in r.content.decode()
    assert baby.id_number not in r.content.decode()


def test_a_living_conditions_file_with_unknown_headers_asks_the_same_question_through_the_api(
    client, personas, bearer
):
    """（乡村建设）户信息 re-saved by hand (户编号 renamed 家庭户编号, a 联系人 column): the upload stops at the
    question with nothing written; the answer is saved for that file kind and layout and the same file is
    checked again, confirmed and imported; the next upload of the layout is not asked again."""
    from fangpin.registry.models import HouseholdLivingConditions
    from fangpin.registry.tests.test_kind_mapping import LIVING_ANSWER, _living
    from fangpin.registry.tests.test_other_national_files import ID_LI, ID_WANG, ID_WANG_WIFE, ID_ZHAO
    from fangpin.testing import factories as f

    for no, village, ids in [("4105062052010001", f.VILLAGE_A1, [ID_WANG, ID_WANG_WIFE]),
                             ("4105062052010002", f.VILLAGE_A1, [ID_LI]), ("4105062052020001", f.VILLAGE_A2, [ID_ZHAO])]:  # fmt: skip
        hh = f.household(village, household_no=no)
        for i, n in enumerate(ids):
            f.person(hh, name=f"成员{i}", id_number=n, relation="户主" if i == 0 else "配偶")
    h = bearer("county_admin")
    up = io.BytesIO(_living())
    up.name = "（乡村建设）户信息_另存.xlsx"
    r = client.post("/api/v1/imports", {"file": up}, **h)
    assert r.status_code == 201, r.content
    b = _json(r)
    assert b["kind"] == "living_conditions" and b["status"] == "mapping" and b["income_year"] is None
    assert HouseholdLivingConditions.objects.count() == 0
    q = _json(client.get(b["mapping_url"], **h))
    assert q["kind"] == "living_conditions" and q["title"] == "（乡村建设）户信息"
    by = {u["header"]: u for u in q["unknown"]}
    assert (
        set(by) == {"家庭户编号", "联系人"}
        and by["家庭户编号"]["suggestion"]
        and not by["联系人"]["suggestion"]
    )
    assert {"key": "household_no", "label": "户编号"} in q["choices"]
    texts = [c["text"] for row in q["rows"] for c in row["cells"]]
    assert ID_WANG not in texts and any("*" in t and len(t) == 18 for t in texts)  # IDs masked
    bad = _post(client, b["mapping_url"], {"answers": {"家庭户编号": "户编号"}}, h)
    assert bad.status_code == 400 and _json(bad)["field"] == "联系人"
    r = _post(client, b["mapping_url"], {"answers": LIVING_ANSWER}, h)
    assert r.status_code == 201, r.content
    new = _json(r)
    assert new["kind"] == "living_conditions" and new["status"] == "checked" and new["can_confirm"]
    m = ImportMapping.objects.get(kind="living_conditions")
    assert m.columns == {"家庭户编号": "household_no", "联系人": ""}
    assert (
        AuditEvent.objects.get(event_type="registry.import_mapping_save").data["kind"] == "living_conditions"
    )
    done = _post(client, f"/api/v1/imports/{new['id']}/confirm", {}, h)
    assert done.status_code == 201, done.content
    real = _json(client.get(f"/api/v1/imports/{_json(done)['id']}", **h))
    assert real["status"] == "imported" and real["created"] == 3
    assert HouseholdLivingConditions.objects.count() == 3
    up = io.BytesIO(_living())
    up.name = "（乡村建设）户信息_十二月.xlsx"
    assert _json(client.post("/api/v1/imports", {"file": up}, **h))["status"] == "checked"
