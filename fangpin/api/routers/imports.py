"""数据导入: upload a national export (validated row by row at once, writing nothing), read the result and
its rejects, download the reject report, confirm (the real import runs as a background job) and follow
its progress. The same registry services as the browser's 数据导入 screens."""

import datetime as dt
import hashlib
import re
from urllib.parse import quote

from django.http import FileResponse
from ninja import Field, File, Form, Router, Schema, UploadedFile
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.core.masking import mask_birth_date, mask_text
from fangpin.core.uploads import upload_read
from fangpin.registry.models import ImportStatus
from fangpin.registry.selectors import import_batch_get, import_batch_list
from fangpin.registry.services.import_mapping import (
    batch_file,
    import_batch_remap,
    import_mapping_save,
    mapping_question,
)
from fangpin.registry.services.imports import (
    import_batch_run,
    import_confirm_queue,
    import_report_open,
    import_upload_check,
)

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import BusinessDate, PlainText
from .files import XLSX, binary_response

router = Router(tags=["数据导入"])

RUNNING = {ImportStatus.PENDING, ImportStatus.VALIDATING}


class ImportBatchOut(Schema):
    id: int
    kind: str = Field(
        description="文件类型：registry=监测对象信息，living_conditions=（乡村建设）户信息，village_profile=（自定义）行政村信息"
    )
    file_name: str
    status: str
    status_name: str
    dry_run: bool
    running: bool
    can_confirm: bool
    income_year: int | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    progress_pct: int
    progress_note: str
    rows: int
    households: int
    persons: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    message: str
    has_report: bool
    confirmed_batch_id: int | None
    needs_mapping: bool
    mapping_url: str | None
    remapped_batch_id: int | None


class RejectOut(Schema):
    row: int
    column: str
    value: str
    reason: str
    code: str


def batch_out(b) -> dict:
    return {
        "id": b.pk,
        "kind": b.kind,
        "file_name": b.file_name,
        "status": b.status,
        "status_name": ImportStatus(b.status).label if b.status in ImportStatus.values else b.status,
        "dry_run": b.dry_run,
        "running": b.status in RUNNING,
        "can_confirm": b.dry_run and b.status == ImportStatus.CHECKED and not b.confirmed_batch_id,
        "income_year": b.income_year,
        "created_at": b.created_at,
        "finished_at": b.finished_at,
        "progress_pct": b.progress_pct,
        "progress_note": b.progress_note,
        "rows": b.rows,
        "households": b.households,
        "persons": b.persons,
        "created": b.created,
        "updated": b.updated,
        "unchanged": b.unchanged,
        "rejected": b.rejected,
        "message": b.message,
        "has_report": bool(b.error_report_path),
        "confirmed_batch_id": b.confirmed_batch_id,
        "needs_mapping": _waits_for_mapping(b),
        "mapping_url": f"/api/v1/imports/{b.pk}/mapping" if _waits_for_mapping(b) else None,
        "remapped_batch_id": (b.details or {}).get("remapped_batch"),
    }


def _waits_for_mapping(b) -> bool:
    """A batch stopped at the column-mapping question, not yet answered (answering makes a new batch)."""
    return b.status == ImportStatus.MAPPING and not (b.details or {}).get("remapped_batch")


def _get(request, import_batch_id: int):
    require(request.auth, Cap.REGISTRY_IMPORT)
    return import_batch_get(actor=request.auth, batch_id=import_batch_id)


@router.get("/imports", response={200: list[ImportBatchOut], **ERRORS}, summary="本人的导入批次")
@paginate(Pages)
def import_list(request):
    require(request.auth, Cap.REGISTRY_IMPORT)
    return Mapped.each(import_batch_list(actor=request.auth), batch_out)


