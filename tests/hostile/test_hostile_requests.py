"""Hostile input through the browser forms, the offline visit sync, the API and the CLI: control, bidi and
invisible characters, extreme numbers, impossible dates, overlong text, SQL injection and XSS, path
traversal in file names, wrong content types, CSRF-less posts, mass assignment, oversized and deeply
nested JSON. Each one: no 5xx and no traceback, a Chinese message naming the field, a record of the
refusal, nothing changed in the registry (or any other business table), within 10 s and 512 MB.

Every payload is built here at test time; nothing hostile is committed."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from fangpin.accounts.scope import REGION_PATHS
from fangpin.api.tokens import token_issue
from fangpin.audit.models import AuditEvent
from fangpin.monitoring.services.identification import case_open
from fangpin.monitoring.services.leads import lead_submit
from fangpin.monitoring.tests.helpers import poor_exited_household
from fangpin.testing import factories as f

from . import corpus

pytestmark = pytest.mark.django_db

LIMIT_S = 10
LIMIT_BYTES = 512 * 1024 * 1024
ON = dt.date(2025, 6, 2)

# --- the payload classes (characters the character policy refuses, with the words the message uses) ----
BAD_TEXT = {
    "nul": ("王\x00建国", "空字符(NUL)"),
    "vertical_tab": ("王\x0b建国", "垂直制表符"),
    "escape": ("王\x1b[31m建国", "U+001B"),
    "bidi_override": ("王建\u202e国", "文字方向控制符"),
    "zero_width": ("王\u200b建国", "不可见字符"),
}
SQL = "' OR 1=1; DROP TABLE registry_household; --"
XSS = '<img src=x onerror="window.__xss=1"><script>alert(1)</script>'
EXTREME_NUMBERS = ["1e308", "1e400", "NaN", "Infinity", "-Infinity", "-1", "9" * 400]
IMPOSSIBLE_DATES = ["2099-01-01", "0000-01-01", "2025-02-30", "99999-01-01"]


@pytest.fixture
def village(personas):
    hh = poor_exited_household(f.VILLAGE_A1)
    other = poor_exited_household(f.VILLAGE_B1)
    lead = lead_submit(
        actor=personas["cadre_a1"], household=hh, channel="cadre_visit", risk_types=["因病"], on=ON
    )
    case = case_open(actor=personas["cadre_a1"], lead=lead, on=ON)
    warm = Client()  # templates and URL patterns load on the first request, not inside a timed one
    warm.force_login(personas["cadre_a1"])
    warm.get(f"/households/{hh.pk}/edit/")
    return {"hh": hh, "other": other, "case": case}


def snapshot() -> str:
    """A digest of every business table (all region-scoped models, users, parameters, import and upload
    batches, working lists): equal before and after = nothing was written."""
    h = hashlib.sha256()
    labels = sorted(REGION_PATHS) + [
        "accounts.User",
        "policy.Parameter",
        "registry.ImportBatch",
        "registry.ImportReject",
        "screening.DeptBatch",
        "worklists.SavedList",
    ]
    for label in labels:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        rows = list(model._default_manager.order_by("pk").values())
        for r in rows:
            r.pop("last_login", None)  # force_login touches it
        h.update(json.dumps([label, rows], default=str, sort_keys=True).encode())
    return h.hexdigest()


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field))


def bounded(fn, *args, **kwargs):
    """Runs ``fn(*args, **kwargs)``; asserts it took under 10 s and grew the process's peak resident memory
    by under 512 MB (the kernel's high-water mark, reset first through /proc/self/clear_refs); returns its
    result. Unlike tracemalloc this sees C allocations too (parsers, zlib) and costs nothing."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset VmHWM to the current RSS
    rss0 = _status_kb("VmRSS:")
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    seconds = time.perf_counter() - t0
    grown = (_status_kb("VmHWM:") - rss0) * 1024
    assert seconds < LIMIT_S and grown < LIMIT_BYTES, (seconds, grown)
    return out


def refusals() -> int:
    return AuditEvent.objects.filter(result="refused").count()


def assert_refused(r, *, words: tuple[str, ...], before: str, n_refusals: int, status=(400, 403, 404, 422)):
    body = r.content.decode(errors="replace")
    assert r.status_code in status, (r.status_code, body[:500])
    assert "Traceback" not in body and "Exception" not in body
    for w in words:
        assert w in body, (w, body[:800])
    assert refusals() > n_refusals, "the refusal left no audit record"
    assert snapshot() == before


# ---- browser forms: every text field of every form refuses the bad characters --------------------------


def _forms(v) -> list[tuple[str, str, dict]]:
    """(persona, URL, form data) of every form a field user or administrator posts. ``{}`` marks the field
    that receives the hostile value."""
    hh, case = v["hh"], v["case"]
    return [
        ("cadre_a1", f"/households/{hh.pk}/edit/", {"kind": "contact", "address": "{}", "reason": "搬家"}),
        (
            "cadre_a1",
            f"/households/{hh.pk}/edit/",
            {"kind": "contact", "phone": "13912345678", "reason": "{}"},
        ),
        ("cadre_a1", f"/households/{hh.pk}/report/", {"risk_types": "因病", "note": "{}"}),
        ("cadre_a1", "/households/worklists/", {"name": "{}", "qs": "q=王"}),
        ("cadre_a1", "/visits/", {"household_id": str(hh.pk), "visited_on": "2025-06-03", "note": "{}"}),
        ("cadre_a1", f"/cases/{case.pk}/step/", {"step": "verify", "findings": "{}"}),
        ("cadre_a1", "/apply/", {"household_id": str(hh.pk), "applicant": "{}", "difficulties": "因病"}),
        ("cadre_a1", "/apply/", {"household_id": str(hh.pk), "applicant": "王建国", "difficulties": "{}"}),
        ("county_admin", "/manage/users/", {"action": "create", "username": "{}", "role": "village_cadre"}),
        (
            "county_admin",
            "/manage/params/income.monitoring_line/",
            {"value": "7000", "basis": "{}", "doc_no": "1"},
        ),
        (
            "county_admin",
            "/manage/params/income.monitoring_line/",
            {"value": '"{}"', "basis": "县文", "doc_no": "1"},
        ),
    ]


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_every_form_field_refuses_bad_characters(client, personas, village, bad):
    text, words = BAD_TEXT[bad]
    for persona, url, data in _forms(village):
        client.force_login(personas[persona])
        form = {k: (text if v == "{}" else v.replace("{}", text)) for k, v in data.items()}
        before, n = snapshot(), refusals()
        r = bounded(client.post, url, form)
        field = next(k for k, v in data.items() if "{}" in v)
        assert_refused(r, words=(words,), before=before, n_refusals=n, status=(400,))
        ev = AuditEvent.objects.filter(event_type="web.input_refused").latest("seq")
        assert ev.actor == personas[persona] and words in ev.reason, (url, field, ev.reason)


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_search_and_filter_query_strings_refuse_bad_characters(client, personas, village, bad):
    text, words = BAD_TEXT[bad]
    client.force_login(personas["cadre_a1"])
    for url in ("/households/", "/cases/", "/cases/leads/", "/stats/list/", "/households/export/"):
        before, n = snapshot(), refusals()
        r = bounded(client.get, url, {"q": text})
        assert_refused(r, words=("搜索", words), before=before, n_refusals=n, status=(400,))


def test_file_names_with_control_characters_are_refused(client, personas, village):
    from fangpin.registry.models import Household, ImportBatch

    client.force_login(personas["county_admin"])
    households = list(Household.objects.order_by("pk").values())
    # right-to-left override: "户\u202exslx.exe" shows as "户exe.xlsx" (extension spoofing); Django's
    # multipart parser drops the unprintable U+202E, the upload guard then refuses the .exe. The upload
    # form answers a file the guard refuses at once, on its page (400), and records no import batch.
    upload = SimpleUploadedFile("户\u202exslx.exe", corpus.plain_xlsx([["a"]]))
    r = bounded(client.post, "/imports/", {"file": upload, "income_year": "2024"}, follow=True)
    body = r.content.decode()
    assert r.status_code == 400 and "扩展名.exe不是表格文件" in body and "\u202e" not in body
    assert "户xslx.exe" in body and not ImportBatch.objects.exists()
    assert list(Household.objects.order_by("pk").values()) == households
    ev = AuditEvent.objects.get(event_type="upload.refused")
    assert ev.data["file_name"] == "户xslx.exe" and ev.data["entry"] == "registry.import"


def test_sql_injection_and_xss_in_search_are_inert(client, personas, village):
    client.force_login(personas["cadre_a1"])
    for q in (SQL, XSS, "%", "_", "\\", "王%' --"):
        r = bounded(client.get, "/households/", {"q": q})
        body = r.content.decode()
        assert r.status_code == 200 and "Traceback" not in body
        assert village["other"].household_no not in body  # no other village's row leaks out
        assert "<script>alert(1)</script>" not in body and 'onerror="window.__xss' not in body
    assert apps.get_model("registry.Household").objects.count() == 2  # the fixture's two, none dropped


def test_xss_in_a_stored_field_is_escaped(client, personas, village):
    client.force_login(personas["cadre_a1"])
    hh = village["hh"]
    r = client.post(f"/households/{hh.pk}/edit/", {"kind": "contact", "address": XSS, "reason": "搬家"})
    assert r.status_code == 302
    body = client.get(f"/households/{hh.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize("value", EXTREME_NUMBERS)
def test_parameter_edit_refuses_extreme_numbers(client, personas, village, value):
    client.force_login(personas["county_admin"])
    before, n = snapshot(), refusals()
    data = {
        "value": value,
        "basis": "县政府文件",
        "doc_no": "X〔2025〕1号",
        "region_code": "410506",
        "year": "2025",
    }
    r = bounded(client.post, "/manage/params/income.monitoring_line/", data)
    assert_refused(r, words=(), before=before, n_refusals=n, status=(400,))
    body = r.content.decode()
    assert "有限的非负数" in body or "不能是NaN或Infinity" in body, body[:800]


@pytest.mark.parametrize("year", ["0", "-1", "99999", "1e400"])
def test_parameter_edit_refuses_impossible_years(client, personas, village, year):
    client.force_login(personas["county_admin"])
    before, n = snapshot(), refusals()
    data = {
        "value": "7000",
        "basis": "县政府文件",
        "doc_no": "X〔2025〕1号",
        "region_code": "410506",
        "year": year,
    }
    r = bounded(client.post, "/manage/params/income.monitoring_line/", data)
    assert_refused(r, words=("年度须在2000至2100之间",), before=before, n_refusals=n, status=(400,))


def test_parameter_edit_refuses_deeply_nested_json(client, personas, village):
    client.force_login(personas["county_admin"])
    before, n = snapshot(), refusals()
    data = {"value": "[" * 50_000 + "]" * 50_000, "basis": "县文", "doc_no": "1"}
    r = bounded(client.post, "/manage/params/catalogue.risk_types/", data)
    assert_refused(r, words=("嵌套层数",), before=before, n_refusals=n, status=(400,))


@pytest.mark.parametrize("when", IMPOSSIBLE_DATES)
def test_visit_and_case_step_forms_refuse_impossible_dates(client, personas, village, when):
    client.force_login(personas["cadre_a1"])
    hh, case = village["hh"], village["case"]
    before, n = snapshot(), refusals()
    r = bounded(client.post, "/visits/", {"household_id": str(hh.pk), "visited_on": when, "note": "走访"})
    assert r.status_code in (200, 400) and "日期" in r.content.decode()
    assert snapshot() == before and refusals() > n
    n = refusals()
    r = client.post(
        f"/cases/{case.pk}/step/", {"step": "verify", "on": when, "findings": "入户核实"}, follow=True
    )
    assert r.status_code in (200, 400) and "日期" in r.content.decode()
    assert snapshot() == before and refusals() > n


def test_overlong_text_is_refused_or_cut_never_a_crash(client, personas, village):
    client.force_login(personas["cadre_a1"])
    hh = village["hh"]
    long = "很" * 100_000
    for url, data in (
        (f"/households/{hh.pk}/edit/", {"kind": "contact", "address": long, "reason": "搬家"}),
        ("/households/worklists/", {"name": long, "qs": "q=王"}),
        ("/visits/", {"household_id": str(hh.pk), "visited_on": "2025-06-03", "note": long}),
    ):
        before = snapshot()
        r = bounded(client.post, url, data)
        assert r.status_code < 500 and "Traceback" not in r.content.decode()
        if r.status_code != 302:
            assert snapshot() == before
    big = {"note": "x" * (3 * 1024 * 1024)}  # over DATA_UPLOAD_MAX_MEMORY_SIZE
    r = bounded(client.post, "/visits/", big)
    assert r.status_code == 400 and "Traceback" not in r.content.decode()


def test_csrf_less_posts_change_nothing(personas, village):
    c = Client(enforce_csrf_checks=True)
    c.force_login(personas["cadre_a1"])
    hh = village["hh"]
    before = snapshot()
    for url, data in (
        (f"/households/{hh.pk}/edit/", {"kind": "contact", "phone": "13900000000", "reason": "改号"}),
        ("/households/worklists/", {"name": "清单", "qs": ""}),
        ("/visits/", {"household_id": str(hh.pk), "visited_on": "2025-06-03"}),
        ("/visits/sync/", {}),
        (f"/cases/{village['case'].pk}/step/", {"step": "verify", "findings": "x"}),
    ):
        r = c.post(url, data)
        assert r.status_code == 403 and "Traceback" not in r.content.decode()
        assert "请求" in r.content.decode() or "刷新" in r.content.decode(), url
    assert snapshot() == before


def test_mass_assignment_of_fields_not_on_the_form_is_ignored(client, personas, village):
    from fangpin.accounts.models import User
    from fangpin.registry.models import Household

    client.force_login(personas["cadre_a1"])
    hh = village["hh"]
    r = client.post(
        f"/households/{hh.pk}/edit/",
        {"kind": "contact", "phone": "13912345678", "reason": "换号", "village": f.VILLAGE_B1,
         "village_id": f.VILLAGE_B1, "status": "cancelled", "household_type": "一般农户", "version": "99"},
    )  # fmt: skip
    assert r.status_code == 302
    after = Household.objects.get(pk=hh.pk)
    assert (after.village_id, after.status, after.household_type) == (
        hh.village_id,
        hh.status,
        hh.household_type,
    )
    client.force_login(personas["county_admin"])
    client.post(
        "/manage/users/",
        {"action": "create", "username": "newcadre", "display_name": "新干部", "role": "village_cadre",
         "region": f.VILLAGE_A1, "is_superuser": "on", "is_staff": "on", "otp_exempt": "on"},
    )  # fmt: skip
    u = User.objects.get(username="newcadre")
    assert not (u.is_superuser or u.is_staff or u.otp_exempt) and u.role == "village_cadre"
    client.post(
        "/manage/users/",
        {"action": "update", "user_id": str(u.pk), "role": "county_admin", "region": "410506000000",
         "is_active": "on", "is_superuser": "on"},
    )  # fmt: skip
    u.refresh_from_db()
    assert not u.is_superuser


def test_self_application_photo_refuses_wrong_content_and_traversal(client, personas, village):
    client.force_login(personas["cadre_a1"])
    hh = village["hh"]
    base = {"household_id": str(hh.pk), "applicant": "王建国", "difficulties": "因病住院", "risk_types": "因病",
            "signed": "yes", "signed_by_name": "王建国", "scope": "income", "paper_holder": "村委会"}  # fmt: skip
    for name, data, ctype in (
        ("../../etc/passwd.jpg", b"root:x:0:0", "image/jpeg"),
        ("photo.jpg", corpus.nested_zip(), "image/jpeg"),
        ("photo.jpg", b"MZ\x90\x00" + b"\0" * 100, "image/jpeg"),
        ("huge.jpg", b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024), "image/jpeg"),
    ):
        before, n = snapshot(), refusals()
        r = bounded(client.post, "/apply/", {**base, "photo": SimpleUploadedFile(name, data, ctype)})
        body = r.content.decode()
        assert r.status_code == 400 and "Traceback" not in body, (name, r.status_code)
        assert "照片" in body, (name, body[:500])
        assert snapshot() == before and refusals() > n, name


# ---- the offline visit sync endpoint (JSON) --------------------------------------------------------------


def _sync(client, body: bytes):
    return client.post("/visits/sync/", body, content_type="application/json")


def test_visit_sync_refuses_hostile_json(client, personas, village):
    client.force_login(personas["cadre_a1"])
    hh = village["hh"]
    good = {
        "client_key": "k1",
        "household_id": hh.pk,
        "visited_on": "2025-06-03",
        "checklist": {},
        "note": "",
    }
    cases = {
        "not an object": b"[1, 2, 3]",
        "a string": b'"visit"',
        "deeply nested": b"[" * 100_000 + b"]" * 100_000,
        "nested checklist": json.dumps({**good, "checklist": {"a": {"b": [[[[{}]]]]}}}).encode(),
        "oversized": json.dumps({**good, "note": "x" * (3 * 1024 * 1024)}).encode(),
        "nul in note": json.dumps({**good, "note": "走访\x00"}).encode(),
        "bidi in risk": json.dumps({**good, "has_risk": True, "risk_types": ["因\u202e病"]}).encode(),
        "1e400 household": b'{"client_key":"k","household_id":1e400,"visited_on":"2025-06-03"}',
        "NaN household": b'{"client_key":"k","household_id":NaN,"visited_on":"2025-06-03"}',
        "year 2099": json.dumps({**good, "visited_on": "2099-01-01"}).encode(),
        "year 0000": json.dumps({**good, "visited_on": "0000-01-01"}).encode(),
        "other village": json.dumps({**good, "household_id": village["other"].pk}).encode(),
        "not utf-8": b'{"note":"\xff\xfe"}',
    }
    for what, body in cases.items():
        before, n = snapshot(), refusals()
        r = bounded(_sync, client, body)
        assert r.status_code < 500, (what, r.status_code)
        out = json.loads(r.content)
        assert out.get("status") == "rejected" and out.get("visit_id") is None, (what, out)
        assert out.get("message") and any("\u4e00" <= ch <= "\u9fff" for ch in out["message"]), (what, out)
        assert snapshot() == before, what
        assert refusals() > n, f"{what}: no audit record"


# ---- the API -----------------------------------------------------------------------------------------------


@pytest.fixture
def bearer(personas):
    def make(name: str) -> dict:
        user = personas[name]
        _, raw = token_issue(actor=user, user=user, name="test", days=30, on=dt.date.today())
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return make


def _api_post(client, h, path, body: bytes):
    return client.post(path, body, content_type="application/json", **h)


def test_api_refuses_hostile_bodies(client, personas, village, bearer):
    h = bearer("cadre_a1")
    hh = village["hh"]
    lead = {"household_id": hh.pk, "channel": "cadre_visit", "risk_types": ["因病"], "on": "2025-06-03"}
    visit = {"household_id": hh.pk, "visited_on": "2025-06-03", "difficulties": "看病花费大",
             "consent": {"signed": False}}  # fmt: skip
    cases = [
        ("/api/v1/leads", b"[" * 100_000 + b"]" * 100_000, "deeply nested"),
        ("/api/v1/leads", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "deeply nested object"),
        (
            "/api/v1/visits",
            json.dumps({**visit, "difficulties": "x" * (3 * 1024 * 1024)}).encode(),
            "oversized",
        ),
        ("/api/v1/leads", json.dumps({**lead, "note": "因病\x00"}).encode(), "nul"),
        ("/api/v1/visits", json.dumps({**visit, "difficulties": "看病\u202e"}).encode(), "bidi"),
        ("/api/v1/leads", json.dumps({**lead, "household_id": 1e308}).encode(), "1e308 id"),
        ("/api/v1/leads", json.dumps({**lead, "household_id": "9" * 400}).encode(), "huge id"),
        ("/api/v1/leads", b'{"household_id": NaN, "channel": "cadre_visit"}', "NaN"),
        ("/api/v1/leads", b'{"household_id": Infinity, "channel": "cadre_visit"}', "Infinity"),
        ("/api/v1/leads", json.dumps({**lead, "on": "2099-01-01"}).encode(), "2099"),
        ("/api/v1/leads", json.dumps({**lead, "on": "0000-01-01"}).encode(), "0000"),
        ("/api/v1/visits", json.dumps({**visit, "visited_on": "2099-12-31"}).encode(), "visit 2099"),
        (
            "/api/v1/leads",
            json.dumps({**lead, "household_id": village["other"].pk}).encode(),
            "other village",
        ),
        ("/api/v1/leads", b"\xff\xfe{", "not utf-8"),
        (
            "/api/v1/leads",
            json.dumps({**lead, "village_id": f.VILLAGE_B1, "status": "closed"}).encode(),
            "mass assignment",
        ),
    ]
    for path, body, what in cases:
        before, n = snapshot(), refusals()
        r = bounded(_api_post, client, h, path, body)
        if what == "mass assignment" and r.status_code in (200, 201):
            from fangpin.monitoring.models import Lead

            made = Lead.objects.latest("id")
            assert made.household_id == hh.pk and made.household.village_id == f.VILLAGE_A1
            continue
        assert 400 <= r.status_code < 500, (what, r.status_code, r.content[:300])
        out = json.loads(r.content)
        assert out.get("code") and any("\u4e00" <= ch <= "\u9fff" for ch in out.get("message", "")), (
            what,
            out,
        )
        assert snapshot() == before, what
        assert refusals() > n, f"{what}: no audit record"


def test_api_query_parameters_refuse_hostile_values(client, personas, village, bearer):
    h = bearer("cadre_a1")
    for params in (
        {"q": "王\x00"},
        {"q": SQL},
        {"q": XSS},
        {"page": "1e400"},
        {"page": "-1"},
        {"page_size": "100000"},
        {"page": "9" * 400},
    ):
        r = bounded(client.get, "/api/v1/households", params, **h)
        assert r.status_code < 500, (params, r.status_code)
        body = r.content.decode()
        assert village["other"].household_no not in body and "Traceback" not in body
        if r.status_code >= 400:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in json.loads(body)["message"]), params
        else:
            assert len(json.loads(body)["items"]) <= 200


