"""The case screens' other actions: a lead opened as a case, enrolled by the 绿色通道 or closed; a case
not approved (不予通过), paused by a 公示 objection and resumed; the batch review (preview, then all or
nothing); a monitoring object's measures, 风险消除 and 回退; assigning a helper; the household's
逻辑校验 findings and 明白纸; the printable 公示 notice as data; the visit targets. Every write through
the ``monitoring.services`` the browser's views call."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.http import HttpResponse
from ninja import Field, Router, Schema

from fangpin.accounts.access import access_object
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound
from fangpin.core.masking import mask_name, mask_text
from fangpin.monitoring import selectors as mon
from fangpin.monitoring.models import Case, EliminationMethod, LeadOutcome
from fangpin.monitoring.services import assistance, batch, cases, elimination, identification, leads
from fangpin.monitoring.workbench import assignable_users
from fangpin.policy.params import param_value
from fangpin.regions.selectors import region_path_names
from fangpin.registry import selectors as registry_selectors
from fangpin.registry.models import Household

from .. import serialize
from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import to_json
from ..schemas import CaseOut, LeadOut, MultilineText, ObjectOut, PlainText

router = Router(tags=["监测帮扶"])

E_STALE = "case_version_stale"


class OnIn(Schema):
    on: dt.date | None = Field(None, description="业务日期（缺省为今天）")


class GreenIn(OnIn):
    risk_types: list[PlainText] = Field(..., min_length=1, max_length=20)
    reason: MultilineText = Field(..., max_length=500)
    category: PlainText = Field("", max_length=16)


class CloseIn(OnIn):
    outcome: PlainText = Field(LeadOutcome.NOT_A_RISK, max_length=24)
    reason: MultilineText = Field("", max_length=500)


class CaseActionIn(OnIn):
    version: int | None = Field(None, ge=1, description="读到的程序版本号（乐观锁；可省略）")
    reason: MultilineText = Field("", max_length=500)


class ObjectionIn(OnIn):
    text: MultilineText = Field(..., min_length=1, max_length=1000)
    raised_by: PlainText = Field("", max_length=50)


class BatchIn(Schema):
    case_ids: list[int] = Field(..., min_length=1, max_length=500)
    step: PlainText = Field(..., max_length=16)


class BatchDoIn(BatchIn, OnIn):
    opinion: MultilineText = Field("同意", max_length=500)


class BatchRowOut(Schema):
    case_id: int
    household_id: int
    household_no: str
    kind: str
    step: str
    outcome: str


class NoticeOut(Schema):
    case_id: int
    kind: str
    village: str
    head: str
    members: int
    publicity_days: int
    start_on: dt.date | None
    due_on: dt.date | None


class MeasureOut(Schema):
    id: int
    name: str
    kind: str
    person_id: int | None
    start_on: dt.date
    end_on: dt.date | None
    amount: Decimal
    status: str
    outcome: str


class ObjectDetailOut(ObjectOut):
    measures: list[MeasureOut]
    warnings: list[str]


class MeasureIn(Schema):
    name: PlainText = Field(..., min_length=1, max_length=30)
    start_on: dt.date
    amount: Decimal = Field(Decimal(0), ge=0, le=Decimal("9999999999.99"), decimal_places=2)
    person_id: int | None = Field(None, ge=1)
    status: PlainText = Field("in_progress", max_length=12)


class MeasureDoneIn(OnIn):
    outcome: MultilineText = Field("", max_length=1000)


class EliminateIn(OnIn):
    method: PlainText = Field(EliminationMethod.ASSISTED, max_length=12)


class ReasonIn(OnIn):
    reason: MultilineText = Field(..., min_length=1, max_length=500)


class HouseholdAssignIn(OnIn):
    user_id: int = Field(..., ge=1)
    kind: PlainText = Field("helper", max_length=16)


class AssignOut(Schema):
    household_id: int
    user: str
    kind: str
    start_on: dt.date


class FindingOut(Schema):
    code: str
    message: str
    person_id: int | None
    field: str


class TargetOut(Schema):
    household_id: int
    household_no: str
    village_code: str
    head_name: str
    due: bool
    overdue: bool
    key: bool


def _on(d: dt.date | None) -> dt.date:
    return d or clock.today()


def _case(request, case_id: int, version: int | None = None) -> Case:
    case = access_object(request.auth, Case, case_id, what="办理程序", for_update=version is not None)
    if version is not None and case.version != version:
        raise DomainError(E_STALE, f"该程序已被他人更新（当前版本 {case.version}），请刷新后再办理")
    return case


def _case_out(case: Case) -> dict:
    case.refresh_from_db()
    return to_json(serialize.case(case, with_steps=True))


# ---- leads -----------------------------------------------------------------------------------------


@router.post(
    "/leads/{lead_id}/case",
    response={201: CaseOut, **ERRORS},
    summary="启动识别程序（入户核查；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def lead_open(request, lead_id: int, payload: OnIn):
    lead = mon.lead_get(actor=request.auth, lead_id=lead_id)

    def create():
        return 201, _case_out(identification.case_open(actor=request.auth, lead=lead, on=_on(payload.on)))

    return once(request, f"leads.case.{lead_id}", payload.dict(), create)


@router.post(
    "/leads/{lead_id}/green-channel",
    response={201: CaseOut, **ERRORS},
    summary="绿色通道先行纳入（乡镇、县级；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def lead_green(request, lead_id: int, payload: GreenIn):
    lead = mon.lead_get(actor=request.auth, lead_id=lead_id)

    def create():
        case = identification.green_channel_enrol(
            actor=request.auth,
            lead=lead,
            risk_types=payload.risk_types,
            reason=payload.reason,
            category=payload.category,
            on=_on(payload.on),
        )
        return 201, _case_out(case)

    return once(request, f"leads.green.{lead_id}", payload.dict(), create)


@router.post("/leads/{lead_id}/close", response={200: LeadOut, **ERRORS}, summary="线索办结")
def lead_close(request, lead_id: int, payload: CloseIn):
    lead = mon.lead_get(actor=request.auth, lead_id=lead_id)
    lead = leads.lead_close(
        actor=request.auth, lead=lead, outcome=payload.outcome, reason=payload.reason, on=_on(payload.on)
    )
    return serialize.lead(lead, with_sources=True)


# ---- case actions ------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/reject", response={200: CaseOut, **ERRORS}, summary="不予通过")
def case_reject(request, case_id: int, payload: CaseActionIn):
    with transaction.atomic():
        case = _case(request, case_id, payload.version)
        cases.case_reject(actor=request.auth, case=case, reason=payload.reason, on=_on(payload.on))
    return _case_out(case)


@router.post(
    "/cases/{case_id}/objections",
    response={201: CaseOut, **ERRORS},
    summary="登记公示期异议（程序暂停；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def case_objection(request, case_id: int, payload: ObjectionIn):
    case = _case(request, case_id)

    def create():
        cases.publicity_objection_record(
            actor=request.auth, case=case, text=payload.text, raised_by=payload.raised_by, on=_on(payload.on)
        )
        return 201, _case_out(case)

    return once(request, f"cases.objection.{case_id}", payload.dict(), create)


@router.post("/cases/{case_id}/resume", response={200: CaseOut, **ERRORS}, summary="异议处理后恢复办理")
def case_resume(request, case_id: int, payload: CaseActionIn):
    with transaction.atomic():
        case = _case(request, case_id, payload.version)
        cases.case_resume(actor=request.auth, case=case, reason=payload.reason, on=_on(payload.on))
    return _case_out(case)


@router.get(
    "/cases/{case_id}/notice",
    response={200: NoticeOut, **ERRORS},
    summary="公示内容（姓名脱敏，无证件号和电话）",
)
def case_notice(request, case_id: int):
    case = mon.case_get(actor=request.auth, case_id=case_id)
    step = case.steps.filter(code="publicize").first()
    head = case.household.persons.filter(is_member=True, relation="户主").first()
    county = case.village_id[:6].ljust(12, "0")
    return {
        "case_id": case.pk,
        "kind": case.kind,
        "village": " ".join(region_path_names(case.village_id)[-2:]),
        "head": mask_name(head.name) if head else "",
        "members": case.household.persons.filter(is_member=True).count(),
        "publicity_days": int(
            param_value("procedure.publicity_days", region_code=county, year=clock.today().year)
        ),
        "start_on": step.started_on if step else None,
        "due_on": step.due_on if step else None,
    }


@router.post(
    "/case-batches/preview", response={200: list[BatchRowOut], **ERRORS}, summary="批量审核：预览将发生的变化"
)
def case_batch_preview(request, payload: BatchIn):
    rows = batch.case_batch_preview(actor=request.auth, case_ids=payload.case_ids, step=payload.step)
    return [r.__dict__ for r in rows]


@router.post(
    "/case-batches", response={200: list[CaseOut], **ERRORS}, summary="批量审核：全部办理或全部不办理"
)
def case_batch_complete(request, payload: BatchDoIn):
    done = batch.case_batch_complete(
        actor=request.auth,
        case_ids=payload.case_ids,
        step=payload.step,
        on=_on(payload.on),
        data={"opinion": payload.opinion or "同意"},
    )
    return [serialize.case(c, with_steps=False) for c in done]


# ---- monitoring objects: measures, elimination, reversal ----------------------------------------------


def _measure(m) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "kind": m.kind,
        "person_id": m.person_id,
        "start_on": m.start_on,
        "end_on": m.end_on,
        "amount": m.amount,
        "status": m.status,
        "outcome": m.outcome,
    }


def _object_out(request, obj) -> dict:
    from fangpin.monitoring.models import ObjectStatus

    warnings = []
    if obj.status == ObjectStatus.ACTIVE:
        warnings = [
            str(getattr(w, "message", w))
            for w in mon.case_warnings(actor=request.auth, monitoring_object=obj, on=clock.today())
        ]
    return {
        "id": obj.pk,
        "household_id": obj.household_id,
        "household_no": obj.household.household_no,
        "category": obj.category,
        "status": obj.status,
        "risk_types": list(obj.risk_types or []),
        "identified_on": obj.identified_on,
        "eliminated_on": obj.eliminated_on,
        "measures": [_measure(m) for m in mon.measure_list(actor=request.auth, monitoring_object_id=obj.pk).order_by("start_on", "id")],
        "warnings": warnings,
    }  # fmt: skip


@router.get(
    "/monitoring-objects/{object_id}",
    response={200: ObjectDetailOut, **ERRORS},
    summary="监测对象（措施与预警）",
)
def object_detail(request, object_id: int):
    return _object_out(request, mon.object_get(actor=request.auth, object_id=object_id))


@router.post(
    "/monitoring-objects/{object_id}/measures",
    response={201: MeasureOut, **ERRORS},
    summary="添加帮扶措施（措施目录参数；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def measure_create(request, object_id: int, payload: MeasureIn):
    obj = mon.object_get(actor=request.auth, object_id=object_id)

    def create():
        person = None
        if payload.person_id:
            person = obj.household.persons.filter(is_member=True, pk=payload.person_id).first()
            if person is None:
                raise DomainError("invalid", "参数“person_id”：不是该户的成员", field="person_id")
        m = assistance.measure_add(
            actor=request.auth,
            monitoring_object=obj,
            name=payload.name,
            start_on=payload.start_on,
            amount=payload.amount,
            person=person,
            status=payload.status,
        )
        return 201, to_json(_measure(m))

    return once(request, f"measures.create.{object_id}", payload.dict(), create)


@router.post(
    "/monitoring-objects/{object_id}/measures/{measure_id}/done",
    response={200: MeasureOut, **ERRORS},
    summary="措施已落实",
)
def measure_done(request, object_id: int, measure_id: int, payload: MeasureDoneIn):
    obj = mon.object_get(actor=request.auth, object_id=object_id)
    m = mon.measure_list(actor=request.auth, monitoring_object_id=obj.pk).filter(pk=measure_id).first()
    if m is None:
        raise NotFound("帮扶措施")
    m = assistance.measure_update(
        actor=request.auth, measure=m, status="done", end_on=_on(payload.on), outcome=payload.outcome
    )
    return _measure(m)


@router.post(
    "/monitoring-objects/{object_id}/elimination",
    response={201: CaseOut, **ERRORS},
    summary="启动风险消除程序（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def object_eliminate(request, object_id: int, payload: EliminateIn):
    obj = mon.object_get(actor=request.auth, object_id=object_id)

    def create():
        case = elimination.elimination_propose(
            actor=request.auth, monitoring_object=obj, method=payload.method, on=_on(payload.on)
        )
        return 201, _case_out(case)

    return once(request, f"objects.eliminate.{object_id}", payload.dict(), create)


@router.post(
    "/monitoring-objects/{object_id}/reversal",
    response={201: CaseOut, **ERRORS},
    summary="启动风险消除回退程序（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def object_reversal(request, object_id: int, payload: ReasonIn):
    obj = mon.object_get(actor=request.auth, object_id=object_id)

    def create():
        case = elimination.reversal_propose(
            actor=request.auth, monitoring_object=obj, reason=payload.reason, on=_on(payload.on)
        )
        return 201, _case_out(case)

    return once(request, f"objects.reversal.{object_id}", payload.dict(), create)


@router.post(
    "/monitoring-objects/{object_id}/county-reversal",
    response={200: ObjectDetailOut, **ERRORS},
    summary="县级决定回退，恢复监测",
)
def object_county_reversal(request, object_id: int, payload: ReasonIn):
    obj = mon.object_get(actor=request.auth, object_id=object_id)
    obj = elimination.elimination_reverse(
        actor=request.auth, monitoring_object=obj, reason=payload.reason, on=_on(payload.on)
    )
    return _object_out(request, obj)


# ---- household: assignment, findings, 明白纸, visit targets -----------------------------------------------


@router.post(
    "/households/{household_id}/assignments",
    response={201: AssignOut, **ERRORS},
    summary="指定包户干部 / 帮扶责任人（支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def household_assign(request, household_id: int, payload: HouseholdAssignIn):
    hh = access_object(request.auth, Household, household_id, what="户")

    def create():
        chosen = next(
            (u for u in assignable_users(actor=request.auth, household=hh) if u.pk == payload.user_id), None
        )
        if chosen is None:
            raise DomainError("assignee_unknown", "请选择本村范围内的人员", field="user_id")
        a = assistance.assignment_set(
            actor=request.auth, household=hh, user=chosen, kind=payload.kind, on=_on(payload.on)
        )
        return 201, to_json(
            {"household_id": hh.pk, "user": chosen.username, "kind": a.kind, "start_on": a.start_on}
        )

    return once(request, f"households.assign.{household_id}", payload.dict(), create)


@router.get(
    "/households/{household_id}/findings", response={200: list[FindingOut], **ERRORS}, summary="逻辑校验结果"
)
def household_findings(request, household_id: int):
    from fangpin.registry.checks.report import household_findings_cached

    access_object(request.auth, Household, household_id, what="户")
    hh = registry_selectors.household_get(actor=request.auth, household_id=household_id)
    return [
        {"code": f.code, "message": mask_text(f.message), "person_id": f.person_id, "field": f.field}
        for f in household_findings_cached(hh, on=clock.today())
    ]


@router.get(
    "/households/{household_id}/mingbaizhi",
    response={200: None, **ERRORS},
    summary="明白纸（可打印 HTML，脱敏，留痕）",
    openapi_extra={
        "responses": {200: {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}
    },
)
def household_mingbaizhi(request, household_id: int):
    from fangpin.trust.mingbaizhi import mingbaizhi_render

    html = mingbaizhi_render(actor=request.auth, household_id=household_id, on=clock.today())
    return HttpResponse(html, content_type="text/html; charset=utf-8")


@router.get(
    "/visit-targets", response={200: list[TargetOut], **ERRORS}, summary="走访对象（到期在前，户主姓名脱敏）"
)
def visit_targets(request):
    return [
        {
            "household_id": t.household_id,
            "household_no": t.household_no,
            "village_code": t.village_id,
            "head_name": t.head_name,
            "due": t.due,
            "overdue": t.overdue,
            "key": t.key,
        }
        for t in mon.visit_targets(actor=request.auth, on=clock.today(), limit=1000)
    ]
