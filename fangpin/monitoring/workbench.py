"""Reads for the 工作台 (home page): what awaits this user and the key counts of their area."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet

from fangpin.accounts.roles import Role
from fangpin.accounts.scope import scoped
from fangpin.registry.choices import HouseholdType

from .household_search import visible_households
from .models import CaseStatus, CaseStep, LeadStatus, MonitoringObject, ObjectStatus, StepStatus
from .selectors import lead_list, overdue_items, visits_due
from .workflows import WORKFLOWS


def step_codes_for(actor) -> set[str]:
    """The step codes this user's role may perform (any procedure kind)."""
    return {s.code for steps in WORKFLOWS.values() for s in steps if actor.can(s.cap)}


def awaiting_steps(*, actor) -> QuerySet[CaseStep]:
    """Active steps of open cases in the actor's area that the actor's role performs."""
    return scoped(
        actor,
        CaseStep.objects.filter(
            status=StepStatus.ACTIVE, case__status=CaseStatus.OPEN, code__in=step_codes_for(actor)
        ).select_related("case__household"),
    )


def home_summary(*, actor, on: dt.date) -> dict[str, Any]:
    """Counts for the home page; each has a list behind it (the web links them)."""
    hh = visible_households(actor=actor, on=on)
    objs = scoped(actor, MonitoringObject.objects.all())
    if actor.role == Role.HELPER:
        objs = objs.filter(household__in=hh)
    active = objs.filter(status=ObjectStatus.ACTIVE)
    by_cat = dict(active.values_list("category").annotate(n=Count("id")).values_list("category", "n"))
    year_start = on.replace(month=1, day=1)
    counts = hh.aggregate(
        households=Count("id"),
        exited=Count("id", filter=Q(household_type=HouseholdType.EXITED)),
    )
    persons = hh.aggregate(n=Count("persons", filter=Q(persons__is_member=True)))["n"]
    overdue = overdue_items(actor=actor, on=on, include_visits=False)
    due = visits_due(actor=actor, month=on)
    if actor.role == Role.HELPER:
        ids = set(hh.values_list("id", flat=True))
        overdue = [o for o in overdue if o.household_id in ids]
        due = [v for v in due if v.household_id in ids]
    return {
        "households": counts["households"],
        "persons": persons,
        "exited": counts["exited"],
        "active_objects": active.count(),
        "active_by_category": by_cat,
        "eliminated_this_year": objs.filter(
            status=ObjectStatus.ELIMINATED, eliminated_on__gte=year_start
        ).count(),
        "leads_open": lead_list(actor=actor, status=LeadStatus.OPEN).count()
        if actor.role != Role.HELPER
        else 0,
        "awaiting": awaiting_steps(actor=actor).count(),
        "overdue": sorted(overdue, key=lambda o: -o.days_over),
        "visits_due": due,
        "visits_overdue": sum(1 for v in due if v.overdue),
    }


def assignable_users(*, actor, household) -> list:
    """Active cadres and helpers whose region covers the household's village (for 指定责任人), only for
    users allowed to assign (township and county reviewers)."""
    from fangpin.accounts.models import User
    from fangpin.accounts.roles import Cap

    if not (actor.can(Cap.CASE_TOWNSHIP) or actor.can(Cap.CASE_COUNTY)):
        return []
    village = household.village_id
    prefixes = [village[:n] for n in (6, 9, 12)]
    candidates = User.objects.filter(
        is_active=True, role__in=[Role.VILLAGE_CADRE, Role.HELPER, Role.TOWNSHIP_REVIEWER]
    ).filter(region_id__in=[p.ljust(12, "0") for p in prefixes])
    return [
        u
        for u in candidates.order_by("role", "username")
        if u.scope_prefix and village.startswith(u.scope_prefix)
    ]


def current_assignments(*, household_id: int, on: dt.date) -> list:
    """The household's assignments in effect on ``on`` (the SQL compiled once per process)."""
    from fangpin.core.precompiled import precompiled_list

    return precompiled_list("monitoring.current_assignments", _current_assignments, household_id, on)


def _current_assignments(household_id: int, on: dt.date):
    from .models import Assignment

    return (
        Assignment.objects.filter(household_id=household_id, start_on__lte=on)
        .filter(Q(end_on__isnull=True) | Q(end_on__gt=on))
        .select_related("user")
    )
