"""Fetch-and-authorise helpers: the same NotFound for missing and out-of-scope objects, and a refused
read always leaves an audit event (``access.refused``; whether the object exists is recorded for the
auditor, never shown to the user)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

from fangpin.core.errors import NotFound

from .scope import scoped

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


def access_object(actor, model: type[M], pk, *, what: str = "对象", for_update: bool = False) -> M:
    qs = scoped(actor, model.objects.all())
    if for_update:
        qs = qs.select_for_update()
    obj = qs.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        access_refused_record(actor, model, pk, what=what)
        raise NotFound(what)
    return obj
