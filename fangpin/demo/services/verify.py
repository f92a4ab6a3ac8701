"""Compare the data-quality checks' findings with the defects the generator planted (the answer key)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from fangpin.accounts.actors import system_actor
from fangpin.registry.checks import Finding
from fangpin.registry.checks import codes as C
from fangpin.registry.checks.report import registry_findings
from fangpin.registry.models import Household, Person

from ..models import DemoDataset, PlantedDefect

Key = tuple[str, str]  # (户编号, 人编号 or "")


@dataclass(frozen=True)
class RuleComparison:
    code: str
    planted: int
    found: int
    missing: tuple[Key, ...]  # planted but not found
    extra: tuple[Key, ...]  # found but not planted

    @property
    def exact(self) -> bool:
        return not self.missing and not self.extra


def findings_keyed(findings: Iterable[Finding]) -> dict[str, set[Key]]:
    findings = list(findings)
    hh_no = dict(
        Household.objects.filter(id__in={x.household_id for x in findings}).values_list("id", "household_no")
    )
    p_no = dict(
        Person.objects.filter(id__in={x.person_id for x in findings if x.person_id}).values_list(
            "id", "person_no"
        )
    )
    out: dict[str, set[Key]] = defaultdict(set)
    for x in findings:
        out[x.code].add((hh_no[x.household_id], p_no.get(x.person_id, "") if x.person_id else ""))
    return out


def planted_keyed(dataset: DemoDataset) -> dict[str, set[Key]]:
    out: dict[str, set[Key]] = defaultdict(set)
    for d in PlantedDefect.objects.filter(dataset=dataset):
        out[d.code].add((d.household_no, d.person_no))
    return out


def compare_with_planted(dataset: DemoDataset) -> list[RuleComparison]:
    """Runs the registry rules over the dataset's county as of its cut-off date, rule by rule."""
    planted = planted_keyed(dataset)
    found = findings_keyed(
        registry_findings(
            actor=system_actor("demo_verify_checks"),
            region_code=dataset.county_code,
            on=dataset.as_of,
            codes=C.ALL,
        )
    )
    return [
        RuleComparison(
            code=code,
            planted=len(planted[code]),
            found=len(found[code]),
            missing=tuple(sorted(planted[code] - found[code])),
            extra=tuple(sorted(found[code] - planted[code])),
        )
        for code in sorted(set(C.ALL) | set(planted) | set(found))
    ]
