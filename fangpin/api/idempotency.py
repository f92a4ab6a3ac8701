"""Idempotency keys on create calls: the same key and body answer the same, once stored; the same key with
another body is refused. The stored answer is written in the same transaction as the change it reports."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from ninja import Status

from fangpin.core.errors import DomainError

from .models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
E_KEY_REUSED = "idempotency_key_conflict"
E_KEY_FORMAT = "idempotency_key_invalid"


def _digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def once(
    request,
    route: str,
    payload: Any,
    create: Callable[[], tuple[int, dict]],
    *,
    stored: Callable[[dict], dict] | None = None,
) -> Status:
    """Runs ``create`` (returning status and JSON body) at most once per (user, route, Idempotency-Key).
    ``stored``: what the record keeps and a retry gets, when the first answer holds a secret shown once
    (an initial password is never written to the idempotency table)."""
    return Status(*_once(request, route, payload, create, stored))


def _once(
    request,
    route: str,
    payload: Any,
    create: Callable[[], tuple[int, dict]],
    stored_fn: Callable[[dict], dict] | None = None,
) -> tuple[int, dict]:
    key = request.META.get(HEADER, "").strip()
    if not key:
        return create()
    if len(key) > 100 or not key.isprintable():
        raise DomainError(
            E_KEY_FORMAT, "Idempotency-Key 须为不超过 100 个可打印字符", field="Idempotency-Key"
        )
    user = request.auth
    digest = _digest(payload)

    def stored() -> tuple[int, dict] | None:
        rec = IdempotencyRecord.objects.filter(user=user, route=route, key=key).first()
        if rec is None:
            return None
        if rec.request_hash != digest:
            raise DomainError(
                E_KEY_REUSED, "该 Idempotency-Key 已用于内容不同的请求", field="Idempotency-Key"
            )
        return rec.status_code, rec.response

    prior = stored()
    if prior is not None:
        return prior
    try:
        with transaction.atomic():
            status, body = create()
            IdempotencyRecord.objects.create(
                user=user,
                route=route,
                key=key,
                request_hash=digest,
                status_code=status,
                response=stored_fn(body) if stored_fn else body,
            )
    except IntegrityError:
        prior = stored()
        if prior is None:
            raise
        return prior
    return status, body
