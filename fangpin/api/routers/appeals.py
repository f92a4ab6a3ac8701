"""异议申诉 (appeals): list those of the user's region, lodge one for a household, assign the owner office's
handler, decide with reasons. The trust services of the browser's 异议申诉 screen (number, owner office by
``appeals.levels``, working-day deadline, escalation by the daily job, a paused case step resumed)."""

import datetime as dt

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.accounts.access import access_object
from fangpin.core import clock
from fangpin.trust.models import Appeal, AppealStatus
from fangpin.trust.selectors import appeal_list
from fangpin.trust.services.appeals import appeal_assign, appeal_decide, appeal_lodge

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import BusinessDate, MultilineText, PlainText

router = Router(tags=["异议申诉"])


class AppealIn(Schema):
    household_id: int = Field(..., ge=1)
    kind: PlainText = Field(..., max_length=16, description="not_included / elimination / wrong_fact")
    content: MultilineText = Field(..., max_length=2000, description="异议的具体事实和诉求")
    lodged_by_name: PlainText = Field(..., max_length=50, description="提出人")
    lodged_by_relation: PlainText = Field("本户", max_length=20, description="本户 / 群众 / 其他")
    on: BusinessDate | None = Field(None, description="提出日期（缺省为今天）")


class AppealAssignIn(Schema):
    owner_id: int = Field(..., ge=1, description="承办人（当前承办层级、有办理权限）")


class AppealDecisionIn(Schema):
    outcome: PlainText = Field(..., max_length=12, description="upheld / partly / dismissed")
    reason: MultilineText = Field(..., max_length=2000, description="办理结果及理由")
    on: BusinessDate | None = Field(None, description="办理日期（缺省为今天）")


class AppealOut(Schema):
    id: int
    number: str
    household_id: int
    household_no: str
    village_code: str
    kind: str
    kind_name: str
    content: str
    lodged_by_name: str
    lodged_by_relation: str
    lodged_on: dt.date
    owner_level: str
    owner_region: str
    owner: str
    deadline: dt.date
    overdue: bool
    escalations: int
    status: str
    status_name: str
    outcome: str
    outcome_reason: str
    case_id: int | None
    case_paused: bool


class AppealFilter(Schema):
    status: PlainText | None = Field(AppealStatus.OPEN, max_length=10, description="缺省为办理中；空为全部")
    mine: bool = Field(False, description="只列本单位承办的")


def appeal_out(a: Appeal, on: dt.date) -> dict:
    """An appeal as the API shows it; ``overdue`` as of the business date ``on`` (the route's today)."""
    return {
        "id": a.pk,
        "number": a.number,
        "household_id": a.household_id,
        "household_no": a.household.household_no,
        "village_code": a.village_id,
        "kind": a.kind,
        "kind_name": a.get_kind_display(),
        "content": a.content,
        "lodged_by_name": a.lodged_by_name,
        "lodged_by_relation": a.lodged_by_relation,
        "lodged_on": a.lodged_on,
        "owner_level": a.owner_level,
        "owner_region": a.owner_region_id,
        "owner": a.owner.username if a.owner_id else "",
        "deadline": a.deadline,
        "overdue": a.status == AppealStatus.OPEN and a.deadline < on,
        "escalations": len(a.escalations or []),
        "status": a.status,
        "status_name": a.get_status_display(),
        "outcome": a.outcome,
        "outcome_reason": a.outcome_reason,
        "case_id": a.case_id,
        "case_paused": a.case_paused,
    }


@router.get("/appeals", response={200: list[AppealOut], **ERRORS}, summary="异议申诉（缺省：办理中）")
@paginate(Pages)
def appeals(request, filters: Query[AppealFilter]):
    qs = appeal_list(actor=request.auth, status=(filters.status or "")[:10] or None)
    if filters.mine:
        qs = qs.filter(owner_region_id=request.auth.region_id)
    on = clock.today()
    return Mapped.each(qs.select_related("household", "owner").order_by("deadline", "id"),
                       lambda a: appeal_out(a, on))  # fmt: skip


@router.get("/appeals/{appeal_id}", response={200: AppealOut, **ERRORS}, summary="异议申诉详情")
def appeal_detail(request, appeal_id: int):
    return appeal_out(access_object(request.auth, Appeal, appeal_id, what="异议申诉"), clock.today())


@router.post(
    "/appeals",
    response={201: AppealOut, **ERRORS},
    summary="登记异议申诉（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def appeal_create(request, payload: AppealIn):
    def create():
        a = appeal_lodge(
            actor=request.auth,
            household_id=payload.household_id,
            kind=payload.kind,
            content=payload.content,
            lodged_by_name=payload.lodged_by_name,
            lodged_by_relation=payload.lodged_by_relation,
            lodged_on=payload.on or clock.today(),
        )
        return 201, to_json(appeal_out(a, clock.today()))

    return once(request, "appeals.create", payload.dict(), create)


@router.post("/appeals/{appeal_id}/assign", response={200: AppealOut, **ERRORS}, summary="指定承办人")
def appeal_assign_route(request, appeal_id: int, payload: AppealAssignIn):
    a = appeal_assign(actor=request.auth, appeal_id=appeal_id, owner_id=payload.owner_id)
    return appeal_out(a, clock.today())


@router.post("/appeals/{appeal_id}/decide", response={200: AppealOut, **ERRORS}, summary="办结（须说明理由）")
def appeal_decide_route(request, appeal_id: int, payload: AppealDecisionIn):
    a = appeal_decide(
        actor=request.auth,
        appeal_id=appeal_id,
        outcome=payload.outcome,
        reason=payload.reason,
        on=payload.on or clock.today(),
    )
    return appeal_out(a, clock.today())
