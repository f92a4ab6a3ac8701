"""承诺授权书 before asset/income comparisons (trust.services.consent).

A rule whose ``consent_scope`` is set (the seed ASSET_MONITORED: "assets") compares a family's assets or
incomes with department registrations; that needs the household's signed authorisation. The engine still
evaluates the rule set-based for everyone (a comparison is not skipped silently); a hit of a household
without an active 授权书 covering the scope on the day of the run is kept as a flagged item
(``ScreeningHit.consent_missing``, lead_result "consent_missing", counted per rule in the run report,
visible to county roles only) and produces no lead. A 授权书 covering "all", the rule's scope, or the
record's narrower scope (asset_type 车辆 → "vehicles", per ``SourceSpec.consent_scope_values``) counts.

Rules on 医保/残联/公安/民政/教育/住建/应急/人社/水利 pushes carry no consent scope: those departments push
these lists to the 防返贫 monitoring mechanism as their own duty, and the rules look for a household
that needs help, not for assets that would exclude it. A county that decides otherwise sets the rule's
consent_scope (e.g. "medical") and the same check applies.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from fangpin.trust.services.consent import households_with_consent

from ..sources import SOURCES

CONSENT_MISSING = "consent_missing"


def record_scope(source: str, record: dict[str, Any]) -> str | None:
    """The narrower consent scope a department record falls under (None if the source declares none)."""
    spec = SOURCES.get(source)
    if spec is None or not spec.consent_scope_column:
        return None
    return spec.consent_scope_values.get(str(record.get(spec.consent_scope_column) or ""))


def hits_without_consent(hits: list[Any], scope: str, *, on: dt.date) -> set[int]:
    """Indices of ``hits`` (ScreeningHit objects, unsaved is fine) whose household has no consent."""
    if not scope or not hits:
        return set()
    hh = {h.household_id for h in hits}
    ok = households_with_consent(hh, scope, on=on)
    by_scope: dict[str, set[int]] = defaultdict(set)
    for h in hits:
        narrow = record_scope(h.source, h.evidence.get("record") or {})
        if narrow and h.household_id not in ok:
            by_scope[narrow].add(h.household_id)
    narrow_ok = {s: households_with_consent(ids, s, on=on) for s, ids in by_scope.items()}
    missing = set()
    for i, h in enumerate(hits):
        if h.household_id in ok:
            continue
        narrow = record_scope(h.source, h.evidence.get("record") or {})
        if narrow and h.household_id in narrow_ok.get(narrow, set()):
            continue
        missing.add(i)
    return missing
