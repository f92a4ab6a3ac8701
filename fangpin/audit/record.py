"""Writing and verifying audit events. Services call ``audit_record`` inside their transaction:
if the audit write fails, the business change rolls back with it (fails closed). A service wrapped in
``audited_atomic`` (the case engine) has its events chained by the block's last statements instead of where
they are recorded, so the chain's lock is held only from there to the commit (see below)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection, transaction
from django.dispatch import Signal

from fangpin.core import clock

from .models import AuditEvent

GENESIS = "0" * 64
_LOCK_KEY = 0x46414E47  # "FANG": advisory lock serialising the chain on PostgreSQL

# sent inside the recording transaction with ``events`` (the saved AuditEvent rows): parts that keep derived
# state per household (``registry.flags``) mark it stale with the change
audit_recorded = Signal()

F = TypeVar("F", bound=Callable[..., Any])


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
    waiting = _open_scope()
    if waiting is not None:  # chained at the end of the service's transaction (``audited_atomic``)
        waiting[0].events.append((ev, [], waiting[1]))
        audit_recorded.send(sender=AuditEvent, events=[ev])
        return ev
    _append_now(ev)
    return ev


def _append_now(ev: AuditEvent) -> None:
    if connection.vendor == "postgresql":
        _append_pg([ev])
        audit_recorded.send(sender=AuditEvent, events=[ev])
        return
    with transaction.atomic():
        head = _chain_head()
        ev.prev_hash = head
        ev.hash = _hash(head, ev)
        ev.save(force_insert=True)
        audit_recorded.send(sender=AuditEvent, events=[ev])


# --- the chain appended last ---------------------------------------------------------------------------
# On PostgreSQL the chain's lock is held from the append to the end of the transaction, and every audited
# request (each view, search, export) waits for it. A service that records its events early and then does
# more work (more statements, seals, the flags' receivers, its case history rows) would keep all of them
# waiting that long: inside ``audited_atomic`` the events are kept and chained by the block's last statement
# instead, in one round trip, with what depends on their sequence numbers (``after_chained``) right after.


class _Scope:
    __slots__ = ("events", "sids")

    def __init__(self, sids: tuple[str, ...]) -> None:
        # (event, what waits for its number, the marker of the savepoint it was recorded in — or None)
        self.events: list[tuple[AuditEvent, list[Callable[[AuditEvent], None]], Any]] = []
        self.sids = sids  # the savepoints open when the block began


def _scopes() -> list[_Scope]:
    st = getattr(connection, "_fangpin_audit_scopes", None)
    if st is None:
        st = connection._fangpin_audit_scopes = []
    return st


def _noop() -> None:
    pass


def _open_scope() -> tuple[_Scope, Any] | None:
    """The innermost ``audited_atomic`` block of the connection, and — when the event is recorded inside a
    savepoint opened within that block, which may roll back alone — a marker registered with Django's
    ``on_commit`` list: Django drops the entries of a savepoint it rolls back, so a marker gone at the end
    of the block means its event went with its savepoint."""
    st = getattr(connection, "_fangpin_audit_scopes", None)
    if not st or connection.needs_rollback or not connection.in_atomic_block:
        return None
    scope = st[-1]
    if tuple(connection.savepoint_ids) == scope.sids:
        return scope, None
    marker = functools.partial(_noop)  # a distinct object per event
    connection.on_commit(marker)
    return scope, marker


def _flush(scope: _Scope) -> None:
    """Chains the block's waiting events (in the order recorded, less those whose savepoint rolled back),
    then runs what waited for their numbers."""
    pending, scope.events = scope.events, []
    if not pending:
        return
    markers = {id(m) for _, _, m in pending if m is not None}
    if markers:
        live = {id(f) for _, f, _ in connection.run_on_commit} & markers
        connection.run_on_commit = [e for e in connection.run_on_commit if id(e[1]) not in markers]
        pending = [p for p in pending if p[2] is None or id(p[2]) in live]
        if not pending:
            return
    events = [ev for ev, _, _ in pending]
    if connection.vendor == "postgresql":
        _append_pg(events)
    else:
        head = _chain_head()
        for ev in events:
            ev.prev_hash = head
            ev.hash = head = _hash(head, ev)
        AuditEvent.objects.bulk_create(events, batch_size=500)
        if any(ev.seq is None for ev in events):  # (bulk_create returns the ids on SQLite ≥ 3.35)
            raise RuntimeError("audit events chained without their sequence numbers")
    for ev, after, _ in pending:
        for fn in after:
            fn(ev)


def after_chained(ev: AuditEvent, fn: Callable[[AuditEvent], None]) -> None:
    """Runs ``fn(ev)`` once the event has its sequence number: now, or right after the block chains it (in
    the same transaction: what ``fn`` writes rolls back with the event)."""
    if ev.seq is not None:
        fn(ev)
        return
    for scope in getattr(connection, "_fangpin_audit_scopes", None) or ():
        for e, after, _ in scope.events:
            if e is ev:
                after.append(fn)
                return
    raise RuntimeError("after_chained: the event is neither chained nor waiting in a block")


@contextmanager
def _deferred() -> Iterator[None]:
    st = _scopes()
    if st:  # a block inside another one joins it (its events marked with its savepoint, ``_open_scope``)
        yield
        return
    scope = _Scope(tuple(connection.savepoint_ids))
    st.append(scope)
    try:
        yield
        if not connection.needs_rollback:
            _flush(scope)
    finally:
        st.remove(scope)


def audited_atomic(fn: F) -> F:
    """``transaction.atomic`` for a service whose audit events (``audit_record``) are chained by its last
    statement (see above): the same events, in the same order, rolled back with the change."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(), _deferred():
            return fn(*args, **kwargs)

    return inner  # type: ignore[return-value]


