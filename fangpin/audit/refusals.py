"""Refusals that survive the rollback of the transaction they happened in.

A refused read or capability check inside a write service's transaction is recorded at once, but the
service's ``DomainError`` rolls that transaction back — audit row included. So each refusal is also kept,
per request, in a context-local list; at the end of the request (``RefusalAuditMiddleware``) any refusal
whose event did not survive is written again, outside the rolled-back transaction."""

from __future__ import annotations

import contextlib
import contextvars
import uuid
from collections.abc import Iterator
from typing import Any

from .models import AuditEvent

_pending: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar(
    "fangpin_pending_refusals", default=None
)


def audit_refusal(*, actor, event_type: str, **kw: Any) -> None:
    """``audit_record`` for a refusal (result "refused"), re-written at the end of the request if a
    rollback removed it."""
    from .record import audit_record

    data = {**kw.pop("data", {}), "refusal_id": uuid.uuid4().hex}
    audit_record(actor=actor, event_type=event_type, result="refused", data=data, **kw)
    pending = _pending.get()
    if pending is not None:
        pending.append({"actor": actor, "event_type": event_type, "data": data, **kw})


def refusals_flush(pending: list[dict[str, Any]]) -> int:
    """Writes again the refusals whose events are gone (rolled back); returns how many."""
    from .record import audit_record

    if not pending:
        return 0
    ids = [p["data"]["refusal_id"] for p in pending]
    kept = set(
        AuditEvent.objects.filter(result="refused", data__refusal_id__in=ids).values_list(
            "data__refusal_id", flat=True
        )
    )
    n = 0
    for p in pending:
        if p["data"]["refusal_id"] not in kept:
            audit_record(result="refused", **{**p, "data": {**p["data"], "after_rollback": True}})
            n += 1
    return n


@contextlib.contextmanager
def kept_refusals() -> Iterator[None]:
    """One unit of work (a request, a command): refusals recorded in it survive its rollbacks."""
    pending: list[dict[str, Any]] = []
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
        refusals_flush(pending)


class RefusalAuditMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with kept_refusals():
            return self.get_response(request)