@router.post(
    "/imports",
    response={201: ImportBatchOut, **ERRORS},
    summary="上传国家系统导出文件并逐行校验（试运行，不写入；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def import_upload(
    request,
    file: File[UploadedFile],
    income_year: int | None = Form(None, ge=2000, le=2100, description="收入年度（缺省为上一年）"),
):
    """The answer says ``checked`` (``can_confirm``: confirm it) or ``failed`` (``rejected`` rows: read
    ``/imports/{id}/rejects`` or download the report). Nothing reaches the registry before the confirm."""
    require(request.auth, Cap.REGISTRY_IMPORT)
    data = upload_read(file, actor=request.auth, entry="registry.import")
    year = income_year or clock.today().year - 1
    digest = {"sha256": hashlib.sha256(data).hexdigest(), "name": file.name, "income_year": year}

    def create():
        b = import_upload_check(
            actor=request.auth, file_name=file.name or "", data=data, income_year=year, on=clock.today()
        )
        return 201, to_json(batch_out(b))

    return once(request, "imports.create", digest, create)


@router.get(
    "/imports/{import_batch_id}", response={200: ImportBatchOut, **ERRORS}, summary="导入批次（状态与进度）"
)
def import_detail(request, import_batch_id: int):
    return batch_out(_get(request, import_batch_id))


@router.get(
    "/imports/{import_batch_id}/rejects",
    response={200: list[RejectOut], **ERRORS},
    summary="逐行校验结果（错误行）",
)
@paginate(Pages)
def import_rejects(request, import_batch_id: int):
    """Values of ID number and phone columns are stored masked; the full rows are in the private report."""
    b = _get(request, import_batch_id)
    return Mapped.each(
        b.rejects.all().order_by("row", "id"),
        lambda r: {"row": r.row, "column": r.column, "value": r.value, "reason": r.reason, "code": r.code},
    )


