"""Households: search-first list and the masked household file."""

import tempfile
from pathlib import Path

from django.db.models import Count, Q
from django.http import FileResponse
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import NotFound
from fangpin.core.masking import mask_text
from fangpin.registry import selectors
from fangpin.registry.io.export import KIND_MONITORING, KIND_REGISTRY, registry_export
from fangpin.registry.models import Person

from .. import serialize
from ..errors import ERRORS
from ..paging import Mapped, Pages
from ..schemas import HouseholdOut, HouseholdRow, PlainText

router = Router(tags=["户档案"])


class HouseholdFilter(Schema):
    q: PlainText | None = None
    village: PlainText | None = None
    household_type: PlainText | None = None


@router.get(
    "/households", response={200: list[HouseholdRow], **ERRORS}, summary="户列表（按区域范围，可搜索）"
)
@paginate(Pages)
def household_list(request, filters: Query[HouseholdFilter]):
    """``q``: 户编号前缀、户主姓名或成员姓名（至少两个字符），或成员的完整证件号码、电话或其后4位（加密存储，
    按盲索引查找）. Only households inside the caller's region."""
    user = request.auth
    qs = selectors.household_list(actor=user).select_related("village")
    q = (filters.q or "").strip()
    if filters.village:
        qs = qs.filter(village__code__startswith=filters.village[:12])
    if filters.household_type:
        qs = qs.filter(household_type=filters.household_type[:8])
    if len(q) >= 2:
        qs = qs.filter(
            Q(household_no__startswith=q)
            | Q(persons__name__contains=q, persons__is_member=True)
            | (selectors.identifier_q(q, prefix="persons__") & Q(persons__is_member=True))
        ).distinct()
        audit_record(actor=user, event_type="api.household_search", data={"q": mask_text(q)[:100]})
    qs = qs.annotate(n_members=Count("persons", filter=Q(persons__is_member=True))).order_by("household_no")
    return Mapped(qs, _page)


def _page(rows: list) -> list[dict]:
    heads = {
        p.household_id: p for p in Person.objects.filter(household__in=rows, relation="户主", is_member=True)
    }
    return [serialize.household_row(h, head=heads.get(h.id), members=h.n_members) for h in rows]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportQuery(Schema):
    region: PlainText | None = None
    monitoring: bool = False


@router.get(
    "/households/export",
    response={200: None, **ERRORS},
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
def household_export(request, query: Query[ExportQuery]):
    """The caller's region (or a part of it: ``region`` = a village, township or county code), masked, in the
    national column format; the export is audited by the export service."""
    region = (query.region or "").strip() or None
    if region is not None and (not region.isdigit() or len(region) != 12):
        raise NotFound("区域")
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115 (streamed, then removed)
    tmp.close()
    path = Path(tmp.name)
    try:
        registry_export(
            actor=request.auth,
            out_path=path,
            region_code=region,
            kind=KIND_MONITORING if query.monitoring else KIND_REGISTRY,
        )
        fh = path.open("rb")
    finally:
        path.unlink(missing_ok=True)  # the open handle keeps the data until the response is sent
    return FileResponse(fh, as_attachment=True, filename="户信息导出.xlsx", content_type=XLSX)


@router.get("/households/{household_id}", response={200: HouseholdOut, **ERRORS}, summary="户档案（脱敏）")
def household_detail(request, household_id: int):
    user = request.auth
    hh = selectors.household_get(actor=user, household_id=household_id)
    today = clock.today()
    members = [serialize.member(p, on=today) for p in hh.persons.filter(is_member=True).order_by("id")]
    audit_record(
        actor=user,
        event_type="registry.household_view",
        obj=hh,
        region_code=hh.village_id,
        household_id=hh.id,
        data={"via": "api"},
    )
    return {
        **serialize.household_row(hh, members=len(members)),
        "address": hh.address,
        "group_name": hh.group_name,
        "member_list": members,
        "version": hh.version,
    }
