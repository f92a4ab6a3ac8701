"""异议/申诉. Lodged by or for a household (or by anyone during 公示); numbered SS-<county>-<year>-<n>;
owned first by the township (parameter ``appeals.levels``), with a deadline of ``appeals.deadline_days``
working days; escalated one level when overdue (``appeals_escalate``); decided with reasons. An objection
raised during 公示 pauses the case step it concerns (via monitoring) until the appeal is decided."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import system_actor
from fangpin.accounts.models import User
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import clock
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from ..models import Appeal, AppealKind, AppealOutcome, AppealStatus
from ..models.base import next_number
from . import integrations
from .common import LEVEL_NAMES, ancestor, level_satisfied, param
from .notifications import message_send

E_KIND = "appeal_bad_kind"
E_CONTENT = "appeal_content_required"
E_CLOSED = "appeal_closed"
E_LEVEL = "appeal_level"
E_OUTCOME = "appeal_bad_outcome"
E_REASON = "reason_required"


def _deadline(region_code: str, start: dt.date) -> dt.date:
    return clock.add_working_days(start, int(param("appeals.deadline_days", region_code, start).value))


def appeal_handlers(region_code: str) -> list[User]:
    """Active users who can handle appeals in that region (township or county office)."""
    return [u for u in User.objects.filter(region_id=region_code, is_active=True) if u.can(Cap.APPEAL_HANDLE)]


def appeal_lodge(
    *,
    actor,
    household_id: int,
    kind: str,
    content: str,
    lodged_by_name: str,
    lodged_by_relation: str = "本户",
    lodged_on: dt.date,
    during_publicity: bool = False,
    case_id: int | None = None,
    case_ref: str = "",
    case_step: str = "",
    evidence: list[dict[str, str]] | None = None,
) -> Appeal:
    """Records an appeal (the cadre or office that receives it records it)."""
    require(actor, Cap.REGISTRY_VIEW)
    with transaction.atomic():
        hh = access_object(
            actor, Household, household_id, what="户"
        )  # scope first: nothing told about others
        if kind not in AppealKind.values:
            raise DomainError(E_KIND, "异议类型无效", field="kind")
        if len((content or "").strip()) < 4 or not lodged_by_name.strip():
            raise DomainError(E_CONTENT, "请填写提出人和异议的具体内容", field="content")
        levels = param("appeals.levels", hh.village_id, lodged_on).value
        owner_region = ancestor(hh.village_id, levels[0])
        appeal = Appeal.objects.create(
            number=next_number("SS", hh.village_id[:6], lodged_on.year),
            household=hh,
            village_id=hh.village_id,
            kind=kind,
            content=content,
            lodged_by_name=lodged_by_name[:50],
            lodged_by_relation=lodged_by_relation[:20],
            lodged_on=lodged_on,
            during_publicity=during_publicity or kind == AppealKind.PUBLICITY,
            case_id=case_id,
            case_ref=case_ref[:64],
            case_step=case_step[:32],
            evidence=evidence or [],
            owner_level=levels[0],
            owner_region=owner_region,
            deadline=_deadline(hh.village_id, lodged_on),
            recorded_by=actor,
        )
        if appeal.during_publicity and case_id is not None:
            appeal.case_paused = integrations.case_pause(
                actor=actor,
                case_id=case_id,
                reason=f"异议{appeal.number}：{content}"[:300],
                appeal_number=appeal.number,
                raised_by=appeal.lodged_by_name,
                on=lodged_on,
            )
            appeal.save(update_fields=["case_paused"])
        audit_record(
            actor=actor,
            event_type="trust.appeal_lodge",
            obj=appeal,
            region_code=hh.village_id,
            household_id=hh.pk,
            data={
                "number": appeal.number,
                "kind": kind,
                "deadline": appeal.deadline,
                "case_id": case_id,
                "case_paused": appeal.case_paused,
            },
        )
        for u in appeal_handlers(owner_region.code):
            message_send(
                recipient=u,
                subject="新的异议申诉",
                body=f"{appeal.number}（{appeal.get_kind_display()}）待办理，期限{appeal.deadline}",
                dedupe_key=f"appeal-new-{appeal.pk}-{u.pk}",
            )
    return appeal


def appeal_assign(*, actor, appeal_id: int, owner_id: int) -> Appeal:
    require(actor, Cap.APPEAL_HANDLE)
    with transaction.atomic():
        a = access_object(actor, Appeal, appeal_id, what="异议申诉", for_update=True)
        owner = User.objects.get(pk=owner_id)
        if not owner.can(Cap.APPEAL_HANDLE) or owner.region_id != a.owner_region_id:
            raise DomainError(E_LEVEL, "承办人须为当前承办层级有办理权限的人员")
        a.owner = owner
        a.save(update_fields=["owner"])
        audit_record(
            actor=actor,
            event_type="trust.appeal_assign",
            obj=a,
            region_code=a.village_id,
            household_id=a.household_id,
            data={"owner": owner.pk},
        )
    return a


def appeal_decide(*, actor, appeal_id: int, outcome: str, reason: str, on: dt.date) -> Appeal:
    """Outcome with reasons on the business day ``on``; resumes the paused case step as of that day (the
    paused days are counted between business dates, never up to the wall clock)."""
    require(actor, Cap.APPEAL_HANDLE)
    if outcome not in AppealOutcome.values:
        raise DomainError(E_OUTCOME, "办理结果无效")
    if len((reason or "").strip()) < 4:
        raise DomainError(E_REASON, "请填写办理结果的理由")
    with transaction.atomic():
        a = access_object(actor, Appeal, appeal_id, what="异议申诉", for_update=True)
        if a.status != AppealStatus.OPEN:
            raise DomainError(E_CLOSED, "该异议已办结")
        if not level_satisfied(actor, a.owner_level):
            raise DomainError(E_LEVEL, f"该异议目前由{LEVEL_NAMES[a.owner_level]}承办")
        a.status, a.outcome, a.outcome_reason = AppealStatus.DECIDED, outcome, reason
        a.decided_at, a.decided_by = timezone.now(), actor
        if a.case_paused and a.case_id is not None:
            integrations.case_resume(
                actor=actor,
                case_id=a.case_id,
                reason=f"异议{a.number}已办结：{a.get_outcome_display()}",
                appeal_number=a.number,
                on=on,
            )
            a.case_paused = False
        a.save()
        audit_record(
            actor=actor,
            event_type="trust.appeal_decide",
            obj=a,
            region_code=a.village_id,
            household_id=a.household_id,
            data={"outcome": outcome, "on": on},
            reason=reason,
        )
    return a


def appeals_escalate(*, on: dt.date) -> list[Appeal]:
    """Periodic job: every open appeal past its deadline moves to the next level (new owner office, new
    deadline, notification); at the top level it is flagged once and the county is notified."""
    moved: list[Appeal] = []
    for a in Appeal.objects.filter(status=AppealStatus.OPEN, deadline__lt=on).order_by("id"):
        with transaction.atomic():
            a = Appeal.objects.select_for_update().get(pk=a.pk)
            levels = param("appeals.levels", a.village_id, on).value
            idx = levels.index(a.owner_level) if a.owner_level in levels else len(levels) - 1
            if idx + 1 < len(levels):
                new_level = levels[idx + 1]
                region = ancestor(a.village_id, new_level)
                a.escalations = [
                    *a.escalations,
                    {
                        "on": on.isoformat(),
                        "from": a.owner_level,
                        "to": new_level,
                        "overdue_since": a.deadline.isoformat(),
                    },
                ]
                a.owner_level, a.owner_region, a.owner = new_level, region, None
                a.deadline = _deadline(a.village_id, on)
                event, subject = "trust.appeal_escalate", "异议申诉逾期升级"
            elif not a.overdue_at_top:
                a.overdue_at_top = True
                region = a.owner_region
                event, subject = "trust.appeal_overdue", "异议申诉逾期未办结"
            else:
                continue
            a.save()
            audit_record(
                actor=system_actor("appeals_escalate"),
                event_type=event,
                obj=a,
                region_code=a.village_id,
                household_id=a.household_id,
                data={"level": a.owner_level, "deadline": a.deadline},
            )
            for u in appeal_handlers(region.code):
                message_send(
                    recipient=u,
                    subject=subject,
                    body=f"{a.number}已逾期，现由{LEVEL_NAMES[a.owner_level]}办理，期限{a.deadline}",
                    dedupe_key=f"{event}-{a.pk}-{a.owner_level}-{u.pk}",
                )
            moved.append(a)
    return moved
