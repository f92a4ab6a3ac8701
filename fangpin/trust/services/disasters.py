"""Disasters (应急管理). An event (type, date, villages, severity) is entered or imported once; every active
household in its villages gets a visit task due within ``disasters.visit_within_days[severity]``; losses
recorded per household close that visit and, above ``disasters.lead_min_loss`` (or with a damaged house
or casualties), become a lead for 突发严重困难户 through monitoring's ``lead_submit``."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import system_actor
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import in_scope, require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound, RowError
from fangpin.regions.models import Level, Region
from fangpin.registry.choices import HouseholdStatus
from fangpin.registry.models import Household

from ..models import DisasterEvent, DisasterLoss, DisasterVillage, Task, TaskKind, TaskStatus
from ..models.base import next_number
from . import integrations
from .common import param, tasks_close

E_KIND = "disaster_bad_kind"
E_SEVERITY = "disaster_bad_severity"
E_AREA = "disaster_bad_area"
E_DUPLICATE = "disaster_duplicate"
E_NOT_IN_AREA = "disaster_household_not_in_area"


def _fingerprint(kind: str, occurred_on: dt.date, villages: list[str]) -> str:
    return hashlib.sha256(f"{kind}|{occurred_on}|{','.join(sorted(villages))}".encode()).hexdigest()


def disaster_register(
    *,
    actor,
    kind: str,
    occurred_on: dt.date,
    village_codes: list[str],
    severity: str,
    description: str = "",
    source_ref: str = "手工录入",
) -> tuple[DisasterEvent, int]:
    """Registers the event and opens the visits it requires. Returns (event, visit tasks created)."""
    if actor is not None:
        require(actor, Cap.REGISTRY_EDIT)
    villages = sorted(set(village_codes))
    if not villages:
        raise DomainError(E_AREA, "请填写受灾村")
    regions = list(Region.objects.filter(code__in=villages, level=Level.VILLAGE))
    if len(regions) != len(villages):
        raise DomainError(
            E_AREA, f"受灾村代码无效：{'、'.join(sorted(set(villages) - {r.code for r in regions}))}"
        )
    if actor is not None and any(not in_scope(actor, v) for v in villages):
        raise NotFound("行政村")
    county = villages[0][:6]
    if kind not in param("catalogue.disaster_types", villages[0], occurred_on).value:
        raise DomainError(E_KIND, f"灾害类型“{kind}”不在目录中")
    days_by_severity = param("disasters.visit_within_days", villages[0], occurred_on).value
    if severity not in days_by_severity:
        raise DomainError(E_SEVERITY, f"灾情等级须为：{'、'.join(days_by_severity)}")
    fp = _fingerprint(kind, occurred_on, villages)
    with transaction.atomic():
        if DisasterEvent.objects.filter(fingerprint=fp).exists():
            raise DomainError(E_DUPLICATE, "该灾害事件已登记（同一类型、日期和受灾村）")
        ev = DisasterEvent.objects.create(
            number=next_number("ZH", county, occurred_on.year),
            kind=kind,
            occurred_on=occurred_on,
            severity=severity,
            description=description,
            fingerprint=fp,
            source_ref=source_ref[:200],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        DisasterVillage.objects.bulk_create([DisasterVillage(event=ev, village_id=v) for v in villages])
        due = occurred_on + dt.timedelta(days=int(days_by_severity[severity]))
        hh_ids = Household.objects.filter(village_id__in=villages, status=HouseholdStatus.ACTIVE).values_list(
            "id", flat=True
        )
        Task.objects.bulk_create(
            [
                Task(
                    kind=TaskKind.DISASTER_VISIT,
                    household_id=h,
                    due_on=due,
                    ref_type="disaster",
                    ref_id=ev.pk,
                    title=f"灾后走访：{occurred_on} {kind}（{severity}），核查损失",
                )
                for h in hh_ids
            ],
            batch_size=1000,
        )
        audit_record(
            actor=actor,
            event_type="trust.disaster_register",
            obj=ev,
            region_code=villages[0],
            data={"villages": villages, "severity": severity, "visits": len(hh_ids), "source": source_ref},
        )
    return ev, len(hh_ids)


def disasters_import(*, actor, path: Path) -> tuple[list[DisasterEvent], list[RowError]]:
    """CSV from 应急管理 (columns 灾害类型, 发生日期, 受灾村代码 [; separated], 灾情等级, 灾情描述).
    Each row registers one event; a row already registered is reported, not duplicated."""
    events, errors = [], []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            try:
                ev, _ = disaster_register(
                    actor=actor,
                    kind=row["灾害类型"].strip(),
                    occurred_on=dt.date.fromisoformat(row["发生日期"].strip()),
                    village_codes=[
                        c.strip() for c in row["受灾村代码"].replace("；", ";").split(";") if c.strip()
                    ],
                    severity=row["灾情等级"].strip(),
                    description=row.get("灾情描述", ""),
                    source_ref=f"{path.name} 第{n}行",
                )
                events.append(ev)
            except DomainError as e:
                errors.append(RowError(row=n, column="", message=e.message, code=e.code))
            except (KeyError, ValueError) as e:
                errors.append(RowError(row=n, column=str(e), message="缺少列或日期格式错误", code="bad_row"))
    return events, errors


def disaster_loss_record(
    *,
    actor,
    event_id: int,
    household_id: int,
    loss_amount: Decimal | int | str = 0,
    house_damaged: bool = False,
    injured: int = 0,
    description: str = "",
) -> DisasterLoss:
    """The visit's finding. Closes the visit task; a serious loss becomes a 突发严重困难户 lead."""
    require(actor, Cap.VISIT_LOG)
    with transaction.atomic():
        hh = access_object(actor, Household, household_id, what="户")
        ev = DisasterEvent.objects.filter(pk=event_id).first()
        if ev is None or not ev.villages.filter(village_id=hh.village_id).exists():
            raise DomainError(E_NOT_IN_AREA, "该户不在此次灾害的受灾村内")
        loss, _ = DisasterLoss.objects.update_or_create(
            event=ev,
            household=hh,
            defaults={
                "village_id": hh.village_id,
                "loss_amount": Decimal(str(loss_amount)),
                "house_damaged": house_damaged,
                "injured": injured,
                "description": description[:300],
                "recorded_by": actor,
                "recorded_on": clock.today(),
            },
        )
        tasks_close(
            actor=actor,
            kind=TaskKind.DISASTER_VISIT,
            household_id=hh.pk,
            ref_type="disaster",
            ref_id=ev.pk,
            note="已走访并登记损失",
        )
        threshold = Decimal(str(param("disasters.lead_min_loss", hh.village_id, ev.occurred_on).value))
        serious = loss.loss_amount >= threshold or house_damaged or injured > 0
        if serious and loss.lead_status != "sent":
            lead = integrations.lead_submit(
                actor=actor,
                household=hh,
                channel="disaster",
                source_ref=f"灾害{ev.number}",
                evidence={
                    "event": ev.number,
                    "kind": ev.kind,
                    "occurred_on": ev.occurred_on.isoformat(),
                    "loss_amount": str(loss.loss_amount),
                    "house_damaged": house_damaged,
                    "injured": injured,
                },
                risk_types=["因自然灾害"],
                note=f"{ev.kind}灾害损失{loss.loss_amount}元",
            )
            loss.lead_status = "sent" if lead is not None else "pending"
            loss.lead_ref = str(getattr(lead, "pk", "") or "") if lead is not None else ""
            loss.save(update_fields=["lead_status", "lead_ref"])
        audit_record(
            actor=actor,
            event_type="trust.disaster_loss",
            obj=loss,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={"event": ev.number, "loss": loss.loss_amount, "lead": loss.lead_status},
        )
    return loss


def disaster_leads_push(*, actor=None) -> int:
    """Retries the leads that could not be sent (monitoring was not available); returns how many went out.
    The periodic job runs as ``system_actor("disaster_leads_push")``."""
    actor = actor or system_actor("disaster_leads_push")
    sent = 0
    for loss in DisasterLoss.objects.filter(lead_status="pending").select_related("event", "household"):
        lead = integrations.lead_submit(
            actor=actor,
            household=loss.household,
            channel="disaster",
            source_ref=f"灾害{loss.event.number}",
            evidence={"event": loss.event.number, "loss_amount": str(loss.loss_amount)},
            risk_types=["因自然灾害"],
            note=f"{loss.event.kind}灾害损失{loss.loss_amount}元",
        )
        if lead is not None:
            loss.lead_status, loss.lead_ref = "sent", str(getattr(lead, "pk", "") or "")
            loss.save(update_fields=["lead_status", "lead_ref"])
            sent += 1
    return sent


def disaster_visits_open(event: DisasterEvent) -> int:
    return Task.objects.filter(
        kind=TaskKind.DISASTER_VISIT, ref_type="disaster", ref_id=event.pk, status=TaskStatus.OPEN
    ).count()
