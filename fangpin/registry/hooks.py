"""What the parts downstream of the registry (monitoring, trust) do for it, registered at start-up.

The registry is upstream: monitoring and trust import it, never the reverse. Where a registry service must
reach downstream work — hand an import's monitoring columns to monitoring, turn its 帮扶措施 columns into
measures, let a moved household's open work follow it, read the monitoring columns of an export, ask who is
a monitoring object on a date — the downstream app registers its function here in ``AppConfig.ready``.
Every part is installed, so a missing hook is a configuration error, never a state to degrade to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


@dataclass(frozen=True)
class MonitoringHooks:
    # enrol_existing(*, actor, household, category, risk_types, identified_on, eliminated_on,
    #                elimination_method, source_ref) -> MonitoringObject
    enrol_existing: Callable[..., Any]
    # enrol_existing_many(*, actor, items: list[dict of enrol_existing's keyword arguments]) -> objects, in
    # the order of items; all or nothing: a DomainError, whose ``errors`` = [(position, DomainError)] names
    # the refused items (no ``errors``: the call was refused as a whole)
    enrol_existing_many: Callable[..., list[Any]]
    # export_facts(household_ids) -> {household_id: {category, risk_types, identified_on, eliminated, ...}}
    export_facts: Callable[[list[int]], dict[int, dict[str, Any]]]
    # objects_on(on) -> queryset of the monitoring objects current on ``on`` (incl. 渐退期)
    objects_on: Callable[[dt.date], QuerySet]
    # measures_import(*, actor, rows, source_ref) -> counts: 帮扶措施 columns of an import as measures
    measures_import: Callable[..., dict[str, int]]
    # household_search(*, actor, params: dict, on, gate=True) -> (households, normalised params): the household
    # list's filter (search terms, region, flags…) as the browser list applies it, for the 下载中心's export
    # jobs; ``gate=False`` skips the search throttle only (the job's request already passed it)
    household_search: Callable[..., tuple[QuerySet, dict[str, str]]]


# follow(*, actor, household, old_village, new_village, on) -> what moved (JSON-able)
MoveFollower = Callable[..., Any]

_monitoring: MonitoringHooks | None = None
_move_followers: dict[str, MoveFollower] = {}


def register_monitoring(hooks: MonitoringHooks) -> None:
    global _monitoring
    _monitoring = hooks


def register_move_follower(name: str, follow: MoveFollower) -> None:
    """``follow`` runs in the import's transaction after it moved a household; a DomainError rolls the
    import back. Names are unique (re-registering replaces, so a reloaded app does not run twice)."""
    _move_followers[name] = follow


def monitoring() -> MonitoringHooks:
    if _monitoring is None:
        raise ImproperlyConfigured("fangpin.monitoring 未注册其注册库接口（INSTALLED_APPS 缺少监测模块？）")
    return _monitoring


def move_followers() -> list[tuple[str, MoveFollower]]:
    return sorted(_move_followers.items())


def monitored_household_ids(on: dt.date) -> QuerySet:
    """Household ids (a subquery) that are monitoring objects on ``on`` — monitoring's one definition."""
    return monitoring().objects_on(on).values("household_id")
