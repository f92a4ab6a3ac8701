"""The seams to the monitoring part (fangpin/monitoring), kept in one module.

Screening needs three things from monitoring: which households are monitoring objects (rules apply to them
differently), ``lead_submit`` to push a lead (it dedups against open leads and monitoring objects and routes
to township/village), and each lead's outcome (confirmed / not_a_risk / data_error) to close the loop."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangpin.core.errors import DomainError
from fangpin.monitoring import selectors as mon_selectors
from fangpin.monitoring.models import Lead
from fangpin.monitoring.services.leads import lead_submit

LEAD_CHANNEL = "department_screening"


def monitored_household_ids(on: dt.date) -> set[int]:
    """Households that are monitoring objects on ``on`` (incl. 渐退期): monitoring's one answer."""
    return mon_selectors.monitored_household_ids(on=on)


def submit_lead(
    *,
    actor,
    household,
    source_ref: str,
    evidence: dict[str, Any],
    risk_types: list[str],
    on: dt.date,
    note: str = "",
) -> tuple[int | None, str]:
    """Push one lead dated ``on`` (the run's business date); returns (lead id, result). Refusals by
    monitoring are recorded on the hit, not raised. The only call of ``lead_submit`` in screening."""
    try:
        lead = lead_submit(
            actor=actor,
            household=household,
            channel=LEAD_CHANNEL,
            source_ref=source_ref,
            evidence=evidence,
            risk_types=risk_types,
            note=note,
            on=on,
        )
    except DomainError as exc:
        return None, exc.code[:40]
    return lead.pk, "submitted"


def lead_outcomes(lead_ids: list[int]) -> dict[int, tuple[str, Any]]:
    """{lead id: (outcome, closed_on)} for the leads that monitoring has closed."""
    if not lead_ids:
        return {}
    rows = Lead.objects.filter(pk__in=lead_ids).exclude(outcome="").values_list("pk", "outcome", "closed_on")
    return {pk: (o, at) for pk, o, at in rows if o}
