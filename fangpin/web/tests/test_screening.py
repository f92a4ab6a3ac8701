"""部门筛查 screens: an officer's upload asks the mapping question for an unknown header, saves the answer,
previews the parsed rows and uploads; the county starts a run and sees its progress and hits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fangpin.audit.models import AuditEvent
from fangpin.screening.models import DeptBatch, DeptMapping, ScreeningRun

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[3] / "tests" / "e2e" / "data"
FILE = "医保结算_自定义表头.csv"


def test_upload_with_mapping_question_then_preview_and_batch(client, personas):
    client.force_login(personas["dept_yibao"])
    r = client.post(
        "/screening/",
        {
            "kind": "medical",
            "period": "2026-11",
            "file": SimpleUploadedFile(FILE, (DATA / FILE).read_bytes()),
        },
    )
    assert r.status_code == 302
    preview_url = r["Location"]
    page = client.get(preview_url).content.decode()
    assert "个人自付" in page and 'id="mapping-question"' in page and "确认上传" not in page
    token = preview_url.split("/upload/")[1].split("/")[0]
    r = client.post(
        f"/screening/upload/{token}/",
        {
            "action": "map",
            "kind": "medical",
            "period": "2026-11",
            "name": FILE,
            "map_out_of_pocket": "自负部分(元)",
        },
    )
    page = r.content.decode()
    assert 'id="mapping-question"' not in page and "确认上传" in page
    assert "9120.55" in page  # first rows as parsed
    # in Chinese: the columns under their titles, the ID check and 性别 in words, no field names or codes
    head = re.search(r'<table id="preview-rows">\s*<thead><tr>(.*?)</tr></thead>', page, re.S).group(1)
    assert "<th>个人自付</th>" in head and "<th>证件号码校验</th>" in head and "<th>行号</th>" in head
    assert not re.search(r"<th>[a-z_]+</th>", head), head
    rows = page.split('<table id="preview-rows">')[1].split("</table>")[0]
    assert "<td>有效</td>" in rows and "<td>ok</td>" not in rows and not re.search(r"<td>[MF]</td>", rows)
    assert (
        DeptMapping.objects.get(department="医保", kind="medical").columns["out_of_pocket"] == "自负部分(元)"
    )
    assert AuditEvent.objects.filter(event_type="screening.mapping_save").exists()
    r = client.post(
        f"/screening/upload/{token}/",
        {"action": "upload", "kind": "medical", "period": "2026-11", "name": FILE},
    )
    batch = DeptBatch.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert batch.rows_ok == 2 and batch.department == "医保"
    listing = client.get("/screening/").content.decode()
    assert f"#{batch.pk}" in listing
    # the data kind by its title, not its code, on the screening page and the officer's 工作台
    assert (
        '<td data-label="类型">医保结算</td>' in listing
        and '<td data-label="类型">medical</td>' not in listing
    )
    home = client.get("/").content.decode()
    assert '<td data-label="类型">医保结算</td>' in home
    # the county's rule and mapping screen: kinds, the saved mapping's columns and the consent scope in words
    client.force_login(personas["county_admin"])
    rules = client.get("/manage/screening/").content.decode()
    assert (
        '<td data-label="部门数据">医保结算</td>' in rules
        and '<td data-label="部门数据">medical</td>' not in rules
    )
    assert "个人自付←自负部分(元)" in rules and "out_of_pocket←" not in rules
    assert '<td data-label="需授权">存款等金融资产</td>' in rules


def test_county_starts_a_run_and_follows_it(client, personas):
    client.force_login(personas["county_admin"])
    r = client.post("/screening/runs/start/", {"month": "2026-11"})
    run = ScreeningRun.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))
    page = client.get(r["Location"]).content.decode()
    assert run.status == "done" and 'id="run-bar"' in page and 'value="100"' in page
    bad = client.post("/screening/runs/start/", {"month": "2026-13"})
    assert bad.status_code == 400 and "格式错误" in bad.content.decode()


def test_cadre_has_no_department_screening_and_officer_cannot_run(client, personas):
    client.force_login(personas["cadre_a1"])
    assert client.get("/screening/").status_code == 403
    client.force_login(personas["dept_yibao"])
    assert client.post("/screening/runs/start/", {"month": "2026-11"}).status_code == 403


def test_county_admin_uploads_on_a_departments_behalf(client, personas):
    client.force_login(personas["county_admin"])
    f = SimpleUploadedFile(FILE, (DATA / FILE).read_bytes())
    r = client.post("/screening/", {"kind": "medical", "period": "2026-11", "behalf": "医保", "file": f})
    token = r["Location"].split("/upload/")[1].split("/")[0]
    base = {"kind": "medical", "period": "2026-11", "name": FILE, "behalf": "医保"}
    client.post(f"/screening/upload/{token}/", {**base, "action": "map", "map_out_of_pocket": "自负部分(元)"})
    r = client.post(f"/screening/upload/{token}/", {**base, "action": "upload"})
    batch = DeptBatch.objects.get(pk=int(r["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert batch.on_behalf and batch.department == "医保"
