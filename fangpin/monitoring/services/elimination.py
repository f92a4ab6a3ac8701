"""风险消除 and its undo (风险消除回退). Guards live in ``rules.elimination_refusals``; the review chain
is the case engine's. After elimination the object keeps a 渐退期 (gradual_exit_until) during which it is
still visited, and the continuing measures run to their natural end."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require, scoped
from fangpin.core.errors import DomainError, NotFound

from ..models import Case, CaseKind, EliminationMethod, MonitoringObject, ObjectStatus
from .cases import case_create
from .facts import elimination_check
from .steps import E_REVERSAL_REASON, _raise_refusals, reverse_object

E_NOT_ACTIVE = "object_not_active"
E_NOT_ELIMINATED = "object_not_eliminated"


def _eliminated_object(actor, pk: int) -> MonitoringObject:
    """An object eliminated before its household moved stays in the old village's records; undoing its
    elimination is new work for the village the household lives in now, so this access goes by the
    household's current village (the old village can no longer act on a household that left)."""
    qs = scoped(actor, MonitoringObject.objects.select_for_update(), path="household__village__code")
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound("监测对象")
    return obj


@transaction.atomic
def elimination_propose(
    *,
    actor,
    monitoring_object: MonitoringObject,
    method: str = EliminationMethod.ASSISTED,
    on: dt.date,
) -> Case:
    """The village proposes 风险消除; refused (all reasons listed) unless every guard holds today."""
    require(actor, Cap.CASE_VILLAGE)
    obj = access_object(actor, MonitoringObject, monitoring_object.pk, what="监测对象", for_update=True)
    if obj.status != ObjectStatus.ACTIVE:
        raise DomainError(E_NOT_ACTIVE, "只有监测中的对象可以申请风险消除")
    if method not in EliminationMethod.values:
        raise DomainError("elimination_method_unknown", "风险消除方式应为帮扶消除或自然消除")
    refusals, facts, refs = elimination_check(obj, on=on)
    _raise_refusals(refusals)
    return case_create(
        actor=actor,
        kind=CaseKind.ELIMINATION,
        household=obj.household,
        monitoring_object=obj,
        on=on,
        proposal={"method": method},
        facts={"proposal": facts},
        params=refs,
    )


def _reversible_object(actor, monitoring_object: MonitoringObject, reason: str) -> MonitoringObject:
    """The eliminated object a 风险消除回退 may concern (in the actor's scope), with a reason given."""
    obj = _eliminated_object(actor, monitoring_object.pk)
    if obj.status != ObjectStatus.ELIMINATED:
        raise DomainError(E_NOT_ELIMINATED, "只有已消除风险的监测对象可以回退")
    if not (reason or "").strip():
        raise DomainError(E_REVERSAL_REASON, "风险消除回退须说明理由", field="reason")
    return obj


@transaction.atomic
def reversal_propose(*, actor, monitoring_object: MonitoringObject, reason: str, on: dt.date) -> Case:
    """风险消除回退 through the elimination procedure again (核实 → 评议 → 公示 → 乡镇 → 县)."""
    require(actor, Cap.CASE_VILLAGE)
    obj = _reversible_object(actor, monitoring_object, reason)
    return case_create(
        actor=actor,
        kind=CaseKind.REVERSAL,
        household=obj.household,
        monitoring_object=obj,
        on=on,
        proposal={"reason": reason},
    )


@transaction.atomic
def elimination_reverse(
    *, actor, monitoring_object: MonitoringObject, reason: str, on: dt.date
) -> MonitoringObject:
    """风险消除回退 by county decision (e.g. an elimination found wrong at 回头看), with a reason."""
    require(actor, Cap.CASE_COUNTY)
    obj = _reversible_object(actor, monitoring_object, reason)
    reverse_object(obj, actor=actor, on=on, reason=f"县级决定：{reason}")
    return obj
