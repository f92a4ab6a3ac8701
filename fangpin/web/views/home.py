"""工作台: the home page of each role."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.regions.selectors import region_path_names
from fangpin.registry import selectors
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
    return render(request, "web/home/home.html", ctx)
