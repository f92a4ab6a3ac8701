"""Issue #17 "done means", the entry points a county uses: every hostile file of the corpus through the API's
two upload routes (``POST /api/v1/imports``, ``POST /api/v1/dept-uploads``, bearer token) and the browser's
two upload forms (数据导入 ``/imports/``, 部门筛查 ``/screening/``; a logged-in session with CSRF enforced).
Each answer: never 5xx, the Chinese refusal naming the file (the API's error body ``code/message/field``, the
page's error), no traceback, the registry unchanged, no department batch and no import batch, an
``upload.refused`` audit event, within 10 s and 512 MB (tracemalloc over the whole request, the test
client's encoding of the body included)."""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from fangpin.audit.models import AuditEvent
from fangpin.registry.models import Household, ImportBatch, Person
from fangpin.screening.models import DeptBatch

from .test_hostile_uploads import CASES, LIMIT_BYTES, LIMIT_S

pytestmark = pytest.mark.django_db


@functools.cache
def _bytes(name: str) -> bytes:
    return CASES[name][0]()


def _bearer(user) -> dict:
    from fangpin.api.tokens import token_issue

    _, raw = token_issue(actor=user, user=user, name="hostile", days=1, on=dt.date.today())
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def _browser(user, page: str) -> tuple[Client, str]:
    """A logged-in browser that checks CSRF like production; the token is read from the form's page."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(user)
    html = c.get(page).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return c, token


def _post_api_import(client, personas, name, data):
    h = _bearer(personas["county_admin"])
    assert client.get("/api/v1/imports", **h).status_code == 200  # the code is loaded before the measure
    return lambda: client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile(name, data), "income_year": 2025}, **h
    )


def _post_api_dept(client, personas, name, data):
    h = _bearer(personas["dept_yibao"])
    assert client.get("/api/v1/dept-batches", **h).status_code == 200
    return lambda: client.post(
        "/api/v1/dept-uploads", {"file": SimpleUploadedFile(name, data), "kind": "medical"}, **h
    )


def _post_web_import(client, personas, name, data):
    c, token = _browser(personas["county_admin"], "/imports/")
    form = {"file": SimpleUploadedFile(name, data), "income_year": 2025, "csrfmiddlewaretoken": token}
    return lambda: c.post("/imports/", form)


def _post_web_dept(client, personas, name, data):
    c, token = _browser(personas["dept_yibao"], "/screening/")
    form = {
        "file": SimpleUploadedFile(name, data),
        "kind": "medical",
        "period": "2026-11",
        "csrfmiddlewaretoken": token,
    }
    return lambda: c.post("/screening/", form)


ROUTES = {  # route → (request builder, persona, entry recorded by the guard, is the API)
    "api_import": (_post_api_import, "county_admin", "registry.import", True),
    "api_dept": (_post_api_dept, "dept_yibao", "screening.upload", True),
    "web_import": (_post_web_import, "county_admin", "registry.import", False),
    "web_dept": (_post_web_dept, "dept_yibao", "screening.upload", False),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", CASES)
def test_hostile_file_through_an_upload_route(client, personas, route, name):
    build, persona, entry, is_api = ROUTES[route]
    expected = CASES[name][1]
    data = _bytes(name)
    before = (Household.objects.count(), Person.objects.count(), ImportBatch.objects.count())
    post = build(client, personas, name, data)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        r = post()
        seconds, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    text = r.content.decode()
    assert 400 <= r.status_code < 500, (r.status_code, text[:500])
    assert "Traceback" not in text and 'File "' not in text
    if is_api:
        body = r.json()
        assert set(body) == {"code", "message", "field"} and body["field"] == "file", body
        assert body["code"].startswith(("upload_", "file_")), body
        message = body["message"]
    else:
        message = re.search(r'<p class="field-error" role="alert">(.*?)</p>', text, re.S).group(1)
    assert name in message and expected in message, message
    assert "已拒绝" in message
    assert (Household.objects.count(), Person.objects.count(), ImportBatch.objects.count()) == before
    assert DeptBatch.objects.count() == 0
    ev = AuditEvent.objects.get(event_type="upload.refused")
    assert ev.actor == personas[persona] and ev.data["entry"] == entry and ev.data["file_name"] == name
    assert ev.result == "refused" and expected in ev.reason
    assert seconds < LIMIT_S and peak < LIMIT_BYTES, (seconds, peak)


def test_an_oversize_file_is_not_kept_past_the_cap(client, personas, monkeypatch, tmp_path):
    """The upload handler stops storing at the cap: the temporary file never grows past it, and the view
    sees a file with no content (what a forgotten ``read()`` gets is the refusal, not empty bytes)."""
    from django.conf import settings

    from fangpin.core.errors import DomainError
    from fangpin.core.uploads import OversizeUpload

    monkeypatch.setattr(settings, "FILE_UPLOAD_TEMP_DIR", str(tmp_path))
    monkeypatch.setattr(settings, "FANGPIN_UPLOAD_MAX_MB", 3)
    seen = {}
    from fangpin.core import uploads

    real = uploads.GuardedUploadHandler.receive_data_chunk

    def spy(self, raw, start):
        real(self, raw, start)
        seen["largest"] = max(seen.get("largest", 0), sum(p.stat().st_size for p in tmp_path.iterdir()))

    monkeypatch.setattr(uploads.GuardedUploadHandler, "receive_data_chunk", spy)
    r = client.post(
        "/api/v1/dept-uploads",
        {"file": SimpleUploadedFile("big.csv", b"a,b\r\n" * (2 * 1024 * 1024)), "kind": "medical"},
        **_bearer(personas["dept_yibao"]),
    )
    assert r.status_code == 400 and "超过3MB上限" in r.json()["message"] and "big.csv" in r.json()["message"]
    assert seen["largest"] <= 3 * 1024 * 1024 and not list(tmp_path.iterdir())
    with pytest.raises(DomainError, match="超过3MB上限"):
        OversizeUpload(
            name="x.csv", size=10, content_type="text/csv", charset=None, limit=3 * 1024 * 1024
        ).read()
