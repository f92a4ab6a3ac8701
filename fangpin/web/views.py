"""A minimal read-only web front (login, home counts, household search, household file).

The full browser application is a separate, deferred issue; these pages exist so the demo county can be
looked at, and they follow the same rules: every query through selectors (region scope), personal data masked,
every household-file view audited."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.audit.record import audit_list_view, audit_record
from fangpin.core import clock
from fangpin.core.errors import NotFound
from fangpin.core.masking import age_on, mask_id_number, mask_phone
from fangpin.regions.selectors import region_path_names
from fangpin.registry import selectors
from fangpin.registry.checks.report import household_findings
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess
from fangpin.trust.mingbaizhi import mingbaizhi_render
from fangpin.trust.selectors import my_tasks


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    households = selectors.household_list(actor=user)
    persons = selectors.person_list(actor=user).filter(is_member=True)
    ctx = {
        "region": " / ".join(region_path_names(user.region_id)) if user.region_id else "（无户籍数据权限）",
        "households": households.count(),
        "persons": persons.count(),
        "exited": households.filter(household_type="脱贫户").count(),
        "tasks": my_tasks(user)[:50],
    }
    return render(request, "web/home.html", ctx)


@login_required
def household_search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = selectors.household_list(actor=request.user).order_by("household_no")
    if q:
        qs = qs.filter(household_no__startswith=q) | qs.filter(persons__name=q, persons__relation="户主")
        qs = qs.distinct()
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    audit_list_view(request.user, "registry.household_search", query=q, page=page.number, total=page.paginator.count)
    rows = []
    for hh in page:
        head = hh.persons.filter(relation="户主", is_member=True).first()
        rows.append({"hh": hh, "head": head.name if head else "", "phone": mask_phone(hh.phone)})
    return render(request, "web/household_list.html", {"page": page, "rows": rows, "q": q})


@login_required
def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    try:
        hh = selectors.household_get(actor=request.user, household_id=household_id)
    except NotFound as e:
        raise Http404(e.message) from e
    today = clock.today()
    members = [
        {
            "p": p,
            "id": mask_id_number(p.id_number),
            "age": age_on(p.birth_date, today),  # never the birth date next to a masked ID
            "phone": mask_phone(p.phone),
        }
        for p in hh.persons.filter(is_member=True).order_by("id")
    ]
    income = household_income_assess(hh, month=today.replace(day=1))
    guarantees, _ = household_guarantees_assess(hh, on=today)
    findings = household_findings(hh, on=today)
    audit_record(
        actor=request.user,
        event_type="registry.household_view",
        obj=hh,
        region_code=hh.village_id,
        household_id=hh.id,
    )
    ctx = {
        "hh": hh,
        "path": " / ".join(region_path_names(hh.village_id)),
        "members": members,
        "income": income,
        "guarantees": guarantees,
        "findings": findings,
        "history": hh.history.order_by("-history_date")[:20],
    }
    return render(request, "web/household_file.html", ctx)


@login_required
def household_mingbaizhi(request: HttpRequest, household_id: int) -> HttpResponse:
    """The printable 明白纸 (masked as a public notice; the trust service audits the view)."""
    try:
        html = mingbaizhi_render(actor=request.user, household_id=household_id)
    except NotFound as e:
        raise Http404(e.message) from e
    return HttpResponse(html)