@router.get(
    "/imports/{import_batch_id}/report",
    response={200: None, **ERRORS},
    summary="下载错误报告（xlsx，仅上传人；下载留痕）",
    openapi_extra=binary_response(XLSX),
)
def import_report(request, import_batch_id: int):
    """The workbook is kept SM4-GCM-encrypted at rest; the download is decrypted, checked against the
    SHA-256 recorded when it was written (409 ``import_report_conflict`` if it does not match) and audited."""
    fh, name = import_report_open(actor=request.auth, batch_id=import_batch_id)
    resp = FileResponse(fh, as_attachment=True, filename=name, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


@router.post(
    "/imports/{import_batch_id}/confirm",
    response={201: ImportBatchOut, **ERRORS},
    summary="确认导入（后台任务执行；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def import_confirm(request, import_batch_id: int):
    """Creates the real import batch over the same checked file and queues it; follow it with
    ``GET /imports/{id}`` (``progress_pct``, ``status``). A dry run is confirmed once (409 otherwise)."""
    _get(request, import_batch_id)

    def create():
        try:
            b = import_confirm_queue(actor=request.auth, batch_id=import_batch_id, on=clock.today())
        except DomainError as e:
            if e.code == "import_not_checked":
                raise DomainError("import_confirm_conflict", e.message) from e
            raise
        return 201, to_json(batch_out(b))

    return once(request, f"imports.confirm.{import_batch_id}", {}, create)


# ---- the column-mapping question (unknown headers) ---------------------------------------------------


class MappingUnknownOut(Schema):
    header: str
    key: str | None
    label: str
    source: str
    suggestion: bool


class MappingHeaderOut(Schema):
    header: str
    pos: int
    column: str


class MappingCellOut(Schema):
    text: str
    value: str
    error: str
    note: str = ""


class MappingRowOut(Schema):
    row: int
    cells: list[MappingCellOut]


class MappingChoiceOut(Schema):
    key: str
    label: str


class MappingSavedOut(Schema):
    version: int
    columns: dict[str, str]


class MappingQuestionOut(Schema):
    import_batch_id: int
    kind: str
    title: str = Field(description="国家系统的表名（监测对象信息、（乡村建设）户信息、（自定义）行政村信息）")
    file_name: str
    needed: bool
    header_row: int | None
    unknown: list[MappingUnknownOut]
    missing_required: list[str]
    headers: list[MappingHeaderOut]
    rows: list[MappingRowOut]
    saved: MappingSavedOut | None
    choices: list[MappingChoiceOut]


class MappingAnswerIn(Schema):
    answers: dict[PlainText, PlainText] = Field(
        ...,
        description="每个未识别表头 → 对应列（列键、国家表头或别名；“不导入”或空串表示不导入）",
        max_length=200,
    )
    on: BusinessDate | None = None


_DATE_LIKE = re.compile(r"^\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*$|^\s*\d{8}\s*$")


def _mask(s: str, *, birth: bool = False) -> str:
    """The preview shows the uploader's own file, masked like every API answer: ID numbers and phones
    masked, and no full date (a birth date next to a masked ID rebuilds it) in any column."""
    s = str(s or "")
    if not s:
        return s
    if birth or _DATE_LIKE.match(s):
        return mask_birth_date(s)
    return mask_text(s)


def _question_out(b, q: dict) -> dict:
    birth_cols = {x["pos"] for x in q["headers"] if x["column"] == "出生日期"}
    rows = []
    for r in q["rows"]:
        cells = []
        for x, c in zip(q["headers"], r["cells"], strict=False):
            birth = x["pos"] in birth_cols
            cells.append(
                {
                    "text": _mask(c.get("text", ""), birth=birth),
                    "value": _mask(c.get("value", ""), birth=birth),
                    "error": mask_text(c.get("error", "")),
                    "note": c.get("note", ""),
                }
            )
        rows.append({"row": r["row"], "cells": cells})
    return {
        "import_batch_id": b.pk,
        "kind": q["kind"],
        "title": q["title"],
        "file_name": b.file_name,
        "needed": bool(q["needed"]),
        "header_row": q["header_row"],
        "unknown": [{**u, "suggestion": u["source"] == "proposal"} for u in q["unknown"]],
        "missing_required": q["missing_required"],
        "headers": q["headers"],
        "rows": rows,
        "saved": q["saved"],
        "choices": [{"key": k, "label": v} for k, v in q["choices"]],
    }


def _mapping_batch(request, import_batch_id: int):
    b = _get(request, import_batch_id)
    if not _waits_for_mapping(b):
        raise DomainError(
            "import_mapping_conflict",
            f"导入批次#{b.pk}不是待确认列对应的批次"
            + (
                f"（已另建批次#{b.details['remapped_batch']}）"
                if (b.details or {}).get("remapped_batch")
                else ""
            ),
        )
    return b


@router.get(
    "/imports/{import_batch_id}/mapping",
    response={200: MappingQuestionOut, **ERRORS},
    summary="列对应问题：未识别的表头、建议（仅供参考，不自动采用）与按建议解析的前几行（已脱敏）",
)
def import_mapping_get(request, import_batch_id: int):
    """The browser's 列对应 question of a batch in status ``mapping``: the unknown headers (``source``:
    ``proposal`` is a suggestion, marked ``suggestion: true``, never applied unasked), the required columns no
    header names, and the first rows as they would be parsed. ID numbers, phones and dates are masked."""
    b = _mapping_batch(request, import_batch_id)
    data = batch_file(actor=request.auth, batch=b)
    q = mapping_question(actor=request.auth, file_name=b.file_name, data=data, on=clock.today(), kind=b.kind)
    return _question_out(b, q)


@router.post(
    "/imports/{import_batch_id}/mapping",
    response={201: ImportBatchOut, **ERRORS},
    summary="回答列对应问题（按表头布局保存、留痕），再以新批次重新校验同一文件（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def import_mapping_answer(request, import_batch_id: int, payload: MappingAnswerIn):
    """Every unknown header must be answered (a column or “不导入”); a refusal names the header in
    ``field``. The answer is saved for this header layout (the next upload with the same headers is not
    asked again) and the same file is checked again as a new dry-run batch, which this answers."""
    _get(request, import_batch_id)  # out of scope or another user's: 404 before any replay
    on = payload.on or clock.today()

    def create():
        b = _mapping_batch(request, import_batch_id)
        data = batch_file(actor=request.auth, batch=b)
        import_mapping_save(
            actor=request.auth,
            file_name=b.file_name,
            data=data,
            answers=dict(payload.answers),
            on=on,
            kind=b.kind,
        )
        new = import_batch_remap(actor=request.auth, batch_id=b.pk, on=on)
        import_batch_run(batch_id=new.pk, actor=request.auth, on=on)
        new.refresh_from_db()
        return 201, to_json(batch_out(new))

    return once(request, f"imports.mapping.{import_batch_id}", payload.dict(), create)
