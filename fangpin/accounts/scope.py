"""Region scope: the one function every read path (views, API, exports, reports, jobs) goes through."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from fangpin.core.errors import PermissionDenied

M = TypeVar("M", bound=Model)

# How each scoped model reaches its 12-digit village code.
REGION_PATHS: dict[str, str] = {}


def register_region_path(model: type[Model], path: str) -> None:
    """Declared next to each model: e.g. register_region_path(Person, "household__village__code")."""
    REGION_PATHS[model._meta.label] = path


def scoped(actor, qs: QuerySet[M], *, path: str | None = None) -> QuerySet[M]:
    """``qs`` limited to the actor's region. Users without registry scope get an empty queryset."""
    path = path or REGION_PATHS.get(qs.model._meta.label)
    if path is None:
        raise RuntimeError(f"{qs.model._meta.label} has no region path registered")
    prefix = getattr(actor, "scope_prefix", None)
    if prefix is None:
        return qs.none()
    return qs.filter(**{f"{path}__startswith": prefix})


def in_scope(actor, village_code: str | None) -> bool:
    prefix = getattr(actor, "scope_prefix", None)
    return bool(prefix is not None and village_code and village_code.startswith(prefix))


def require(actor, cap: str) -> None:
    """Raises PermissionDenied (and audits ``access.denied``) unless ``actor`` holds ``cap``.
    ``None`` is a programming error, never "the system" (use ``accounts.actors.system_actor``)."""
    if actor is None:
        raise TypeError("actor is required: a user, or accounts.actors.system_actor(name) for a job")
    if not actor.can(cap):
        from fangpin.audit.refusals import audit_refusal

        audit_refusal(
            actor=actor, event_type="access.denied", reason="无权执行此操作", data={"cap": str(cap)}
        )
        raise PermissionDenied()
