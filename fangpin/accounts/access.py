"""Fetch-and-authorise helpers: the same NotFound for missing and out-of-scope objects, and a refused
read always leaves an audit event (``access.refused``; whether the object exists is recorded for the
auditor, never shown to the user)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

from fangpin.core.errors import NotFound
from fangpin.core.memo import memo_get
from fangpin.core.precompiled import precompiled_first

from .scope import assigned_only, scoped

M = TypeVar("M", bound=Model)


def access_refused_record(actor, model: type[Model], pk, *, what: str) -> None:
    from fangpin.audit.refusals import audit_refusal

    exists = pk is not None and model._default_manager.filter(pk=pk).exists()
    audit_refusal(
        actor=actor,
        event_type="access.refused",
        object_type=model._meta.label_lower,
        object_id=str(pk if pk is not None else "")[:64],
        reason=f"{what}不存在或无权访问",
        data={"exists": exists},
    )


# Models whose granted reads are memoised per request (``core.memo``): a household file checks the same
# household three times. Only models whose every save clears the memo (a household's save touches its flags,
# ``registry.flags``); a refusal is never memoised (each one is audited).
_MEMO_MODELS = {"registry.household"}


def access_object(actor, model: type[M], pk, *, what: str = "对象", for_update: bool = False) -> M:
    memo = None
    if not for_update and pk is not None and model._meta.label_lower in _MEMO_MODELS:
        memo = memo_get("accounts.access")
        who = (getattr(actor, "pk", None), getattr(actor, "role", ""), getattr(actor, "scope_prefix", None))
        key = (*who, model._meta.label_lower, str(pk))
        if memo is not None and key in memo:
            return memo[key]
    if not for_update and _village_actor(actor) and _bigint(pk):
        obj = precompiled_first(
            f"accounts.access.{model._meta.label_lower}.village", _village_read(model), actor.scope_prefix, pk
        )
    else:
        qs = scoped(actor, model.objects.all())
        if for_update:
            qs = qs.select_for_update()
        obj = qs.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        access_refused_record(actor, model, pk, what=what)
        raise NotFound(what)
    if memo is not None:
        memo[key] = obj
    return obj


def _bigint(pk) -> bool:
    """An id the precompiled read can bind: an int (not a bool) in the database's 64-bit range. Any other id
    (a hostile 400-digit one included) takes the ORM's path, which finds nothing for it — refused as missing."""
    return isinstance(pk, int) and not isinstance(pk, bool) and -(2**63) <= pk < 2**63


class _VillageScope:
    """What ``scoped`` reads of an actor, for one village's code (a stand-in while the SQL is compiled)."""

    role = ""

    def __init__(self, code: str) -> None:
        self.scope_prefix = code


def _village_actor(actor) -> bool:
    """A user limited to one village (a 12-digit region code) and not to assigned households: ``scoped`` gives
    every such user the same SQL but for the village's code, so it is compiled once (``core.precompiled``)."""
    prefix = getattr(actor, "scope_prefix", None)
    return isinstance(prefix, str) and len(prefix) == 12 and not assigned_only(actor)


def _village_read(model: type[M]):
    """The gate's read of one object for a village's user: ``scoped`` itself builds it, the village's code and
    the id being the arguments."""

    def build(code: str, pk: int):
        return scoped(_VillageScope(code), model.objects.all()).filter(pk=pk)[:1]

    return build
