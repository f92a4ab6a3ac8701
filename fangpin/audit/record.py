"""Writing and verifying audit events. Services call ``audit_record`` inside their transaction:
if the audit write fails, the business change rolls back with it (fails closed)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.dispatch import Signal

from fangpin.core import clock

from .models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x46414E47  # "FANG": advisory lock serialising the chain on PostgreSQL

# sent inside the recording transaction with ``events`` (the saved AuditEvent rows): parts that keep derived
# state per household (``registry.flags``) mark it stale with the change
audit_recorded = Signal()


def _canonical(ev: AuditEvent) -> str:
    return json.dumps(
        {
            "at": ev.at.isoformat(),
            "actor": ev.actor_id,
            "role": ev.actor_role,
            "type": ev.event_type,
            "otype": ev.object_type,
            "oid": ev.object_id,
            "region": ev.region_code,
            "hh": ev.household_id,
            "result": ev.result,
            "reason": ev.reason,
            "data": ev.data,
        },
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )


def _hash(prev: str, ev: AuditEvent) -> str:
    return hashlib.sha256((prev + _canonical(ev)).encode()).hexdigest()


def _event(
    *,
    actor,
    event_type: str,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    region_code: str = "",
    household_id: int | None = None,
    data: dict[str, Any] | None = None,
    result: str = "ok",
    reason: str = "",
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    if getattr(actor, "role", "") == "system":  # accounts.actors.SystemActor: named in the event
        data = {**(data or {}), "system_actor": actor.name}
    return AuditEvent(
        at=clock.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        event_type=event_type,
        object_type=object_type,
        object_id=str(object_id or ""),
        region_code=region_code or "",
        household_id=household_id,
        data=_nul_free(json.loads(json.dumps(data or {}, ensure_ascii=False, default=str))),
        result=result,
        reason=_nul_free(reason),
    )


def _nul_free(v: Any) -> Any:
    """A refused input is recorded as given, except NUL, which PostgreSQL cannot store in text or JSON:
    written as the four characters ``\\x00`` (a hostile request must not make its own refusal fail)."""
    if isinstance(v, str):
        return v.replace("\x00", "\\x00") if "\x00" in v else v
    if isinstance(v, dict):
        return {_nul_free(k): _nul_free(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_nul_free(x) for x in v]
    return v


def _chain_head() -> str:
    """The hash the next event links to; on PostgreSQL the chain is locked until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    return AuditEvent.objects.order_by("-seq").values_list("hash", flat=True).first() or GENESIS


def audit_record(
    *,
    actor,
    event_type: str,
    obj: Any = None,
    object_type: str = "",
    object_id: Any = "",
    region_code: str = "",
    household_id: int | None = None,
    data: dict[str, Any] | None = None,
    result: str = "ok",
    reason: str = "",
) -> AuditEvent:
    ev = _event(
        actor=actor,
        event_type=event_type,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        region_code=region_code,
        household_id=household_id,
        data=data,
        result=result,
        reason=reason,
    )
    if connection.vendor == "postgresql":
        _append_pg(ev)
        return ev
    with transaction.atomic():
        head = _chain_head()
        ev.prev_hash = head
        ev.hash = _hash(head, ev)
        ev.save(force_insert=True)
        audit_recorded.send(sender=AuditEvent, events=[ev])
    return ev


