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
    """``household_findings`` (every rule's findings for one household, in ``run_checks`` order), cheaply.

    - Its maintained flags row (``registry.flags``: recomputed with these same rules over chunks of
      households, marked dirty in the same transaction as every change to the household, a member, an
      income record or an audited state change of the household, and — the one rule across households, a
      duplicate ID number — to a member or the 户编号 of a household sharing a member's number,
      ``registry.signals``) is clean and was computed for ``on``: the findings the flags computation stored
      (``finding_list``), one read of the row and no rule run (a row that counts no finding needs none).
    - Otherwise (dirty, of another day, or stored before the list was): the rules run, remembered
      (10 minutes) until the row's generation moves (the same changes mark it), so a dirty row still waiting
      for the background refresh costs one rule run, not one per view (running every rule costs ~0.5 s
      at a million persons). Without a row at all (a bulk load not rebuilt yet) the remembered findings
      are keyed by the household's own rows and audited changes instead; the duplicate-ID rule may lag
      by at most the cache time there."""
    from django.core.cache import cache
    from django.db.models import Max

    from fangpin.audit.models import AuditEvent

    from ..flags import findings_load
    from ..models import HouseholdFlags, IncomeRecord

    row = (
        HouseholdFlags.objects.filter(household_id=household.pk)
        .values("dirty", "gen", "checked_on", "findings", "finding_list")
        .first()
    )
    if row is not None and not row["dirty"] and row["checked_on"] == on:
        if row["findings"] == 0:
            return []
        if row["finding_list"] is not None:
            return findings_load(household.pk, row["finding_list"])

    if row is not None:
        # the row's generation moves with every touch (``flags.household_flags_touch``): every change the
        # rules can see, the duplicate-ID rule's other households and new parameters included
        stamp: tuple = ("gen", row["gen"], household.updated_at)
    else:  # no row yet (a bulk load not rebuilt): the household's own rows and audited changes
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
