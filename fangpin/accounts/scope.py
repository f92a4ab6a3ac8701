"""Region scope: the one function every read path (views, API, exports, reports, jobs) goes through.

Two limits, both applied here and nowhere else:
- the region: the actor's region prefix against the record's village code (``register_region_path``);
- for 帮扶责任人 (helpers): only the households assigned to them. The record's household is found through
  the path registered with the region path (derived when not given), and the assigned households come from
  the source the monitoring part registers at start-up (``register_assigned_households``). A record with no
  household behind it is not visible to a helper at all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from fangpin.core.errors import PermissionDenied

from .roles import Role

M = TypeVar("M", bound=Model)

# How each scoped model reaches its 12-digit village code, and its household's id.
REGION_PATHS: dict[str, str] = {}
HOUSEHOLD_PATHS: dict[str, str | None] = {}
_assigned_source: list[Callable[[Any], Any]] = []


def _household_path(model: type[Model], path: str) -> str | None:
    rest = path[: -len("village__code")] if path.endswith("village__code") else None
    if rest is None:
        return None
    if model._meta.label == "registry.Household":
        return "id"
    if rest.endswith("household__"):
        return rest + "id"
    target = model
    for part in [p for p in rest.split("__") if p]:
        target = target._meta.get_field(part).related_model
    names = {f.name for f in target._meta.get_fields()}
    return rest + "household__id" if "household" in names else None


def register_region_path(model: type[Model], path: str, *, household_path: str | None = None) -> None:
    """Declared next to each model: e.g. register_region_path(Person, "household__village__code")."""
    REGION_PATHS[model._meta.label] = path
    HOUSEHOLD_PATHS[model._meta.label] = household_path or _household_path(model, path)


def register_assigned_households(source: Callable[[Any], Any]) -> None:
    """``source(user)`` → the ids (a values_list queryset or a list) of the households assigned to a helper."""
    _assigned_source[:] = [source]


def assigned_only(actor) -> bool:
    return getattr(actor, "role", None) == Role.HELPER


def _assigned(actor):
    if not _assigned_source:
        return []
    return _assigned_source[0](actor)


def scoped(actor, qs: QuerySet[M], *, path: str | None = None) -> QuerySet[M]:
    """``qs`` limited to the actor's region (and, for a helper, their households). Users without registry
    scope get an empty queryset."""
    label = qs.model._meta.label
    path = path or REGION_PATHS.get(label)
    if path is None:
        raise RuntimeError(f"{label} has no region path registered")
    prefix = getattr(actor, "scope_prefix", None)
    if prefix is None:
        return qs.none()
    # a village's full 12-digit code: an equality (an index on village + 户编号 then serves the list's order;
    # a LIKE prefix made PostgreSQL walk the 户编号 index of the whole county for a village's first page)
    qs = qs.filter(**{path if len(prefix) == 12 else f"{path}__startswith": prefix})
    if assigned_only(actor):
        hpath = HOUSEHOLD_PATHS.get(label)
        if hpath is None:
            return qs.none()
        qs = qs.filter(**{f"{hpath}__in": _assigned(actor)})
    return qs


def in_scope(actor, village_code: str | None) -> bool:
    """Region only: is the village inside the actor's region (used for routing and bulk checks)."""
    prefix = getattr(actor, "scope_prefix", None)
    return bool(prefix is not None and village_code and village_code.startswith(prefix))


def household_in_scope(actor, household) -> bool:
    """The one-household check: its village in the actor's region and, for a helper, assigned to them."""
    if not in_scope(actor, household.village_id):
        return False
    if assigned_only(actor):
        return household.pk in set(_assigned(actor))
    return True


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
