"""数据导入: upload a national export (validated row by row at once, writing nothing), read the result and
its rejects, download the reject report, confirm (the real import runs as a background job) and follow
its progress. The same registry services as the browser's 数据导入 screens."""

import datetime as dt
import hashlib
from urllib.parse import quote

from django.http import FileResponse
from ninja import File, Form, Router, Schema, UploadedFile
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import ImportStatus
from fangpin.registry.selectors import import_batch_get, import_batch_list
from fangpin.registry.services.imports import import_confirm_queue, import_report_open, import_upload_check

from ..errors import ERRORS
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from .files import XLSX, binary_response

router = Router(tags=["数据导入"])

RUNNING = {ImportStatus.PENDING, ImportStatus.VALIDATING}


class ImportBatchOut(Schema):
    id: int
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


class RejectOut(Schema):
    row: int
    column: str
    value: str
    reason: str
    code: str


def batch_out(b) -> dict:
    return {
        "id": b.pk,
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
    }


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
)
def import_upload(
    request,
    file: File[UploadedFile],
    income_year: int | None = Form(None, ge=2000, le=2100, description="收入年度（缺省为上一年）"),
):
    """The answer says ``checked`` (``can_confirm``: confirm it) or ``failed`` (``rejected`` rows: read
    ``/imports/{id}/rejects`` or download the report). Nothing reaches the registry before the confirm."""
    require(request.auth, Cap.REGISTRY_IMPORT)
    data = file.read()
    year = income_year or clock.today().year - 1
    digest = {"sha256": hashlib.sha256(data).hexdigest(), "name": file.name, "income_year": year}

    def create():
        b = import_upload_check(actor=request.auth, file_name=file.name or "", data=data, income_year=year)
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
    path, name = import_report_open(actor=request.auth, batch_id=import_batch_id)
    resp = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type=XLSX)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


@router.post(
    "/imports/{import_batch_id}/confirm",
    response={201: ImportBatchOut, **ERRORS},
    summary="确认导入（后台任务执行；支持 Idempotency-Key）",
)
def import_confirm(request, import_batch_id: int):
    """Creates the real import batch over the same checked file and queues it; follow it with
    ``GET /imports/{id}`` (``progress_pct``, ``status``). A dry run is confirmed once (409 otherwise)."""
    _get(request, import_batch_id)

    def create():
        try:
            b = import_confirm_queue(actor=request.auth, batch_id=import_batch_id)
        except DomainError as e:
            if e.code == "import_not_checked":
                raise DomainError("import_confirm_conflict", e.message) from e
            raise
        return 201, to_json(batch_out(b))

    return once(request, f"imports.confirm.{import_batch_id}", {}, create)
