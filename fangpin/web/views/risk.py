"""风险预警: the highest-risk households of a village or township not yet visited this month."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.risk.selectors import scores_month, unvisited_top

from ._common import today


@login_required
def risk_unvisited(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_VIEW)
    on = today()
    region = "".join(ch for ch in request.GET.get("region", "") if ch.isdigit())[:12]
    rows = unvisited_top(actor=request.user, on=on, region=region, limit=100)
    ctx = {"rows": rows, "region": region, "today": on, "month": scores_month(request.user, on)}
    return render(request, "web/visits/risk.html", ctx)
