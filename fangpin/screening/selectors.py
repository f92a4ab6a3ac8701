"""Reads for pages, exports and reports. Each takes the actor; hits and reviews go through ``scoped``."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap, Role
from fangpin.accounts.scope import require, scoped
from fangpin.core.errors import NotFound
from fangpin.core.masking import mask_birth_date, mask_id_number, mask_name

from .models import BatchIssue, DeptBatch, LinkReview, Outcome, ReviewStatus, ScreeningHit, ScreeningRun
from .sources import SOURCES


def batch_list(*, actor) -> QuerySet[DeptBatch]:
    """Department officers see only their own department's batches; county roles see all of their county
    (a batch belongs to the county of the user who uploaded it); others none."""
    if actor.role == Role.DEPT_OFFICER:
        kinds = [k for k, s in SOURCES.items() if actor.department in s.departments]
        county = (actor.region_id or "-")[:6]
        return DeptBatch.objects.filter(
            kind__in=kinds, department=actor.department, uploaded_by__region__code__startswith=county
        )
    if actor.can(Cap.SCREEN_RUN) and actor.scope_prefix is not None:
        county = actor.scope_prefix[:6]
        return DeptBatch.objects.filter(uploaded_by__region__code__startswith=county)
    return DeptBatch.objects.none()


def batch_get(*, actor, batch_id: int) -> DeptBatch:
    b = batch_list(actor=actor).filter(pk=batch_id).first()
    if b is None:
        raise NotFound("部门数据批次")
    return b


def batch_issues(*, actor, batch_id: int) -> QuerySet[BatchIssue]:
    """The reject report a department officer fixes and re-uploads (row, column, reason)."""
    return batch_get(actor=actor, batch_id=batch_id).issues.all()


def run_get(*, actor, run_id: int) -> ScreeningRun:
    """Progress and report of a run (polled by the UI). Only users who may run screenings, in scope."""
    require(actor, Cap.SCREEN_RUN)
    run = ScreeningRun.objects.filter(pk=run_id, region__code__startswith=actor.scope_prefix or "-").first()
    if run is None:
        raise NotFound("筛查运行")
    return run


def hit_list(
    *, actor, run_id: int | None = None, consent_missing: bool | None = None
) -> QuerySet[ScreeningHit]:
    """Hits in the actor's region. Hits flagged ``consent_missing`` (an asset/income comparison of a household
    without a 承诺授权书) are shown to county roles only: they are items to follow up, not leads."""
    qs = scoped(actor, ScreeningHit.objects.select_related("person", "household", "rule"))
    if not actor.can(Cap.SCREEN_RUN):
        qs = qs.filter(consent_missing=False)
    if consent_missing is not None:
        qs = qs.filter(consent_missing=consent_missing)
    return qs.filter(run_id=run_id) if run_id else qs


def link_review_queue(*, actor) -> list[dict[str, Any]]:
    """Pending uncertain links in the actor's region, with probability and agreeing fields, masked."""
    qs = scoped(actor, LinkReview.objects.select_related("candidate__household")).filter(
        status=ReviewStatus.PENDING
    )
    out = []
    for r in qs.order_by("-probability"):
        rec = dict(r.record)
        rec["id_number"] = mask_id_number(rec.get("id_number") or "")
        if rec.get("birth_date"):  # never a full birth date next to a masked ID (it rebuilds the number)
            rec["birth_date"] = mask_birth_date(rec["birth_date"])
        out.append(
            {
                "id": r.pk,
                "source": SOURCES[r.source].title if r.source in SOURCES else r.source,
                "record": rec,
                "candidate": {
                    "person_id": r.candidate_id,
                    "name": mask_name(r.candidate.name),
                    "id_number": mask_id_number(r.candidate.id_number or ""),
                    "birth_date": mask_birth_date(r.candidate.birth_date),
                    "household_no": r.candidate.household.household_no,
                },
                "probability": round(r.probability, 4),
                "agreeing": r.agreeing,
            }
        )
    return out


def link_review_get(*, actor, review_id: int) -> LinkReview:
    return access_object(actor, LinkReview, review_id, what="疑似匹配")


def hit_rates(*, actor) -> dict[str, list[dict[str, Any]]]:
    """Hit rate per department and per rule over the actor's region: how many hits became leads, how
    many leads were closed and with which outcome; rate = confirmed / closed (tune thresholds with it)."""
    qs = scoped(actor, ScreeningHit.objects.all())
    agg = {
        "hits": Count("id"),
        "consent_missing": Count("id", filter=Q(consent_missing=True)),
        "leads": Count("lead_id", distinct=True),
        "closed": Count("id", filter=~Q(outcome="")),
        "confirmed": Count("id", filter=Q(outcome=Outcome.CONFIRMED)),
        "not_a_risk": Count("id", filter=Q(outcome=Outcome.NOT_A_RISK)),
        "data_error": Count("id", filter=Q(outcome=Outcome.DATA_ERROR)),
    }

    def rows(field: str) -> list[dict[str, Any]]:
        res = []
        for r in qs.values(field).annotate(**agg).order_by(field):
            r["hit_rate"] = round(r["confirmed"] / r["closed"], 4) if r["closed"] else None
            res.append(r)
        return res

    return {"by_department": rows("source"), "by_rule": rows("rule_code")}


def run_list(*, actor) -> QuerySet[ScreeningRun]:
    """Runs in the actor's region, newest first (for the county's screening page)."""
    require(actor, Cap.SCREEN_RUN)
    return ScreeningRun.objects.filter(region__code__startswith=actor.scope_prefix or "-").order_by("-id")


def upload_kinds(*, actor) -> list[tuple[str, str]]:
    """The department file kinds the actor may upload: an officer its department's, a county admin all."""
    if actor.role == Role.DEPT_OFFICER:
        return [(k, s.title) for k, s in SOURCES.items() if actor.department in s.departments]
    if actor.role == Role.COUNTY_ADMIN:
        return [(k, s.title) for k, s in SOURCES.items()]
    return []


def rule_list() -> QuerySet:
    """The screening rules (read-only list for the administration screen)."""
    from .models import ScreeningRule

    return ScreeningRule.objects.order_by("source", "code")


def mapping_list() -> QuerySet:
    """Saved department header mappings (read-only list for the administration screen)."""
    from .models import DeptMapping

    return DeptMapping.objects.order_by("department", "kind")
