"""工作台: the home page of each role — to-dos first, then the key counts of the user's area (each a link)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from fangpin.accounts.roles import Cap, Role
from fangpin.core import clock
from fangpin.monitoring.workbench import home_summary
from fangpin.regions.selectors import region_path_names
from fangpin.trust.selectors import my_tasks

from ._common import today


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    on = today()
    ctx = {
        "region": " / ".join(region_path_names(user.region_id)) if user.region_id else "",
        "on": on,
        "role": user.role,
    }
    if user.role == Role.DEPT_OFFICER:
        from fangpin.screening.selectors import batch_list

        ctx["batches"] = list(batch_list(actor=user).order_by("-uploaded_at")[:10])
        ctx["screening_url"] = _url("web:screening")
        return render(request, "web/home/dept_officer.html", ctx)
    if user.role == Role.AUDITOR:
        from fangpin.audit.summary import audit_overview

        since = clock.now() - dt.timedelta(days=7)
        ctx["audit"] = audit_overview(actor=user, since=since)
        ctx["audit_url"] = _url("web:audit")
        return render(request, "web/home/auditor.html", ctx)
    ctx["s"] = home_summary(actor=user, on=on)
    # an overdue step is listed once, in 逾期事项 (its reminder task says the same thing)
    shown = {(o.household_no, o.message) for o in ctx["s"]["overdue"]}
    ctx["tasks"] = [
        t for t in my_tasks(user, on=on) if t.kind != "visit" and (t.household_no, t.title) not in shown
    ][:30]
    ctx["visits_url"] = _url("web:visits")
    ctx["can_case"] = any(user.can(c) for c in (Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY))
    ctx["is_helper"] = user.role == Role.HELPER
    # the household-by-household visit list is village work; supervisors see the counts
    ctx["visit_list"] = (
        sorted(ctx["s"]["visits_due"], key=lambda v: (not v.overdue, not v.key, v.household_no))
        if user.role in (Role.VILLAGE_CADRE, Role.HELPER)
        else []
    )
    return render(request, "web/home/home.html", ctx)
