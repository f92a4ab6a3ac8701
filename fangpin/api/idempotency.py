"""Idempotency keys on create calls: the same key and body answer the same, once stored; the same key with
another body is refused. The stored answer is written in the same transaction as the change it reports."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from ninja import Status

from fangpin.core.errors import DomainError

from .models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
E_KEY_REUSED = "idempotency_key_conflict"
E_KEY_FORMAT = "idempotency_key_invalid"
# visible ASCII, 1-100 characters (a UUID, a client's own counter): the schema declares exactly what is accepted
KEY_PATTERN = r"^[!-~]{1,100}$"
_KEY = re.compile(KEY_PATTERN)
# ``openapi_extra`` of every create route that goes through ``once``: the header is in the served schema, so a
# client (and the schema fuzz) knows it and sends it
OPENAPI = {
    "parameters": [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": False,
            "description": "幂等键：同一用户、同一接口、同一键只执行一次；重试时原样返回第一次的结果。"
            "同一键配不同内容的请求被拒绝（idempotency_key_conflict）。1–100 个可见 ASCII 字符。",
            "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": KEY_PATTERN},
        }
    ]
}


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
    if HEADER not in request.META:
        return create()
    key = request.META[HEADER]
    if not _KEY.fullmatch(key):  # an empty or malformed key is refused, never treated as "no key"
        raise DomainError(
            E_KEY_FORMAT, "Idempotency-Key 须为 1–100 个可见 ASCII 字符（如 UUID）", field="Idempotency-Key"
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
