"""Import and export of the other national files: （乡村建设）户信息 and （自定义）行政村信息.

Same guarantees as the 监测对象信息 import (``services/imports.py``): the upload is an ``ImportBatch``
(``kind`` = the file kind) with its SHA-256 in the private file store; header row found among the first
20 rows, aliases and hand-saved spellings mapped (and listed in ``details["mapped"]``); every row checked
before anything is written; any reject → nothing written, ``ImportReject`` rows and an xlsx reject report
(the original rows + 错误原因); otherwise one transaction, unchanged records untouched (a re-import writes
no history or provenance rows); one ``registry.import`` audit event either way. Runs in-process (these
files are one row per household or village, far smaller than the person-level export).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound, PermissionDenied, RowError
from fangpin.core.masking import mask_text
from fangpin.core.uploads import upload_check
from fangpin.regions.models import code_prefix
from fangpin.registry.io.kinds import MODULES, SPECS
from fangpin.registry.io.kinds.base import convert_table, not_stored_report, read_kind_table
from fangpin.registry.io.kinds.store import store
from fangpin.registry.io.read import read_head
from fangpin.registry.io.xlsx import write_csv, write_xlsx
from fangpin.registry.models import (
    HouseholdLivingConditions,
    ImportBatch,
    ImportReject,
    ImportStatus,
    VillageProfile,
)
from fangpin.registry.services.import_mapping import needs_mapping, question_payload, saved_mappings
from fangpin.registry.services.imports import E_NOT_PENDING, import_batch_create, reject_report_write

E_KIND = "import_kind"
E_EXPORT_FORMAT = "export_format"
_MODEL = {"living_conditions": (HouseholdLivingConditions, "household_id"), "village_profile": (VillageProfile, "village_id")}  # fmt: skip


def _files_dir(sub: str) -> Path:
    from django.conf import settings

    d = Path(settings.FANGPIN_FILES_DIR) / sub
    d.mkdir(parents=True, exist_ok=True)
    return d


def _reject_rows(batch: ImportBatch, rejects: list[RowError]) -> None:
    ImportReject.objects.bulk_create(
        [
            ImportReject(
                batch=batch,
                row=r.row,
                column=r.column[:100],
                value=mask_text(str(r.value or ""))[:200],  # ID numbers and phones masked in every column
                reason=mask_text(r.message)[:500],
                code=r.code[:40],
            )
            for r in rejects
        ]
    )


def kind_import(
    *, actor, kind: str, file_name: str, data: bytes, on: dt.date, dry_run: bool = False
) -> ImportBatch:
    """Import one 户信息 / 行政村信息 file all or nothing, in this process (CLI, tests): ``kind_batch_run``
    over a new batch of the business date ``on``."""
    if kind not in SPECS:
        raise DomainError(E_KIND, f"不支持的导入类型“{kind}”")
    require(actor, Cap.REGISTRY_IMPORT)
    batch = import_batch_create(
        actor=actor, file_name=file_name, data=data, on=on, dry_run=dry_run, kind=kind
    )
    return kind_batch_run(batch_id=batch.pk, actor=actor, on=on)


def kind_batch_run(*, batch_id: int, actor, on: dt.date) -> ImportBatch:
    """Check and (unless a dry run) write one 户信息 / 行政村信息 batch (``ImportBatch.kind``). Never raises
    for bad data: the batch ends ``failed`` with rejects, ``mapping`` (headers no alias or saved answer
    knows, or a required column missing: the column-mapping question of ``services/import_mapping.py``,
    nothing written, the upload kept for the answer), or ``imported`` / ``checked`` with counts in
    ``details``. ``on`` is the business date the updated facts are observed on (field provenance)."""
    require(actor, Cap.REGISTRY_IMPORT)
    batch = ImportBatch.objects.get(pk=batch_id, created_by=actor)
    if batch.status != ImportStatus.PENDING:
        raise DomainError(E_NOT_PENDING, f"导入批次#{batch.pk}已处理（{batch.get_status_display()}）")
    kind = batch.kind
    if kind not in SPECS:
        raise DomainError(E_KIND, f"不支持的导入类型“{kind}”")
    spec, module = SPECS[kind], MODULES[kind]
    model, key_field = _MODEL[kind]
    batch.status, batch.started_at = ImportStatus.VALIDATING, clock.now()
    t0 = time.perf_counter()
    table = None
    rejects: list[RowError] = []
    details: dict = {}
    try:
        data = Path(batch.upload_path).read_bytes()
        upload_check(data=data, file_name=batch.file_name, actor=actor, entry=f"registry.import.{kind}")
        saved = saved_mappings(read_head(data, batch.file_name), kind)
        table, total_rows = read_kind_table(data, batch.file_name, spec, mappings=saved)
    except DomainError as e:
        rejects = [RowError(0, "", e.message, "", e.code)]
    if table is not None and needs_mapping(table, kind):  # never guessed: the user answers first
        batch.header_row, batch.rows = table.header_row, len(table.rows)
        q = question_payload(table, kind)
        batch.details = {"mapping_question": q}
        batch.status = ImportStatus.MAPPING
        parts = []
        if table.unknown_headers:
            parts.append(
                f"{len(table.unknown_headers)}个表头未识别（{'、'.join(table.unknown_headers[:8])}）"
            )
        if q["missing_required"]:
            parts.append("缺少必需列" + "、".join(q["missing_required"]))
        batch.message = f"{spec.title}：" + "；".join(parts) + "。请确认列对应后再校验，未写入任何数据"
        _finish(batch, actor=actor, t0=t0)
        return batch
    if table is not None:
        cells = convert_table(table, spec)
        planned, existing, plan_rejects, details = module.plan(actor=actor, table=table, cells=cells)
        rejects = cells.rejects + plan_rejects
        batch.header_row, batch.rows = table.header_row, len(table.rows)
        mapping = saved_mapping_of(table, kind)
        details |= {
            "mapped": {h: dict(c) for h, c in cells.mapped.items()},
            "unknown_columns": table.unknown_headers,
            "columns_answered_not_stored": table.ignored_headers,  # 不导入 in the saved mapping answer
            "mapping_version": mapping.version if mapping else None,
            "not_stored": not_stored_report(table, spec),
            "total_rows_skipped": total_rows,
            "duplicate_columns": table.duplicate_headers,  # a second column of the same meaning: ignored
        }
    batch.details = details
    if rejects:
        rejects.sort(key=lambda r: (r.row, r.column))
        _reject_rows(batch, rejects)
        batch.rejected = len({r.row for r in rejects})
        batch.status = ImportStatus.FAILED
        batch.message = f"{spec.title}未通过校验：{batch.rejected}行有错误，未写入任何数据"
        if table is not None:
            batch.error_report_path = str(reject_report_write(batch, table, rejects))
    elif batch.dry_run:
        batch.status = ImportStatus.CHECKED
        batch.message = f"{spec.title}校验通过（试运行，未写入）"
    else:
        with transaction.atomic():
            res = store(
                model,
                key_field=key_field,
                planned=planned,
                existing=existing,
                batch=batch,
                actor=actor,
                now=clock.now(),
                on=on,
                household_of=(lambda o: o.household_id) if kind == "living_conditions" else None,
                entity="living",
            )
            if kind == "living_conditions":  # bulk writes send no signal (registry.flags)
                from fangpin.registry.flags import household_flags_touch

                household_flags_touch(
                    o.get("household_id") if isinstance(o, dict) else getattr(o, "household_id", None)
                    for o in (planned.values() if isinstance(planned, dict) else planned)
                )
            batch.created, batch.updated, batch.unchanged = res.created, res.updated, res.unchanged
            batch.details = details | {"changed_fields": res.changed_fields}
            batch.status = ImportStatus.IMPORTED
            batch.message = f"{spec.title}已导入：新增{res.created} 更新{res.updated} 未变{res.unchanged}"
            _finish(batch, actor=actor, t0=t0)
        return batch
    _finish(batch, actor=actor, t0=t0)
    return batch


def saved_mapping_of(table, kind: str):
    from fangpin.registry.models.imports import ImportMapping

    return ImportMapping.objects.filter(kind=kind, signature=table.signature).first()


def _finish(batch: ImportBatch, *, actor, t0: float) -> None:
    if counts := batch.details.get("households_counts"):
        batch.households = sum(counts.values())
    batch.details = {**batch.details, "seconds": round(time.perf_counter() - t0, 3)}
    batch.finished_at = clock.now()
    # the upload is removed (RES-01) unless it waits for the mapping answer or a dry run's confirmation
    keep = batch.status == ImportStatus.MAPPING or (batch.dry_run and batch.status == ImportStatus.CHECKED)
    if batch.upload_path and not keep:
        Path(batch.upload_path).unlink(missing_ok=True)
        batch.upload_path = ""
    batch.save()
    audit_record(
        actor=actor,
        event_type="registry.import",
        obj=batch,
        region_code=(actor.region_id or ""),
        result={
            ImportStatus.IMPORTED: "ok",
            ImportStatus.CHECKED: "dry_run",
            ImportStatus.MAPPING: "mapping_needed",
        }.get(batch.status, "rejected"),
        data={
            "kind": batch.kind,
            "file_name": batch.file_name,
            "sha256": batch.sha256,
            "status": batch.status,
            "rows": batch.rows,
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "rejected": batch.rejected,
        },
    )


def kind_export(
    *, actor, kind: str, out_path: Path | str, region_code: str | None = None, unmasked: bool = False
) -> tuple[Path, int]:
    """Write the 户信息 / 行政村信息 export (xlsx: title, info row, header on row 3; or CSV) and audit it.
    ID numbers masked unless ``unmasked`` and the actor may export plain IDs. Returns (path, rows)."""
    if kind not in SPECS:
        raise DomainError(E_KIND, f"不支持的导出类型“{kind}”")
    require(actor, Cap.REGISTRY_EXPORT)
    if unmasked and not actor.can(Cap.EXPORT_UNMASKED):
        raise PermissionDenied("无权导出明文身份证号和电话，请申请脱敏导出")
    out_path = Path(out_path)
    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise DomainError(E_EXPORT_FORMAT, "导出文件须为.xlsx或.csv")
    prefix = None
    if region_code:
        prefix = code_prefix(region_code)
        if actor.scope_prefix is None or not prefix.startswith(actor.scope_prefix):
            raise NotFound("区域")
    spec = SPECS[kind]
    headers, rows, n = MODULES[kind].export_rows(actor=actor, region_code=prefix, masked=not unmasked)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    masked_txt = "否（明文）" if unmasked else "是"
    subtitle = (
        f"导出人：{actor.username}  导出时间：{clock.now():%Y-%m-%d %H:%M}  "
        f"范围：{region_code or actor.region_id}  脱敏：{masked_txt}"
    )
    if suffix == ".csv":
        write_csv(out_path, headers=headers, rows=rows)
    else:
        write_xlsx(out_path, title=spec.title, subtitle=subtitle, headers=headers, rows=rows)
    digest = hashlib.sha256(out_path.read_bytes()).hexdigest()
    audit_record(
        actor=actor,
        event_type="registry.export",
        object_type="registry.export",
        object_id=digest[:16],
        region_code=region_code or actor.region_id or "",
        data={"kind": kind, "rows": n, "columns": headers, "masked": not unmasked, "format": suffix[1:],
              "file_name": out_path.name, "sha256": digest},
    )  # fmt: skip
    return out_path, n
