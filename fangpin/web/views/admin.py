"""系统管理 for the county administrator: users (roles and regions), the region tree, policy parameters by
region and year (every change a new version with its basis and document number, history and audit trail
shown), the measure catalogue, screening rules and department mappings (read-only), and the working-day
calendar. Writes go through ``accounts.users``, ``policy.params.parameter_change`` and ``policy.calendar``."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require
from fangpin.accounts.users import user_create, user_list, user_update
from fangpin.audit.refusals import audit_refusal
from fangpin.core.errors import DomainError
from fangpin.policy.calendar import KEY as CALENDAR_KEY
from fangpin.policy.calendar import calendar_missing, calendar_set, calendar_years, year_days
from fangpin.policy.params import param_get, parameter_change, parameter_value_parse
from fangpin.policy.selectors import parameter_audit_trail, parameter_keys, parameter_versions
from fangpin.regions.selectors import region_descendants
from fangpin.screening.selectors import mapping_list, rule_list

from ._common import today


def _admin(request: HttpRequest) -> None:
    require(request.user, Cap.PARAMS_EDIT)


@login_required
def admin_home(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "web/admin/home.html", {})


@login_required
def users(request: HttpRequest) -> HttpResponse:
    _admin(request)
    actor = request.user
    if request.method == "POST":
        try:
            if request.POST.get("action") == "create":
                u, password = user_create(
                    actor=actor,
                    username=request.POST.get("username", ""),
                    display_name=request.POST.get("display_name", ""),
                    role=request.POST.get("role", ""),
                    region_code=request.POST.get("region", ""),
                    department=request.POST.get("department", ""),
                )
                messages.success(
                    request, f"已创建用户 {u.username}，初始密码：{password}（只显示这一次，请当面交付）"
                )
            else:
                user_update(
                    actor=actor,
                    user_id=int(request.POST.get("user_id") or 0),
                    role=request.POST.get("role", ""),
                    region_code=request.POST.get("region", ""),
                    department=request.POST.get("department", ""),
                    is_active=request.POST.get("is_active") == "on",
                )
                messages.success(request, "已保存")
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", "填写有误"))
        return redirect("web:admin_users")
    regions = list(region_descendants(actor.region_id or "").order_by("code")[:3000])
    ctx = {
        "users": user_list(actor=actor).select_related("region"),
        "roles": Role.choices,
        "regions": regions,
    }
    return render(request, "web/admin/users.html", ctx)


@login_required
def regions(request: HttpRequest) -> HttpResponse:
    _admin(request)
    rows = region_descendants(request.user.region_id or "").order_by("code")[:3000]
    return render(request, "web/admin/regions.html", {"regions": rows})


@login_required
def params(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "web/admin/params.html", {"keys": parameter_keys()})


def _recomputable(key: str) -> bool:
    from fangpin.whatif.paramset import KEYS as WHATIF_KEYS

    return key in WHATIF_KEYS


@login_required
def param_detail(request: HttpRequest, key: str) -> HttpResponse:
    _admin(request)
    actor = request.user
    on = today()
    region = actor.scope_prefix or ""
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            year = int(request.POST.get("year") or on.year)
        except ValueError:
            year = -1  # refused (and recorded) by the service: 年度须在2000至2100之间
        try:
            value = parameter_value_parse(request.POST.get("value", ""))
        except DomainError as e:
            audit_refusal(actor=actor, event_type="policy.change_refused", object_type="policy.parameter",
                          object_id=key[:64], reason=e.message, data={"field": "value", "code": e.code})  # fmt: skip
            errors["value"] = e.message
        else:
            try:
                p = parameter_change(
                    actor=actor,
                    key=key,
                    value=value,
                    region_code=request.POST.get("region_code", region).strip(),
                    year=year,
                    basis=request.POST.get("basis", ""),
                    doc_no=request.POST.get("doc_no", ""),
                    note=request.POST.get("note", ""),
                )
            except DomainError as e:
                errors[e.field or "general"] = e.message
            else:
                messages.success(
                    request, f"已保存为第{p.version}版（{p.region_code or '全国'}，{p.year}年起）"
                )
                from fangpin.whatif.paramset import KEYS as WHATIF_KEYS

                if key in WHATIF_KEYS:  # the change offers the recomputation of its year at once
                    return redirect("web:whatif_recompute", param_id=p.pk)
                return redirect("web:admin_param", key=key)
    try:
        current = param_get(key, region_code=actor.region_id or "", year=on.year)
    except DomainError:
        current = None
    ctx = {
        "key": key,
        "current": current,
        "current_json": json.dumps(current.value, ensure_ascii=False) if current else "",
        "versions": parameter_versions(key)[:200],
        "trail": parameter_audit_trail(key),
        "errors": errors,
        "form": request.POST if request.method == "POST" else {},
        "region": region,
        "year": on.year,
        "recomputable": _recomputable(key),
    }
    return render(request, "web/admin/param.html", ctx, status=400 if errors else 200)


@login_required
def measures(request: HttpRequest) -> HttpResponse:
    """The measure catalogue: add or retire entries, saved as a new version of ``catalogue.measures``
    (basis and 文件号 required, audited) through ``policy.catalogue.measure_catalogue_change``."""
    _admin(request)
    from fangpin.policy.catalogue import KEY, MEASURE_KINDS, measure_catalogue, measure_catalogue_change

    on = today()
    actor = request.user
    region = actor.scope_prefix or ""
    errors: dict[str, str] = {}
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        try:
            p = measure_catalogue_change(
                actor=actor,
                region_code=request.POST.get("region_code", region).strip(),
                year=int(request.POST.get("year") or on.year),
                add={name: request.POST.get("kind", "")} if name else {},
                retire=request.POST.getlist("retire"),
                basis=request.POST.get("basis", ""),
                doc_no=request.POST.get("doc_no", ""),
                on=on,
            )
        except DomainError as e:
            errors[e.field or "general"] = e.message
        except ValueError:
            errors["year"] = "年度须为数字"
        else:
            messages.success(
                request,
                f"措施目录已保存为第{p.version}版（{p.region_code or '全国'}，{p.year}年起）：{p.note}",
            )
            return redirect("web:admin_measures")
    cat = measure_catalogue(region_code=actor.region_id or "", year=on.year)
    rows = [(name, MEASURE_KINDS.get(kind, kind)) for name, kind in cat.value.items()]
    ctx = {
        "rows": rows,
        "p": cat,
        "kinds": list(MEASURE_KINDS.items()),
        "errors": errors,
        "form": request.POST if request.method == "POST" else {},
        "region": region,
        "year": on.year,
        "versions": parameter_versions(KEY)[:50],
        "trail": parameter_audit_trail(KEY)[:50],
        "key": KEY,
    }
    return render(request, "web/admin/measures.html", ctx, status=400 if errors else 200)


@login_required
def screening_rules(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "web/admin/screening.html", {"rules": rule_list(), "mappings": mapping_list()})


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    _admin(request)
    on = today()
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or on.year)
    except ValueError:
        year = on.year
    error = None
    if request.method == "POST":

        def dates(name: str) -> list[str]:
            return [
                x.strip()
                for x in request.POST.get(name, "").replace("，", ",").replace("\n", ",").split(",")
                if x.strip()
            ]

        try:
            calendar_set(
                actor=request.user,
                year=year,
                holidays=dates("holidays"),
                workdays=dates("workdays"),
                doc_no=request.POST.get("doc_no", ""),
                basis=request.POST.get("basis", ""),
            )
        except DomainError as e:
            error = e.message
        else:
            messages.success(request, f"{year}年工作日历已保存为新版本")
            return redirect(f"{request.path}?year={year}")
    holidays, workdays = year_days(year)
    ctx = {
        "year": year,
        "holidays": ", ".join(d.isoformat() for d in sorted(holidays)),
        "workdays": ", ".join(d.isoformat() for d in sorted(workdays)),
        "has_data": bool(holidays or workdays),
        "error": error,
        "key": CALENDAR_KEY,
        "years": list(range(on.year + 1, on.year - 4, -1)),
        "loaded": calendar_years(),
        "current": next(
            (
                v
                for v in parameter_versions(CALENDAR_KEY)
                if v.year == year and v.is_active and not v.region_code
            ),
            None,
        ),
        "business_year_missing": calendar_missing(on),
        "next_year_missing": calendar_missing(dt.date(on.year + 1, 1, 1)),
        "next_year": on.year + 1,
    }
    return render(request, "web/admin/calendar.html", ctx, status=400 if error else 200)
