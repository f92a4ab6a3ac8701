"""The auditor's overview for their home page: recent activity and refused accesses (audit.view only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require

from .models import AuditEvent


def audit_overview(*, actor, since: dt.datetime, limit: int = 10) -> dict[str, Any]:
    require(actor, Cap.AUDIT_VIEW)
    recent = AuditEvent.objects.filter(at__gte=since)
    refused = recent.filter(result="refused")
    return {
        "events": recent.count(),
        "refused": refused.count(),
        "exports": recent.filter(event_type="registry.export").count(),
        "by_type": list(recent.values("event_type").annotate(n=Count("seq")).order_by("-n")[:8]),
        "latest_refused": list(refused.select_related("actor").order_by("-seq")[:limit]),
        "last_seq": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0,
    }
