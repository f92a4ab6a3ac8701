"""Running the checks for a region, a household or the whole registry, and writing the rows out."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.db.models import QuerySet

from fangpin.accounts.scope import scoped

from ..models import Household, Person
from .base import CHECKS, CheckContext, Finding, _load, run_checks


def context_for(households: QuerySet[Household], *, on: dt.date) -> CheckContext:
    return CheckContext(
        households=households,
        persons=Person.objects.filter(household__in=households, is_member=True),
        on=on,
    )


def registry_findings(
    *,
    actor,
    region_code: str | None = None,
    household_no: str | None = None,
    codes: Iterable[str] | None = None,
    on: dt.date,
) -> list[Finding]:
    """Findings over the households the actor may see (all of them for ``system_actor(...)``),
    optionally limited to a region prefix or one 户编号."""
    qs = scoped(actor, Household.objects.all())
    if region_code:
        from fangpin.regions.models import code_prefix

        qs = qs.filter(village__code__startswith=code_prefix(region_code))
    if household_no:
        qs = qs.filter(household_no=household_no)
    return run_checks(context_for(qs, on=on), codes=codes)


def household_findings(household: Household, *, on: dt.date) -> list[Finding]:
    """Every rule's findings for one household (the household file shows them)."""
    return run_checks(context_for(Household.objects.filter(pk=household.pk), on=on))


FINDINGS_CACHE_SECONDS = 600


def household_findings_cached(household: Household, *, on: dt.date) -> list[Finding]:
    """``household_findings`` remembered (10 minutes) until the household, a member or an income record
    changes, or a state change is audited for the household — the household file shows findings on every
    view, and running every rule costs ~0.5 s. A rule that looks across households (e.g. a duplicate ID in
    another household) may lag by at most the cache time.

    A household whose maintained flags (``registry.flags``: recomputed with these same rules, marked dirty
    by every change the stamp below sees and more) are fresh for ``on`` and count no finding has none: one
    read of its flags row instead of the stamp and the rules (most households; the 有逻辑校验问题 list
    reads the same rows)."""
    from django.core.cache import cache
    from django.db.models import Max

    from fangpin.audit.models import AuditEvent

    from ..models import HouseholdFlags, IncomeRecord

    flags = HouseholdFlags.objects.filter(household_id=household.pk).values("dirty", "checked_on", "findings")
    row = flags.first()
    if row is not None and not row["dirty"] and row["checked_on"] == on and row["findings"] == 0:
        return []

    stamp = (
        household.updated_at,
        Person.objects.filter(household=household).aggregate(m=Max("updated_at"))["m"],
        IncomeRecord.objects.filter(household=household).aggregate(m=Max("updated_at"))["m"],
        AuditEvent.objects.filter(household_id=household.pk)
        .exclude(event_type__endswith="_view")
        .aggregate(m=Max("seq"))["m"],
    )
    import hashlib

    digest = hashlib.sha1(repr(stamp).encode()).hexdigest()[:16]  # same key in every process (shared cache)
    key = f"registry.findings:{household.pk}:{on.isoformat()}:{digest}"
    found = cache.get(key)
    if found is None:
        found = household_findings(household, on=on)
        cache.set(key, found, FINDINGS_CACHE_SECONDS)
    return found


def counts_by_code(findings: Iterable[Finding]) -> dict[str, int]:
    _load()
    c = Counter(f.code for f in findings)
    return {code: c.get(code, 0) for code in sorted(CHECKS)}


HEADER = ["规则代码", "规则", "户编号", "村", "姓名", "证件号码", "字段", "说明"]


def write_xlsx(findings: list[Finding], path: Path) -> Path:
    """One sheet of rows, one of counts per rule, through fangpin's one spreadsheet writer
    (``registry.io.xlsx``: text cells neutralised against formula injection). ID numbers are masked
    (the message already is)."""
    from fangpin.core.masking import mask_id_number
    from fangpin.registry.io.xlsx import write_xlsx as write_sheet

    _load()
    hh = dict(
        Household.objects.filter(id__in={f.household_id for f in findings}).values_list("id", "household_no")
    )
    villages = dict(
        Household.objects.filter(id__in={f.household_id for f in findings}).values_list("id", "village__name")
    )
    people = {
        p["id"]: p
        for p in Person.objects.filter(id__in={f.person_id for f in findings if f.person_id}).values(
            "id", "name", "id_number"
        )
    }
    rows = (
        [
            f.code,
            CHECKS[f.code].title,
            hh.get(f.household_id, ""),
            villages.get(f.household_id, ""),
            people.get(f.person_id, {}).get("name", ""),
            mask_id_number(people.get(f.person_id, {}).get("id_number")),
            f.field,
            f.message,
        ]
        for f in findings
    )
    summary = [
        [code, CHECKS[code].title, CHECKS[code].family, n] for code, n in counts_by_code(findings).items()
    ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_sheet(
        path,
        title="逻辑校验问题明细",
        subtitle=f"共{len(findings)}条问题",
        headers=HEADER,
        rows=rows,
        sheet_name="问题明细",
        extra_sheets={"汇总": (["规则代码", "规则", "类别", "问题数"], summary)},
    )
    return path
