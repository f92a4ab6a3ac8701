"""Leads, cases (one step at a time, optimistic lock), monitoring objects and visits."""

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.accounts.access import access_object
from fangpin.core import clock
from fangpin.monitoring import selectors
from fangpin.monitoring.models import CaseStatus
from fangpin.monitoring.services.cases import case_step_complete
from fangpin.monitoring.services.leads import lead_submit
from fangpin.monitoring.services.visits import visit_log
from fangpin.monitoring.workbench import awaiting_steps
from fangpin.registry.models import Household

from .. import serialize
from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import CaseOut, LeadIn, LeadOut, ObjectOut, PlainText, StepIn, VisitIn, VisitOut

router = Router(tags=["监测帮扶"])


class StatusFilter(Schema):
    status: PlainText | None = None


class CaseFilter(Schema):
    status: PlainText | None = None
    kind: PlainText | None = None
    step: PlainText | None = None
    awaiting: bool = Field(False, description="只看等我办理的环节（工作台）")


@router.get("/leads", response={200: list[LeadOut], **ERRORS}, summary="风险线索")
@paginate(Pages)
def lead_list(request, filters: Query[StatusFilter]):
    qs = selectors.lead_list(actor=request.auth, status=(filters.status or "")[:12] or None)
    return Mapped.each(qs.order_by("-opened_on", "-id"), serialize.lead)


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="线索详情（含来源）")
def lead_detail(request, lead_id: int):
    return serialize.lead(selectors.lead_get(actor=request.auth, lead_id=lead_id), with_sources=True)


@router.post(
    "/leads",
    response={201: LeadOut, **ERRORS},
    summary="提交风险线索（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def lead_create(request, payload: LeadIn):
    def create():
        hh = access_object(request.auth, Household, payload.household_id, what="户")
        lead = lead_submit(
            actor=request.auth,
            household=hh,
            channel=payload.channel,
            risk_types=payload.risk_types,
            note=payload.note,
            on=payload.on or clock.today(),
        )
        return 201, to_json(serialize.lead(lead, with_sources=True))

    return once(request, "leads.create", payload.dict(), create)


@router.get("/cases", response={200: list[CaseOut], **ERRORS}, summary="识别、消除、回退程序")
@paginate(Pages)
def case_list(request, filters: Query[CaseFilter]):
    qs = selectors.case_list(
        actor=request.auth, status=(filters.status or "")[:12] or None, kind=(filters.kind or "")[:16] or None
    )
    if filters.awaiting:
        qs = qs.filter(pk__in=awaiting_steps(actor=request.auth).values_list("case_id", flat=True))
    if filters.step:
        qs = qs.filter(current_step=filters.step[:16])
    return Mapped.each(qs.order_by("due_on", "id"), serialize.case)


@router.get("/cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="程序详情（含各环节）")
def case_detail(request, case_id: int):
    return serialize.case(selectors.case_get(actor=request.auth, case_id=case_id), with_steps=True)


@router.post("/cases/{case_id}/steps/{step}", response={200: CaseOut, **ERRORS}, summary="办理当前环节")
def case_step(request, case_id: int, step: PlainText, payload: StepIn):
    """``version`` is the case version the caller read: a case changed meanwhile answers 409 (no lost update).
    The service locks the case, checks scope and the version, in its one transaction."""
    case = case_step_complete(
        actor=request.auth,
        case=case_id,
        step=step[:16],
        on=payload.on or clock.today(),
        data=payload.data,
        version=payload.version,
    )
    if case.status != CaseStatus.OPEN:  # closed by its last step: what the outcome wrote, read back
        case.refresh_from_db()
    # else the case row is this instance's last full save (the step's own), household and all, as read
    return serialize.case(case, with_steps=True)


@router.get("/monitoring-objects", response={200: list[ObjectOut], **ERRORS}, summary="监测对象")
@paginate(Pages)
def object_list(request, filters: Query[StatusFilter]):
    qs = selectors.object_list(actor=request.auth, status=(filters.status or "")[:12] or None)

    def row(o):
        return {
            "id": o.id,
            "household_id": o.household_id,
            "household_no": o.household.household_no,
            "category": o.category,
            "status": o.status,
            "risk_types": list(o.risk_types or []),
            "identified_on": o.identified_on,
            "eliminated_on": o.eliminated_on,
        }

    return Mapped.each(qs.order_by("-identified_on", "id"), row)


def _visit(v) -> dict:
    return {
        "id": v.id,
        "household_id": v.household_id,
        "visited_on": v.visited_on,
        "has_risk": v.has_risk,
        "risk_types": list(v.risk_types or []),
        "lead_id": v.lead_id,
    }


@router.get("/visits", response={200: list[VisitOut], **ERRORS}, summary="走访记录")
@paginate(Pages)
def visit_list(request):
    return Mapped.each(selectors.visit_list(actor=request.auth).order_by("-visited_on", "-id"), _visit)


@router.post(
    "/visits",
    response={201: VisitOut, **ERRORS},
    summary="记录走访（手机离线重发请带 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def visit_create(request, payload: VisitIn):
    def create():
        hh = access_object(request.auth, Household, payload.household_id, what="户")
        v = visit_log(
            actor=request.auth,
            household=hh,
            visited_on=payload.visited_on,
            checklist=payload.checklist,
            has_risk=payload.has_risk,
            risk_types=payload.risk_types,
            note=payload.note,
        )
        return 201, to_json(_visit(v))

    return once(request, "visits.create", payload.dict(), create)
