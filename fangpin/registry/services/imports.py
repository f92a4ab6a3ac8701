"""Importing the national system's person-level export into the registry (all or nothing).

``import_batch_create`` records the upload (sha256, who, when) and keeps the bytes in the private file
store; ``import_batch_run`` reads, validates every row, and either writes the whole file in one transaction
or writes nothing and leaves per-row rejects plus a reject report (the original rows + 错误原因) the user
can fix and upload again. ``registry_import`` does both in one call (CLI ``--now``, tests); the Huey task
``registry.tasks.import_batch_task`` runs the second half in the background.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import hashlib
import logging
import time
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, RowError
from fangpin.core.masking import mask_text
from fangpin.core.text import visible
from fangpin.core.uploads import upload_check
from fangpin.policy.params import param_value
from fangpin.registry import hooks
from fangpin.registry.choices import SourceKind
from fangpin.registry.flags import household_flags_touch
from fangpin.registry.io.read import read_head, read_table
from fangpin.registry.io.report import write_reject_report
from fangpin.registry.io.validate import validate_table
from fangpin.registry.io.villages import VillageIndex
from fangpin.registry.io.write import apply_plan, build_plan
from fangpin.registry.models import Household, ImportBatch, ImportReject, ImportStatus, Person
from fangpin.registry.services.import_mapping import question_payload, saved_mappings
from fangpin.registry.services.members import do_member_move

log = logging.getLogger(__name__)

E_NO_SCOPE = "import_no_scope"
E_NOT_PENDING = "import_not_pending"
E_ENROL = "monitoring_enrol_failed"
E_MOVE = "move_follow_failed"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
E_REPORT = "import_report_conflict"  # 409 in the API: the stored report cannot be served


class _Rollback(Exception):
    """Raised inside the write transaction when a later step refuses: everything rolls back."""

    def __init__(self, rejects: list[RowError]) -> None:
        self.rejects = rejects


def _files_dir(sub: str) -> Path:
    d = Path(settings.FANGPIN_FILES_DIR) / sub
    d.mkdir(parents=True, exist_ok=True)
    return d


def import_batch_create(
    *,
    actor,
    file_name: str,
    data: bytes,
    on: dt.date,
    income_year: int | None = None,
    dry_run: bool = False,
    kind: str = ImportBatch.KIND_REGISTRY,
) -> ImportBatch:
    """Record an upload of the business date ``on``. The bytes go to the private file store (never under
    MEDIA_URL). ``income_year`` (the 监测对象信息 income columns' year) defaults to the year before ``on``;
    the other national files (``kind``) have none."""
    require(actor, Cap.REGISTRY_IMPORT)
    if actor.scope_prefix is None:
        raise DomainError(E_NO_SCOPE, "您没有管辖区域，不能导入户档案")
    if len(data) > MAX_UPLOAD_BYTES:
        raise DomainError("file_too_large", f"文件超过{MAX_UPLOAD_BYTES // 1024 // 1024}MB上限")
    if kind != ImportBatch.KIND_REGISTRY:
        income_year = None
    elif income_year is None:
        income_year = on.year - 1
    digest = hashlib.sha256(data).hexdigest()
    batch = ImportBatch.objects.create(
        file_name=Path(file_name).name[:255],
        sha256=digest,
        size=len(data),
        income_year=income_year,
        dry_run=dry_run,
        created_by=actor,
        kind=kind,
    )
    path = _files_dir("imports") / f"{batch.pk}-{digest[:16]}{Path(file_name).suffix.lower()[:6]}"
    path.write_bytes(data)
    batch.upload_path = str(path)
    batch.save(update_fields=["upload_path"])
    return batch


def _follow_moves(*, actor, moves: dict[int, dict[str, Any]], on: dt.date) -> list[dict[str, Any]]:
    """After the import moved households (``io.write._move``): their open work in the other parts follows
    them, in the import's transaction (a refusal rolls the whole import back)."""
    if not moves:
        return []
    followers = hooks.move_followers()
    households = Household.objects.in_bulk(list(moves))
    out = []
    for pk, m in moves.items():
        row = {"household_no": m["household_no"], "from": m["from"], "to": m["to"]}
        for name, follow in followers:
            try:
                row[name] = follow(
                    actor=actor, household=households[pk], old_village=m["from"], new_village=m["to"], on=on
                )
            except DomainError as e:
                raise _Rollback([RowError(m["row"], "村", e.message, m["to"], e.code or E_MOVE)]) from e
        out.append(row)
    return out


def _move_members(
    *, actor, batch_id: int, moves: dict[int, dict[str, Any]], hh_ids: dict[str, int], on: dt.date
) -> list[dict[str, Any]]:
    """Persons the file lists under another household with a stated 成员变更 (迁移/分户) move through the
    registry member service: MemberChange rows in both households, a person version, audit."""
    if not moves:
        return []
    persons = Person.objects.in_bulk(list(moves))
    targets = Household.objects.in_bulk([hh_ids[m["household_no"]] for m in moves.values()])
    out = []
    for pk, m in moves.items():
        do_member_move(
            actor=actor,
            person=persons[pk],
            to_household=targets[hh_ids[m["household_no"]]],
            how=m["kind"],
            date=on,
            source_kind=SourceKind.IMPORT,
            source_ref=f"导入批次#{batch_id} 第{m['row']}行",
            note=f"导入批次#{batch_id}：文件注明{m['kind']}，户{m['from_household_no']}→户{m['household_no']}",
        )
        out.append(
            {"row": m["row"], "from": m["from_household_no"], "to": m["household_no"], "how": m["kind"]}
        )
    return out


def _measure_payload(parsed, hh_ids: dict[str, int]) -> list[dict[str, Any]]:
    """The 帮扶措施 cells of monitoring households, per person (for the monitoring part's measure import)."""
    from fangpin.registry.io.columns import MEASURE_HEADERS

    monitored = {no for no, h in parsed.households.items() if h.monitoring and h.monitoring.get("category")}
    out = []
    for p in parsed.persons:
        if p.household_no not in monitored:
            continue
        facts = p.fields.get("national_facts") or {}
        cells = {h: facts[h] for h in MEASURE_HEADERS if facts.get(h)}
        if cells:
            h = parsed.households[p.household_no]
            out.append(
                {
                    "household_id": hh_ids[p.household_no],
                    "identified_on": h.monitoring["identified_on"],
                    "id_number": p.id_number,
                    "row": p.row,
                    "cells": cells,
                }
            )
    return out


def _hand_over_measures(*, actor, batch: ImportBatch, payload: list[dict[str, Any]]) -> dict[str, Any]:
    """Measures named in the export become 帮扶措施 of the household's monitoring object, through the
    monitoring part's import service (idempotent: a re-import adds nothing)."""
    if not payload:
        return {"persons": 0}
    try:
        res = hooks.monitoring().measures_import(actor=actor, rows=payload, source_ref=f"导入批次#{batch.pk}")
    except DomainError as e:
        raise _Rollback([RowError(0, "帮扶措施", e.message, "", e.code or "measure_import_failed")]) from e
    return {"persons": len(payload), "handed_over": True, **res}


def _monitoring_payload(parsed, hh_ids: dict[str, int] | None = None) -> list[dict[str, Any]]:
    out = []
    for no, h in parsed.households.items():
        if not h.monitoring:
            continue
        m = h.monitoring
        out.append(
            {
                "household_no": no,
                "household_id": (hh_ids or {}).get(no),
                "row": h.first_row,
                "category": m["category"],
                "risk_types": m["risk_types"],
                "identified_on": m["identified_on"].isoformat() if m["identified_on"] else None,
                "eliminated": m["eliminated"],
                "elimination_method": m["elimination_method"],
                "eliminated_on": m["eliminated_on"].isoformat() if m["eliminated_on"] else None,
            }
        )
    return out


def _hand_over_monitoring(*, actor, batch: ImportBatch, payload: list[dict[str, Any]]) -> dict[str, Any]:
    """All monitoring households in one ``enrol_existing_many`` call through the monitoring hook (one lead,
    object and audit event each, written in bulk). Items are plain dicts (``enrol_existing``'s keyword
    arguments), so the registry imports nothing of monitoring. A refusal rolls the import back with a
    reject on each refused row: the hook's DomainError carries ``errors`` = [(position, DomainError)] when
    it refused single items, none when it refused the call as a whole."""
    if not payload:
        return {"households": 0, "handed_over": None}
    enrol_many = hooks.monitoring().enrol_existing_many
    households = Household.objects.in_bulk([p["household_id"] for p in payload])
    items = [
        {
            "household": households[p["household_id"]],
            "category": p["category"],
            "risk_types": p["risk_types"],
            "identified_on": dt.date.fromisoformat(p["identified_on"]),
            "eliminated_on": dt.date.fromisoformat(p["eliminated_on"]) if p["eliminated_on"] else None,
            "elimination_method": p["elimination_method"],
            "source_ref": f"导入批次#{batch.pk} 第{p['row']}行",
        }
        for p in payload
    ]
    try:
        enrol_many(actor=actor, items=items)
    except DomainError as e:
        errors = getattr(e, "errors", None)
        if errors:  # single items refused
            rejects = [
                RowError(
                    payload[k]["row"],
                    "监测对象类别",
                    err.message,
                    payload[k]["category"],
                    err.code or E_ENROL,
                )
                for k, err in errors
            ]
        else:  # refused as a whole: every handed-over row carries the reason
            rejects = [
                RowError(p["row"], "监测对象类别", e.message, p["category"], e.code or E_ENROL)
                for p in payload
            ]
        raise _Rollback(rejects) from e
    return {"households": len(payload), "handed_over": True}


def _stored_value(r: RowError) -> str:
    """Reject values are kept masked in the database (the full row stays in the private reject report)."""
    v = visible(str(r.value or ""))  # core/text.py: NUL and bidi characters shown, never stored raw
    if r.column in ("证件号码", "户联系电话", "家庭成员联系电话", "信息采集人联系电话"):
        return mask_text(v) if "E+" not in v.upper() else v
    return mask_text(v)  # an ID number or phone in any other column too (issue #17 item 4)


def reject_report_write(batch: ImportBatch, table, rejects: list[RowError]) -> Path:
    """The reject report of a failed batch, kept only encrypted (SM4-GCM, ``core.sealed_files``, like the
    下载中心's export jobs); its SHA-256 goes to ``batch.details["report_sha256"]`` (checked at download)."""
    from fangpin.core.sealed_files import SUFFIX, sealed_output

    name = f"导入错误报告-批次{batch.pk}.xlsx"
    with sealed_output(_files_dir("reports") / f"{name}{SUFFIX}", name=name) as out:
        write_reject_report(table, rejects, out.path, title=f"导入批次#{batch.pk} {batch.file_name} 错误报告")
    batch.details = {**(batch.details or {}), "report_sha256": out.sha256}
    return out.target


def _fail(batch: ImportBatch, table, rejects: list[RowError], *, actor, message: str) -> ImportBatch:
    ImportReject.objects.bulk_create(
        [
            ImportReject(
                batch=batch,
                row=r.row,
                column=r.column[:100],
                value=_stored_value(r)[:200],
                reason=mask_text(r.message)[:500],
                code=r.code[:40],
            )
            for r in rejects
        ],
        batch_size=2000,
    )
    bad_rows = {r.row for r in rejects}
    batch.rejected = len(bad_rows)
    batch.status = ImportStatus.FAILED
    batch.message = message
    if table is not None:
        batch.error_report_path = str(reject_report_write(batch, table, rejects))
    return batch


def _cyclic_gc_paused(fn):
    """A 100k-person import allocates millions of short-lived containers (cells, row dicts, tuples) and
    Python's cyclic collector rescans the survivors again and again: measured ~5 of 19 CPU seconds. It is
    paused for the import and re-enabled afterwards; reference counting still frees everything that is
    not in a cycle, so memory stays what the import holds."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return run


def _progress(batch: ImportBatch, pct: int, note: str) -> None:
    """A progress record other connections can read while the job runs (the web page polls it). Written
    outside the write transaction, so it is visible at once."""
    batch.progress_pct, batch.progress_note = pct, note
    ImportBatch.objects.filter(pk=batch.pk).update(progress_pct=pct, progress_note=note)


@_cyclic_gc_paused
def import_batch_run(*, batch_id: int, actor, on: dt.date) -> ImportBatch:
    """Validate as of the business date ``on`` and (unless the batch is a dry run) write one batch; moves
    and member changes the file states are dated ``on``. Never raises for bad data: the batch ends
    ``failed`` with rejects, ``mapping`` (the column-mapping question), or ``imported``/``checked``.
    A batch of another national file kind runs through ``kind_imports.kind_batch_run``."""
    require(actor, Cap.REGISTRY_IMPORT)
    batch = ImportBatch.objects.get(pk=batch_id, created_by=actor)
    if batch.kind != ImportBatch.KIND_REGISTRY:
        from fangpin.registry.services.kind_imports import kind_batch_run

        return kind_batch_run(batch_id=batch.pk, actor=actor, on=on)
    if batch.status != ImportStatus.PENDING:
        raise DomainError(E_NOT_PENDING, f"导入批次#{batch.pk}已处理（{batch.get_status_display()}）")
    batch.status = ImportStatus.VALIDATING
    batch.started_at = clock.now()
    batch.save(update_fields=["status", "started_at"])
    _progress(batch, 5, "读取文件")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    table = None
    try:
        data = Path(batch.upload_path).read_bytes()
        try:
            upload_check(data=data, file_name=batch.file_name, actor=actor, entry="registry.import")
            table = read_table(
                data, batch.file_name, mappings=saved_mappings(read_head(data, batch.file_name))
            )
        except DomainError as e:
            _fail(batch, None, [RowError(0, "", e.message, "", e.code)], actor=actor, message=e.message)
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        timings["read"] = time.perf_counter() - t0
        batch.header_row = table.header_row
        if table.needs_mapping:  # never guessed: the user answers the mapping question first
            batch.rows = len(table.rows)
            batch.details = {"mapping_question": question_payload(table)}
            batch.status = ImportStatus.MAPPING
            parts = []
            if table.unknown_headers:
                parts.append(
                    f"{len(table.unknown_headers)}个表头未识别（{'、'.join(table.unknown_headers[:8])}）"
                )
            if table.missing_required:
                parts.append(
                    "缺少必需列" + "、".join(q for q in batch.details["mapping_question"]["missing_required"])
                )
            batch.message = "；".join(parts) + "。请确认列对应后再校验，未写入任何数据"
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        _progress(batch, 20, f"逐行校验（{len(table.rows)}行）")
        batch.header_row = table.header_row
        batch.rows = len(table.rows)
        prefix = actor.scope_prefix
        risk_types = list(param_value("catalogue.risk_types", region_code=prefix, year=on.year))
        t1 = time.perf_counter()
        parsed = validate_table(table, village_index=VillageIndex(prefix), risk_types=risk_types, on=on)
        timings["validate"] = time.perf_counter() - t1
        batch.households = len(parsed.households)
        batch.persons = len(parsed.persons)
        batch.details = {
            "unknown_columns": table.unknown_headers[:50],
            "duplicate_columns": table.duplicate_headers[:50],
            "warnings": len(parsed.warnings),
            "warning_samples": [f"第{w.row}行 {w.column}：{w.message}" for w in parsed.warnings[:20]],
            # what the file spelled differently and what it became, per column (counts of cells)
            "value_mappings": parsed.spellings.as_dict(),
            # recognised columns not stored as such, with the reason (nothing is dropped in silence)
            "columns_not_stored": parsed.not_stored,
            "mapping_version": getattr(saved_mapping_of(table), "version", None),
        }
        if not parsed.ok:
            msg = f"共{len({r.row for r in parsed.rejects})}行有错误，未导入任何数据，请按错误报告修改后重新上传"
            _fail(batch, table, parsed.rejects, actor=actor, message=msg)
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        _progress(batch, 50, "比对现有户档案")
        t2 = time.perf_counter()
        plan = build_plan(parsed, scope_prefix=prefix, income_year=batch.income_year)
        timings["plan"] = time.perf_counter() - t2
        if plan.rejects:
            msg = f"共{len({r.row for r in plan.rejects})}行有错误，未导入任何数据"
            _fail(batch, table, plan.rejects, actor=actor, message=msg)
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        batch.created, batch.updated, batch.unchanged = (
            plan.persons.created,
            plan.persons.updated,
            plan.persons.unchanged,
        )
        batch.details.update(
            households_counts=plan.households.as_dict(),
            persons_counts=plan.persons.as_dict(),
            income_counts=plan.income.as_dict(),
            moves_planned=len(plan.moves),
            member_moves_planned=len(plan.member_moves),
        )
        if batch.dry_run:
            batch.monitoring_rows = _monitoring_payload(parsed)
            batch.status = ImportStatus.CHECKED
            batch.message = "试运行：校验通过，未写入数据"
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        _progress(batch, 65, f"写入户档案（{batch.households}户 {batch.persons}人）")
        t3 = time.perf_counter()
        try:
            with transaction.atomic():
                hh_ids = apply_plan(plan, actor=actor, batch_id=batch.pk, on=on)
                household_flags_touch(hh_ids.values())  # bulk writes send no signal
                # moved households take their open work along before new monitoring rows are handed over
                batch.details["moves"] = _follow_moves(actor=actor, moves=plan.moves, on=on)
                batch.details["member_moves"] = _move_members(
                    actor=actor, batch_id=batch.pk, moves=plan.member_moves, hh_ids=hh_ids, on=on
                )
                timings["write"] = time.perf_counter() - t3
                t4 = time.perf_counter()
                payload = _monitoring_payload(parsed, hh_ids)
                batch.monitoring_rows = payload
                batch.details["monitoring"] = _hand_over_monitoring(actor=actor, batch=batch, payload=payload)
                batch.details["measures"] = _hand_over_measures(
                    actor=actor, batch=batch, payload=_measure_payload(parsed, hh_ids)
                )
                timings["monitoring"] = time.perf_counter() - t4
                batch.status = ImportStatus.IMPORTED
                batch.message = "导入完成"
                _finish(batch, actor=actor, timings=timings, t0=t0)
        except _Rollback as rb:
            batch.monitoring_rows = []
            batch.created = batch.updated = batch.unchanged = 0  # nothing was written after all
            _fail(
                batch,
                table,
                rb.rejects,
                actor=actor,
                message="监测对象纳入或迁移后续处理被拒绝，未导入任何数据",
            )
            return _finish(batch, actor=actor, timings=timings, t0=t0)
        return batch
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("import batch %s crashed", batch.pk)
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED,
            message=f"导入中断，未写入数据：{exc.__class__.__name__}",
            finished_at=clock.now(),
        )
        raise
    finally:
        # The upload is removed after processing, success or not (RES-01); the reject report stays. A dry run
        # that passed keeps it until the user confirms the import (``import_batch_confirm``) or discards it.
        keep = (
            batch.dry_run and batch.status == ImportStatus.CHECKED
        ) or batch.status == ImportStatus.MAPPING
        if batch.upload_path and not keep:
            Path(batch.upload_path).unlink(missing_ok=True)
            ImportBatch.objects.filter(pk=batch.pk).update(upload_path="")
            batch.upload_path = ""


def saved_mapping_of(table):
    from fangpin.registry.models.imports import ImportMapping

    return ImportMapping.objects.filter(kind=ImportBatch.KIND_REGISTRY, signature=table.signature).first()


def _finish(batch: ImportBatch, *, actor, timings: dict[str, float], t0: float) -> ImportBatch:
    timings["total"] = time.perf_counter() - t0
    batch.progress_pct, batch.progress_note = 100, batch.get_status_display()
    batch.details = {**batch.details, "seconds": {k: round(v, 3) for k, v in timings.items()}}
    batch.finished_at = clock.now()
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
            "file_name": batch.file_name,
            "sha256": batch.sha256,
            "status": batch.status,
            "dry_run": batch.dry_run,
            "income_year": batch.income_year,
            "rows": batch.rows,
            "households": batch.households,
            "persons": batch.persons,
            "created": batch.created,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "rejected": batch.rejected,
            "details": {
                k: batch.details.get(k)
                for k in (
                    "households_counts",
                    "income_counts",
                    "monitoring",
                    "moves_planned",
                    "member_moves",
                    "measures",
                    "value_mappings",
                )
            },
        },
    )
    return batch


def registry_import(
    *, actor, file_name: str, data: bytes, on: dt.date, income_year: int | None = None, dry_run: bool = False
) -> ImportBatch:
    """Create and run a batch of the business date ``on`` in this process (CLI ``--now``, tests)."""
    batch = import_batch_create(
        actor=actor, file_name=file_name, data=data, on=on, income_year=income_year, dry_run=dry_run
    )
    return import_batch_run(batch_id=batch.pk, actor=actor, on=on)


E_NOT_CHECKED = "import_not_checked"


def import_batch_confirm(*, actor, batch_id: int, on: dt.date) -> ImportBatch:
    """Turn a dry run that passed into the real import: a new pending batch over the same stored file
    (same sha256), linked from the dry run; the caller runs or queues it. A dry run is confirmed once."""
    require(actor, Cap.REGISTRY_IMPORT)
    with transaction.atomic():
        checked = ImportBatch.objects.select_for_update().filter(pk=batch_id, created_by=actor).first()
        if checked is None:
            raise DomainError("import_not_found", "导入批次不存在或无权访问")
        if not checked.dry_run or checked.status != ImportStatus.CHECKED or checked.confirmed_batch_id:
            raise DomainError(E_NOT_CHECKED, f"导入批次#{checked.pk}不是待确认的校验结果")
        if not checked.upload_path or not Path(checked.upload_path).is_file():
            raise DomainError(E_NOT_CHECKED, "校验时的文件已不在，请重新上传")
        data = Path(checked.upload_path).read_bytes()
        if hashlib.sha256(data).hexdigest() != checked.sha256:
            raise DomainError(E_NOT_CHECKED, "校验后的文件已被改动，请重新上传")
        batch = import_batch_create(
            actor=actor,
            file_name=checked.file_name,
            data=data,
            on=on,
            income_year=checked.income_year,
            kind=checked.kind,
        )
        checked.confirmed_batch = batch
        checked.save(update_fields=["confirmed_batch"])
        Path(checked.upload_path).unlink(missing_ok=True)
        ImportBatch.objects.filter(pk=checked.pk).update(upload_path="")
        audit_record(
            actor=actor,
            event_type="registry.import_confirm",
            obj=batch,
            region_code=actor.region_id or "",
            data={"checked_batch": checked.pk, "sha256": checked.sha256},
        )
    return batch


def import_rejects(batch: ImportBatch) -> list[ImportReject]:
    return list(batch.rejects.all())


def import_upload_check(*, actor, file_name: str, data: bytes, income_year: int, on: dt.date) -> ImportBatch:
    """The upload step of the browser and the API: record the file as a dry run and validate it at once
    as of ``on`` (row by row, writing nothing). Which national file it is (监测对象信息, （乡村建设）户信息,
    （自定义）行政村信息) is told by its name or header (``io.kinds.file_kind``). The batch says ``checked``
    (ready to confirm), ``mapping`` (the column-mapping question) or ``failed`` (rejects)."""
    from fangpin.registry.io.kinds import file_kind

    # the one upload guard before anything (the kind sniffing included) reads the file: a refused file is
    # answered at once (the browser's page, the API's 400) and audited as ``upload.refused``; no batch
    upload_check(data=data, file_name=file_name, actor=actor, entry="registry.import")
    batch = import_batch_create(
        actor=actor,
        file_name=file_name,
        data=data,
        on=on,
        income_year=income_year,
        dry_run=True,
        kind=file_kind(data, file_name, guarded=True),
    )
    return import_batch_run(batch_id=batch.pk, actor=actor, on=on)


def import_confirm_queue(*, actor, batch_id: int, on: dt.date) -> ImportBatch:
    """Confirm a checked dry run and queue the real import of the business date ``on`` as a background job
    (Huey); the new batch's progress record is what the caller follows."""
    from fangpin.registry.tasks import import_batch_task

    batch = import_batch_confirm(actor=actor, batch_id=batch_id, on=on)
    import_batch_task(batch.pk, actor.pk, on.isoformat())
    batch.refresh_from_db()
    return batch


def import_report_open(*, actor, batch_id: int) -> tuple[BinaryIO, str]:
    """The reject report of one of the actor's batches: (the decrypted workbook in an unlinked temporary
    file — the caller closes it —, the download name). Checked against the SHA-256 recorded when it was
    written; audited (``registry.import_report_download`` with the digest), a refusal too. A report written
    before reports were encrypted is served as it is (until the retention purge deletes it)."""
    from fangpin.core import crypto
    from fangpin.core.errors import NotFound
    from fangpin.core.sealed_files import DigestMismatch, sealed_open
    from fangpin.registry.selectors import import_batch_get

    require(actor, Cap.REGISTRY_IMPORT)
    batch = import_batch_get(actor=actor, batch_id=batch_id)
    if not batch.error_report_path or not Path(batch.error_report_path).is_file():
        raise NotFound("错误报告")
    sha = (batch.details or {}).get("report_sha256", "")
    try:
        fh = sealed_open(Path(batch.error_report_path), sha256=sha, allow_clear=not sha)
    except (OSError, crypto.DecryptionError, crypto.MissingKeyError) as e:
        reason = (
            "错误报告与记录的SHA-256不符" if isinstance(e, DigestMismatch) else "错误报告无法解密或已损坏"
        )
        audit_record(actor=actor, event_type="registry.import_report_download", obj=batch, result="failed",
                     reason=reason, region_code=actor.region_id or "")  # fmt: skip
        raise DomainError(E_REPORT, f"{reason}，请重新上传文件生成新的错误报告") from None
    audit_record(
        actor=actor,
        event_type="registry.import_report_download",
        obj=batch,
        region_code=actor.region_id or "",
        data={"sha256": sha, "encrypted": bool(sha)},
    )
    return fh, f"导入错误报告-批次{batch.pk}.xlsx"