_COLUMNS = [f for f in AuditEvent._meta.concrete_fields if f.name not in ("seq", "prev_hash", "hash")]
# One round trip on PostgreSQL: the chain's lock, then the INSERT that reads the head and links to it. The two
# statements are one simple-protocol query (psycopg's client-side binding): in READ COMMITTED each statement
# takes its own snapshot, so the INSERT reads the head *after* the lock is granted (a writer that committed
# while we waited is seen, the chain never forks), and outside a transaction the query is one implicit
# transaction (the lock is held until the row is committed). The hash is the same SHA-256 as ``_hash``
# (``prev + canonical`` as UTF-8, lower-case hex), computed by the server over the head it read; the
# Python side checks it on the returned row.
_INSERT_SQL = (
    "INSERT INTO audit_auditevent ({cols}, prev_hash, hash) "
    "SELECT {vals}, h.prev, encode(sha256(convert_to(h.prev || %s, 'UTF8')), 'hex') FROM (SELECT COALESCE("
    "(SELECT hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1), %s) AS prev) h "
    "RETURNING seq, prev_hash, hash"
).format(cols=", ".join(f.column for f in _COLUMNS), vals=", ".join(["%s"] * len(_COLUMNS)))
_APPEND_SQL = "SELECT pg_advisory_xact_lock(%s); " + _INSERT_SQL


def _append_pg(events: Sequence[AuditEvent]) -> None:
    """``audit_record``'s write on PostgreSQL: the same rows and chain as lock + head + INSERT, in one
    statement string (one INSERT per event, each reading the head the one before wrote). Inside a
    transaction (a service's change) the lock is held to its end and the rows roll back with it. Outside
    one (a read's audit) the query is its own transaction."""
    if len(events) > 1 and not connection.in_atomic_block:
        raise RuntimeError("several audit events are chained inside one transaction")
    for start in range(0, len(events), 200):  # (the lock with the first piece: held to the end)
        part = events[start : start + 200]
        canon = [_canonical(ev) for ev in part]
        params: list[Any] = [_LOCK_KEY] if start == 0 else []
        for ev, c in zip(part, canon, strict=True):
            params += [
                *(f.get_db_prep_save(getattr(ev, f.attname), connection) for f in _COLUMNS),
                c,
                GENESIS,
            ]
        sql = "; ".join([_APPEND_SQL if start == 0 else _INSERT_SQL] + [_INSERT_SQL] * (len(part) - 1))
        with connection.cursor() as cur:
            cur.execute(sql, params)
            for ev, c in zip(part, canon, strict=True):
                if ev is not part[0] or start == 0:
                    cur.nextset()
                ev.seq, ev.prev_hash, ev.hash = cur.fetchone()
                ev._state.adding, ev._state.db = False, connection.alias
                if ev.hash != hashlib.sha256((ev.prev_hash + c).encode()).hexdigest():
                    raise RuntimeError(f"audit event #{ev.seq}: the server's chain hash differs from _hash")


def audit_record_many(events: Sequence[dict[str, Any]]) -> list[AuditEvent]:
    """Several events at once (each a dict of ``audit_record``'s keyword arguments): the same rows, in the
    same order and with the same hash chain as calling ``audit_record`` for each in turn, written with one
    lock, one read of the chain head and one INSERT. For batch services (an import's monitoring hand-over),
    where every state change still gets its own event."""
    if not events:
        return []
    out = [_event(**kw) for kw in events]
    waiting = _open_scope()
    if waiting is not None:  # inside an ``audited_atomic`` block: chained at its end, as ``audit_record``
        waiting[0].events.extend((ev, [], waiting[1]) for ev in out)
        audit_recorded.send(sender=AuditEvent, events=out)
        return out
    with transaction.atomic():
        prev = _chain_head()
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
