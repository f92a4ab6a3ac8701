"""Department uploads: one file → one immutable, versioned batch (Parquet + DB record + issues)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.core.uploads import upload_check
from fangpin.regions.models import Region

from ..models import BatchIssue, DeptBatch
from ..registry_export import files_dir
from ..sources import source_get
from ..sources.parse import parse_rows, read_table, to_frame

E_PERIOD = "screening_period_invalid"
E_NO_VALID_ROWS = "screening_no_valid_rows"
E_NOT_YOUR_DEPARTMENT = "screening_not_your_department"
MAX_ISSUES_STORED = 50_000


def _period_ok(period: str) -> bool:
    return bool(re.fullmatch(r"20\d{2}-(0[1-9]|1[0-2])", period or ""))


def _village_name(code: str) -> str:
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or ""


def dept_batch_upload(*, actor, kind: str, path: Path, period: str, filename: str = "") -> DeptBatch:
    """Validate and store a department file. Department officers upload only their own kind.

    Re-uploading the same bytes for the same kind and month returns the existing batch (idempotent);
    different bytes make the next version, which supersedes the earlier one in later runs.
    """
    require(actor, Cap.DEPT_UPLOAD)
    spec = source_get(kind)
    if actor.role == Role.DEPT_OFFICER and actor.department not in spec.departments:
        raise PermissionDenied(f"本部门（{actor.department or '未设置'}）不能上传“{spec.title}”数据")
    if not _period_ok(period):
        raise DomainError(E_PERIOD, f"数据月份“{period}”格式错误，应为 YYYY-MM", field="period")
    path = Path(path)
    data = path.read_bytes()
    upload_check(data=data, file_name=filename or path.name, actor=actor, entry="screening.upload")
    sha = hashlib.sha256(data).hexdigest()
    same = DeptBatch.objects.filter(kind=kind, period=period, sha256=sha).first()
    if same is not None:
        return same
    parsed = parse_rows(read_table(path), spec, village_name=_village_name, today=clock.today())
    if not parsed.rows:
        raise DomainError(
            E_NO_VALID_ROWS,
            f"文件没有可用的数据行（共{parsed.rows_total}行，全部有误），请按问题清单修改后重新上传",
            details={"errors": [e.__dict__ for e in parsed.errors[:200]]},
        )
    with transaction.atomic():
        version = (
            DeptBatch.objects.select_for_update()
            .filter(kind=kind, period=period)
            .aggregate(v=Max("version"))["v"]
            or 0
        ) + 1
        batch = DeptBatch.objects.create(
            kind=kind,
            department=actor.department or "",
            period=period,
            version=version,
            filename=filename or path.name,
            sha256=sha,
            uploaded_by=actor,
            uploaded_at=clock.now(),
            rows_total=parsed.rows_total,
            rows_ok=len(parsed.rows),
            rows_rejected=len({e.row for e in parsed.errors}),
            rows_id_problem=len({w.row for w in parsed.warnings if w.code != "id_upgraded"}),
            header_row=parsed.header_row,
            mapping=parsed.mapping,
            parquet_path="",
        )
        rel = Path("batches") / kind / period / f"batch_{batch.pk}_v{version}.parquet"
        out = files_dir() / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        to_frame(parsed.rows, spec, batch_id=batch.pk).write_parquet(out)
        batch.parquet_path = str(rel)
        batch.save(update_fields=["parquet_path"])
        issues = [
            BatchIssue(batch=batch, severity=sev, row=e.row, column=e.column[:64], message=e.message[:300],
                       value=str(e.value)[:200], code=e.code[:40])
            for sev, lst in ((BatchIssue.ERROR, parsed.errors), (BatchIssue.WARNING, parsed.warnings))
            for e in lst
        ][:MAX_ISSUES_STORED]  # fmt: skip
        BatchIssue.objects.bulk_create(issues, batch_size=2000)
        audit_record(
            actor=actor,
            event_type="screening.batch_upload",
            obj=batch,
            data={
                "kind": kind, "period": period, "version": version, "sha256": sha,
                "rows_total": batch.rows_total, "rows_ok": batch.rows_ok, "rows_rejected": batch.rows_rejected,
            },
        )  # fmt: skip
    return batch


def batch_abspath(batch: DeptBatch) -> Path:
    return files_dir() / batch.parquet_path


def batches_for_month(month: str, *, kinds: list[str], earliest: dt.date) -> list[DeptBatch]:
    """The current version of every batch of these kinds from ``earliest``'s month up to ``month``."""
    first = f"{earliest:%Y-%m}"
    qs = DeptBatch.objects.filter(kind__in=kinds, period__gte=first, period__lte=month).order_by(
        "kind", "period", "-version"
    )
    seen: set[tuple[str, str]] = set()
    out = []
    for b in qs:
        if (b.kind, b.period) not in seen:
            seen.add((b.kind, b.period))
            out.append(b)
    return out
