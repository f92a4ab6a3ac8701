"""Households: search-first list and the masked household file."""

import datetime as dt
import tempfile
from pathlib import Path
from typing import Literal

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.audit.record import audit_list_view, audit_record
from fangpin.core import clock
from fangpin.core.errors import NotFound
from fangpin.core.precompiled import precompiled_list
from fangpin.monitoring.household_search import (
    HouseholdFilter,
    bounded_count,
    flag_list_count,
    flag_list_village,
    household_page_rows,
    household_search_qs,
    search_may_refuse,
    search_refusal_record,
)
from fangpin.monitoring.models import ObjectStatus
from fangpin.monitoring.selectors import household_monitoring_history
from fangpin.registry import selectors
from fangpin.registry.io.export import KIND_MONITORING, KIND_REGISTRY, registry_export
from fangpin.registry.models import Person
from fangpin.registry.services import export_jobs
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_years
from fangpin.trust.timeline import household_timeline

from .. import serialize
from ..errors import ERRORS, ErrorOut
from ..paging import Mapped, Pages
from ..schemas import HouseholdOut, HouseholdRow, PlainText

router = Router(tags=["户档案"])


class SearchFilter(Schema):
    """The browser's household search and filters (``monitoring.household_search``)."""

    q: PlainText | None = Field(
        None, max_length=50, description="户编号、电话、成员姓名或证件号码（至少两个字）"
    )
    region: PlainText | None = Field(None, max_length=12, description="区划代码（乡镇或村）")
    village: PlainText | None = Field(None, max_length=12, description="同 region（旧名）")
    household_type: PlainText | None = Field(None, max_length=8)
    monitoring: Literal["active", "eliminated", "never"] | None = None
    category: PlainText | None = Field(None, max_length=16)
    risk_type: PlainText | None = Field(None, max_length=16)
    below_line: bool = False
    has_findings: bool = False
    overdue: bool = False
    sort: Literal["household_no", "-household_no", "village", "members", "type"] = "household_no"

    def as_filter(self) -> HouseholdFilter:
        d = self.dict()
        village = d.pop("village", None)
        d["region"] = d.get("region") or village
        return HouseholdFilter.from_params({k: v for k, v in d.items() if v not in (None, False)})


def household_page(actor, qs, f: HouseholdFilter) -> Mapped:
    """One page of rows (户主, members, monitoring status) without a query per row: the page's ids first, then
    their rows; counted up to ``COUNT_CAP`` (``count_capped`` says the count is a lower bound)."""

    return Mapped(
        qs,  # never sliced itself: the count and the page are the two functions
        lambda rows: [serialize.household_row_values(r) for r in rows],
        count_fn=lambda: flag_list_count(actor, f) or bounded_count(qs),
        slice_fn=lambda offset, limit: household_page_rows(
            qs,
            sort=f.sort,
            offset=offset,
            limit=limit,
            values=True,
            flags_village=flag_list_village(actor, f),
        ),
    )


@router.get(
    "/households",
    response={
        200: list[HouseholdRow],
        **ERRORS,
        429: ErrorOut,
    },  # 429: the search throttle (accounts.throttle)
    summary="户列表（按区域范围，可搜索、筛选）",
)
@paginate(Pages)
def household_list(request, filters: Query[SearchFilter]):
    """The browser's search: only households inside the caller's region (a helper: the assigned ones);
    every list is audited, and a search for an ID number or 户编号 outside the region too (as refused)."""
    user = request.auth
    on = clock.today()
    f = filters.as_filter()
    qs = household_search_qs(actor=user, f=f, on=on)
    audit_list_view(user, "registry.household_search", query=f.q, via="api", filters=f.as_params())
    if f.q and search_may_refuse(f.q) and not qs.exists():
        search_refusal_record(actor=user, q=f.q, on=on)
    return household_page(user, qs, f)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuery(Schema):
    region: PlainText | None = None
    monitoring: bool = Field(False, description="监测对象表格式（只含监测对象）")
    unmasked: bool = Field(False, description="明文证件号和电话（须有相应权限，留痕）")
    q: PlainText | None = Field(None, max_length=50, description="与户列表相同的检索词")
    household_type: PlainText | None = Field(None, max_length=8)


