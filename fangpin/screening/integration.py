"""The seams to the monitoring part (fangpin/monitoring), kept in one module.

Screening needs three things from monitoring: which households are monitoring objects (rules apply
to them differently), ``lead_submit`` to push a lead (it dedups against open leads and monitoring
objects and routes to township/village), and each lead's outcome (confirmed / not_a_risk / data_error)
to close the loop. Until monitoring provides them, the functions degrade visibly: no monitored
households, leads not pushed (``lead_result = "monitoring_unavailable"``), no outcomes.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

logger = logging.getLogger(__name__)

LEAD_CHANNEL = "department_screening"
UNAVAILABLE = "monitoring_unavailable"


def _monitoring(module: str):
    try:
        return importlib.import_module(f"fangpin.monitoring.{module}")
    except ImportError:
        return None


def monitored_household_ids() -> set[int]:
    """Households that are monitoring objects now (enrolled, not eliminated)."""
    sel = _monitoring("selectors")
    fn = getattr(sel, "monitored_household_ids", None) if sel else None
    if fn is not None:
        return set(fn())
    models = _monitoring("models")
    model = getattr(models, "MonitoringObject", None) if models else None
    if model is not None:
        qs = model.objects.all()
        return set(qs.filter(status="active").values_list("household_id", flat=True))
    return set()


def submit_lead(
    *, actor, household, source_ref: str, evidence: dict[str, Any], risk_types: list[str], note: str = ""
) -> tuple[int | None, str]:
    """Push one lead; returns (lead id, result). Refusals by monitoring are recorded, not raised."""
    mod = _monitoring("services.leads")
    fn = getattr(mod, "lead_submit", None) if mod else None
    if fn is None:
        return None, UNAVAILABLE
    from fangpin.core.errors import DomainError

    try:
        res = fn(
            actor=actor,
            household=household,
            channel=LEAD_CHANNEL,
            source_ref=source_ref,
            evidence=evidence,
            risk_types=risk_types,
            note=note,
        )
    except DomainError as exc:
        return None, exc.code[:40]
    lead = res[0] if isinstance(res, tuple) else res
    lead_id = getattr(lead, "pk", None) or (lead if isinstance(lead, int) else None)
    return lead_id, "submitted"


def lead_outcomes(lead_ids: list[int]) -> dict[int, tuple[str, Any]]:
    """{lead id: (outcome, closed_at)} for the leads that monitoring has closed."""
    if not lead_ids:
        return {}
    sel = _monitoring("selectors")
    fn = getattr(sel, "lead_outcomes", None) if sel else None
    if fn is not None:
        return dict(fn(lead_ids))
    models = _monitoring("models")
    model = getattr(models, "Lead", None) if models else None
    if model is None:
        return {}
    rows = model.objects.filter(pk__in=lead_ids).exclude(outcome="").values_list("pk", "outcome", "closed_on")
    return {pk: (o, at) for pk, o, at in rows if o}
