"""统计分析: the dashboard (ECharts, served locally), drill-down lists behind every number, and the
月推进 / 季通报 report tables as a printable page, Excel and PDF. Every number comes from
``fangpin.reports`` (indicators by township over region-scoped querysets)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from fangpin.accounts.roles import Cap, Role
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.reports.files import FORMATS, report_file_of
from fangpin.reports.indicators import (
    INDICATORS,
    Period,
    household_rows,
    income_band_households,
    income_distribution,
    indicator_households,
    indicator_table,
    leads_by_channel,
    leads_by_department,
    month_period,
)
from fangpin.reports.tables import MONTHLY_COLUMNS, last_complete, report_build

from ._common import query_string, refused_page, today


def _allowed(user) -> None:
    if not (user.can(Cap.REGISTRY_VIEW) or user.role == Role.LEADER):
        raise PermissionDenied("无权查看统计分析")


def _date(value: str | None, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _period(request: HttpRequest) -> Period:
    on = today()
    month = request.GET.get("month")  # YYYY-MM
    if month:
        try:
            y, m = (int(x) for x in month.split("-"))
            return month_period(y, m)
        except (ValueError, DomainError):
            pass
    default = month_period(*last_complete("monthly", on))  # the month a county reports on
    start = _date(request.GET.get("start"), default.start)
    end = _date(request.GET.get("end"), default.end)
    try:
        return Period(start, end)
    except DomainError:
        return default


@login_required
def stats_home(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    period = _period(request)
    table = indicator_table(actor=request.user, period=period)
    towns = [r.name for r in table.rows]
    codes = [r.code for r in table.rows]
    series_cat = [
        {
            "name": INDICATORS[c].label.replace("（户）", ""),
            "code": c,
            "data": [r.values[c] for r in table.rows],
        }
        for c in ("objects_unstable_exited", "objects_edge", "objects_sudden")
    ]
    dist = income_distribution(actor=request.user, on=period.end)
    channels = leads_by_channel(actor=request.user, period=period)
    depts = leads_by_department(actor=request.user, period=period)
    outcomes = sorted({k for v in channels.values() for k in v} | {k for v in depts.values() for k in v})
    chart = {
        "towns": towns,
        "codes": codes,
        "category": series_cat,
        "flows": [
            {"name": "新识别", "code": "new", "data": [r.values["new"] for r in table.rows]},
            {"name": "风险消除", "code": "eliminated", "data": [r.values["eliminated"] for r in table.rows]},
            {"name": "兜底保障", "code": "protected", "data": [r.values["protected"] for r in table.rows]},
        ],
        "rates": [
            {"name": "累计消除占比%", "data": [r.values.get("eliminated_share") for r in table.rows]},
            {"name": "措施覆盖率%", "data": [r.values.get("measure_coverage") for r in table.rows]},
            {"name": "超期率%", "data": [r.values.get("overdue_rate") for r in table.rows]},
            {"name": "走访覆盖率%", "data": [r.values.get("visit_coverage") for r in table.rows]},
        ],
        "duration": [r.values.get("duration_median") for r in table.rows],
        "channels": {"labels": list(channels), "outcomes": outcomes, "values": channels},
        "departments": {"labels": list(depts), "outcomes": outcomes, "values": depts},
        "income": {"bands": dist["bands"], "counts": dist["counts"], "lines": dist["lines"]},
        "drill": reverse("web:stats_list"),
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    rows = [{"code": r.code, "name": r.name, **r.values} for r in table.rows]
    rows.append({"code": "", "name": "合计", **table.total.values})
    ctx = {
        "period": period,
        "chart": chart,
        "columns": MONTHLY_COLUMNS,
        "rows": rows,
        "month_value": f"{period.start:%Y-%m}",
        "total": table.total.values,
        "drill_url": reverse("web:stats_list"),
    }
    return render(request, "web/stats/home.html", ctx)


@login_required
def stats_list(request: HttpRequest) -> HttpResponse:
    """The households behind one number (same scope and period as the number)."""
    _allowed(request.user)
    period = _period(request)
    code = request.GET.get("code", "")
    township = request.GET.get("township", "")[:12]
    try:
        if code == "income":
            try:
                band = int(request.GET.get("band", "-1"))
            except ValueError:
                band = -1
            qs = income_band_households(actor=request.user, on=period.end, band=band)
            label = income_distribution(actor=request.user, on=period.end)["bands"][band]
        else:
            qs = indicator_households(actor=request.user, code=code, period=period, township=township)
            label = INDICATORS[code].label
    except DomainError as e:
        return refused_page(request, e)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    ctx = {
        "label": label,
        "period": period,
        "township": township,
        "page": page,
        "rows": household_rows(list(page)),
        "pager_qs": query_string(request, page=None),
    }
    return render(request, "web/stats/list.html", ctx)


@login_required
def reports_home(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    on = today()
    my, mm = last_complete("monthly", on)
    qy, qq = last_complete("quarterly", on)
    return render(
        request,
        "web/stats/reports.html",
        {"monthly": (my, mm), "quarterly": (qy, qq), "years": list(range(on.year, on.year - 6, -1))},
    )


@login_required
def report_go(request: HttpRequest) -> HttpResponse:
    """The report chooser's GET form → the report's own address."""
    from django.shortcuts import redirect

    _allowed(request.user)
    try:
        kind = request.GET.get("kind", "monthly")
        return redirect(
            "web:report", kind=kind, year=int(request.GET.get("y", "")), number=int(request.GET.get("n", ""))
        )
    except ValueError:
        return redirect("web:reports")


@login_required
def report_view(request: HttpRequest, kind: str, year: int, number: int) -> HttpResponse:
    """The table as a page (``?format=`` xlsx or pdf downloads it). Exports are audited."""
    _allowed(request.user)
    published = request.GET.get("internal") != "1"
    try:
        table = report_build(actor=request.user, kind=kind, year=year, number=number, published=published)
    except DomainError as e:
        return refused_page(request, e)
    fmt = request.GET.get("format", "html")
    if fmt in FORMATS:
        f = report_file_of(
            actor=request.user, table=table, kind=kind, year=year, number=number, fmt=fmt, published=published
        )
        resp = HttpResponse(f.content, content_type=f.content_type)
        from urllib.parse import quote

        resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f.filename)}"
        return resp
    return render(
        request,
        "web/stats/report.html",
        {
            "t": table,
            "kind": kind,
            "year": year,
            "number": number,
            "published": published,
            "drill_url": reverse("web:stats_list"),
        },
    )
