"""系统管理 for the county administrator: users (role, region, department, active), policy parameters
(every change a new version with its basis and document number, audited; the version history and the
audit trail) and the working-day calendar. The same ``accounts.users`` and ``policy`` services as the
browser's 系统管理 screens."""

import datetime as dt
from typing import Any

from ninja import Field, Router, Schema
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require
from fangpin.accounts.users import user_create, user_list, user_update
from fangpin.core.errors import NotFound
from fangpin.policy.calendar import calendar_set, year_days
from fangpin.policy.params import parameter_change
from fangpin.policy.selectors import parameter_audit_trail, parameter_keys, parameter_versions
from fangpin.screening.selectors import rule_list

from ..errors import ERRORS
from ..idempotency import OPENAPI as IDEMPOTENT
from ..idempotency import once
from ..paging import Mapped, Pages, to_json
from ..schemas import MultilineText, PlainText

router = Router(tags=["系统管理"])


def _admin(request) -> None:
    require(request.auth, Cap.PARAMS_EDIT)


# ---- users -----------------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    role_name: str
    region_code: str | None
    department: str
    is_active: bool
    last_login: dt.datetime | None


class UserCreated(UserOut):
    initial_password: str | None = Field(
        None, description="初始密码，只在首次响应中出现一次（以同一 Idempotency-Key 重试时为 null）"
    )


class UserIn(Schema):
    username: PlainText = Field(..., min_length=1, max_length=150)
    display_name: PlainText = Field("", max_length=50)
    role: PlainText = Field(..., max_length=24)
    region_code: PlainText = Field(..., max_length=12)
    department: PlainText = Field("", max_length=32)


class UserUpdateIn(Schema):
    role: PlainText = Field(..., max_length=24)
    region_code: PlainText = Field(..., max_length=12)
    department: PlainText = Field("", max_length=32)
    is_active: bool = True


def user_out(u) -> dict:
    return {
        "id": u.pk,
        "username": u.username,
        "display_name": u.display_name,
        "role": u.role,
        "role_name": Role(u.role).label if u.role in Role.values else u.role,
        "region_code": u.region_id,
        "department": u.department,
        "is_active": u.is_active,
        "last_login": u.last_login,
    }


@router.get("/users", response={200: list[UserOut], **ERRORS}, summary="本辖区的用户（县级管理员）")
@paginate(Pages)
def users(request):
    return Mapped.each(user_list(actor=request.auth), user_out)


@router.post(
    "/users",
    response={201: UserCreated, **ERRORS},
    summary="创建用户（返回一次性初始密码；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def user_add(request, payload: UserIn):
    def create():
        u, password = user_create(
            actor=request.auth,
            username=payload.username,
            display_name=payload.display_name,
            role=payload.role,
            region_code=payload.region_code,
            department=payload.department,
        )
        return 201, {**to_json(user_out(u)), "initial_password": password}

    return once(
        request, "users.create", payload.dict(), create, stored=lambda b: {**b, "initial_password": None}
    )


@router.post(
    "/users/{user_id}", response={200: UserOut, **ERRORS}, summary="修改用户的角色、区域、部门或停用"
)
def user_edit(request, user_id: int, payload: UserUpdateIn):
    u = user_update(
        actor=request.auth,
        user_id=user_id,
        role=payload.role,
        region_code=payload.region_code,
        department=payload.department,
        is_active=payload.is_active,
    )
    return user_out(u)


# ---- policy parameters -------------------------------------------------------------------------------


class ParamKeyOut(Schema):
    key: str
    settings: int
    versions: int
    basis: str
    doc_no: str


class ParamVersionOut(Schema):
    id: int
    key: str
    region_prefix: str
    year: int
    version: int
    value: Any
    is_active: bool
    basis: str
    doc_no: str
    note: str
    created_by: str
    created_at: dt.datetime


class ParamChangeIn(Schema):
    value: Any = Field(..., description="新值（JSON：数字、文字、列表或对象，类型须与原值一致）")
    region_code: PlainText = Field(
        "", max_length=12, description="适用区域前缀（2/4/6/9/12 位；缺省为本辖区）"
    )
    year: int = Field(..., ge=2000, le=2100, description="自该年度起适用")
    basis: MultilineText = Field(..., max_length=300, description="依据")
    doc_no: PlainText = Field(..., max_length=100, description="文件号")
    note: MultilineText = Field("", max_length=1000)


class TrailOut(Schema):
    seq: int
    at: dt.datetime
    actor: str
    object_id: str
    data: dict[str, Any]


def version_out(p) -> dict:
    return {
        "id": p.pk,
        "key": p.key,
        "region_prefix": p.region_code,
        "year": p.year,
        "version": p.version,
        "value": p.value,
        "is_active": p.is_active,
        "basis": p.basis,
        "doc_no": p.doc_no,
        "note": p.note,
        "created_by": p.created_by.username if p.created_by_id else "",
        "created_at": p.created_at,
    }


@router.get("/parameters", response={200: list[ParamKeyOut], **ERRORS}, summary="政策参数一览（县级管理员）")
@paginate(Pages)
def parameter_list(request):
    _admin(request)
    return parameter_keys()


def _known(key: str) -> str:
    key = key[:100]
    if not parameter_versions(key).exists():
        raise NotFound("政策参数")
    return key


@router.get(
    "/parameters/{key}/versions",
    response={200: list[ParamVersionOut], **ERRORS},
    summary="参数的全部版本（新→旧）",
)
@paginate(Pages)
def parameter_version_list(request, key: PlainText):
    _admin(request)
    return Mapped.each(parameter_versions(_known(key)), version_out)


@router.get("/parameters/{key}/audit", response={200: list[TrailOut], **ERRORS}, summary="参数修改的审计记录")
def parameter_trail(request, key: PlainText):
    _admin(request)
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor.username if e.actor_id else e.actor_role,
            "object_id": e.object_id,
            "data": e.data or {},
        }
        for e in parameter_audit_trail(_known(key))
    ]


