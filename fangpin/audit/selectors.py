"""Reading the audit log (安全审计员 only). Every search is itself audited (``audit.search``, ADM-02)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db.models import QuerySet

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.masking import mask_text

from .event_names import RESULT_NAMES, event_name
from .models import AuditEvent
from .record import audit_record


@dataclass(frozen=True)
class AuditFilter:
    event_type: str = ""  # exact, or a prefix ending in "." (e.g. "accounts.")
    username: str = ""
    result: str = ""  # ok | refused | rejected …
    object_type: str = ""
    object_id: str = ""
    household_id: int | None = None
    region_prefix: str = ""
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive

    def active(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items() if v not in ("", None)}


def audit_search(*, actor, filters: AuditFilter, record: bool = True) -> QuerySet[AuditEvent]:
    """Newest first. ``record=False`` only for the next page of a search already recorded."""
    require(actor, Cap.AUDIT_VIEW)
    qs = AuditEvent.objects.select_related("actor").order_by("-seq")
    f = filters
    if f.event_type:
        qs = (
            qs.filter(event_type__startswith=f.event_type)
            if f.event_type.endswith(".")
            else qs.filter(event_type=f.event_type)
        )
    if f.username:
        qs = qs.filter(actor__username=f.username)
    if f.result:
        qs = qs.filter(result=f.result)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.household_id is not None:
        qs = qs.filter(household_id=f.household_id)
    if f.region_prefix:
        qs = qs.filter(region_code__startswith=f.region_prefix)
    if f.since:
        qs = qs.filter(at__date__gte=f.since)
    if f.until:
        qs = qs.filter(at__date__lte=f.until)
    if record:
        audit_record(
            actor=actor,
            event_type="audit.search",
            data={"filters": {k: mask_text(v) for k, v in f.active().items()}},
        )
    return qs


def event_row(ev: AuditEvent) -> dict[str, str]:
    """One event as the screen and the CLI show it (free text masked)."""
    return {
        "seq": str(ev.seq),
        "at": ev.at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"),
        "actor": ev.actor.username if ev.actor_id else (ev.actor_role or "（匿名）"),
        "role": ev.actor_role,
        "event": ev.event_type,
        "event_name": event_name(ev.event_type),
        "object": f"{ev.object_type}:{ev.object_id}" if ev.object_type else "",
        "region": ev.region_code,
        "result": ev.result,
        "result_name": RESULT_NAMES.get(ev.result, ev.result),
        "reason": mask_text(ev.reason),
        "data": mask_text(str(ev.data))[:300] if ev.data else "",
    }
