"""部门筛查: department uploads (the file is kept under a token while the column-mapping question is
answered; preview; upload — a county admin on a department's behalf, recorded as such), the batches and
their row issues, saved mappings, screening runs (started as a background job; status, progress, hits
per rule, leads pushed), the hits, and the link-review queue. The same ``fangpin.screening`` services and
selectors as the browser's 部门筛查 screens."""

import datetime as dt
import hashlib
import re
from typing import Any

from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap
from fangpin.core import clock
from fangpin.core.errors import PermissionDenied
from fangpin.core.masking import mask_birth_date, mask_text
from fangpin.core.uploads import upload_read
from fangpin.screening import selectors as sel
from fangpin.screening.pending import default_behalf, pending_path, pending_store
from fangpin.screening.services.reviews import link_review_decide
from fangpin.screening.services.runs import default_run_date, screening_run_start
from fangpin.screening.services.uploads import dept_batch_upload, dept_mapping_preview, dept_mapping_save
from fangpin.screening.sources import source_get

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import PlainText

router = Router(tags=["部门筛查"])

_DATE_LIKE = re.compile(r"^\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")


# ---- schemas ---------------------------------------------------------------------------------------


class PreviewColumn(Schema):
    name: str
    title: str
    required: bool
    source: str


class PreviewIssue(Schema):
    row: int
    column: str
    message: str
    value: Any = None
    code: str = ""


class PreviewOut(Schema):
    token: str
    kind: str
    title: str
    department: str
    on_behalf_of: str | None
    header_row: int | None
    headers: list[str]
    columns: list[PreviewColumn]
    unmapped: list[str]
    needs_answer: bool
    question: str
    saved: dict[str, str]
    raw: list[list[str]]
    parsed: list[dict[str, Any]]
    errors: list[PreviewIssue]


class UploadForm(Schema):
    kind: PlainText = Field(..., max_length=20, description="部门数据类型，如 medical")
    on_behalf_of: PlainText = Field("", max_length=32, description="县级管理员代部门上传时的部门名")


class MappingIn(Schema):
    kind: PlainText = Field(..., max_length=20)
    columns: dict[str, str] = Field(
        ..., description="{系统列名或中文列名: 文件表头}；值为空或“无”表示文件中没有此列"
    )
    on_behalf_of: PlainText | None = Field(None, max_length=32)


class PreviewQuery(Schema):
    kind: PlainText = Field(..., max_length=20)
    on_behalf_of: PlainText | None = Field(None, max_length=32)


class UploadConfirmIn(Schema):
    kind: PlainText = Field(..., max_length=20)
    period: PlainText = Field(..., max_length=7, description="数据月份 YYYY-MM")
    filename: PlainText = Field("", max_length=200)
    on_behalf_of: PlainText | None = Field(None, max_length=32)
    on: dt.date | None = Field(None, description="业务日期（缺省为今天）")


class DeptBatchOut(Schema):
    id: int
    kind: str
    title: str
    department: str
    on_behalf: bool
    period: str
    version: int
    filename: str
    uploaded_by: str
    uploaded_at: dt.datetime
    rows_total: int
    rows_ok: int
    rows_rejected: int
    rows_id_problem: int
    header_row: int
    mapping: dict[str, Any]
    screened_run_id: int | None


class BatchIssueOut(Schema):
    severity: str
    row: int
    column: str
    message: str
    value: str
    code: str


class MappingOut(Schema):
    department: str
    kind: str
    columns: dict[str, Any]
    version: int
    saved_at: dt.datetime


class RunIn(Schema):
    month: PlainText = Field(..., max_length=7, description="筛查月份 YYYY-MM")
    on: dt.date | None = Field(None, description="业务日期（缺省为该月末或今天）")


class RunOut(Schema):
    id: int
    month: str
    region_code: str
    engine: str
    status: str
    status_name: str
    running: bool
    progress: int
    progress_note: str
    as_of: dt.date | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    hits: int
    hits_per_rule: dict[str, int]
    leads_per_rule: dict[str, int]
    leads_total: int
    consent_missing_per_rule: dict[str, int]
    link_reviews_pending: int
    ruleset_version: str
    error: str


class HitOut(Schema):
    id: int
    rule_code: str
    rule_title: str
    department: str
    household_id: int
    household_no: str
    value: float | None
    threshold: float | None
    match_method: str
    match_probability: float
    first_date: str
    last_date: str
    records: int | None
    consent_missing: bool
    lead_id: int | None
    lead_result: str
    outcome: str


