"""Helpers shared by the rule modules: per-county parameters, age bounds as birth-date bounds (so age
tests stay in SQL), and how a finding names a person."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from fangpin.core.masking import mask_id_number
from fangpin.policy.params import param_value

from .base import CheckContext, current_run

STUDENT_EXCLUDED = ("", "学龄前儿童")  # 在校生状况 values that do not make a person a student


_COUNTIES = threading.local()  # (context, run, counties) of the last run on this thread


def counties(ctx: CheckContext) -> list[str]:
    """The counties the checked households belong to (parameters are looked up per county): one query per
    ``run_checks`` run, not one per rule (a dozen rules ask)."""
    run = current_run()
    last = getattr(_COUNTIES, "value", None)
    if run and last is not None and last[0] is ctx and last[1] == run:
        return list(last[2])
    villages = ctx.households.order_by().values_list("village_id", flat=True).distinct()
    out = sorted({v[:6] for v in villages})
    if run:
        _COUNTIES.value = (ctx, run, out)
    return list(out)


def per_county(ctx: CheckContext) -> Iterator[tuple[str, QuerySet, QuerySet]]:
    """(county code, its persons, its households)."""
    for c in counties(ctx):
        yield (
            c,
            ctx.persons.filter(household__village__code__startswith=c),
            ctx.households.filter(village__code__startswith=c),
        )


def param(key: str, county: str, on: dt.date) -> Any:
    return param_value(key, region_code=county.ljust(12, "0"), year=on.year)


def born_by(on: dt.date, age: int) -> dt.date:
    """Latest birth date of someone who is at least ``age`` full years old on ``on``:
    ``birth_date <= born_by(on, a)`` ⇔ age ≥ a."""
    try:
        return on.replace(year=on.year - age)
    except ValueError:  # 29 February
        return on.replace(year=on.year - age, day=28)


def age_on(birth: dt.date | None, on: dt.date) -> int | None:
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


PERSON_FIELDS = ("id", "household_id", "name", "id_number", "birth_date", "person_no")


def who(p: dict[str, Any]) -> str:
    """How a finding names a person: name and masked ID number (findings are shown in lists)."""
    idn = mask_id_number(p.get("id_number")) if p.get("id_number") else "无证件号码"
    return f"{p.get('name') or '（无姓名）'}（{idn}）"