_COLUMNS = [f for f in AuditEvent._meta.concrete_fields if f.name not in ("seq", "prev_hash", "hash")]
# One round trip on PostgreSQL: the chain's lock, then the INSERT that reads the head and links to it. The two
# statements are one simple-protocol query (psycopg's client-side binding): in READ COMMITTED each statement
# takes its own snapshot, so the INSERT reads the head *after* the lock is granted (a writer that committed
# while we waited is seen, the chain never forks), and outside a transaction the query is one implicit
# transaction (the lock is held until the row is committed). The hash is the same SHA-256 as ``_hash``
# (``prev + canonical`` as UTF-8, lower-case hex), computed by the server over the head it read; the
# Python side checks it on the returned row.
_APPEND_SQL = (
    "SELECT pg_advisory_xact_lock(%s); "
    "INSERT INTO audit_auditevent ({cols}, prev_hash, hash) "
    "SELECT {vals}, h.prev, encode(sha256(convert_to(h.prev || %s, 'UTF8')), 'hex') FROM (SELECT COALESCE("
    "(SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1), %s) AS prev) h "
    "RETURNING seq, prev_hash, hash"
).format(cols=", ".join(f.column for f in _COLUMNS), vals=", ".join(["%s"] * len(_COLUMNS)))


def _append_pg(ev: AuditEvent) -> None:
    """``audit_record``'s write on PostgreSQL: the same row and chain as lock + head + INSERT, in one
    statement string. Inside a transaction (a service's change) the lock is held to its end and the row rolls
    back with it; the ``audit_recorded`` receivers run inside it too. Outside one (a read's audit) the query
    is its own transaction and they run after it."""
    canonical = _canonical(ev)
    params = [_LOCK_KEY, *(f.get_db_prep_save(getattr(ev, f.attname), connection) for f in _COLUMNS)]
    with connection.cursor() as cur:
        cur.execute(_APPEND_SQL, [*params, canonical, GENESIS])
        cur.nextset()
        ev.seq, ev.prev_hash, ev.hash = cur.fetchone()
    ev._state.adding, ev._state.db = False, connection.alias
    if ev.hash != hashlib.sha256((ev.prev_hash + canonical).encode()).hexdigest():
        raise RuntimeError(f"audit event #{ev.seq}: the server's chain hash differs from audit.record._hash")
    audit_recorded.send(sender=AuditEvent, events=[ev])


def audit_record_many(events: Sequence[dict[str, Any]]) -> list[AuditEvent]:
    """Several events at once (each a dict of ``audit_record``'s keyword arguments): the same rows, in the
    same order and with the same hash chain as calling ``audit_record`` for each in turn, written with one
    lock, one read of the chain head and one INSERT. For batch services (an import's monitoring hand-over),
    where every state change still gets its own event."""
    if not events:
        return []
    with transaction.atomic():
        prev = _chain_head()
        out = [_event(**kw) for kw in events]
        for ev in out:
            ev.prev_hash = prev
            ev.hash = prev = _hash(prev, ev)
        AuditEvent.objects.bulk_create(out, batch_size=500)
        audit_recorded.send(sender=AuditEvent, events=out)
    return out


def audit_list_view(actor, event_type: str, *, query: str = "", **data: Any) -> AuditEvent:
    """A list or search shown to a user (AUD-01): what was asked (masked: people search by ID number)
    and how much came back."""
    from fangpin.core.masking import mask_text

    return audit_record(actor=actor, event_type=event_type, data={"query": mask_text(query)[:200], **data})


def audit_verify() -> list[int]:
    """Recomputes the chain; returns the sequence numbers whose hash does not match (empty = intact)."""
    bad: list[int] = []
    prev = None
    for ev in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if prev is not None and ev.prev_hash != prev or _hash(ev.prev_hash, ev) != ev.hash:
            bad.append(ev.seq)
        prev = ev.hash
    return bad


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed; PII values masked."""
    from fangpin.core.masking import mask_birth_date, mask_id_number, mask_phone

    out = {}
    for k in sorted(set(before) | set(after)):
        a, b = before.get(k), after.get(k)
        if a != b:
            if "id_number" in k:
                a, b = mask_id_number(a), mask_id_number(b)
            elif "phone" in k:
                a, b = mask_phone(a), mask_phone(b)
            elif "birth" in k:  # with the masked ID it would rebuild the number
                a, b = mask_birth_date(a), mask_birth_date(b)
            out[k] = [a, b]
    return out