class HitFilter(Schema):
    consent_missing: bool | None = None


class ReviewCandidate(Schema):
    person_id: int
    name: str
    id_number: str
    birth_date: str
    household_no: str


class ReviewOut(Schema):
    id: int
    source: str
    record: dict[str, Any]
    candidate: ReviewCandidate
    probability: float
    agreeing: list[str]


class ReviewDecisionIn(Schema):
    accept: bool
    note: PlainText = Field("", max_length=200)


class ReviewDecisionOut(Schema):
    id: int
    status: str
    note: str


# ---- helpers ---------------------------------------------------------------------------------------


def _mask_cell(key: str, v: Any) -> Any:
    """The preview shows the uploader's own file, still masked like every API answer: ID numbers and
    phones masked, and no full date that could be a birth date next to a masked ID."""
    if v is None or isinstance(v, (int, float, bool)):
        return v
    s = str(v)
    if key == "birth_date" or (key == "" and _DATE_LIKE.match(s)):  # a raw cell: any full date
        return mask_birth_date(s)
    return mask_text(s)


def _preview_out(p: dict[str, Any], *, token: str, behalf: str | None) -> dict:
    return {
        "token": token,
        "kind": p["kind"],
        "title": p["title"],
        "department": p["department"],
        "on_behalf_of": behalf,
        "header_row": p.get("header_row"),
        "headers": [str(h) for h in p.get("headers", [])],
        "columns": p.get("columns", []),
        "unmapped": [str(h) for h in p.get("unmapped", [])],
        "needs_answer": bool(p.get("needs_answer")),
        "question": p.get("question") or "",
        "saved": {k: str(v) for k, v in (p.get("saved") or {}).items()},
        "raw": [[str(_mask_cell("", c)) for c in row] for row in p.get("raw", [])],
        "parsed": [{k: _mask_cell(k, v) for k, v in r.items()} for r in p.get("parsed", [])],
        "errors": [
            {
                "row": e.get("row", 0),
                "column": str(e.get("column", "")),
                "message": str(e.get("message", "")),
                "value": _mask_cell("", e.get("value")),
                "code": str(e.get("code", "")),
            }
            for e in p.get("errors", [])
        ],
    }


def _preview(request, token: str, kind: str, behalf: str | None, file_name: str = "") -> dict:
    path = pending_path(actor=request.auth, token=token)
    behalf = default_behalf(request.auth, kind, behalf)
    p = dept_mapping_preview(
        actor=request.auth, kind=kind, path=path, on_behalf_of=behalf, on=clock.today(), file_name=file_name
    )
    return _preview_out(p, token=token, behalf=behalf)


def _may_upload(actor) -> None:
    if not sel.upload_kinds(actor=actor):
        raise PermissionDenied("无权上传部门数据")


def batch_out(b) -> dict:
    try:
        title = source_get(b.kind).title
    except Exception:  # a kind retired since: its code
        title = b.kind
    return {
        "id": b.pk,
        "kind": b.kind,
        "title": title,
        "department": b.department,
        "on_behalf": b.on_behalf,
        "period": b.period,
        "version": b.version,
        "filename": b.filename,
        "uploaded_by": b.uploaded_by.username if b.uploaded_by_id else "",
        "uploaded_at": b.uploaded_at,
        "rows_total": b.rows_total,
        "rows_ok": b.rows_ok,
        "rows_rejected": b.rows_rejected,
        "rows_id_problem": b.rows_id_problem,
        "header_row": b.header_row,
        "mapping": dict(b.mapping or {}),
        "screened_run_id": b.screened_run_id,
    }


def run_out(r) -> dict:
    c = r.counts or {}
    leads = {k: int(v) for k, v in (c.get("leads_per_rule") or {}).items()}
    return {
        "id": r.pk,
        "month": r.month,
        "region_code": r.region_id,
        "engine": r.engine,
        "status": r.status,
        "status_name": r.get_status_display(),
        "running": r.status in ("queued", "running"),
        "progress": r.progress,
        "progress_note": r.progress_note,
        "as_of": r.as_of,
        "created_at": r.created_at,
        "finished_at": r.finished_at,
        "hits": int(c.get("hits") or 0),
        "hits_per_rule": {k: int(v) for k, v in (c.get("hits_per_rule") or {}).items()},
        "leads_per_rule": leads,
        "leads_total": sum(leads.values()),
        "consent_missing_per_rule": {k: int(v) for k, v in (c.get("consent_missing_per_rule") or {}).items()},
        "link_reviews_pending": int(c.get("link_reviews_pending") or 0),
        "ruleset_version": r.ruleset_version,
        "error": r.error,
    }


