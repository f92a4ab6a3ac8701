"""Reviewer decisions on uncertain links (reused by every later run) and lead outcomes coming back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError

from .. import integration
from ..models import LinkReview, Outcome, ReviewStatus, ScreeningHit

E_DECISION = "screening_review_decision_invalid"
E_DECIDED = "screening_review_already_decided"
E_OUTCOME = "screening_outcome_invalid"


@transaction.atomic
def link_review_decide(*, actor, review_id: int, accept: bool, note: str = "") -> LinkReview:
    """A village/township/county reviewer confirms or rejects "this department record is this person".

    Scope: only reviews whose candidate lives in the actor's region (NotFound otherwise)."""
    require(actor, Cap.REGISTRY_EDIT)
    review = access_object(actor, LinkReview, review_id, what="疑似匹配", for_update=True)
    if review.status != ReviewStatus.PENDING:
        raise DomainError(E_DECIDED, "该疑似匹配已复核，不能重复复核")
    review.status = ReviewStatus.ACCEPTED if accept else ReviewStatus.REJECTED
    review.decided_by = actor
    review.decided_at = clock.now()
    review.note = note[:200]
    review.save()
    audit_record(
        actor=actor, event_type="screening.link_review", obj=review,
        region_code=review.candidate.household.village_id, household_id=review.candidate.household_id,
        data={"status": review.status, "probability": review.probability}, reason=note,
    )  # fmt: skip
    return review


@transaction.atomic
def screening_lead_outcome_record(*, lead_id: int, outcome: str, closed_at=None, actor=None) -> int:
    """Push interface for monitoring's ``lead_close``: store the outcome on the hits of that lead."""
    if outcome not in Outcome.values:
        raise DomainError(E_OUTCOME, f"未知的核实结果“{outcome}”")
    if closed_at is None:
        closed_at = clock.now()
    elif not isinstance(closed_at, dt.datetime):  # monitoring records a closing date
        closed_at = timezone.make_aware(dt.datetime.combine(closed_at, dt.time(12)))
    n = ScreeningHit.objects.filter(lead_id=lead_id).update(outcome=outcome, outcome_at=closed_at)
    if n:
        audit_record(actor=actor, event_type="screening.lead_outcome", object_type="monitoring.lead",
                     object_id=lead_id, data={"outcome": outcome, "hits": n})  # fmt: skip
    return n


def screening_outcomes_sync() -> dict[str, Any]:
    """Pull interface: copy outcomes of closed leads from monitoring onto hits (periodic task)."""
    open_ids = list(
        ScreeningHit.objects.filter(outcome="", lead_id__isnull=False)
        .values_list("lead_id", flat=True)
        .distinct()
    )
    got = integration.lead_outcomes(open_ids)
    n = 0
    for lead_id, (outcome, at) in got.items():
        if outcome in Outcome.values:
            n += screening_lead_outcome_record(lead_id=lead_id, outcome=outcome, closed_at=at)
    return {"checked": len(open_ids), "updated_hits": n}
