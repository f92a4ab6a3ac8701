"""Helpers shared by the monitoring services: parameter reads that remember their refs, scope checks,
and the one function that writes a CaseEvent together with its audit event."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models

from fangpin.accounts.actors import is_system
from fangpin.accounts.scope import household_in_scope
from fangpin.audit.record import after_chained, audit_record
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.policy.params import ParamValue, param_get

from ..models import Case, CaseEvent

E_RISK_TYPE_UNKNOWN = "risk_type_unknown"
E_RISK_TYPES_COUNT = "risk_types_count"


class Params:
    """Reads parameters for one region and year and keeps the ``ref()`` of each value it used."""

    def __init__(self, region_code: str, year: int) -> None:
        self.region_code = region_code
        self.year = year
        self.used: dict[str, ParamValue] = {}

    def __call__(self, key: str) -> Any:
        pv = param_get(key, region_code=self.region_code, year=self.year)
        self.used[key] = pv
        return pv.value

    def refs(self) -> list[dict[str, Any]]:
        return [pv.ref() for pv in self.used.values()]


def ensure_in_scope(actor, household, *, what: str = "户") -> None:
    """Village codes decide scope, and a helper's assigned households (a system actor has every village in
    scope; ``None`` is refused)."""
    is_system(actor)
    if not household_in_scope(actor, household):
        raise NotFound(what)


def require_any(actor, *caps: str) -> None:
    is_system(actor)  # refuses None
    if not any(actor.can(c) for c in caps):
        raise PermissionDenied()


def township_code(village_code: str) -> str:
    return village_code[:9] + "000"


def validate_risk_types(risk_types: list[str] | None, p: Params, *, minimum: int = 0) -> list[str]:
    """Risk types must come from the catalogue parameter; at most identification.max_risk_types."""
    out: list[str] = []
    for r in risk_types or []:
        if r not in out:
            out.append(r)
    catalogue = p("catalogue.risk_types")
    unknown = [r for r in out if r not in catalogue]
    if unknown:
        raise DomainError(
            E_RISK_TYPE_UNKNOWN, f"风险类型“{'、'.join(unknown)}”不在风险类型目录中", field="risk_types"
        )
    most = int(p("identification.max_risk_types"))
    if len(out) < minimum or len(out) > most:
        raise DomainError(
            E_RISK_TYPES_COUNT, f"致贫/返贫风险须选择{max(minimum, 1)}至{most}项", field="risk_types"
        )
    return out


def case_event(
    case: Case,
    *,
    actor,
    kind: str,
    on: dt.date,
    step: str = "",
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> CaseEvent:
    """Appends the case's own history row and the hash-chained audit event in the same transaction."""
    payload = {"step": step, "on": on.isoformat(), **(data or {})}
    ev = audit_record(
        actor=actor,
        event_type=f"monitoring.case_{kind}",
        obj=case,
        region_code=case.village_id,
        household_id=case.household_id,
        data=payload,
        reason=reason,
    )
    row = CaseEvent(
        case=case,
        on=on,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_role=getattr(actor, "role", "") or "",
        kind=kind,
        step=step,
        data={**(data or {}), **({"reason": reason} if reason else {})},
        audit_seq=ev.seq,
    )
    if ev.seq is not None:
        row.save(force_insert=True)
        return row
    # the audit event is chained at the end of the service's block (``audit.record.audited_atomic``): the row
    # is inserted now, its number and seal are written with the chain's append (one UPDATE, as the seal of a
    # new row always is) — inside the transaction, so no unsealed row is ever committed
    models.Model.save(row, force_insert=True)

    def _link(chained) -> None:
        row.audit_seq = chained.seq
        row.save(update_fields=list(CaseEvent.SEAL_FIELDS))

    after_chained(ev, _link)
    return row