def _hit(h) -> dict:
    ev = h.evidence or {}
    return {
        "id": h.pk,
        "rule_code": h.rule_code,
        "rule_title": str(ev.get("rule_title") or h.rule_code),
        "department": str(ev.get("department") or ""),
        "household_id": h.household_id,
        "household_no": h.household.household_no,
        "value": h.value,
        "threshold": h.threshold,
        "match_method": h.match_method,
        "match_probability": h.match_probability,
        "first_date": str(ev.get("first_date") or ""),
        "last_date": str(ev.get("last_date") or ""),
        "records": ev.get("records") if isinstance(ev.get("records"), int) else None,
        "consent_missing": h.consent_missing,
        "lead_id": h.lead_id,
        "lead_result": h.lead_result,
        "outcome": h.outcome,
    }


# ---- department uploads ------------------------------------------------------------------------------


@router.post(
    "/dept-uploads",
    response={201: PreviewOut, **ERRORS},
    summary="上传部门数据文件：返回表头识别、需回答的问题和前几行预览（尚未入库）",
    openapi_extra=IDEMPOTENT,
)
def dept_upload_start(
    request,
    file: File[UploadedFile],
    form: Form[UploadForm],
):
    """The file is kept (for this user only) under ``token``: answer ``question`` with
    ``POST /dept-uploads/{token}/mapping``, then ``POST /dept-uploads/{token}/confirm``.
    ``kind``: the department file kind (e.g. ``medical``); ``on_behalf_of``: the department a county
    admin uploads for."""
    _may_upload(request.auth)
    kind, on_behalf_of = form.kind, form.on_behalf_of or None
    data = upload_read(file, actor=request.auth, entry="screening.upload")
    digest = {"sha256": hashlib.sha256(data).hexdigest(), "kind": kind, "on_behalf_of": on_behalf_of}

    def create():
        token = pending_store(actor=request.auth, file_name=file.name or "", data=data)
        return 201, to_json(_preview(request, token, kind, on_behalf_of, file.name or ""))

    return once(request, "dept_uploads.create", digest, create)


@router.get(
    "/dept-uploads/{upload_token}", response={200: PreviewOut, **ERRORS}, summary="待上传文件的表头识别与预览"
)
def dept_upload_preview(request, upload_token: PlainText, query: Query[PreviewQuery]):
    return _preview(request, upload_token[:40], query.kind, query.on_behalf_of)


@router.post(
    "/dept-uploads/{upload_token}/mapping",
    response={200: PreviewOut, **ERRORS},
    summary="回答表头对应问题（保存为本部门的对应关系，下次不再询问）",
)
def dept_upload_mapping(request, upload_token: PlainText, payload: MappingIn):
    path = pending_path(actor=request.auth, token=upload_token[:40])
    behalf = default_behalf(request.auth, payload.kind, payload.on_behalf_of)
    dept_mapping_save(
        actor=request.auth,
        kind=payload.kind,
        columns=payload.columns,
        path=path,
        on_behalf_of=behalf,
        on=clock.today(),
    )
    return _preview(request, upload_token[:40], payload.kind, behalf)


