"""走访 on a phone: the nine-aspect visit form, usable offline.

The page works without JavaScript (a plain POST to ``visit_log``). With JavaScript, a submitted visit goes
to the IndexedDB outbox (``static/web/visits/outbox.js``) and is sent to ``visit_sync_api``, which calls the
idempotent ``monitoring.services.visits.visit_sync`` and answers JSON: stored / duplicate (with the stored
id) / conflict / rejected. The service worker (``visit_sw``) keeps the page and its assets for offline use."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.errors import DomainError
from fangpin.monitoring.selectors import visit_list
from fangpin.monitoring.services.visits import VisitSyncResult, visit_log, visit_sync
from fangpin.policy.params import param_value
from fangpin.registry.selectors import household_get
from fangpin.risk.selectors import visit_targets_by_risk

from ._common import input_refused, today

SW_VERSION = "visits-1"
PRECACHE_STATIC = [
    "web/site.css",
    "web/visits/visits.css",
    "web/visits/outbox.js",
    "web/visits/visits.js",
    "django_htmx/htmx-2.min.js",
]


def _catalogues(actor, on: dt.date) -> tuple[dict[str, str], list[str]]:
    region = actor.region_id or ""
    aspects = param_value("visits.checklist_aspects", region_code=region, year=on.year)
    risk_types = list(param_value("catalogue.risk_types", region_code=region, year=on.year))
    return dict(aspects), risk_types


def _parse_post(post, aspects: dict[str, str]) -> dict[str, Any]:
    checklist = {}
    for code in aspects:
        answer = post.get(f"aspect_{code}", "")
        if answer:
            checklist[code] = {"ok": answer == "ok", "note": post.get(f"note_{code}", "").strip()}
    return {
        "visited_on": dt.date.fromisoformat(post.get("visited_on") or today().isoformat()),
        "checklist": checklist,
        "has_risk": post.get("has_risk") == "yes",
        "risk_types": post.getlist("risk_types"),
        "note": post.get("note", "").strip(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def visits_home(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.VISIT_LOG)
    on = today()
    aspects, risk_types = _catalogues(request.user, on)
    error = None
    if request.method == "POST":  # the no-JavaScript path
        try:
            data = _parse_post(request.POST, aspects)
            hh = household_get(actor=request.user, household_id=int(request.POST.get("household_id") or 0))
            v = visit_log(actor=request.user, household=hh, **data)
        except (ValueError, OverflowError):
            error = input_refused(
                request, DomainError("visit_form", "请选择户并填写正确的日期", field="visited_on")
            )
        except DomainError as e:
            error = e
        else:
            messages.success(request, f"走访已保存（记录号 {v.pk}）")
            return redirect("web:visits")
    ranked = visit_targets_by_risk(actor=request.user, on=on)
    ctx = {
        "targets": [r.target for r in ranked],
        "ranked": [r for r in ranked if r.score is not None][:20],
        "scores": {r.target.household_id: r for r in ranked if r.score is not None},
        "aspects": aspects,
        "risk_types": risk_types,
        "today": on,
        "error": error,
        "recent": visit_list(actor=request.user)
        .filter(visitor=request.user)
        .select_related("household")[:20],
        "sw_url": reverse("web:visit_sw"),
    }
    return render(request, "web/visits/home.html", ctx)


@require_http_methods(["GET"])
def visit_sync_token(request: HttpRequest) -> JsonResponse:
    """A fresh CSRF token for the outbox (the page may be an old cached copy)."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login", "message": "登录已过期，请重新登录"}, status=401)
    return JsonResponse({"csrf": get_token(request)}, headers={"Cache-Control": "no-store"})


@require_http_methods(["POST"])
def visit_sync_api(request: HttpRequest) -> JsonResponse:
    """One queued visit. Every parsed request gets a 200 answer with a status the outbox acts on; only a
    stored/duplicate answer carries a visit id and lets the phone drop the visit."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "login", "message": "登录已过期，请重新登录"}, status=401)
    if not request.user.can(Cap.VISIT_LOG):
        return JsonResponse({"status": "rejected", "visit_id": None, "message": "无权记录走访", "field": ""})
    try:
        raw = request.body
    except RequestDataTooBig:
        raw = None
    try:
        if raw is None:
            raise ValueError("too large")
        body = json.loads(raw.decode("utf-8"))
        if not isinstance(body, dict):
            raise TypeError("not an object")
        args = {
            "client_key": str(body.get("client_key", "")),
            "household_id": int(body["household_id"]),
            "visited_on": dt.date.fromisoformat(str(body["visited_on"])),
            "checklist": dict(body.get("checklist") or {}),
            "has_risk": bool(body.get("has_risk")),
            "risk_types": [str(x) for x in body.get("risk_types") or []],
            "note": str(body.get("note", ""))[:2000],
            "keep_both": bool(body.get("keep_both")),
        }
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError, OverflowError):
        # RecursionError: JSON nested thousands deep; OverflowError: a number like 1e400 as an id
        msg = "走访记录过大，请缩短备注后重试" if raw is None else "走访记录格式不完整或有误（户、日期）"
        res = VisitSyncResult("rejected", message=msg, field="")
    else:
        res = visit_sync(actor=request.user, **args)
    if res.status == "rejected":
        from fangpin.audit.refusals import audit_refusal

        audit_refusal(
            actor=request.user,
            event_type="monitoring.visit_sync_refused",
            reason=res.message[:500],
            data={"field": res.field or ""},
        )
    return JsonResponse(res.as_dict(), headers={"Cache-Control": "no-store"})


def visit_sw(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /visits/ so its scope covers the visit pages."""
    path = finders.find("web/visits/sw.js")
    with open(path, encoding="utf-8") as fh:
        body = fh.read()
    precache = [reverse("web:visits")] + [static(p) for p in PRECACHE_STATIC]
    head = (
        f"self.FANGPIN_SW_VERSION = {json.dumps(SW_VERSION + ('-debug' if settings.DEBUG else ''))};\n"
        f"self.FANGPIN_SW_PRECACHE = {json.dumps(precache)};\n"
    )
    resp = HttpResponse(head + body, content_type="application/javascript; charset=utf-8")
    resp["Service-Worker-Allowed"] = reverse("web:visits")
    resp["Cache-Control"] = "no-cache"
    return resp
