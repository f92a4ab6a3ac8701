"""Plain factory functions for tests: real rows through real models, valid IDs, deterministic."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from fangpin.core.ids import make_id_number
from fangpin.registry.choices import HouseholdType, LabourSkill, Relation
from fangpin.registry.models import Household, IncomeRecord, Person

_seq = itertools.count(1)

# Two villages of 龙安区 马家乡 (same township) and one of 龙泉镇 (another township).
VILLAGE_A1 = "410506205201"
VILLAGE_A2 = "410506205202"
VILLAGE_B1 = "410506100201"
TOWNSHIP_A = "410506205000"
TOWNSHIP_B = "410506100000"
COUNTY = "410506000000"


def household(
    village: str = VILLAGE_A1, *, household_type: str = HouseholdType.EXITED, **kw: Any
) -> Household:
    n = next(_seq)
    return Household.objects.create(
        household_no=kw.pop("household_no", f"{village}{n:06d}"),
        village_id=village,
        household_type=household_type,
        **kw,
    )


def person(
    hh: Household,
    *,
    name: str = "张三",
    gender: str = "M",
    birth: dt.date = dt.date(1980, 5, 1),
    relation: str = Relation.HEAD,
    **kw: Any,
) -> Person:
    n = next(_seq)
    kw.setdefault("labour_skill", LabourSkill.ORDINARY)
    return Person.objects.create(
        household=hh,
        name=name,
        gender=gender,
        birth_date=birth,
        relation=relation,
        id_number=kw.pop("id_number", make_id_number(hh.village_id[:6], birth, n, gender)),
        **kw,
    )


def income(hh: Household, *, year: int, **amounts: Any) -> IncomeRecord:
    return IncomeRecord.objects.create(
        household=hh,
        period_start=dt.date(year, 1, 1),
        period_end=dt.date(year, 12, 31),
        **{k: Decimal(str(v)) for k, v in amounts.items()},
    )
