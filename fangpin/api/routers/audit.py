"""The audit log, for the auditor role (and county admins): read-only, filtered, paginated."""

import datetime as dt

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from fangpin.audit.models import AuditEvent
from fangpin.audit.selectors import AuditFilter, audit_search
from fangpin.core.masking import mask_text

from ..errors import ERRORS
from ..paging import Mapped, Pages
from ..schemas import AuditOut, PlainText

router = Router(tags=["审计"])


class AuditQuery(Schema):
    event_type: PlainText | None = Field(None, max_length=64, description="事件类型；以“.”结尾为前缀")
    username: PlainText | None = Field(None, max_length=150)
    actor: PlainText | None = Field(None, max_length=150, description="同 username（旧名）")
    result: PlainText | None = Field(None, max_length=16)
    object_type: PlainText | None = Field(None, max_length=64)
    object_id: PlainText | None = Field(None, max_length=64)
    region_prefix: PlainText | None = Field(None, max_length=12)
    since: dt.date | None = None
    until: dt.date | None = None


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
        "reason": mask_text(e.reason),
    }


@router.get("/audit-events", response={200: list[AuditOut], **ERRORS}, summary="审计日志（审计员）")
@paginate(Pages)
def audit_events(request, filters: Query[AuditQuery]):
    """The auditor's screen as data (``audit.selectors.audit_search``); every search is itself audited."""
    q = filters.dict()
    f = AuditFilter(
        event_type=q["event_type"] or "",
        username=q["username"] or q["actor"] or "",
        result=q["result"] or "",
        object_type=q["object_type"] or "",
        object_id=q["object_id"] or "",
        region_prefix=q["region_prefix"] or "",
        since=q["since"],
        until=q["until"],
    )
    return Mapped.each(audit_search(actor=request.auth, filters=f), _row)
