"""Retention of files holding personal data (issue #17 item 4): department batch Parquet files, import reject
reports and leftover uploads are deleted when their retention parameter ends; audited; later runs skip them."""

from __future__ import annotations

import datetime as dt
import os
import time

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone

from fangpin.accounts.actors import system_actor
from fangpin.audit.models import AuditEvent
from fangpin.core.ids import make_id_number
from fangpin.core.retention import retention_purge
from fangpin.registry.models import ImportBatch
from fangpin.screening.models import DeptBatch
from fangpin.screening.registry_export import files_dir
from fangpin.screening.services.uploads import batch_abspath, dept_batch_upload

ID1 = make_id_number("410506", dt.date(1975, 3, 4), 1, "M")


def _xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["参保人姓名", "身份证号码", "费用结算日期", "医疗类别", "个人自付金额（元）"])
    ws.append(["张三", ID1, "2025-06-03", "普通住院", "1234.5"])
    wb.save(path)
    return path


@pytest.mark.django_db
def test_purge_deletes_expired_department_files_and_reports_only(tmp_path, officer, personas):
    user = officer("医保")
    old = dept_batch_upload(
        actor=user, kind="medical", path=_xlsx(tmp_path / "a.xlsx"), period="2025-06", on=dt.date(2025, 7, 1)
    )
    fresh_path = _xlsx(tmp_path / "b.xlsx")
    fresh = dept_batch_upload(
        actor=user, kind="medical", path=fresh_path, period="2025-07", on=dt.date(2025, 8, 1)
    )
    on = dt.date(2026, 9, 1)
    DeptBatch.objects.filter(pk=old.pk).update(uploaded_at=timezone.now().replace(year=2025, month=6, day=30))
    DeptBatch.objects.filter(pk=fresh.pk).update(
        uploaded_at=timezone.now().replace(year=2026, month=8, day=1)
    )
    assert batch_abspath(old).is_file() and batch_abspath(fresh).is_file()
    report = tmp_path / "report.xlsx"
    report.write_bytes(b"x")
    keep = tmp_path / "keep.xlsx"
    keep.write_bytes(b"x")
    admin = personas["county_admin"]
    mk = dict(file_name="f.xlsx", sha256="0" * 64, created_by=admin)  # noqa: C408
    expired = ImportBatch.objects.create(**mk, error_report_path=str(report))
    recent = ImportBatch.objects.create(**mk, error_report_path=str(keep))
    ImportBatch.objects.filter(pk=expired.pk).update(
        finished_at=timezone.now().replace(year=2026, month=5, day=1)
    )
    ImportBatch.objects.filter(pk=recent.pk).update(
        finished_at=timezone.now().replace(year=2026, month=8, day=20)
    )
    stray = files_dir() / "registry" / "run_999.parquet"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x")
    os.utime(stray, (time.time() - 3 * 86400,) * 2)

    dry = retention_purge(actor=system_actor("test"), on=on, dry_run=True)
    assert dry.department_batches == [old.pk] and batch_abspath(old).is_file() and report.is_file()

    res = retention_purge(actor=system_actor("test"), on=on)
    assert res.department_batches == [old.pk] and res.reports == [expired.pk] and res.stray_files == 1
    assert DeptBatch.objects.get(pk=old.pk).parquet_path == "" and batch_abspath(fresh).is_file()
    assert not report.exists() and keep.exists() and not stray.exists()
    assert ImportBatch.objects.get(pk=expired.pk).error_report_path == ""
    ev = AuditEvent.objects.filter(event_type="security.retention_purge").latest("seq")
    assert ev.data["department_batches"] == [old.pk] and ev.data["reports"] == [expired.pk]
    # nothing left to purge: a second run deletes nothing
    assert retention_purge(actor=system_actor("test"), on=on).department_batches == []
    call_command("retention_purge", "--on", on.isoformat())


def test_purge_refuses_a_missing_actor():
    with pytest.raises(TypeError):
        retention_purge(actor=None, on=dt.date(2026, 1, 1))
