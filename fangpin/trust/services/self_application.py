"""农户自主申报 with its 承诺授权书: one service records both, so the lead queue and the consent register agree.

Monitoring's ``lead_submit`` keeps the applicant's answer in the lead's evidence; the screening engine reads
``trust.Consent`` before asset comparisons. A signed authorisation therefore becomes a Consent record in the same
transaction as the lead, and the lead's evidence points at it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from . import integrations
from .consent import consent_record

E_CONSENT_ANSWER = "self_application_consent_answer"


def self_application_submit(
    *,
    actor,
    household_id: int,
    form: dict[str, Any],
    consent: dict[str, Any],
    on: dt.date,
) -> Any:
    """``form``: the short application (difficulties, risk_types, note …). ``consent``: {"signed": bool} and, when
        signed, signed_on (date), signed_by_name, scope (list), paper_holder. ``on``: the day the application is received
    (the lead's business date). Returns the Lead."""
    if "signed" not in consent:
        raise DomainError(E_CONSENT_ANSWER, "须记录农户是否签署《承诺授权书》", field="consent")
    with transaction.atomic():
        hh = access_object(actor, Household, household_id, what="户")
        record = None
        if consent["signed"]:
            record = consent_record(
                actor=actor,
                household_id=hh.pk,
                signed_on=consent["signed_on"],
                signed_by_name=consent.get("signed_by_name", ""),
                scope=list(consent.get("scope", [])),
                paper_holder=consent.get("paper_holder", ""),
            )
        signed_on: dt.date | None = consent.get("signed_on") if record else None
        evidence = {
            **{k: v for k, v in form.items() if k not in {"risk_types", "note"}},
            "consent": {
                "signed": bool(record),
                "signed_on": signed_on.isoformat() if signed_on else None,
                "consent_id": record.pk if record else None,
            },
        }
        lead = integrations.lead_submit(
            actor=actor,
            household=hh,
            channel="self_application",
            evidence=evidence,
            risk_types=form.get("risk_types"),
            note=form.get("note", ""),
            on=on,
        )
    return lead