# ---- the CLI import commands ------------------------------------------------------------------------------


def _command(*args) -> str:
    """Runs a CLI command; returns what it said (the CommandError message and its output)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as e:
        return f"ERROR {e}\n{out.getvalue()}{err.getvalue()}"
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize(
    "name", ["ratio_bomb.xlsx", "macro.xlsm", "formulas.xlsx", "traversal.xlsx", "rows.csv"]
)
def test_cli_registry_import_refuses_hostile_files(personas, tmp_path, name):
    from fangpin.registry.models import Household

    from .test_hostile_uploads import CASES

    build, expected = CASES[name]
    path = tmp_path / name
    path.write_bytes(build())
    n = refusals()
    text = bounded(_command, "import_registry", str(path), "--as", "county_admin", "--now")
    assert text.startswith("ERROR") and expected in text and name in text, text[-800:]
    assert "Traceback" not in text and Household.objects.count() == 0
    assert AuditEvent.objects.filter(event_type="upload.refused", data__entry="registry.import").count() == 1
    assert refusals() > n


def test_cli_department_upload_refuses_hostile_files(personas, tmp_path):
    from fangpin.screening.models import DeptBatch

    path = tmp_path / "bomb.xlsx"
    path.write_bytes(corpus.ratio_bomb())
    n = refusals()
    text = bounded(
        lambda: _command("dept_upload", "medical", str(path), "--period", "2025-06", "--as", "dept_yibao")
    )
    assert text.startswith("ERROR") and "压缩比" in text and "bomb.xlsx" in text and "Traceback" not in text
    assert not DeptBatch.objects.exists() and refusals() > n


@pytest.mark.parametrize("value", ["1e400", "NaN", "-1", "[" * 50_000 + "]" * 50_000])
def test_cli_params_set_refuses_extreme_values(personas, value):
    before, n = snapshot(), refusals()
    text = bounded(
        lambda: _command("params_set", "income.monitoring_line", value, "--year", "2025", "--region", "410506",
                         "--as", "county_admin", "--basis", "县文", "--doc-no", "1")
    )  # fmt: skip
    assert text.startswith("ERROR") and "参数" in text and "Traceback" not in text, text
    assert snapshot() == before and refusals() > n
