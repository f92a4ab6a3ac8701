"""Cases (识别/消除/回退 procedures): the list, a screen per step, batch approval, green channel."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.monitoring import selectors as mon


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    qs = mon.case_list(actor=request.user, status=request.GET.get("status") or None).order_by(
        "-started_on", "-id"
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "web/cases/list.html", {"page": page})
