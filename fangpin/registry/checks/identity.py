"""ID number rules: the number must be valid and agree with the recorded birth date and gender
(P-ID-MISMATCH), and one person must not be registered twice (P-ID-DUPLICATE) — the unique index on
证件号码 cannot see a 15-digit legacy number, a lower-case x or full-width digits standing for the
same person, so duplicates are found on the normalised number across the whole registry."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from fangpin.core.ids import normalize_raw, upgrade_15, validate_id_number

from ..models import Person
from . import codes as C
from .base import CheckContext, Finding, register
from .support import who

FAMILY = "证件号码"
# stored numbers that are not already the canonical 18-character form (tested in Python: the column is
# encrypted at rest, so no SQL regular expression can see it)
NON_CANONICAL = re.compile(r"^[0-9]{15}$|[^0-9X]")


def canonical(raw: str) -> str:
    s = normalize_raw(raw)
    if len(s) == 15 and s.isdigit():
        return upgrade_15(s)
    return s


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


def _non_canonical(members) -> list[dict]:
    """Members whose stored number is not canonical, across the whole registry. Finding them decrypts and
    tests every member's number, so the list is remembered (10 min) until a
    member is added, removed or changed — the household file runs this rule on every view."""
    from django.core.cache import cache
    from django.db.models import Count, Max

    stamp = members.aggregate(n=Count("id"), i=Max("id"), m=Max("updated_at"))
    moved = stamp["m"].timestamp() if stamp["m"] else 0
    key = f"registry.checks.non_canonical:{stamp['n']}:{stamp['i']}:{moved:.6f}"
    odd = cache.get(key)
    if odd is None:
        odd = [
            p
            for p in members.values("id", "household_id", "name", "id_number").iterator(chunk_size=5000)
            if p["id_number"] and NON_CANONICAL.search(p["id_number"])
        ]
        cache.set(key, odd, 600)
    return odd


@register(C.ID_DUPLICATE, family=FAMILY, title="同一人重复登记")
def id_duplicate(ctx: CheckContext) -> Iterator[Finding]:
    members = Person.objects.filter(is_member=True).exclude(id_number__isnull=True)
    holders: dict[str, list[dict]] = defaultdict(list)
    odd = _non_canonical(members)
    for p in odd:
        holders[canonical(p["id_number"])].append(p)
    if not holders:
        return
    seen = {p["id"] for p in odd}
    for p in members.filter(id_number__in=list(holders)).values("id", "household_id", "name", "id_number"):
        if p["id"] not in seen:
            holders[p["id_number"]].append(p)
    in_scope = set(
        ctx.persons.filter(
            id__in=[p["id"] for ps in holders.values() if len(ps) > 1 for p in ps]
        ).values_list("id", flat=True)
    )
    nos = dict(
        Person.objects.filter(id__in=[p["id"] for ps in holders.values() for p in ps]).values_list(
            "id", "household__household_no"
        )
    )
    for ps in holders.values():
        if len(ps) < 2:
            continue
        for p in ps:
            if p["id"] not in in_scope:
                continue
            others = "、".join(f"{nos[o['id']]}户的{who(o)}" for o in ps if o["id"] != p["id"])
            yield Finding(
                C.ID_DUPLICATE,
                p["household_id"],
                f"{who(p)}与{others}为同一证件号码，疑似一人多户重复登记",
                p["id"],
                "id_number",
            )
