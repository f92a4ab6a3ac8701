"""承诺授权书. ``consent_ok`` is what the screening engine asks before comparing a household's data with
departments: without an active consent covering the scope, the comparison is flagged, not run silently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from ..models import Consent
from .common import param

E_SCOPE = "consent_bad_scope"
E_HOLDER = "consent_holder_required"
E_WITHDRAWN = "consent_withdrawn"


def consent_record(
    *,
    actor,
    household_id: int,
    signed_on: dt.date,
    signed_by_name: str,
    scope: list[str],
    paper_holder: str,
    valid_until: dt.date | None = None,
    evidence_path: str = "",
) -> Consent:
    require(actor, Cap.REGISTRY_EDIT)
    with transaction.atomic():
        hh = access_object(actor, Household, household_id, what="户")
        allowed = set(param("consent.scopes", hh.village_id, signed_on).value)
        if not scope or not set(scope) <= allowed:
            raise DomainError(E_SCOPE, f"授权范围须为：{'、'.join(sorted(allowed))}")
        if not paper_holder.strip() or not signed_by_name.strip():
            raise DomainError(E_HOLDER, "请填写签署人和纸质授权书的保管处")
        c = Consent.objects.create(
            household=hh,
            signed_on=signed_on,
            signed_by_name=signed_by_name[:50],
            scope=sorted(set(scope)),
            paper_holder=paper_holder[:100],
            valid_until=valid_until,
            evidence_path=evidence_path[:300],
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            event_type="trust.consent_record",
            obj=c,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"scope": c.scope, "signed_on": signed_on},
        )
    return c


def consent_withdraw(*, actor, consent_id: int, withdrawn_on: dt.date, reason: str) -> Consent:
    require(actor, Cap.REGISTRY_EDIT)
    with transaction.atomic():
        c = access_object(actor, Consent, consent_id, what="授权书", for_update=True)
        if c.withdrawn_on:
            raise DomainError(E_WITHDRAWN, "该授权已撤回")
        c.withdrawn_on, c.withdrawn_reason = withdrawn_on, reason[:200]
        c.save()
        audit_record(
            actor=actor,
            event_type="trust.consent_withdraw",
            obj=c,
            region_code=c.household.village_id,
            household_id=c.household_id,
            reason=reason,
        )
    return c


def _active(on: dt.date, scope: str):
    return (
        Consent.objects.filter(signed_on__lte=on)
        .filter(Q(withdrawn_on__isnull=True) | Q(withdrawn_on__gt=on))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
    ), scope


def consent_ok(household: Household | int, scope: str, *, on: dt.date) -> bool:
    """Has the household an active 授权书 covering ``scope`` (or "all") on ``on``?"""
    hid = household if isinstance(household, int) else household.pk
    return bool(households_with_consent([hid], scope, on=on))


def households_with_consent(household_ids: Iterable[int] | None, scope: str, *, on: dt.date) -> set[int]:
    """Set-based form for batch screening: which of these households (None = all) have consent for ``scope``.
    Scope matching is done in Python on the (small) consent rows so it works on SQLite and PostgreSQL alike."""
    qs, _ = _active(on, scope)
    if household_ids is not None:
        qs = qs.filter(household_id__in=list(household_ids))
    return {hid for hid, sc in qs.values_list("household_id", "scope") if scope in sc or "all" in sc}