@router.post(
    "/dept-uploads/{upload_token}/confirm",
    response={201: DeptBatchOut, **ERRORS},
    summary="确认上传：校验入库为一个部门数据批次（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def dept_upload_confirm(request, upload_token: PlainText, payload: UploadConfirmIn):
    """All rows validated; rows with errors are listed on the batch (``/dept-batches/{id}/issues``).
    The same bytes for the same kind and month answer the batch already stored."""

    def create():
        path = pending_path(actor=request.auth, token=upload_token[:40])
        behalf = default_behalf(request.auth, payload.kind, payload.on_behalf_of)
        b = dept_batch_upload(
            actor=request.auth,
            kind=payload.kind,
            path=path,
            period=payload.period,
            filename=payload.filename or path.name,
            on_behalf_of=behalf,
            on=payload.on or clock.today(),
        )
        path.unlink(missing_ok=True)
        return 201, to_json(batch_out(b))

    return once(request, f"dept_uploads.confirm.{upload_token[:40]}", payload.dict(), create)


@router.get("/dept-batches", response={200: list[DeptBatchOut], **ERRORS}, summary="部门数据批次")
@paginate(Pages)
def dept_batch_list(request):
    qs = sel.batch_list(actor=request.auth).select_related("uploaded_by").order_by("-id")
    return Mapped.each(qs, batch_out)


@router.get(
    "/dept-batches/{dept_batch_id}", response={200: DeptBatchOut, **ERRORS}, summary="部门数据批次详情"
)
def dept_batch_detail(request, dept_batch_id: int):
    return batch_out(sel.batch_get(actor=request.auth, batch_id=dept_batch_id))


@router.get(
    "/dept-batches/{dept_batch_id}/issues",
    response={200: list[BatchIssueOut], **ERRORS},
    summary="批次的逐行问题（退回与提示）",
)
@paginate(Pages)
def dept_batch_issues(request, dept_batch_id: int):
    qs = sel.batch_issues(actor=request.auth, batch_id=dept_batch_id).order_by("row", "id")
    return Mapped.each(
        qs,
        lambda i: {
            "severity": i.severity,
            "row": i.row,
            "column": i.column,
            "message": mask_text(i.message),
            "value": mask_text(i.value),
            "code": i.code,
        },
    )


@router.get("/dept-mappings", response={200: list[MappingOut], **ERRORS}, summary="已保存的部门表头对应关系")
@paginate(Pages)
def dept_mapping_list(request):
    """A department officer sees its own department's; the county admin every department's."""
    user = request.auth
    qs = sel.mapping_list()
    if not user.can(Cap.PARAMS_EDIT):
        _may_upload(user)
        qs = qs.filter(department=user.department or "-")
    return Mapped.each(
        qs,
        lambda m: {
            "department": m.department,
            "kind": m.kind,
            "columns": dict(m.columns or {}),
            "version": m.version,
            "saved_at": m.saved_at,
        },
    )


# ---- runs, hits, link reviews ------------------------------------------------------------------------


@router.post(
    "/screening-runs",
    response={202: RunOut, **ERRORS},
    summary="开始一次部门筛查（后台任务；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def run_start(request, payload: RunIn):
    """Answers at once with the queued run; follow ``GET /screening-runs/{id}`` until ``running`` is false."""

    def create():
        run = screening_run_start(
            actor=request.auth, month=payload.month, background=True, on=_run_date(payload.month, payload.on)
        )
        run.refresh_from_db()
        return 202, to_json(run_out(run))

    return once(request, "screening_runs.create", payload.dict(), create)


@router.get("/screening-runs", response={200: list[RunOut], **ERRORS}, summary="筛查运行")
@paginate(Pages)
def run_list(request):
    return Mapped.each(sel.run_list(actor=request.auth), run_out)


@router.get(
    "/screening-runs/{run_id}", response={200: RunOut, **ERRORS}, summary="筛查运行的状态、进度与结果"
)
def run_detail(request, run_id: int):
    return run_out(sel.run_get(actor=request.auth, run_id=run_id))


@router.get(
    "/screening-runs/{run_id}/hits", response={200: list[HitOut], **ERRORS}, summary="命中（证据与匹配概率）"
)
@paginate(Pages)
def run_hits(request, run_id: int, filters: Query[HitFilter]):
    sel.run_get(actor=request.auth, run_id=run_id)
    qs = sel.hit_list(actor=request.auth, run_id=run_id, consent_missing=filters.consent_missing)
    return Mapped.each(qs.order_by("-match_probability", "id"), _hit)


@router.get("/link-reviews", response={200: list[ReviewOut], **ERRORS}, summary="疑似匹配待确认队列（脱敏）")
@paginate(Pages)
def review_queue(request):
    if not request.auth.can(Cap.REGISTRY_EDIT):
        raise PermissionDenied("无权处理疑似匹配")
    out = sel.link_review_queue(actor=request.auth)
    for r in out:  # the department's record: ID and birth date masked by the selector, phones too here
        r["record"] = {k: _mask_cell(k, v) for k, v in r["record"].items()}
    return out


@router.post(
    "/link-reviews/{review_id}/decision",
    response={200: ReviewDecisionOut, **ERRORS},
    summary="确认或否定一条疑似匹配",
)
def review_decide(request, review_id: int, payload: ReviewDecisionIn):
    r = link_review_decide(actor=request.auth, review_id=review_id, accept=payload.accept, note=payload.note)
    return {"id": r.pk, "status": r.status, "note": r.note}


def _run_date(month: str, on: dt.date | None) -> dt.date:
    """The run's business date at the API edge: as stated, else the month's last day (today when earlier);
    a malformed month is left for the service to refuse with its Chinese message."""
    if on:
        return on
    try:
        return default_run_date(month, clock.today())
    except (ValueError, TypeError):
        return clock.today()
