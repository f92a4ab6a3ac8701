"""政策模拟测算 (统计分析 → 政策模拟): the scenario form, the side-by-side table by township, drill-down
lists, the households whose judgement changes, Excel (masked), the full run as a background job, and the
recomputation a new parameter version offers. Everything through ``fangpin.whatif.services``; nothing is
written but the audit event of the read."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Cap
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.policy.selectors import parameter_version_get
from fangpin.whatif.excel import side_by_side, whatif_xlsx
from fangpin.whatif.paramset import KEYS, ParamSet
from fangpin.whatif.services import (
    MEASURES,
    Comparison,
    recompute_default_on,
    recompute_offer,
    whatif_run,
)
from fangpin.whatif.snapshot import Snapshot

from ._common import query_string, refused_page, today

_CACHE: dict[tuple, tuple[float, Snapshot]] = {}
CACHE_SECONDS = 600


def _allowed(user) -> None:
    if not user.can(Cap.REGISTRY_VIEW):
        raise PermissionDenied("无权进行政策模拟测算")


def _snapshot(actor, on: dt.date) -> Snapshot:
    """The maintained snapshot (``whatif.store``) the previews share: kept in this process for ten minutes
    while the registry's generation stays the one it was built from, else opened from its file or built."""
    from fangpin.accounts.scope import assigned_only
    from fangpin.whatif.store import registry_stamp, snapshot_maintained

    key = (actor.pk if assigned_only(actor) else None, actor.scope_prefix, on)
    hit = _CACHE.get(key)
    if (
        hit
        and time.monotonic() - hit[0] < CACHE_SECONDS
        and (not hit[1].stamp or hit[1].stamp == registry_stamp())
    ):
        return hit[1]
    snap = snapshot_maintained(actor=actor, on=on)
    _CACHE.clear() if len(_CACHE) > 20 else None
    _CACHE[key] = (time.monotonic(), snap)
    return snap


def _form(request: HttpRequest) -> tuple[dict[str, str], dt.date, int | None]:
    settings = {k: request.GET.get(k, "").strip() for k in KEYS}
    settings = {k: v for k, v in settings.items() if v}
    try:
        on = dt.date.fromisoformat(request.GET.get("on") or "") if request.GET.get("on") else today()
    except ValueError:
        raise DomainError("whatif_date_invalid", "业务日期格式应为 YYYY-MM-DD", field="on") from None
    year = request.GET.get("year") or ""
    if year and not year.isdigit():
        raise DomainError("whatif_year_invalid", "适用年度须为数字", field="year")
    return settings, on, int(year) if year else None


def _run(request: HttpRequest) -> Comparison | None:
    settings, on, year = _form(request)
    if not settings:
        return None
    return whatif_run(
        actor=request.user, on=on, settings=settings, year=year, snapshot=_snapshot(request.user, on),
        screening=True if request.GET.get("screening") == "1" else None,
    )  # fmt: skip


def _context(c: Comparison, request: HttpRequest) -> dict[str, Any]:
    header, rows = side_by_side(c)
    return {
        "c": c,
        "measures": c.measures,
        "screening": _screening_note(c),
        "rows": c.rows,
        "changed": c.changed[:500],
        "changed_total": len(c.changed),
        "qs": request.GET.urlencode(),
    }


def _screening_note(c: Comparison) -> dict[str, Any] | None:
    if c.screening is None:
        return None
    b, s = c.screening["thresholds"]["b|"], c.screening["thresholds"]["s|"]
    return {
        "month": c.screening["month"],
        "batches": c.screening["batches"],
        "changed": [{"key": k, "name": KEYS.get(k, k), "base": b.get(k), "scen": v} for k, v in s.items()
                    if b.get(k) != v],
    }  # fmt: skip


