"""ID number rules: the number must be valid and agree with the recorded birth date and gender
(P-ID-MISMATCH), and one person must not be registered twice (P-ID-DUPLICATE) — the unique index on
证件号码 cannot see a 15-digit legacy number, a lower-case x or full-width digits standing for the
same person, so duplicates are found on the canonical number across the whole registry, through its blind
index (``Person.id_number_canon``, ``core.ids.canonical_id_number``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from fangpin.core.ids import validate_id_number

from ..models import Person
from . import codes as C
from .base import CheckContext, Finding, register
from .support import who

FAMILY = "证件号码"


@register(C.ID_MISMATCH, family=FAMILY, title="证件号码无效或与出生日期、性别不一致")
def id_mismatch(ctx: CheckContext) -> Iterator[Finding]:
    qs = (
        ctx.persons.filter(id_type__in=("身份证", "残疾人证"))
        .exclude(id_number__isnull=True)
        .exclude(id_number="")
        .values("id", "household_id", "name", "id_number", "birth_date", "gender")
        .order_by("id")
    )
    for p in qs.iterator(chunk_size=5000):
        chk = validate_id_number(p["id_number"], on=ctx.on)
        problems = [m for _, m in chk.errors]
        if chk.ok:
            if p["birth_date"] and chk.birth_date != p["birth_date"]:
                # No date in the message: next to the masked ID it would rebuild the full number.
                days = abs((p["birth_date"] - chk.birth_date).days)
                problems.append(f"登记的出生日期与证件号码中的出生日期不一致（相差{days}天）")
            if p["gender"] and chk.gender != p["gender"]:
                problems.append("性别与证件号码不一致")
        if problems:
            yield Finding(
                C.ID_MISMATCH, p["household_id"], f"{who(p)}：{'；'.join(problems)}", p["id"], "id_number"
            )


@register(C.ID_DUPLICATE, family=FAMILY, title="同一人重复登记")
def id_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    """Current members of the context sharing a canonical number with another current member anywhere in the
    registry: one indexed lookup on ``id_number_canon`` (the canonical number's blind index) for the
    context's numbers, so checking k households costs O(k), not a pass over the registry."""
    from django.db.models import Count

    members = Person.objects.filter(is_member=True, id_number_canon__isnull=False)
    shared = (
        members.filter(
            id_number_canon__in=ctx.persons.filter(id_number_canon__isnull=False).values("id_number_canon")
        )
        .values("id_number_canon")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values("id_number_canon")
    )
    holders: dict[str, list[dict]] = defaultdict(list)
    for p in (
        members.filter(id_number_canon__in=shared)
        .values("id", "household_id", "name", "id_number", "id_number_canon", "household__household_no")
        .order_by("id")
    ):
        holders[p["id_number_canon"]].append(p)
    if not holders:
        return
    in_scope = set(
        ctx.persons.filter(id__in=[p["id"] for ps in holders.values() for p in ps]).values_list(
            "id", flat=True
        )
    )
    for ps in holders.values():
        for p in ps:
            if p["id"] not in in_scope:
                continue
            others = "、".join(
                f"{o['household__household_no']}户的{who(o)}" for o in ps if o["id"] != p["id"]
            )
            yield Finding(
                C.ID_DUPLICATE,
                p["household_id"],
                f"{who(p)}与{others}为同一证件号码，疑似一人多户重复登记",
                p["id"],
                "id_number",
            )
