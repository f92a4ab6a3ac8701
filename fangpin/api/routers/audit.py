"""The audit log, for the auditor role (and county admins): read-only, filtered, paginated."""

import datetime as dt

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.models import AuditEvent
from fangpin.audit.record import audit_record

from ..errors import ERRORS
from ..paging import Mapped, Pages
from ..schemas import AuditOut, PlainText

router = Router(tags=["审计"])


class AuditFilter(Schema):
    event_type: PlainText | None = None
    actor: PlainText | None = None
    since: dt.date | None = None
    result: PlainText | None = None


def _row(e: AuditEvent) -> dict:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor.username if e.actor_id else "",
        "actor_role": e.actor_role,
        "event_type": e.event_type,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "region_code": e.region_code,
        "result": e.result,
        "reason": e.reason,
    }


@router.get("/audit-events", response={200: list[AuditOut], **ERRORS}, summary="审计日志（审计员）")
@paginate(Pages)
def audit_events(request, filters: Query[AuditFilter]):
    require(request.auth, Cap.AUDIT_VIEW)
    qs = AuditEvent.objects.select_related("actor").order_by("-seq")
    if filters.event_type:
        qs = qs.filter(event_type__startswith=filters.event_type[:64])
    if filters.actor:
        qs = qs.filter(actor__username=filters.actor[:150])
    if filters.result:
        qs = qs.filter(result=filters.result[:16])
    if filters.since:
        qs = qs.filter(at__date__gte=filters.since)
    audit_record(actor=request.auth, event_type="audit.read", data=filters.dict())
    return Mapped.each(qs, _row)
