"""Issuing, revoking and checking API tokens (services; the CLI and the admin screens call these)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction

from fangpin.accounts.roles import Role
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, PermissionDenied
from fangpin.core.precompiled import precompiled_first

from .models import ApiToken

TOKEN_PREFIX = "fp_"
E_TOKEN_DAYS = "api_token_days"


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_issue(*, actor, user, name: str, days: int, on: dt.date) -> tuple[ApiToken, str]:
    """A new token for ``user`` valid ``days`` days from ``on``. Returns the row and the secret, which is
    never stored and cannot be shown again. A user may issue their own; a county admin for anyone."""
    if actor.pk != user.pk and actor.role != Role.COUNTY_ADMIN:
        raise PermissionDenied("只有县级管理员可以为他人签发接口令牌")
    if not 1 <= days <= 366:
        raise DomainError(E_TOKEN_DAYS, "有效天数须在 1 到 366 之间", field="days")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash(raw),
        created_by=actor,
        expires_on=on + dt.timedelta(days=days),
    )
    audit_record(
        actor=actor,
        event_type="api.token_issue",
        obj=tok,
        data={"user": user.username, "name": tok.name, "expires_on": tok.expires_on.isoformat()},
    )
    return tok, raw


@transaction.atomic
def token_revoke(*, actor, token: ApiToken) -> ApiToken:
    if actor.pk != token.user_id and actor.role != Role.COUNTY_ADMIN:
        raise PermissionDenied("只有县级管理员可以吊销他人的接口令牌")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, event_type="api.token_revoke", obj=token, data={"user": token.user.username}
        )
    return token


def token_user(raw: str, *, on: dt.date):
    """The active user a presented secret belongs to, or None (unknown, revoked, expired or inactive)."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    tok = precompiled_first("api.token_by_hash", _by_hash, _hash(raw))  # SQL compiled once per process
    if tok is None or tok.revoked_at is not None or tok.expires_on < on or not tok.user.is_active:
        return None
    now = clock.now()
    if tok.last_used_at is None or (now - tok.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=tok.pk).update(last_used_at=now)
    return tok.user


def _by_hash(key_hash: str):
    """The token with this hash, its user joined (``key_hash`` is unique: one row or none)."""
    return ApiToken.objects.select_related("user").filter(key_hash=key_hash).order_by("pk")[:1]
