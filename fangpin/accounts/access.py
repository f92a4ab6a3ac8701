"""Fetch-and-authorise helpers: the same NotFound for missing and out-of-scope objects."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model

from fangpin.core.errors import NotFound

from .scope import scoped

M = TypeVar("M", bound=Model)


def access_object(actor, model: type[M], pk, *, what: str = "对象", for_update: bool = False) -> M:
    qs = scoped(actor, model.objects.all())
    if for_update:
        qs = qs.select_for_update()
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(what)
    return obj
