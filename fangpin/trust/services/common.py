"""Small helpers shared by the trust services: parameters, region levels, tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from fangpin.policy.params import ParamValue, param_get
from fangpin.regions.models import Level, Region
from fangpin.registry.models import Household

from ..models import Task, TaskStatus

LEVELS = {"village": Level.VILLAGE, "township": Level.TOWNSHIP, "county": Level.COUNTY}
LEVEL_NAMES = {"village": "村级", "township": "乡镇", "county": "县级"}


def param(key: str, region_code: str, on: dt.date) -> ParamValue:
    """The parameter in force for the business date ``on`` (its year)."""
    return param_get(key, region_code=region_code, year=on.year)


def ancestor(village_code: str, level: str) -> Region:
    """The region at ``level`` above a village: 410506205201 → township 410506205000 / county 410506000000."""
    n = {"village": 12, "township": 9, "county": 6}[level]
    return Region.objects.get(code=village_code[:n].ljust(12, "0"))


def actor_level(actor) -> int | None:
    """Level number of the actor's region (3 county, 4 township, 5 village); None without region."""
    region = getattr(actor, "region", None)
    return getattr(region, "level", None)


def level_satisfied(actor, required: str) -> bool:
    lvl = actor_level(actor)
    return lvl is not None and lvl <= LEVELS[required]


def task_open(
    *,
    kind: str,
    household: Household,
    title: str,
    due_on: dt.date,
    ref_type: str = "",
    ref_id: int | None = None,
) -> Task:
    """One open task per (kind, household, referenced object): creating it twice returns the first."""
    existing = Task.objects.filter(
        kind=kind, household=household, ref_type=ref_type, ref_id=ref_id, status=TaskStatus.OPEN
    ).first()
    if existing:
        return existing
    return Task.objects.create(
        kind=kind, household=household, title=title[:200], due_on=due_on, ref_type=ref_type, ref_id=ref_id
    )


def tasks_close(
    *,
    actor,
    kind: str,
    household_id: int | None = None,
    ref_type: str = "",
    ref_id=None,
    note: str = "",
    status: str = TaskStatus.DONE,
) -> int:
    qs = Task.objects.filter(kind=kind, status=TaskStatus.OPEN)
    if household_id is not None:
        qs = qs.filter(household_id=household_id)
    if ref_type:
        qs = qs.filter(ref_type=ref_type, ref_id=ref_id)
    return qs.update(
        status=status,
        done_at=timezone.now(),
        done_by=actor if getattr(actor, "pk", None) else None,
        note=note[:200],
    )


def as_dict(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}
