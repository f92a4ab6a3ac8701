"""The household a command acts on (户编号), found only within the actor's scope, with a Chinese error."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from fangpin.accounts.access import access_refused_record
from fangpin.registry.models import Household


def command_household(actor, household_no: str, on: dt.date) -> Household:
    from fangpin.monitoring.household_search import visible_households

    hh = visible_households(actor=actor, on=on).filter(household_no=household_no).first()
    if hh is None:  # missing or not the actor's: the same answer, and the refused read is audited
        pk = Household.objects.filter(household_no=household_no).values_list("pk", flat=True).first()
        access_refused_record(actor, Household, pk, what="户")
        raise CommandError(f"户{household_no}不存在或无权访问")
    return hh