class ExportJobOut(Schema):
    """An export job of the 下载中心 (``registry.services.export_jobs``): poll it until ``ready``."""

    id: int
    status: Literal["queued", "running", "done", "failed", "purged"]
    status_display: str
    ready: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    on: dt.date
    filters: dict[str, str]
    masked: bool
    estimated_rows: int
    rows: int
    households: int
    sha256: str = Field(description="明文工作簿的SHA-256（下载时校验，并记入审计日志）")
    message: str
    download_url: str | None = Field(None, description="就绪后下载工作簿的地址（仅提交人可下载，留痕）")


def export_job_out(job) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_display": job.get_status_display(),
        "ready": job.ready,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "on": job.on,
        "filters": {str(k): str(v) for k, v in job.filters.items()},
        "masked": not job.unmasked,
        "estimated_rows": job.estimated_rows,
        "rows": job.rows,
        "households": job.households,
        "sha256": job.sha256,
        "message": job.message,
        "download_url": reverse("api:export_job_file", kwargs={"job_id": job.pk}) if job.ready else None,
    }


@router.get(
    "/households/export",
    response={200: None, 202: ExportJobOut, **ERRORS, 429: ErrorOut},
    summary="按国家系统格式导出（脱敏，xlsx）",
    openapi_extra={
        "responses": {
            200: {
                "description": "xlsx",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def household_export(request, response: HttpResponse, query: Query[ExportQuery]):
    """The caller's region (or a part of it: ``region`` = a village, township or county code), narrowed by
    the list's search (``q``, ``household_type``) exactly like the browser's export of what is filtered;
    masked unless ``unmasked`` (and allowed); the export is audited by the export service. Above
    ``registry.export.job_rows`` rows (persons) the answer is 202 with an export job (``Location``: the job
    to poll; its ``download_url`` once ``ready``) instead of the workbook."""
    region = (query.region or "").strip() or None
    if region is not None and (not region.isdigit() or len(region) != 12):
        raise NotFound("区域")
    f = HouseholdFilter.from_params(
        {"q": query.q or "", "household_type": query.household_type or "", "region": region or ""}
    )
    on = clock.today()
    qs = household_search_qs(actor=request.auth, f=f, on=on)
    limit = export_jobs.export_job_rows(on=on, region_code=region or request.auth.region_id or "")
    rows, targets = export_jobs.export_targets(qs, limit=limit)  # the search run once
    if rows > limit:  # a large workbook: a job of the 下载中心 (202)
        job = export_jobs.export_job_create(
            actor=request.auth,
            on=on,
            filters=f.as_params(),
            region_code=region,
            unmasked=query.unmasked,
            kind=KIND_MONITORING if query.monitoring else KIND_REGISTRY,
            estimated_rows=rows,
            via="api",
        )
        job.refresh_from_db()
        response["Location"] = reverse("api:export_job", kwargs={"job_id": job.pk})
        return 202, export_job_out(job)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 (streamed, then removed)
    tmp.close()
    path = Path(tmp.name)
    try:
        registry_export(
            actor=request.auth,
            out_path=path,
            on=on,
            region_code=region,
            unmasked=query.unmasked,
            kind=KIND_MONITORING if query.monitoring else KIND_REGISTRY,
            households=targets,
            filters={**f.as_params(), "via": "api"},
        )
        fh = path.open("rb")
    finally:
        path.unlink(missing_ok=True)  # the open handle keeps the data until the response is sent
    return FileResponse(fh, as_attachment=True, filename="户信息导出.xlsx", content_type=XLSX)


@router.get("/exports", response={200: list[ExportJobOut], **ERRORS}, summary="下载中心：本人的导出任务")
def export_job_list(request):
    """The caller's own export jobs, newest first (at most 50)."""
    return [export_job_out(j) for j in export_jobs.export_job_list(actor=request.auth)]


@router.get(
    "/exports/{job_id}",
    response={200: ExportJobOut, **ERRORS},
    summary="导出任务（轮询至 ready）",
    url_name="export_job",
)
def export_job_detail(request, job_id: int):
    """One export job of the caller; anyone else's (or a missing one) is 404, audited."""
    return export_job_out(export_jobs.export_job_get(actor=request.auth, job_id=job_id))


@router.get(
    "/exports/{job_id}/file",
    response={200: None, **ERRORS},
    summary="下载导出任务的工作簿（仅提交人，留痕）",
    url_name="export_job_file",
    openapi_extra={
        "responses": {
            200: {
                "description": "xlsx",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_job_file(request, job_id: int):
    """The finished workbook (decrypted, checked against its SHA-256, audited as ``registry.export_download``);
    409 while it is not ready or after its retention ended."""
    job, fh = export_jobs.export_job_open(actor=request.auth, job_id=job_id)
    return FileResponse(fh, as_attachment=True, filename=job.file_name, content_type=XLSX)


@router.get(
    "/households/{household_id}",
    response={200: HouseholdOut, **ERRORS},
    summary="户档案（脱敏）：成员、收入与监测收入线（含公式）、两不愁三保障、时间线",
)
def household_detail(request, household_id: int):
    """The browser's 户档案: members (ages, never birth dates), 人均纯收入 for the rolling 12 months and the
    last three calendar years with the formula's inputs and the parameter versions used, the 两不愁三保障及
    饮水安全 assessment today (each failing item and why), and one timeline of leads, case steps, measures,
    visits, changes, discrepancies, appeals and consent. Masked; audited as ``registry.household_view``."""
    user = request.auth
    hh = selectors.household_get(actor=user, household_id=household_id)
    today = clock.today()
    result, _ = household_guarantees_assess(hh, on=today)
    history = household_monitoring_history(actor=user, household_id=hh.pk)  # access-checked, read once
    timeline = household_timeline(actor=user, household_id=hh.pk, history=history)
    persons = precompiled_list("api.household.members", _members, hh.pk)
    for p in persons:
        p.household = hh  # as ``hh.persons`` would have set it
    members = [serialize.member(p, on=today) for p in persons]
    # the row's 户主 and 监测状态 from what was just read: the first head by id (as ``.first()``), the status of
    # the latest monitoring object by (识别监测时间, id) (as ``serialize.monitoring_status``)
    head = next((p for p in persons if p.relation == "户主"), None)
    hh.village = precompiled_list("api.household.village", _village, hh.village_id)[0]  # its name, below
    latest = max(history["objects"], key=lambda o: (o.identified_on, o.pk), default=None)
    audit_record(
        actor=user,
        event_type="registry.household_view",
        obj=hh,
        region_code=hh.village_id,
        household_id=hh.id,
        data={"via": "api"},
    )
    return {
        **serialize.household_row(
            hh,
            head=head,
            members=len(members),
            monitoring=ObjectStatus(latest.status).label if latest else "",
        ),
        "address": hh.address,
        "group_name": hh.group_name,
        "member_list": members,
        "version": hh.version,
        "incomes": [serialize.income_year(y) for y in household_income_years(hh, on=today)],
        "guarantees": serialize.guarantees(result, on=today),
        "timeline": [serialize.timeline_entry(e) for e in timeline],
    }


def _village(code: str):
    """The household's village (the row's 村 name), by its code."""
    from fangpin.regions.models import Region

    return Region.objects.filter(code=code)[:1]


def _members(h: int):
    """The household's current members by its id (it passed the gate), in the order of their ids."""
    return Person.objects.filter(household_id=h, is_member=True).order_by("id")