@login_required
def whatif_home(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    ctx: dict[str, Any] = {"keys": KEYS, "form": request.GET, "on": today()}
    try:
        c = _run(request)
    except DomainError as e:
        ctx["error"] = e.message
        return render(request, "web/stats/whatif.html", ctx, status=400)
    if c is not None:
        ctx.update(_context(c, request))
    cur = _current_values(request.user, ctx["on"])
    ctx["fields"] = [{"key": k, "name": v["name"], "current": v["value"], "value": request.GET.get(k, "")}
                     for k, v in cur.items()]  # fmt: skip
    return render(request, "web/stats/whatif.html", ctx)


def _current_values(actor, on: dt.date) -> dict[str, Any]:
    ps = ParamSet()
    region = (actor.region_id or "")[:6].ljust(12, "0")
    out = {}
    for k, name in KEYS.items():
        try:
            out[k] = {"name": name, "value": ps.value(k, region_code=region, year=on.year)}
        except DomainError:
            out[k] = {"name": name, "value": "—"}
    return out


@login_required
def whatif_list(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    measure = request.GET.get("measure", "")
    which = "base" if request.GET.get("which") == "base" else "scen"
    try:
        c = _run(request)
        if c is None:
            return redirect("web:whatif")
        rows = c.households(measure, which=which, township=request.GET.get("township") or None)
    except DomainError as e:
        return refused_page(request, e)
    back = query_string(request, measure=None, which=None, township=None)
    label = f"{c.measures[measure]}（{c.baseline.label if which == 'base' else '模拟方案'}）"
    return render(request, "web/stats/whatif_list.html", {"rows": rows[:2000], "total": len(rows), "label": label,
                                                           "back": back})  # fmt: skip


@login_required
def whatif_export(request: HttpRequest) -> HttpResponse:
    _allowed(request.user)
    try:
        c = _run(request)
    except DomainError as e:
        return refused_page(request, e)
    if c is None:
        return redirect("web:whatif")
    data = whatif_xlsx(c)
    audit_record(actor=request.user, event_type="whatif.export", region_code=c.region_prefix,
                 data={"read": True, "on": c.on.isoformat(), "rows": len(c.changed), "masked": True})  # fmt: skip
    resp = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = f'attachment; filename="whatif-{c.on:%Y%m%d}.xlsx"'
    return resp


@login_required
@require_POST
def whatif_full(request: HttpRequest) -> HttpResponse:
    """The full run (fresh snapshot, all lists, the workbook) as a Huey job; its page shows the result."""
    _allowed(request.user)
    from fangpin.whatif.tasks import whatif_full_run_task

    settings = {k: request.POST.get(k, "").strip() for k in KEYS}
    settings = {k: v for k, v in settings.items() if v}
    screening = True if request.POST.get("screening") == "1" else None
    on = request.POST.get("on") or today().isoformat()
    year = request.POST.get("year") or None
    token = secrets.token_hex(8)
    request.session.setdefault("whatif_tokens", []).append(token)
    request.session.modified = True
    try:
        whatif_full_run_task(request.user.pk, on, settings, int(year) if year else None, token, screening)
    except DomainError as e:
        return refused_page(request, e)
    return redirect("web:whatif_result", token=token)


@login_required
def whatif_result(request: HttpRequest, token: str) -> HttpResponse:
    _allowed(request.user)
    from fangpin.whatif.tasks import result_dir, result_read

    if token not in request.session.get("whatif_tokens", []) or not token.isalnum():
        return refused_page(request, DomainError("not_found", "测算结果不存在或无权查看"), status=404)
    if request.GET.get("format") == "xlsx":
        f = result_dir(token) / "result.xlsx"
        if f.exists():
            audit_record(
                actor=request.user,
                event_type="whatif.export",
                data={"read": True, "token": token, "masked": True},
            )
            resp = HttpResponse(
                f.read_bytes(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            resp["Content-Disposition"] = f'attachment; filename="whatif-{token}.xlsx"'
            return resp
    res = result_read(token)
    return render(
        request,
        "web/stats/whatif_result.html",
        {"res": res, "token": token, "measures": (res or {}).get("measures") or MEASURES},
    )


@login_required
def whatif_recompute(request: HttpRequest, param_id: int) -> HttpResponse:
    """What a parameter version changed in its year: before it and after it, the households named."""
    _allowed(request.user)
    p = parameter_version_get(param_id)
    if p is None:
        return refused_page(request, DomainError("not_found", "参数版本不存在"), status=404)
    try:
        c = recompute_offer(actor=request.user, parameter=p, on=recompute_default_on(p.year, today()))
    except DomainError as e:
        return refused_page(request, e)
    ctx = {"keys": KEYS, "recompute": p, "on": c.on, **_context(c, request)}
    return render(request, "web/stats/whatif.html", ctx)
