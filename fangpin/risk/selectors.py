"""Reads of the risk scores, always through the one scope gate (``accounts.scope``: ``scoped``, or for one
household's scores ``household_in_scope`` of that household)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max

from fangpin.accounts.scope import household_in_scope, scoped
from fangpin.core.precompiled import precompiled_list

from .models import RiskScore


def _month(on: dt.date) -> dt.date:
    return on.replace(day=1)


def scores_month(actor, on: dt.date) -> dt.date | None:
    """The latest month ≤ ``on`` with scores in the actor's scope."""
    return scoped(actor, RiskScore.objects.filter(month__lte=_month(on))).aggregate(m=Max("month"))["m"]


def _latest(actor, on: dt.date):
    month = scores_month(actor, on)
    if month is None:
        return RiskScore.objects.none(), None
    qs = scoped(actor, RiskScore.objects.filter(month=month))
    model_id = qs.aggregate(m=Max("model_id"))["m"]
    return qs.filter(model_id=model_id), month


def latest_scores(actor, household_ids, on: dt.date) -> dict[int, RiskScore]:
    """household id → its score of the latest scored month ≤ ``on`` (latest model of that month)."""
    qs, _ = _latest(actor, on)
    return {s.household_id: s for s in qs.filter(household_id__in=list(household_ids))}


def county_top(*, actor, county: str, month: dt.date, limit: int = 50) -> list[RiskScore]:
    qs, _ = _latest(actor, month)
    return list(
        qs.filter(household__village__code__startswith=county)
        .select_related("household")
        .order_by("rank")[:limit]
    )


def household_risk(*, actor, household, on: dt.date, months: int = 12) -> list[RiskScore]:
    """The household's scores (latest model per month), oldest first: the trend on the household file."""
    # the scope of a household's scores is the household's (region, a helper's assignment): one check of the
    # household instead of the scoped join, then its scores by its id (SQL compiled once per process)
    if not household_in_scope(actor, household):
        return []
    rows = precompiled_list("risk.household_scores", _household_scores, household.pk, _month(on))
    seen: dict[dt.date, RiskScore] = {}
    for s in rows:
        seen.setdefault(s.month, s)
        if len(seen) >= months:
            break
    return [seen[m] for m in sorted(seen)]


def _household_scores(household_id: int, month: dt.date):
    return RiskScore.objects.filter(household_id=household_id, month__lte=month).order_by(
        "-month", "-model_id"
    )


@dataclass(frozen=True)
class RankedTarget:
    target: object  # monitoring.selectors.VisitTarget
    score: float | None
    rank: int | None
    reasons: tuple[str, ...]


def visit_targets_by_risk(*, actor, on: dt.date, limit: int = 1000) -> list[RankedTarget]:
    """The user's visit list (``monitoring.selectors.visit_targets``) ordered by risk: overdue visits
    first (an obligation), then by score (highest first), then due ones; households without a score
    (monitoring objects, not scored) last. The score is advice shown with its reasons."""
    from fangpin.monitoring.selectors import visit_targets

    targets = visit_targets(actor=actor, on=on, limit=limit)
    scores = latest_scores(actor, [t.household_id for t in targets], on)
    out = []
    for t in targets:
        s = scores.get(t.household_id)
        out.append(
            RankedTarget(t, s.score if s else None, s.rank if s else None, tuple(s.reasons) if s else ())
        )
    out.sort(
        key=lambda r: (
            not r.target.overdue,
            -(r.score if r.score is not None else -1.0),
            not r.target.due,
            r.target.household_no,
        )
    )
    return out


def unvisited_top(*, actor, on: dt.date, region: str = "", limit: int = 50) -> list[RiskScore]:
    """The highest-risk households of the actor's scope (optionally under ``region``, a village or
    township code) with no visit logged in ``on``'s month."""
    from fangpin.monitoring.models import Visit

    qs, month = _latest(actor, on)
    if month is None:
        return []
    if region:
        prefix = region[:9] if len(region) == 12 and region.endswith("000") else region
        qs = qs.filter(household__village__code__startswith=prefix)
    first = _month(on)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    visited = Visit.objects.filter(visited_on__gte=first, visited_on__lt=nxt).values("household_id")
    return list(
        qs.exclude(household_id__in=visited)
        .select_related("household", "household__village")
        .order_by("rank")[:limit]
    )
