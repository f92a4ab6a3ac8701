"""Department uploads: one file → one immutable, versioned batch (Parquet + DB record + issues)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max

from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.core.masking import mask_text
from fangpin.core.uploads import upload_check
from fangpin.regions.models import Region

from ..engine.store import batch_write
from ..models import BatchIssue, DeptBatch, DeptMapping
from ..protect import metadata, protect_frame
from ..registry_export import files_dir
from ..sources import source_get
from ..sources.parse import mapping_preview, norm_header, parse_rows, read_table, resolve_layout, to_frame

E_PERIOD = "screening_period_invalid"
E_NO_VALID_ROWS = "screening_no_valid_rows"
E_NOT_YOUR_DEPARTMENT = "screening_not_your_department"
E_MAPPING_COLUMN = "screening_mapping_column"
MAX_ISSUES_STORED = 50_000


def _period_ok(period: str) -> bool:
    return bool(re.fullmatch(r"20\d{2}-(0[1-9]|1[0-2])", period or ""))


def _village_name(code: str) -> str:
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or ""


def _department(actor, spec, on_behalf_of: str | None) -> tuple[str, bool]:
    """The department a file is uploaded for: the officer's own, or — for a county admin only — the one
    named in ``on_behalf_of`` (recorded as an upload on the department's behalf)."""
    if on_behalf_of:
        if actor.role != Role.COUNTY_ADMIN:
            raise PermissionDenied("只有县级管理员可以代部门上传")
        if on_behalf_of not in spec.departments:
            raise DomainError(
                E_NOT_YOUR_DEPARTMENT,
                f"“{spec.title}”由{'、'.join(spec.departments)}上传，不能以“{on_behalf_of}”名义代传",
                field="on_behalf_of",
            )
        return on_behalf_of, True
    require(actor, Cap.DEPT_UPLOAD)
    if actor.role == Role.DEPT_OFFICER and actor.department not in spec.departments:
        raise PermissionDenied(f"本部门（{actor.department or '未设置'}）不能上传“{spec.title}”数据")
    return actor.department or "", False


def mapping_saved(department: str, kind: str) -> dict[str, str]:
    m = DeptMapping.objects.filter(department=department, kind=kind).first()
    return dict(m.columns) if m else {}


def dept_mapping_preview(
    *, actor, kind: str, path: Path, on: dt.date, on_behalf_of: str | None = None, file_name: str = ""
) -> dict[str, Any]:
    """The mapping step: how the file's headers are read with the department's saved mapping, the one
    question to answer if any, and the first rows as parsed. Changes nothing."""
    spec = source_get(kind)
    department, _ = _department(actor, spec, on_behalf_of)
    table = read_table(Path(path), file_name=file_name)
    out = mapping_preview(table, spec, saved=mapping_saved(department, kind), today=on)
    out.update(department=department, kind=kind, title=spec.title, saved=mapping_saved(department, kind))
    return out


def _column_key(spec, key: str) -> str:
    k = key.strip()
    for c in spec.columns:
        if k in (c.name, c.title) or norm_header(k) == norm_header(c.title):
            return c.name
    raise DomainError(
        E_MAPPING_COLUMN,
        f"“{spec.title}”没有“{key}”这一列（可用：{'、'.join(c.title for c in spec.columns)}）",
        field="columns",
    )


def dept_mapping_save(
    *,
    actor,
    kind: str,
    columns: dict[str, str],
    path: Path | None = None,
    on_behalf_of: str | None = None,
    on: dt.date | None = None,
) -> DeptMapping:
    """Saves the department's answer (merged into its earlier one): ``{列: 文件表头}``, keys as canonical
    names or Chinese titles, a value of "" / "无" = this layout has no such column. With ``path`` every
    named header must exist in that file's header row."""
    spec = source_get(kind)
    department, _ = _department(actor, spec, on_behalf_of)
    answer = {
        _column_key(spec, k): ("" if (v or "").strip() in ("", "无") else v.strip())
        for k, v in columns.items()
    }
    if path is not None:
        table = read_table(Path(path))
        try:
            lay = resolve_layout(table, spec, {**mapping_saved(department, kind), **answer})
            heads = {norm_header(h) for h in lay.headers}
        except DomainError:
            heads = {norm_header(c) for row in table[:15] for c in row}
        absent = [v for v in answer.values() if v and norm_header(v) not in heads]
        if absent:
            raise DomainError(
                E_MAPPING_COLUMN, f"文件中没有表头：{'、'.join(f'“{h}”' for h in absent)}", field="columns"
            )
    with transaction.atomic():
        m = DeptMapping.objects.select_for_update().filter(department=department, kind=kind).first()
        before = dict(m.columns) if m else {}
        if m is None:
            m = DeptMapping(department=department, kind=kind, columns={}, version=0)
        m.columns = {**before, **answer}
        m.saved_by, m.saved_at, m.version = actor, clock.now(), m.version + 1
        m.save()
        audit_record(
            actor=actor, event_type="screening.mapping_save", obj=m,
            data={"department": department, "kind": kind, "before": before, "after": m.columns,
                  "on_behalf": bool(on_behalf_of)},
        )  # fmt: skip
    return m


def dept_batch_upload(
    *,
    actor,
    kind: str,
    path: Path,
    period: str,
    filename: str = "",
    on: dt.date,
    on_behalf_of: str | None = None,
) -> DeptBatch:
    """Validate and store a department file. Department officers upload only their own kind; a county
    admin may upload on a department's behalf (``on_behalf_of``, recorded on the batch and the audit).

    Columns are found by header (aliases, fallbacks, the file kind) and the department's saved mapping;
    a layout still not recognised raises ``E_MAPPING_NEEDED`` with the question (answer it with
    ``dept_mapping_save``). Re-uploading the same bytes for the same kind and month returns the existing
    batch (idempotent); different bytes make the next version, which supersedes the earlier one.
    """
    spec = source_get(kind)
    department, behalf = _department(actor, spec, on_behalf_of)
    if not _period_ok(period):
        raise DomainError(E_PERIOD, f"数据月份“{period}”格式错误，应为 YYYY-MM", field="period")
    today = on
    path = Path(path)
    name = filename or path.name
    data = path.read_bytes()
    upload_check(data=data, file_name=filename or path.name, actor=actor, entry="screening.upload")
    sha = hashlib.sha256(data).hexdigest()
    same = DeptBatch.objects.filter(kind=kind, period=period, sha256=sha).first()
    if same is not None:
        return same
    parsed = parse_rows(
        read_table(path, file_name=name), spec, village_name=_village_name, today=today,
        saved=mapping_saved(department, kind), filename=name,
    )  # fmt: skip
    if not parsed.rows:
        raise DomainError(
            E_NO_VALID_ROWS,
            f"文件“{name}”没有可用的数据行（共{parsed.rows_total}行，全部有误），请按问题清单修改后重新上传",
            details={"errors": [e.__dict__ for e in parsed.errors[:200]]},
        )
    dates = [r["event_date"] for r in parsed.rows if r.get("event_date")]
    with transaction.atomic():
        version = (
            DeptBatch.objects.select_for_update()
            .filter(kind=kind, period=period)
            .aggregate(v=Max("version"))["v"]
            or 0
        ) + 1
        batch = DeptBatch.objects.create(
            kind=kind,
            department=department,
            period=period,
            version=version,
            filename=name,
            sha256=sha,
            uploaded_by=actor,
            uploaded_at=clock.now(),
            on_behalf=behalf,
            rows_total=parsed.rows_total,
            rows_ok=len(parsed.rows),
            rows_rejected=len({e.row for e in parsed.errors}),
            rows_id_problem=len(
                {w.row for w in parsed.warnings if w.code.startswith("id_") and w.code != "id_upgraded"}
            ),
            header_row=parsed.header_row,
            mapping=parsed.mapping,
            parquet_path="",
            event_min=min(dates, default=None),
            event_max=max(dates, default=None),
        )
        rel = Path("batches") / kind / period / f"batch_{batch.pk}_v{version}.parquet"
        out = files_dir() / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        # no clear ID at rest: blind index + sealed ID as typed (screening.protect)
        batch_write(protect_frame(to_frame(parsed.rows, spec, batch_id=batch.pk)), out, metadata=metadata())
        batch.parquet_path = str(rel)
        batch.save(update_fields=["parquet_path"])
        issues = [
            BatchIssue(batch=batch, severity=sev, row=e.row, column=e.column[:64],
                       message=mask_text(e.message)[:300], value=mask_text(str(e.value))[:200],
                       code=e.code[:40])  # ID numbers and phones masked (kept beyond the batch file)
            for sev, lst in ((BatchIssue.ERROR, parsed.errors), (BatchIssue.WARNING, parsed.warnings))
            for e in lst
        ][:MAX_ISSUES_STORED]  # fmt: skip
        BatchIssue.objects.bulk_create(issues, batch_size=2000)
        audit_record(
            actor=actor,
            event_type="screening.batch_upload",
            obj=batch,
            data={
                "kind": kind, "period": period, "version": version, "sha256": sha, "department": department,
                "on_behalf": behalf,
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
