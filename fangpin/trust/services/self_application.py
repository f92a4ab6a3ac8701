"""农户自主申报 with its 承诺授权书: one service records both, so the lead queue and the consent register agree.

Monitoring's ``lead_submit`` keeps the applicant's answer in the lead's evidence; the screening engine reads
``trust.Consent`` before asset comparisons. A signed authorisation therefore becomes a Consent record in the same
transaction as the lead, and the lead's evidence points at it."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.audit.record import audit_record
from fangpin.core.crypto import tail_index_all
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
    ack_no: str = "",
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
                evidence_path=consent.get("evidence_path", ""),
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
            source_ref=ack_no,
            evidence=evidence,
            risk_types=form.get("risk_types"),
            note=form.get("note", ""),
            on=on,
        )
    return lead


# --- receipt: acknowledgement number and the signed 承诺授权书 photo -----------------------------------

E_PHOTO = "self_application_photo"
E_ACK = "self_application_ack_unknown"
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_PHOTO_TYPES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))


@dataclass(frozen=True)
class SelfApplicationReceipt:
    ack_no: str  # 受理编号 the household quotes (hotline, village office, lookup page)
    lead_id: int
    consent_id: int | None


def _photo_suffix(data: bytes) -> str:
    for magic, suffix in _PHOTO_TYPES:
        if data.startswith(magic):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return ".heic"
    raise DomainError(E_PHOTO, "承诺授权书照片须为 JPG、PNG、WebP 或 HEIC 图片", field="photo")


def consent_photo_store(data: bytes) -> str:
    """Keeps the photo of the signed authorisation in the private file store (never under a public URL)."""
    if not data:
        raise DomainError(E_PHOTO, "请拍摄或选择已签字的《承诺授权书》照片", field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise DomainError(E_PHOTO, f"照片超过{MAX_PHOTO_BYTES // 1024 // 1024}MB，请重新拍摄", field="photo")
    suffix = _photo_suffix(data)
    folder = Path(settings.FANGPIN_FILES_DIR) / "consents"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    path.write_bytes(data)
    return str(path)


def _new_ack_no(on: dt.date) -> str:
    from fangpin.monitoring.models import LeadSource

    for _ in range(20):
        no = f"SQ{on:%Y%m%d}{secrets.randbelow(10**6):06d}"
        if not LeadSource.objects.filter(source_ref=no).exists():
            return no
    raise RuntimeError("could not allocate an acknowledgement number")  # pragma: no cover


def self_application_receive(
    *,
    actor,
    household_id: int,
    form: dict[str, Any],
    consent: dict[str, Any],
    photo: bytes | None = None,
    on: dt.date,
) -> SelfApplicationReceipt:
    """The phone form's one call: stores the consent photo (required when the household signed), files the
    application with a fresh acknowledgement number (the lead source's ``source_ref``), returns the receipt."""
    consent = dict(consent)
    try:
        if consent.get("signed"):
            consent["evidence_path"] = consent_photo_store(photo or b"")
        elif photo:
            raise DomainError(
                E_PHOTO, "未签署承诺授权书时不应上传照片，请选择“已签署”或去掉照片", field="photo"
            )
        ack_no = _new_ack_no(on)
        lead = self_application_submit(
            actor=actor, household_id=household_id, form=form, consent=consent, ack_no=ack_no, on=on
        )
    except DomainError as e:  # the refused application is recorded, whatever the caller's transaction does
        from fangpin.audit.refusals import audit_refusal

        audit_refusal(
            actor=actor, event_type="trust.self_application_refused", object_type="registry.household",
            object_id=str(household_id)[:64], reason=e.message[:500], data={"field": e.field or "", "code": e.code},
        )  # fmt: skip
        raise
    cid = (lead.sources.filter(source_ref=ack_no).values_list("evidence", flat=True).first() or {}).get(
        "consent", {}
    )
    return SelfApplicationReceipt(ack_no, lead.pk, cid.get("consent_id"))


@dataclass(frozen=True)
class SelfApplicationStatus:
    ack_no: str
    submitted_on: dt.date
    village: str
    status: str  # 待核实 / 识别程序中 / 已办结
    outcome: str  # the outcome label when closed
    closed_on: dt.date | None


def self_application_lookup(*, ack_no: str, actor=None, id_tail: str = "") -> SelfApplicationStatus:
    """Where an application stands, by its acknowledgement number. A logged-in user sees it within their
    region; without a login the last four characters of a member's ID number must match. Either way the
    answer is the same "not found" for a wrong number, a wrong tail or another region, and it names nobody."""
    from fangpin.accounts.scope import household_in_scope, in_scope
    from fangpin.core.errors import NotFound
    from fangpin.monitoring.models import LeadSource
    from fangpin.regions.models import Region

    src = (
        LeadSource.objects.select_related("lead", "lead__household")
        .filter(channel="self_application", source_ref=ack_no.strip().upper())
        .first()
    )
    ok = src is not None
    if ok and actor is not None:  # a helper: only the households assigned to them
        ok = in_scope(actor, src.village_id) and household_in_scope(actor, src.lead.household)
    elif ok:
        tail = id_tail.strip().upper()
        ok = (
            len(tail) == 4
            and src.lead.household.persons.filter(
                is_member=True, id_number_tail__in=tail_index_all(tail, "id_number")
            ).exists()
        )  # the tail index: ID numbers are encrypted at rest
    audit_record(
        actor=actor,
        event_type="trust.self_application_lookup",
        object_type="monitoring.leadsource",
        object_id=src.pk if ok else "",
        region_code=src.village_id if ok else "",
        result="ok" if ok else "refused",
        data={"ack_no": ack_no[:30], "public": actor is None},
    )
    if not ok:
        raise NotFound("受理编号")
    lead = src.lead
    village = Region.objects.filter(code=src.village_id).values_list("name", flat=True).first() or ""
    return SelfApplicationStatus(
        ack_no=src.source_ref,
        submitted_on=src.submitted_on,
        village=village,
        status=lead.get_status_display(),
        outcome=lead.get_outcome_display() if lead.outcome else "",
        closed_on=lead.closed_on,
    )
