"""Department facts → the registry's provenance and conflict policy (trust.services.provenance).

The engine has already compared each department's fact columns with the registry, set-based, and
returned only the persons whose latest department value differs (``MonthResult.facts``). Each of those
goes through ``fact_record`` — the one door for a fact from any source — with a ``source_ref`` naming the
department, the batch and the row ("公安 批次#7 第12行"). The conflict policy (``trust.conflict_policy``)
then applies it (公安 death → member removed with a death MemberChange; recorded as a discrepancy
"按冲突规则采用") or opens a pending Discrepancy with a verification task. Nothing is overwritten silently.

Decisions:
- Per run, facts come only from the batches of the run's month (older batches read for year-to-date
  rules were handled by the run of their own month).
- A batch row goes through the door once: a row already recorded (same entity, field and source_ref)
  is skipped, so re-running a month neither duplicates facts nor discrepancies. A new upload (new batch)
  of the same value meets the open discrepancy and joins it (fact_record's own de-duplication).
- A record matched only by probabilistic linkage is no authoritative statement of that department about
  that registry person: it is recorded with the department marked "（概率匹配）", which the policy ranks as
  an ordinary department value → always a pending discrepancy for a cadre to verify, never applied.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from fangpin.core.errors import DomainError
from fangpin.registry.choices import SourceKind
from fangpin.registry.models import FactProvenance, Household
from fangpin.trust.services.provenance import fact_record

from ..models import DeptBatch

logger = logging.getLogger(__name__)

LINKED_SUFFIX = "（概率匹配）"


def fact_source_ref(batch: DeptBatch, record_key: int, probability: float | None) -> tuple[str, str]:
    """(source_ref, department) of a department row; see the module docstring for linked rows."""
    row_no = record_key & 0xFFFFFFFF
    ref = f"{batch.department} 批次#{batch.pk} 第{row_no}行"
    if probability is None:
        return ref, batch.department
    return f"{ref}（概率匹配 p={probability:.3f}）", f"{batch.department}{LINKED_SUFFIX}"


def _latest_per_target(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Household facts can come from several members' rows: keep the latest per (entity, id, field)."""
    best: dict[tuple[str, int, str], dict[str, Any]] = {}
    for f in facts:
        eid = f["person_id"] if f["entity"] == "person" else f["household_id"]
        key = (f["entity"], eid, f["field"])
        rank = (str(f["observed_on"]), f["record_key"])
        if key not in best or rank > (str(best[key]["observed_on"]), best[key]["record_key"]):
            best[key] = {**f, "entity_id": eid}
    return list(best.values())


def department_facts_record(*, run, facts: list[dict[str, Any]], linked: dict[int, float]) -> dict[str, Any]:
    """Sends the differing facts of a run through ``fact_record``; returns the run report's fact counts."""
    report: dict[str, Any] = {"differing": len(facts), "recorded": 0, "already_recorded": 0, "errors": 0}
    outcomes: Counter[str] = Counter()
    by_field: Counter[str] = Counter()
    targets = _latest_per_target(facts)
    batches = DeptBatch.objects.in_bulk({f["record_key"] >> 32 for f in targets})
    for f in targets:
        f["source_ref"], f["department"] = fact_source_ref(
            batches[f["record_key"] >> 32], f["record_key"], linked.get(f["record_key"])
        )
    done = set(
        FactProvenance.objects.filter(
            source_kind=SourceKind.DEPARTMENT, source_ref__in=[f["source_ref"][:200] for f in targets]
        ).values_list("entity", "entity_id", "field", "source_ref")
    )
    households = Household.objects.in_bulk({f["household_id"] for f in targets})
    for f in sorted(targets, key=lambda x: (x["record_key"], x["field"])):
        if (f["entity"], f["entity_id"], f["field"], f["source_ref"][:200]) in done:
            report["already_recorded"] += 1
            continue
        try:
            out = fact_record(
                actor=run.started_by,
                household=households[f["household_id"]],
                entity=f["entity"],
                entity_id=f["entity_id"],
                field=f["field"],
                value=f["value"],
                source_kind=SourceKind.DEPARTMENT,
                source_ref=f["source_ref"],
                observed_on=f["observed_on"],
                on=run.as_of,  # the run's business date
                department=f["department"],
            )
        except DomainError as exc:  # e.g. a value the registry field does not accept
            logger.warning("fact %s.%s of %s refused: %s", f["entity"], f["field"], f["source_ref"], exc)
            report["errors"] += 1
            continue
        report["recorded"] += 1
        outcomes[out.outcome] += 1
        by_field[f"{f['entity']}.{f['field']}:{out.outcome}"] += 1
    report.update({k: outcomes.get(k, 0) for k in ("applied", "pending", "confirmed", "rejected")})
    report["by_field"] = dict(sorted(by_field.items()))
    return report
