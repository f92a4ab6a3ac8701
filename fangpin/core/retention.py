"""Retention of the files that hold personal data outside the encrypted registry columns (issue #17 item 4).

- department batches (``screening.DeptBatch`` Parquet: ID numbers, names, amounts as the department sent
  them): deleted ``security.retention.department_days`` after upload; the batch row stays (counts, hash,
  who and when) with ``parquet_path`` cleared, and later runs no longer look back into it;
- registry import reject reports (``ImportBatch.error_report_path``) and leftover uploaded files
  (``upload_path``) of finished imports: deleted ``security.retention.report_days`` after the import;
- export jobs' encrypted workbooks (``registry.ExportJob``, 下载中心): deleted ``security.retention.export_days``
  after the job finished; the job row stays (who, filter, rows, SHA-256) as ``purged``; an encrypted file no
  job points to (a crashed job), after one day;
- stray working files: a screening run's registry extract (deleted by the run itself; left only by a crash)
  and pending department uploads, after one day.

``retention_purge`` is called by ``fangpin retention_purge`` and the daily Huey job ``retention_periodic``;
each purge is one audit event (``security.retention_purge``) with what was deleted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

DEPARTMENT_DAYS = "security.retention.department_days"
REPORT_DAYS = "security.retention.report_days"
EXPORT_DAYS = "security.retention.export_days"
DEFAULT_EXPORT_DAYS = 7  # where the parameter is not installed yet
STRAY_DAYS = 1


@dataclass
class PurgeResult:
    department_batches: list[int] = field(default_factory=list)
    reports: list[int] = field(default_factory=list)
    uploads: list[int] = field(default_factory=list)
    exports: list[int] = field(default_factory=list)
    stray_files: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "department_batches": self.department_batches,
            "reports": self.reports,
            "uploads": self.uploads,
            "exports": self.exports,
            "stray_files": self.stray_files,
            "dry_run": self.dry_run,
        }


def _days(key: str, on: dt.date, default: int | None = None) -> int:
    from fangpin.core.errors import DomainError
    from fangpin.policy.params import param_value

    try:
        return int(param_value(key, region_code="", year=on.year))
    except DomainError:
        if default is None:
            raise
        return default


def _cutoff(on: dt.date, days: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(on - dt.timedelta(days=days), dt.time.min))


def _remove(path: Path, dry_run: bool) -> None:
    if not dry_run:
        path.unlink(missing_ok=True)


def retention_purge(*, actor, on: dt.date, dry_run: bool = False) -> PurgeResult:
    """Deletes the files whose retention ended before the business day ``on``; audited."""
    from fangpin.accounts.actors import is_system
    from fangpin.audit.record import audit_record
    from fangpin.registry.models import ExportJob, ExportJobStatus, ImportBatch
    from fangpin.registry.services.export_jobs import exports_dir
    from fangpin.screening.models import DeptBatch
    from fangpin.screening.registry_export import files_dir

    is_system(actor)  # refuses None
    res = PurgeResult(dry_run=dry_run)
    dept_cut = _cutoff(on, _days(DEPARTMENT_DAYS, on))
    report_cut = _cutoff(on, _days(REPORT_DAYS, on))
    export_cut = _cutoff(on, _days(EXPORT_DAYS, on, DEFAULT_EXPORT_DAYS))
    with transaction.atomic():
        for b in DeptBatch.objects.filter(uploaded_at__lt=dept_cut).exclude(parquet_path="").order_by("id"):
            _remove(files_dir() / b.parquet_path, dry_run)
            res.department_batches.append(b.pk)
        finished = ImportBatch.objects.filter(finished_at__lt=report_cut)
        for b in finished.exclude(error_report_path="").order_by("id"):
            _remove(Path(b.error_report_path), dry_run)
            res.reports.append(b.pk)
        for b in finished.exclude(upload_path="").order_by("id"):
            _remove(Path(b.upload_path), dry_run)
            res.uploads.append(b.pk)
        root = Path(settings.FANGPIN_FILES_DIR)
        expired = ExportJob.objects.filter(finished_at__lt=export_cut).exclude(file_path="")
        for j in expired.order_by("id"):
            _remove(root / j.file_path, dry_run)
            res.exports.append(j.pk)
        if not dry_run:
            ExportJob.objects.filter(pk__in=res.exports).update(
                file_path="", status=ExportJobStatus.PURGED, message="导出文件已过保留期限删除"
            )
            DeptBatch.objects.filter(pk__in=res.department_batches).update(parquet_path="")
            ImportBatch.objects.filter(pk__in=res.reports).update(error_report_path="")
            ImportBatch.objects.filter(pk__in=res.uploads).update(upload_path="")
        stray_cut = (timezone.now() - dt.timedelta(days=STRAY_DAYS)).timestamp()
        kept = {root / p for p in ExportJob.objects.exclude(file_path="").values_list("file_path", flat=True)}
        for folder in (files_dir() / "registry", root / "dept_pending", exports_dir()):
            if not folder.is_dir():
                continue
            for p in folder.rglob("*"):
                if p.is_file() and p not in kept and p.stat().st_mtime < stray_cut:
                    _remove(p, dry_run)
                    res.stray_files += 1
        audit_record(
            actor=actor,
            event_type="security.retention_purge",
            object_type="core.retention",
            data={**res.as_dict(), "on": on.isoformat()},
            result="dry_run" if dry_run else "ok",
        )
    return res
