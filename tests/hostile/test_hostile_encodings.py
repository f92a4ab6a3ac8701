"""Issue #17 "done means": hostile text encodings and department values, generated here, through every entry
point they apply to (registry import, department upload, the API's upload): no 5xx, no traceback, registry
unchanged (or, for a readable file, exactly its rows), a Chinese message naming file/row/column, a record of
the rejection, each within 10 s and 512 MB."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.audit.models import AuditEvent
from fangpin.core.errors import DomainError
from fangpin.core.ids import make_id_number
from fangpin.registry.models import Household, ImportStatus, Person
from fangpin.registry.services.imports import registry_import
from fangpin.screening.models import DeptBatch
from fangpin.screening.services.uploads import dept_batch_upload

from .test_hostile_uploads import LIMIT_BYTES, LIMIT_S, NATIONAL, _timed

pytestmark = pytest.mark.django_db
UPLOAD_ON = dt.date(2026, 12, 1)
ID1 = make_id_number("410506", dt.date(1975, 1, 20), 1, "M")
ID2 = make_id_number("410506", dt.date(1978, 3, 2), 2, "F")


def _registry_rows() -> list[list[object]]:
    return [
        NATIONAL,
        [1, "龙安区", "马家乡", "王家岗村", "H1", "H1-1", "王建国", ID1, "户主", "男", "19750120", "脱贫户"],
        [2, "龙安区", "马家乡", "王家岗村", "H1", "H1-2", "李秀英", ID2, "配偶", "女", "19780302", "脱贫户"],
    ]


def _csv(rows: list[list[object]]) -> str:
    return "".join(",".join(map(str, r)) + "\r\n" for r in rows)


DEPT_HEADER = ["姓名", "证件号码", "结算日期", "就诊类型", "个人自付"]


def _dept_rows() -> list[list[object]]:
    return [DEPT_HEADER, ["张三", ID1, "2025-06-03", "住院", "10"], ["李四", ID2, "2025-06-04", "门诊", "20"]]


def _mixed(text: str) -> bytes:
    """First half UTF-8, second half GBK: a file pasted together from two systems."""
    lines = text.splitlines(keepends=True)
    half = len(lines) // 2 + 1
    return "".join(lines[:half]).encode("utf-8") + "".join(lines[half:]).encode("gbk")


def _invalid_mid(text: str) -> bytes:
    data = text.encode("utf-8")
    cut = data.index("李".encode())
    return data[:cut] + b"\xff\xfe\xc3" + data[cut:]


# name → (bytes of the file, readable): a readable file imports, an unreadable one is refused with a reason
ENCODINGS = {
    "gbk.csv": (lambda t: t.encode("gbk"), True),
    "gb18030.csv": (lambda t: t.encode("gb18030"), True),
    "utf16_bom.csv": (lambda t: t.encode("utf-16"), True),
    "utf16le_no_bom.csv": (lambda t: t.encode("utf-16-le"), True),
    "utf16be_no_bom.csv": (lambda t: t.encode("utf-16-be"), True),
    "utf8_bom.csv": (lambda t: t.encode("utf-8-sig"), True),
    "invalid_bytes.csv": (_invalid_mid, False),
    "mixed.csv": (_mixed, False),
}


@pytest.mark.parametrize("name", ENCODINGS)
def test_registry_import_encodings(personas, name):
    build, readable = ENCODINGS[name]
    data = build(_csv(_registry_rows()))
    batch, err, seconds, peak = _timed(
        lambda: registry_import(actor=personas["county_admin"], file_name=name, data=data, on=UPLOAD_ON)
    )
    assert err is None, err
    assert seconds < LIMIT_S and peak < LIMIT_BYTES
    if readable:
        assert batch.status != ImportStatus.FAILED, [r.reason for r in batch.rejects.all()]
        assert sorted(Person.objects.values_list("name", flat=True)) == ["李秀英", "王建国"]
        return
    assert batch.status == ImportStatus.FAILED
    assert (Household.objects.count(), Person.objects.count()) == (0, 0)
    reasons = " ".join(r.reason for r in batch.rejects.all())
    assert "Traceback" not in reasons and name in reasons and "行" in reasons, reasons
    assert AuditEvent.objects.filter(
        event_type__in=["upload.refused", "registry.import_failed"]
    ).exists() or (batch.rejects.exists())


@pytest.mark.parametrize("name", ENCODINGS)
def test_department_upload_encodings(personas, tmp_path, name):
    build, readable = ENCODINGS[name]
    path = tmp_path / name
    path.write_bytes(build(_csv(_dept_rows())))
    b, err, seconds, peak = _timed(
        lambda: dept_batch_upload(
            actor=personas["dept_yibao"], kind="medical", path=path, period="2025-06", on=UPLOAD_ON
        )
    )
    assert seconds < LIMIT_S and peak < LIMIT_BYTES
    if readable:
        assert err is None, err
        assert (b.rows_ok, b.rows_rejected) == (2, 0)
        return
    assert isinstance(err, DomainError)
    assert name in err.message and "行" in err.message and "Traceback" not in err.message, err.message
    assert DeptBatch.objects.count() == 0


VALUES = {  # 个人自付 / 结算日期 of the second row → the column the refusal must name
    "1e308": ("个人自付", "1e308"),
    "1e400": ("个人自付", "1e400"),
    "NaN": ("个人自付", "NaN"),
    "Infinity": ("个人自付", "Infinity"),
    "-Infinity": ("个人自付", "-Infinity"),
    "negative": ("个人自付", "-50"),
    "2099": ("结算日期", "2099-01-01"),
}


@pytest.mark.parametrize("case", VALUES)
def test_department_values_are_refused_per_row(personas, tmp_path, case):
    column, value = VALUES[case]
    rows = _dept_rows()
    rows[2][DEPT_HEADER.index(column)] = value
    path = tmp_path / f"{case}.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    b, err, seconds, peak = _timed(
        lambda: dept_batch_upload(
            actor=personas["dept_yibao"], kind="medical", path=path, period="2025-06", on=UPLOAD_ON
        )
    )
    assert err is None, err
    assert seconds < LIMIT_S and peak < LIMIT_BYTES
    assert (b.rows_ok, b.rows_rejected) == (1, 1)
    issue = b.issues.get(severity="error") if hasattr(b, "issues") else None
    from fangpin.screening.models import BatchIssue

    issue = BatchIssue.objects.get(batch=b, severity=BatchIssue.ERROR)
    assert issue.row == 3 and issue.column in (column, "个人自付金额", "结算日期"), (issue.row, issue.column)


def test_department_unbalanced_quote_loses_no_row(personas, tmp_path):
    text = _csv(_dept_rows()[:2]) + '"王五,' + ID2 + ",2025-06-05,住院,5\r\n" + _csv(_dept_rows()[2:])
    path = tmp_path / "quote.csv"
    path.write_text(text, encoding="utf-8")
    b, err, seconds, peak = _timed(
        lambda: dept_batch_upload(
            actor=personas["dept_yibao"], kind="medical", path=path, period="2025-06", on=UPLOAD_ON
        )
    )
    assert seconds < LIMIT_S and peak < LIMIT_BYTES
    if err is None:  # read: every line is a row, accepted or rejected, none swallowed by the quote
        assert b.rows_total == 3, (b.rows_total, b.rows_ok, b.rows_rejected)
    else:
        assert "quote.csv" in err.message and "行" in err.message and "Traceback" not in err.message
        assert DeptBatch.objects.count() == 0


@pytest.mark.parametrize("name", ["mixed.csv", "invalid_bytes.csv", "utf16le_no_bom.csv"])
def test_api_uploads_of_hostile_encodings(client, personas, name):
    """The API's two upload entry points: the registry import (a failed batch with the reason) and the
    department upload (a Chinese 4xx naming the file and line, audited)."""
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from fangpin.api.tokens import token_issue

    build, readable = ENCODINGS[name]

    def bearer(user) -> dict:
        _, raw = token_issue(actor=user, user=user, name="t", days=1, on=dt.date.today())
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    t0 = time.perf_counter()
    up = SimpleUploadedFile(name, build(_csv(_registry_rows())), content_type="text/csv")
    r = client.post("/api/v1/imports", {"file": up, "income_year": 2025}, **bearer(personas["county_admin"]))
    assert r.status_code < 500 and "Traceback" not in r.content.decode()
    body = r.json()
    if readable:
        assert body["status"] != "failed", body
    else:
        assert body["status"] == "failed" and Person.objects.count() == 0
    up = SimpleUploadedFile(name, build(_csv(_dept_rows())), content_type="text/csv")
    r = client.post("/api/v1/dept-uploads", {"file": up, "kind": "medical"}, **bearer(personas["dept_yibao"]))
    assert r.status_code < 500 and "Traceback" not in r.content.decode()
    if readable:
        assert r.status_code == 201, r.content
    else:
        assert r.status_code == 400 and name in r.json()["message"] and "行" in r.json()["message"]
        assert AuditEvent.objects.filter(event_type="api.refused", data__code="file_encoding").exists()
    assert DeptBatch.objects.count() == 0
    assert time.perf_counter() - t0 < 2 * LIMIT_S


def test_gbk_text_whose_first_bytes_happen_to_be_valid_utf8_is_read_as_gbk():
    """医 in GBK is D2 BD, a valid two-byte UTF-8 sequence: a 医保 file that starts with it is GBK, not a mix
    (the CI run refused the hand-saved 医保结算 fixture as "mixed encodings")."""
    from fangpin.core.text import decode_text_file

    text = "医保结算明细（本县自定义导出）\r\n序号,参保人姓名,公民身份号码\r\n1,杜秀兰,410506197501200011\r\n"
    assert text.encode("gbk")[:2] == b"\xd2\xbd" and text.encode("gbk")[:2].decode("utf-8")
    assert decode_text_file(text.encode("gbk"), "医保.csv") == text
    mixed = text.encode("utf-8") + "2,王建国,410506197803020022\r\n".encode("gbk")
    with pytest.raises(DomainError, match="第4行起不是UTF-8编码"):
        decode_text_file(mixed, "医保.csv")
