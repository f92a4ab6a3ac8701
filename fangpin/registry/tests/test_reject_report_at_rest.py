"""Issue #17: no full ID number or phone (nor any other personal data of the file) in a report at rest. An
import's reject report is kept SM4-GCM-encrypted under FANGPIN_FILES_DIR (``core.sealed_files``, the helper of
the 下载中心's export jobs) and served decrypted by the browser, the API and the CLI, checked against its
SHA-256 and audited; a report written before the change (clear .xlsx) is served as it is."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from fangpin.audit.models import AuditEvent
from fangpin.registry.models import ImportBatch, Person

pytestmark = pytest.mark.django_db

# Typed by hand in the national export's layout (as the e2e 监测对象信息 files): row 2 has a 17-digit ID and a
# 12-digit phone (what the user must fix; no mask pattern matches them), row 3 a valid ID and phone but a
# relation no list knows.
HEAD = "序号,县(市、区、旗),乡(镇),行政村,户编号,姓名,身份证号,与户主关系,性别,户类型,家庭成员联系电话,人均纯收入\r\n"
ROWS = (
    "1,龙安区,马家乡,王家岗村,410506205201990007,韩春梅,41050619820315172,户主,女,一般农户,139037211880,5800\r\n"
    "2,龙安区,马家乡,王家岗村,410506205201990007,韩小军,410506200806111235,邻居,男,一般农户,13903721189,5800\r\n"
)
SECRETS = ["41050619820315172", "139037211880", "410506200806111235", "13903721189", "韩春梅", "韩小军"]


def _file() -> bytes:
    return (HEAD + ROWS).encode("gbk")  # as Excel saves a CSV on a Chinese Windows


def _contents(root: Path):
    """Every file's raw bytes, and the unpacked entries of every zip (an xlsx is one)."""
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        raw = p.read_bytes()
        yield str(p), raw
        if zipfile.is_zipfile(io.BytesIO(raw)):
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                for name in z.namelist():
                    yield f"{p}!{name}", z.read(name)


def _leaks(root: Path) -> list[tuple[str, str]]:
    found = []
    for where, data in _contents(root):
        for s in SECRETS:
            for enc in ("utf-8", "gbk", "utf-16-le"):
                if s.encode(enc) in data:
                    found.append((where, s))
    return found


def _sheet(data: bytes) -> list[list[str]]:
    ws = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["导入数据"]
    return [["" if v is None else str(v) for v in r] for r in ws.iter_rows(values_only=True)]


def _bearer(user) -> dict:
    from fangpin.api.tokens import token_issue

    _, raw = token_issue(actor=user, user=user, name="t", days=1, on=dt.date.today())
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_rejected_imports_report_is_encrypted_at_rest_and_served_decrypted(
    client, personas, settings, tmp_path
):
    settings.FANGPIN_FILES_DIR = tmp_path / "files"
    admin = personas["county_admin"]
    client.force_login(admin)
    r = client.post(
        "/imports/", {"file": SimpleUploadedFile("监测对象信息.csv", _file()), "income_year": 2025}
    )
    assert r.status_code == 302
    batch = ImportBatch.objects.latest("id")
    assert batch.status == "failed" and batch.rejected == 2 and not Person.objects.exists()
    at_rest = Path(batch.error_report_path)
    assert at_rest.is_file() and at_rest.read_bytes()[:5] == b"FPBK\x01"
    assert at_rest.parent == tmp_path / "files" / "reports"
    assert not batch.upload_path  # the upload itself is gone after the failure (RES-01)
    assert _leaks(tmp_path / "files") == []  # no ID, phone or name in any file, nor inside any zip

    # the browser's download: decrypted, the rows needed to fix them, audited with the digest
    web = b"".join(client.get(f"/imports/{batch.pk}/report/").streaming_content)
    sheet = _sheet(web)
    header = sheet[2]
    assert header[-1] == "错误原因" and header[5] == "姓名"
    bad = {row[5]: row for row in sheet[3:]}
    assert bad["韩春梅"][6] == "41050619820315172" and "应为18位" in bad["韩春梅"][-1]
    assert "与户主关系" in bad["韩小军"][-1] and bad["韩小军"][6] == "410506********1235"  # masked as today
    ev = AuditEvent.objects.filter(event_type="registry.import_report_download").latest("seq")
    assert ev.data["sha256"] == batch.details["report_sha256"] and ev.data["encrypted"] is True

    # the API's and the CLI's downloads give the same workbook
    api = client.get(f"/api/v1/imports/{batch.pk}/report", **_bearer(admin))
    assert api.status_code == 200 and b"".join(api.streaming_content) == web
    out = tmp_path / "cli.xlsx"
    call_command("import_report", str(batch.pk), str(out), "--as", admin.username)
    assert out.read_bytes() == web
    assert AuditEvent.objects.filter(event_type="registry.import_report_download", result="ok").count() == 3
    assert _leaks(tmp_path / "files") == []  # serving it left no clear copy behind

    # nobody else's, and a changed file is refused (audited), never served
    with pytest.raises(CommandError):
        call_command("import_report", str(batch.pk), str(tmp_path / "x.xlsx"), "--as", "county_reviewer")
    raw = bytearray(at_rest.read_bytes())
    raw[-20] ^= 1
    at_rest.write_bytes(bytes(raw))
    r = client.get(f"/api/v1/imports/{batch.pk}/report", **_bearer(admin))
    assert r.status_code == 409 and r.json()["code"] == "import_report_conflict"
    assert AuditEvent.objects.filter(event_type="registry.import_report_download", result="failed").exists()


def test_a_report_written_before_encryption_is_still_served_and_purged(client, personas, settings, tmp_path):
    """The migration path: a clear report of an older batch (no digest recorded) is read as it is until
    the retention purge deletes it."""
    from fangpin.accounts.actors import system_actor
    from fangpin.core.retention import retention_purge
    from fangpin.registry.io.xlsx import write_xlsx

    settings.FANGPIN_FILES_DIR = tmp_path
    admin = personas["county_admin"]
    old = tmp_path / "reports" / "导入错误报告-批次1.xlsx"
    old.parent.mkdir(parents=True)
    write_xlsx(old, title="旧报告", subtitle="", headers=["姓名", "错误原因"], rows=[["张三", "证件号码：校验位错误"]],
               sheet_name="导入数据")  # fmt: skip
    batch = ImportBatch.objects.create(file_name="old.csv", sha256="0" * 64, size=1, created_by=admin,
                                       status="failed", error_report_path=str(old))  # fmt: skip
    ImportBatch.objects.filter(pk=batch.pk).update(finished_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    client.force_login(admin)
    got = b"".join(client.get(f"/imports/{batch.pk}/report/").streaming_content)
    assert got == old.read_bytes()
    ev = AuditEvent.objects.filter(event_type="registry.import_report_download").latest("seq")
    assert ev.data["encrypted"] is False
    res = retention_purge(actor=system_actor("retention"), on=dt.date(2026, 12, 1))
    assert batch.pk in res.reports and not old.exists()