@router.post(
    "/parameters/{key}/versions",
    response={201: ParamVersionOut, **ERRORS},
    summary="修改参数：新建一个版本（须填依据和文件号，留痕；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def parameter_edit(request, key: PlainText, payload: ParamChangeIn):
    _admin(request)
    key = _known(key)

    def create():
        p = parameter_change(
            actor=request.auth,
            key=key,
            value=payload.value,
            region_code=payload.region_code or (request.auth.scope_prefix or ""),
            year=payload.year,
            basis=payload.basis,
            doc_no=payload.doc_no,
            note=payload.note,
        )
        return 201, to_json(version_out(p))

    return once(request, f"parameters.change.{key}", payload.dict(), create)


# ---- calendar and screening rules (the rest of 系统管理) ----------------------------------------------


class CalendarOut(Schema):
    year: int
    holidays: list[dt.date]
    workdays: list[dt.date]


class CalendarIn(Schema):
    holidays: list[dt.date] = Field(default_factory=list, max_length=366)
    workdays: list[dt.date] = Field(default_factory=list, max_length=366)
    doc_no: PlainText = Field(..., max_length=100)
    basis: MultilineText = Field("", max_length=300)


@router.get("/calendar/{year}", response={200: CalendarOut, **ERRORS}, summary="某年的法定节假日与调休上班日")
def calendar_get(request, year: int):
    _admin(request)
    if not 2000 <= year <= 2100:
        raise NotFound("工作日历")
    holidays, workdays = year_days(year)
    return {"year": year, "holidays": sorted(holidays), "workdays": sorted(workdays)}


@router.post(
    "/calendar/{year}",
    response={201: CalendarOut, **ERRORS},
    summary="保存某年的工作日历（新版本；支持 Idempotency-Key）",
    openapi_extra=IDEMPOTENT,
)
def calendar_put(request, year: int, payload: CalendarIn):
    _admin(request)
    if not 2000 <= year <= 2100:
        raise NotFound("工作日历")

    def create():
        calendar_set(
            actor=request.auth,
            year=year,
            holidays=[d.isoformat() for d in payload.holidays],
            workdays=[d.isoformat() for d in payload.workdays],
            doc_no=payload.doc_no,
            basis=payload.basis,
        )
        holidays, workdays = year_days(year)
        return 201, to_json({"year": year, "holidays": sorted(holidays), "workdays": sorted(workdays)})

    return once(request, f"calendar.set.{year}", payload.dict(), create)


class RuleOut(Schema):
    code: str
    source: str
    title: str
    condition_kind: str
    window: str
    window_months: int
    threshold_key: str
    applies_to: str
    risk_types: list[str]
    severity: str
    active: bool
    version: int


@router.get("/screening-rules", response={200: list[RuleOut], **ERRORS}, summary="筛查规则（只读）")
def screening_rules(request):
    _admin(request)
    return [
        {
            "code": r.code,
            "source": r.source,
            "title": r.title,
            "condition_kind": r.condition_kind,
            "window": r.window,
            "window_months": r.window_months,
            "threshold_key": r.threshold_key,
            "applies_to": r.applies_to,
            "risk_types": [str(x) for x in (r.risk_types or [])],
            "severity": r.severity,
            "active": r.active,
            "version": r.version,
        }
        for r in rule_list()
    ]
