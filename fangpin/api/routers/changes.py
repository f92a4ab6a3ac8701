"""变更申请 (change requests) instead of silent edits: file one for a household (low-risk edits apply at
once, others wait for a second person at the level ``trust.approval_levels`` sets), list those waiting with
exactly what each would change, approve or reject (maker-checker: never one's own). The trust services of
the browser's 户档案 edit and 变更审批 screens."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.core import clock
from fangpin.core.masking import mask_birth_date, mask_id_number, mask_phone
from fangpin.trust import selectors as trust
from fangpin.trust.models import ChangeKind, ChangeStatus
from fangpin.trust.services.changes import (
    change_request_approve,
    change_request_reject,
    change_request_submit,
)

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import MultilineText, PlainText

router = Router(tags=["变更申请"])


class EvidenceIn(Schema):
    kind: PlainText = Field("说明", max_length=30)
    ref: MultilineText = Field(..., min_length=1, max_length=500)


class ChangeIn(Schema):
    household_id: int = Field(..., ge=1)
    kind: PlainText = Field(..., max_length=16, description="contact / condition / person / member_add …")
    payload: dict[str, Any] = Field(..., description='变更内容，如 {"fields": {"phone": "13800001111"}}')
    reason: MultilineText = Field(..., max_length=300)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=20)
    on: dt.date | None = Field(None, description="业务日期（缺省为今天）")


class DecisionIn(Schema):
    reason: MultilineText = Field("", max_length=300)


class PlanRow(Schema):
    label: str
    field: str = ""
    old: str = ""
    new: str = ""


class ChangeOut(Schema):
    id: int
    number: str
    household_id: int
    household_no: str
    village_code: str
    kind: str
    kind_name: str
    status: str
    status_name: str
    required_level: str
    reason: str
    maker: str
    checker: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str
    plan: list[PlanRow]


class ChangeFilter(Schema):
    status: PlainText | None = Field(
        ChangeStatus.PENDING, max_length=12, description="缺省为待审批；空为全部"
    )


def _masked(field: str, v: Any) -> str:
    if v is None:
        return ""
    if field == "id_number":
        return mask_id_number(str(v))
    if field in ("phone", "mobile"):
        return mask_phone(str(v))
    if field == "birth_date":
        return mask_birth_date(v)
    return str(v)


def _plan(rows: list[dict[str, Any]]) -> list[dict]:
    return [
        {
            "label": str(r.get("label") or r.get("field") or ""),
            "field": str(r.get("field") or ""),
            "old": _masked(str(r.get("field") or ""), r.get("old")),
            "new": _masked(str(r.get("field") or ""), r.get("new")),
        }
        for r in rows
    ]


def change_out(r, *, plan: list[dict[str, Any]] | None = None) -> dict:
    if plan is None:
        plan = r.applied_changes if r.status == ChangeStatus.APPLIED else trust.change_preview(r)
    return {
        "id": r.pk,
        "number": r.number,
        "household_id": r.household_id,
        "household_no": r.household.household_no,
        "village_code": r.village_id,
        "kind": r.kind,
        "kind_name": r.get_kind_display(),
        "status": r.status,
        "status_name": r.get_status_display(),
        "required_level": r.required_level,
        "reason": r.reason,
        "maker": r.maker.username if r.maker_id else "",
        "checker": r.checker.username if r.checker_id else "",
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "decision_reason": r.decision_reason,
        "plan": _plan(plan or []),
    }


@router.get("/change-requests", response={200: list[ChangeOut], **ERRORS}, summary="变更申请（缺省：待审批）")
@paginate(Pages)
def change_list(request, filters: Query[ChangeFilter]):
    status = (filters.status or "")[:12] or None
    qs = trust.change_request_list(actor=request.auth, status=status).select_related("maker", "checker")
    return Mapped.each(qs.order_by("created_at", "id"), change_out)


@router.get("/change-requests/{change_id}", response={200: ChangeOut, **ERRORS}, summary="变更申请详情")
def change_detail(request, change_id: int):
    from fangpin.accounts.access import access_object
    from fangpin.trust.models import ChangeRequest

    return change_out(access_object(request.auth, ChangeRequest, change_id, what="变更申请"))


@router.post(
    "/change-requests",
    response={201: ChangeOut, **ERRORS},
    summary="提交变更申请（低风险即时生效，其余待他人审批；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def change_create(request, payload: ChangeIn):
    if payload.kind not in ChangeKind.values:
        from fangpin.core.errors import DomainError

        raise DomainError("invalid", f"参数“kind”：不支持的变更类型“{payload.kind}”", field="kind")

    def create():
        req = change_request_submit(
            actor=request.auth,
            household_id=payload.household_id,
            kind=payload.kind,
            payload=payload.payload,
            reason=payload.reason,
            evidence=[e.dict() for e in payload.evidence] or None,
            on=payload.on or clock.today(),
        )
        return 201, to_json(change_out(req))

    return once(request, "change_requests.create", payload.dict(), create)


@router.post(
    "/change-requests/{change_id}/approve",
    response={200: ChangeOut, **ERRORS},
    summary="批准（不能审批本人提交的）",
)
def change_approve(request, change_id: int, payload: DecisionIn):
    return change_out(change_request_approve(actor=request.auth, request_id=change_id, reason=payload.reason))


@router.post(
    "/change-requests/{change_id}/reject", response={200: ChangeOut, **ERRORS}, summary="驳回（须填理由）"
)
def change_reject(request, change_id: int, payload: DecisionIn):
    return change_out(change_request_reject(actor=request.auth, request_id=change_id, reason=payload.reason))
