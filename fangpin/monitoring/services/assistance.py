"""帮扶: who is responsible for a household (包户干部 for visits, 帮扶责任人 for monitoring objects) and
the plan of measures (一户一策, 一人一措施) drawn from the catalogue parameter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import in_scope, require
from fangpin.audit.record import audit_record, diff
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household, Person

from ..models import Assignment, AssignmentKind, Measure, MeasureStatus, MonitoringObject, ObjectStatus
from ._common import Params, ensure_in_scope, require_any

E_ASSIGNEE_SCOPE = "assignee_out_of_scope"
E_ASSIGN_KIND = "assignment_kind_unknown"
E_MEASURE_UNKNOWN = "measure_unknown"
E_MEASURE_OBJECT = "measure_object_not_active"
E_MEASURE_PERSON = "measure_person_not_member"
E_MEASURE_DATES = "measure_dates_invalid"
E_MEASURE_STATUS = "measure_status_invalid"

TRANSITIONS = {
    MeasureStatus.PLANNED: {MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, MeasureStatus.STOPPED},
    MeasureStatus.IN_PROGRESS: {MeasureStatus.DONE, MeasureStatus.STOPPED},
    MeasureStatus.DONE: set(),
    MeasureStatus.STOPPED: set(),
}


@transaction.atomic
def assignment_set(*, actor, household: Household, user, kind: str, on: dt.date) -> Assignment:
    """Makes ``user`` the household's current cadre or helper (the previous one's assignment ends)."""
    require_any(actor, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY)
    hh = access_object(actor, Household, household.pk, what="户")
    if kind not in AssignmentKind.values:
        raise DomainError(E_ASSIGN_KIND, "职责应为包户干部或帮扶责任人")
    if not in_scope(user, hh.village_id):
        raise DomainError(E_ASSIGNEE_SCOPE, "被指派人员的管辖区域不包含该户所在村")
    prev = Assignment.objects.filter(household=hh, kind=kind, end_on__isnull=True).first()
    if prev is not None:
        if prev.user_id == user.pk:
            return prev
        prev.end_on = on
        prev.save(update_fields=["end_on"])
    a = Assignment.objects.create(household=hh, user=user, kind=kind, start_on=on, created_by=actor)
    audit_record(
        actor=actor,
        event_type="monitoring.assignment_set",
        obj=a,
        region_code=hh.village_id,
        household_id=hh.id,
        data={"kind": kind, "user": user.pk, "previous": prev.user_id if prev else None},
    )
    return a


@transaction.atomic
def measure_add(
    *,
    actor,
    monitoring_object: MonitoringObject,
    name: str,
    start_on: dt.date,
    end_on: dt.date | None = None,
    amount: Decimal | int | str = 0,
    person: Person | None = None,
    status: str = MeasureStatus.PLANNED,
    outcome: str = "",
) -> Measure:
    """Adds a measure from ``catalogue.measures`` (its kind comes from the catalogue) to an active object."""
    require(actor, Cap.MEASURE_EDIT)
    obj = access_object(actor, MonitoringObject, monitoring_object.pk, what="监测对象", for_update=True)
    if obj.status != ObjectStatus.ACTIVE:
        raise DomainError(E_MEASURE_OBJECT, "只能为监测中的对象制定帮扶措施")
    p = Params(obj.household.village_id, start_on.year)
    catalogue = p("catalogue.measures")
    if name not in catalogue:
        raise DomainError(E_MEASURE_UNKNOWN, f"帮扶措施“{name}”不在措施目录中", field="name")
    if end_on and end_on < start_on:
        raise DomainError(E_MEASURE_DATES, "结束日期不能早于开始日期")
    if person is not None and (person.household_id != obj.household_id or not person.is_member):
        raise DomainError(E_MEASURE_PERSON, "一人一措施：该人员不是本户家庭成员", field="person")
    if status not in MeasureStatus.values:
        raise DomainError(E_MEASURE_STATUS, "措施状态无效")
    m = Measure.objects.create(
        monitoring_object=obj,
        household=obj.household,
        person=person,
        name=name,
        kind=catalogue[name],
        start_on=start_on,
        end_on=end_on,
        amount=Decimal(str(amount)),
        status=status,
        outcome=outcome,
        catalogue_ref=p.refs()[0],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        event_type="monitoring.measure_add",
        obj=m,
        region_code=obj.household.village_id,
        household_id=obj.household_id,
        data={"object": obj.pk, "name": name, "kind": m.kind, "status": status, "amount": str(m.amount)},
    )
    return m


@transaction.atomic
def measure_update(
    *,
    actor,
    measure: Measure,
    status: str | None = None,
    outcome: str | None = None,
    end_on: dt.date | None = None,
    amount: Decimal | int | str | None = None,
) -> Measure:
    """Moves a measure along planned → in_progress → done / stopped (done and stopped are final)."""
    require(actor, Cap.MEASURE_EDIT)
    m = access_object(actor, Measure, measure.pk, what="帮扶措施", for_update=True)
    before = {"status": m.status, "outcome": m.outcome, "end_on": m.end_on, "amount": str(m.amount)}
    if status and status != m.status:
        if status not in TRANSITIONS.get(m.status, set()):
            raise DomainError(E_MEASURE_STATUS, f"措施状态不能从“{m.get_status_display()}”改为“{status}”")
        m.status = status
    if outcome is not None:
        m.outcome = outcome
    if end_on is not None:
        if end_on < m.start_on:
            raise DomainError(E_MEASURE_DATES, "结束日期不能早于开始日期")
        m.end_on = end_on
    if amount is not None:
        m.amount = Decimal(str(amount))
    m.save()
    after = {"status": m.status, "outcome": m.outcome, "end_on": m.end_on, "amount": str(m.amount)}
    audit_record(
        actor=actor,
        event_type="monitoring.measure_update",
        obj=m,
        region_code=m.village_id,
        household_id=m.household_id,
        data={"diff": diff(before, after)},
    )
    return m


__all__ = ["assignment_set", "ensure_in_scope", "measure_add", "measure_update"]
