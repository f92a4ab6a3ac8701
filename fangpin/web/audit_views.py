"""The auditor's screen: the audit log with filters, newest first (安全审计员 only; each search audited)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from fangpin.audit.selectors import AuditFilter, audit_search, event_row
from fangpin.core.errors import PermissionDenied

FIELDS = ("event_type", "username", "result", "object_type", "object_id", "region_prefix", "since", "until")


def _date(s: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(s) if s else None
    except ValueError:
        return None


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    g = {k: request.GET.get(k, "").strip() for k in FIELDS}
    f = AuditFilter(
        **{k: g[k] for k in FIELDS if k not in ("since", "until")},
        since=_date(g["since"]),
        until=_date(g["until"]),
    )
    page_no = request.GET.get("page") or "1"
    try:
        qs = audit_search(actor=request.user, filters=f, record=page_no == "1")
    except PermissionDenied as e:
        raise Http404(e.message) from e
    page = Paginator(qs, 100).get_page(page_no)
    query = urlencode({k: v for k, v in g.items() if v})
    return render(
        request,
        "web/audit_log.html",
        {"page": page, "rows": [event_row(ev) for ev in page], "g": g, "query": query},
    )
