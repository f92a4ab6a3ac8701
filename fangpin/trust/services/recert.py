"""Recertification (定期复核): every household is re-verified within the months its category allows
(``recert.months.monitoring`` / ``.exited`` / ``.other``); stale households become tasks for their cadre."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import system_actor
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.registry.choices import HouseholdStatus, HouseholdType
from fangpin.registry.models import Household

from ..models import Recertification, Task, TaskKind, TaskStatus
from . import integrations
from .common import param, tasks_close

CATEGORY_NAMES = {"monitoring": "监测对象", "exited": "脱贫户", "other": "其他农户"}


@dataclass(frozen=True)
class RecertStatus:
    household_id: int
    household_no: str
    village_id: str
    category: str
    last_verified: dt.date | None
    due_on: dt.date

    def stale(self, on: dt.date) -> bool:
        return self.due_on < on


def recert_record(
    *, actor, household_id: int, verified_on: dt.date, method: str = "visit", note: str = ""
) -> Recertification:
    require(actor, Cap.REGISTRY_EDIT)
    with transaction.atomic():
        hh = access_object(actor, Household, household_id, what="户")
        r = Recertification.objects.create(
            household=hh,
            verified_on=verified_on,
            method=method,
            note=note[:200],
            verified_by=actor,
        )
        tasks_close(actor=actor, kind=TaskKind.RECERT, household_id=hh.pk, note="已复核")
        audit_record(
            actor=actor,
            event_type="trust.recert_record",
            obj=r,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"verified_on": r.verified_on, "method": method},
        )
    return r


def recert_statuses(households, *, on: dt.date) -> list[RecertStatus]:
    """Category, last verification and due date of each household in ``households`` (a queryset)."""
    monitored = integrations.monitored_household_ids(on)
    rows = (
        households.filter(status=HouseholdStatus.ACTIVE)
        .annotate(last=Max("recertifications__verified_on"))
        .values("id", "household_no", "village_id", "household_type", "last", "source_at", "created_at")
    )
    months_cache: dict[tuple[str, str], int] = {}
    out = []
    for r in rows:
        cat = (
            "monitoring"
            if r["id"] in monitored
            else ("exited" if r["household_type"] == HouseholdType.EXITED else "other")
        )
        key = (r["village_id"][:6], cat)
        if key not in months_cache:
            months_cache[key] = int(param(f"recert.months.{cat}", r["village_id"], on).value)
        since = r["last"] or (r["source_at"] or r["created_at"]).date()
        out.append(
            RecertStatus(
                r["id"],
                r["household_no"],
                r["village_id"],
                cat,
                r["last"],
                clock.add_months(since, months_cache[key]),
            )
        )
    return out


def recert_tasks_generate(*, on: dt.date) -> int:
    """Periodic job: a task for every stale household that has no open recert task. Returns tasks created."""
    have = set(
        Task.objects.filter(kind=TaskKind.RECERT, status=TaskStatus.OPEN).values_list(
            "household_id", flat=True
        )
    )
    new = [
        Task(
            kind=TaskKind.RECERT,
            household_id=s.household_id,
            due_on=on,
            title=f"定期复核：{CATEGORY_NAMES[s.category]}，上次核实{s.last_verified or '无记录'}",
        )
        for s in recert_statuses(Household.objects.all(), on=on)
        if s.stale(on) and s.household_id not in have
    ]
    with transaction.atomic():  # the tasks and their audit event together, or neither
        Task.objects.bulk_create(new, batch_size=1000)
        if new:
            audit_record(
                actor=system_actor("recert_tasks"),
                event_type="trust.recert_tasks",
                object_type="trust.task",
                data={"created": len(new), "on": on},
            )
    return len(new)
