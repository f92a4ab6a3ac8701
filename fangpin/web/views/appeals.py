"""异议申诉: the appeals a township or county office owns (deadline, escalations, overdue in red), one appeal
with its assignment and decision, and lodging one from the household file. The services in
``trust.services.appeals`` keep the rules (numbering, owner level, working-day deadline, pausing the case step
an objection during 公示 concerns, resuming it when decided); every refusal is theirs to audit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household
from fangpin.trust.models import Appeal, AppealKind, AppealOutcome, AppealStatus
from fangpin.trust.selectors import appeal_list as appeals_of
from fangpin.trust.services.appeals import appeal_assign, appeal_decide, appeal_handlers, appeal_lodge
from fangpin.trust.services.common import LEVEL_NAMES

from ._common import field_errors, form_date, today


@login_required
def appeal_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    require(user, Cap.REGISTRY_VIEW)
    on = today()
    status = request.GET.get("status", AppealStatus.OPEN)
    qs = appeals_of(actor=user, status=None if status == "all" else status)
    if request.GET.get("mine") == "1":
        qs = qs.filter(owner_region_id=user.region_id)
    rows = list(qs.select_related("household", "owner_region", "owner").order_by("deadline", "id")[:200])
    for a in rows:
        a.days_over = (on - a.deadline).days if a.status == AppealStatus.OPEN and a.deadline < on else 0
    return render(
        request,
        "web/appeals/list.html",
        {"rows": rows, "on": on, "status": status, "mine": request.GET.get("mine") == "1",
         "levels": LEVEL_NAMES},
    )  # fmt: skip


@login_required
@require_http_methods(["GET", "POST"])
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    user = request.user
    on = today()
    a = access_object(user, Appeal, appeal_id, what="异议申诉")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "assign":
                owner = int(request.POST.get("owner") or 0)
                a = appeal_assign(actor=user, appeal_id=a.pk, owner_id=owner)
                messages.success(request, f"已指定承办人：{a.owner}")
            else:
                a = appeal_decide(
                    actor=user,
                    appeal_id=a.pk,
                    outcome=request.POST.get("outcome", ""),
                    reason=request.POST.get("reason", "").strip(),
                    on=form_date(request.POST.get("on"), on),
                )
                messages.success(request, f"异议{a.number}已办结：{a.get_outcome_display()}")
            return redirect("web:appeal", appeal_id=a.pk)
        except DomainError as e:
            errors = field_errors(e)
        except ValueError:
            errors = {"owner": "请选择承办人"}
    can_handle = user.can(Cap.APPEAL_HANDLE) and a.status == AppealStatus.OPEN
    return render(
        request,
        "web/appeals/detail.html",
        {
            "a": a,
            "on": on,
            "errors": errors,
            "levels": LEVEL_NAMES,
            "can_handle": can_handle,
            "handlers": appeal_handlers(a.owner_region_id) if can_handle else [],
            "outcomes": AppealOutcome.choices,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def appeal_lodge_form(request: HttpRequest, household_id: int) -> HttpResponse:
    user = request.user
    on = today()
    hh = access_object(user, Household, household_id, what="户")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            a = appeal_lodge(
                actor=user,
                household_id=hh.pk,
                kind=request.POST.get("kind", ""),
                content=request.POST.get("content", "").strip(),
                lodged_by_name=request.POST.get("lodged_by_name", "").strip(),
                lodged_by_relation=request.POST.get("lodged_by_relation", "本户").strip(),
                lodged_on=form_date(request.POST.get("on"), on),
            )
        except DomainError as e:
            errors = field_errors(e)
        else:
            messages.success(request, f"已登记异议申诉{a.number}，办理期限{a.deadline:%Y-%m-%d}")
            return redirect("web:appeal", appeal_id=a.pk)
    kinds = [(k, label) for k, label in AppealKind.choices if k != AppealKind.PUBLICITY]
    return render(
        request,
        "web/appeals/lodge.html",
        {"hh": hh, "on": on, "errors": errors, "kinds": kinds, "post": request.POST},
    )
