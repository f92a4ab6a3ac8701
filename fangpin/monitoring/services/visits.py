"""走访记录: a visit against the nine-aspect checklist (visits.checklist_aspects); a visit that finds a
risk becomes a lead through ``lead_submit`` (channel cadre_visit, source_ref visit:<id>)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.audit.refusals import audit_refusal
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.core.text import check_text
from fangpin.registry.models import Household

from ..models import LeadChannel, Visit
from ._common import Params, validate_risk_types
from .leads import lead_submit

E_CHECKLIST = "visit_checklist_incomplete"
E_VISIT_DATE = "visit_date_invalid"
E_RISK_WITHOUT_FINDING = "visit_risk_inconsistent"


def _normalise(checklist: dict[str, Any], aspects: dict[str, str]) -> dict[str, dict[str, Any]]:
    unknown = set(checklist) - set(aspects)
    missing = [aspects[a] for a in aspects if a not in checklist]
    if unknown or missing:
        raise DomainError(
            E_CHECKLIST,
            "走访须逐项填写九个方面"
            + (f"，缺少：{'、'.join(missing)}" if missing else "")
            + (f"，未知项：{'、'.join(sorted(unknown))}" if unknown else ""),
            field="checklist",
        )
    out = {}
    for a, v in checklist.items():
        item = v if isinstance(v, dict) else {"ok": bool(v)}
        out[a] = {"ok": bool(item.get("ok")), "note": str(item.get("note", ""))}
    return out


@transaction.atomic
def visit_log(
    *,
    actor,
    household: Household,
    visited_on: dt.date,
    checklist: dict[str, Any],
    has_risk: bool,
    risk_types: list[str] | None = None,
    note: str = "",
    client_key: str = "",
) -> Visit:
    require(actor, Cap.VISIT_LOG)
    hh = access_object(actor, Household, household.pk, what="户")
    try:
        if visited_on > clock.today():
            raise DomainError(E_VISIT_DATE, "走访日期不能晚于今天", field="visited_on")
        check_text(note, field="note", label="备注", multiline=True)
        p = Params(hh.village_id, visited_on.year)
        items = _normalise(checklist, p("visits.checklist_aspects"))
        for aspect, item in items.items():
            check_text(item["note"], field="checklist", label=f"走访清单“{aspect}”的说明", multiline=True)
        for r in risk_types or []:
            check_text(str(r), field="risk_types", label="风险类型")
        risk_types = validate_risk_types(risk_types, p)
        if risk_types and not has_risk:
            raise DomainError(E_RISK_WITHOUT_FINDING, "填写了风险类型但走访结论为无风险，请核对")
    except DomainError as e:  # the refused visit is recorded (kept even though this transaction rolls back)
        audit_refusal(
            actor=actor, event_type="monitoring.visit_refused", obj=hh, region_code=hh.village_id,
            household_id=hh.pk, reason=e.message[:500], data={"field": e.field or "", "code": e.code},
        )  # fmt: skip
        raise
    v = Visit.objects.create(
        household=hh,
        visitor=actor,
        visited_on=visited_on,
        checklist=items,
        has_risk=has_risk,
        risk_types=risk_types,
        note=note,
        client_key=client_key,
    )
    audit_record(
        actor=actor,
        event_type="monitoring.visit_log",
        obj=v,
        region_code=hh.village_id,
        household_id=hh.id,
        data={"visited_on": visited_on.isoformat(), "has_risk": has_risk, "risk_types": risk_types},
    )
    if has_risk:
        problems = {a: i["note"] for a, i in items.items() if not i["ok"]}
        v.lead = lead_submit(
            actor=actor,
            household=hh,
            channel=LeadChannel.CADRE_VISIT,
            source_ref=f"visit:{v.pk}",
            evidence={"visit_id": v.pk, "problems": problems},
            risk_types=risk_types,
            note=note,
            on=visited_on,
        )
        v.save(update_fields=["lead"])
    return v


E_CLIENT_KEY = "visit_client_key_invalid"
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


@dataclass(frozen=True)
class VisitSyncResult:
    """What the phone's outbox is told about one queued visit.

    ``stored``: saved now; ``duplicate``: this key was saved before (the stored id is answered again, nothing
    new is written); ``conflict``: another visit to the same household on the same day exists and the cadre
    has not said to keep both (nothing written); ``rejected``: the visit itself is invalid or not allowed
    (nothing written; the message names the field)."""

    status: str
    visit_id: int | None = None
    message: str = ""
    field: str = ""
    existing: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "visit_id": self.visit_id,
            "message": self.message,
            "field": self.field,
            "existing": self.existing,
        }


def visit_sync(
    *,
    actor,
    client_key: str,
    household_id: int,
    visited_on: dt.date,
    checklist: dict[str, Any],
    has_risk: bool,
    risk_types: list[str] | None = None,
    note: str = "",
    keep_both: bool = False,
) -> VisitSyncResult:
    """One visit from a phone's offline outbox, idempotent by ``client_key``: a resend after a lost answer
    returns the stored id instead of writing twice. Never raises for the visit's own content; the
    result says what happened so the outbox can keep what was not stored."""
    if not (8 <= len(client_key) <= 64) or not set(client_key) <= _KEY_CHARS:
        return VisitSyncResult("rejected", message="离线记录标识无效，请重新填写", field="client_key")
    done = Visit.objects.filter(client_key=client_key).first()
    if done is not None:
        if done.visitor_id != actor.pk:
            return VisitSyncResult("rejected", message="离线记录标识已被他人使用", field="client_key")
        return VisitSyncResult("duplicate", visit_id=done.pk, message="此前已提交成功")
    try:
        hh = access_object(actor, Household, household_id, what="户")
        if not keep_both:
            other = (
                Visit.objects.filter(household=hh, visited_on=visited_on)
                .select_related("visitor")
                .order_by("id")
                .first()
            )
            if other is not None:
                return VisitSyncResult(
                    "conflict",
                    message=f"{visited_on:%Y-%m-%d} 该户已有走访记录（{other.visitor}），请确认是否仍要保存",
                    existing={
                        "visit_id": other.pk,
                        "visitor": str(other.visitor),
                        "visited_on": other.visited_on.isoformat(),
                        "has_risk": other.has_risk,
                        "note": other.note[:200],
                    },
                )
        with transaction.atomic():
            v = visit_log(
                actor=actor,
                household=hh,
                visited_on=visited_on,
                checklist=checklist,
                has_risk=has_risk,
                risk_types=risk_types,
                note=note,
                client_key=client_key,
            )
    except IntegrityError:
        # the same key won a race with a parallel resend: answer the stored row
        done = Visit.objects.filter(client_key=client_key, visitor=actor).first()
        if done is None:
            raise
        return VisitSyncResult("duplicate", visit_id=done.pk, message="此前已提交成功")
    except DomainError as e:
        return VisitSyncResult("rejected", message=e.message, field=getattr(e, "field", "") or "")
    return VisitSyncResult("stored", visit_id=v.pk, message="已保存")
