"""Reads over the registry. Every function that serves a user takes the actor and starts from ``scoped``."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.accounts.scope import scoped

from .models import Household, Person


def household_list(*, actor, village_prefix: str | None = None) -> QuerySet[Household]:
    qs = scoped(actor, Household.objects.select_related("village"))
    if village_prefix:
        qs = qs.filter(village__code__startswith=village_prefix)
    return qs


def person_list(*, actor) -> QuerySet[Person]:
    return scoped(actor, Person.objects.select_related("household"))


def household_get(*, actor, household_id: int) -> Household:
    return access_object(actor, Household, household_id, what="户")


def _end_of_day(d: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(d, dt.time.max))


def household_as_of(household_id: int, on: dt.date) -> Household | None:
    """The household row as it stood at the end of ``on`` (None if it did not exist yet)."""
    h = (
        Household.history.filter(id=household_id, history_date__lte=_end_of_day(on))
        .order_by("-history_date")
        .first()
    )
    if h is None or h.history_type == "-":
        return None
    return h.instance


def members_as_of(household_id: int, on: dt.date) -> list[Person]:
    """Members of the household at the end of ``on``: persons whose latest version by then was a member
    of this household (handles births, deaths, marriages and moves between households)."""
    latest: dict[int, object] = {}
    for h in (
        Person.history.filter(history_date__lte=_end_of_day(on))
        .filter(id__in=Person.history.filter(household_id=household_id).values("id"))
        .order_by("id", "history_date")
    ):
        latest[h.id] = h
    return [
        h.instance
        for h in latest.values()
        if h.history_type != "-" and h.household_id == household_id and h.is_member
    ]


def member_count_as_of(household_id: int, on: dt.date) -> int:
    """How many members the household had at the end of ``on`` (``members_as_of`` without building the
    Person instances: one query, used by the income assessment on every household-file view)."""
    latest: dict[int, tuple] = {}
    rows = (
        Person.history.filter(history_date__lte=_end_of_day(on))
        .filter(id__in=Person.history.filter(household_id=household_id).values("id"))
        .order_by("id", "history_date")
        .values_list("id", "history_type", "household_id", "is_member")
    )
    for pid, htype, hid, is_member in rows:
        latest[pid] = (htype, hid, is_member)
    return sum(1 for htype, hid, m in latest.values() if htype != "-" and hid == household_id and m)


def member_count(household: Household) -> int:
    return household.persons.filter(is_member=True).count()


def import_batch_list(*, actor) -> QuerySet:
    """The user's own import batches, newest first (a batch belongs to who uploaded it)."""
    from .models import ImportBatch

    return ImportBatch.objects.filter(created_by=actor).order_by("-id")


def import_batch_get(*, actor, batch_id: int):
    from fangpin.core.errors import NotFound

    from .models import ImportBatch

    batch = ImportBatch.objects.filter(pk=batch_id, created_by=actor).first()
    if batch is None:
        raise NotFound("导入批次")
    return batch
