"""统计报表: the 月推进 (monthly progress) and 季通报 (quarterly bulletin) tables as JSON and as files
(xlsx, pdf), and the indicator table behind the dashboard. Every number from ``fangpin.reports`` over the
caller's region, exactly as the browser's 统计分析 screens."""

import datetime as dt
from typing import Any, Literal
from urllib.parse import quote

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap, Role
from fangpin.core import clock
from fangpin.core.errors import NotFound, PermissionDenied
from fangpin.reports.files import report_file
from fangpin.reports.indicators import INDICATORS, Period, indicator_households, indicator_table, month_period
from fangpin.reports.indicators import household_rows as drill_rows
from fangpin.reports.tables import ReportTable, last_complete, report_build

from ..errors import ERRORS
from ..paging import Mapped, Pages
from .files import PDF, XLSX, binary_response

router = Router(tags=["统计报表"])


def _allowed(user) -> None:
    if not (user.can(Cap.REGISTRY_VIEW) or user.role == Role.LEADER):
        raise PermissionDenied("无权查看统计分析")


class ColumnOut(Schema):
    key: str
    label: str
    group: str
    pct: bool


class ReportOut(Schema):
    code: str
    title: str
    subtitle: str
    start: dt.date
    end: dt.date
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    notes: list[str]
    sections: list["ReportOut"] = []


ReportOut.model_rebuild()


class ReportQuery(Schema):
    internal: bool = False


class FileQuery(ReportQuery):
    format: Literal["xlsx", "pdf"] = "xlsx"


def table_out(t: ReportTable) -> dict:
    return {
        "code": t.code,
        "title": t.title,
        "subtitle": t.subtitle,
        "start": t.period.start,
        "end": t.period.end,
        "columns": [{"key": c.key, "label": c.label, "group": c.group, "pct": c.pct} for c in t.columns],
        "rows": [{str(k): v for k, v in r.items()} for r in t.rows],
        "notes": [str(n) for n in t.notes],
        "sections": [table_out(s) for s in t.sections],
    }


def _check(kind: str, year: int, number: int) -> None:
    top = 12 if kind == "monthly" else 4
    if kind not in ("monthly", "quarterly") or not 2000 <= year <= 2100 or not 1 <= number <= top:
        raise NotFound("报表")


@router.get(
    "/reports/{kind}/{year}/{number}",
    response={200: ReportOut, **ERRORS},
    summary="月推进（monthly，number=月）/ 季通报（quarterly，number=季度）报表",
)
def report(request, kind: str, year: int, number: int, query: Query[ReportQuery]):
    """``internal=true``: the quarterly bulletin with its internal columns (not for publication)."""
    _allowed(request.auth)
    _check(kind, year, number)
    t = report_build(actor=request.auth, kind=kind, year=year, number=number, published=not query.internal)
    return table_out(t)


@router.get(
    "/reports/{kind}/{year}/{number}/file",
    response={200: None, **ERRORS},
    summary="下载报表（xlsx 或 pdf；下载留痕）",
    openapi_extra=binary_response(XLSX, PDF),
)
def report_download(request, kind: str, year: int, number: int, query: Query[FileQuery]):
    _allowed(request.auth)
    _check(kind, year, number)
    f = report_file(
        actor=request.auth,
        kind=kind,
        year=year,
        number=number,
        fmt=query.format,
        published=not query.internal,
    )
    resp = HttpResponse(f.content, content_type=f.content_type)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f.filename)}"
    return resp


# ---- the dashboard's indicator table and the households behind a number ----------------------------------


class PeriodQuery(Schema):
    month: str | None = Field(
        None, pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM（缺省为上一个完整月）"
    )


class IndicatorRowOut(Schema):
    code: str
    name: str
    values: dict[str, float | int | None]


class IndicatorsOut(Schema):
    start: dt.date
    end: dt.date
    labels: dict[str, str]
    rows: list[IndicatorRowOut]
    total: IndicatorRowOut


class DrillQuery(PeriodQuery):
    code: str = Field(..., max_length=40, pattern=r"^[a-z_]+$", description="指标代码")
    township: str = Field("", max_length=12, pattern=r"^\d{0,12}$")


class DrillRowOut(Schema):
    id: int
    household_no: str
    village: str
    household_type: str
    head: str


def _period(month: str | None) -> Period:
    if month:
        y, m = (int(x) for x in month.split("-"))
        return month_period(y, m)
    return month_period(*last_complete("monthly", clock.today()))


@router.get("/stats/indicators", response={200: IndicatorsOut, **ERRORS}, summary="统计分析：各乡镇指标")
def indicators(request, query: Query[PeriodQuery]):
    _allowed(request.auth)
    period = _period(query.month)
    t = indicator_table(actor=request.auth, period=period)
    return {
        "start": period.start,
        "end": period.end,
        "labels": {code: ind.label for code, ind in INDICATORS.items()},
        "rows": [{"code": r.code, "name": r.name, "values": r.values} for r in t.rows],
        "total": {"code": t.total.code, "name": t.total.name, "values": t.total.values},
    }


@router.get(
    "/stats/households",
    response={200: list[DrillRowOut], **ERRORS},
    summary="统计分析：某个数字背后的户（户主姓名脱敏）",
)
@paginate(Pages)
def indicator_drill(request, query: Query[DrillQuery]):
    _allowed(request.auth)
    if query.code not in INDICATORS:
        raise NotFound("指标")
    qs = indicator_households(
        actor=request.auth, code=query.code, period=_period(query.month), township=query.township
    )
    return Mapped(qs, drill_rows)
