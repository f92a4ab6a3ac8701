"""户迁移 (易地搬迁 / 迁居, issue 10): monitoring work that is still open follows the household to its new
village; finished records stay in the village where they happened.

Every monitoring record carries its own village (``models/snapshot.py``) and region scope reads that, so
after a move the old village keeps its past (its closed cases, its cadres' visits, its statistics) and the
new village gets the work it must now do. This module is the only place that changes a record's village.

Follows the household (village updated in the move's transaction):
- leads not closed (待核实 / 识别程序中), with all their reports (LeadSource), village and township;
- cases not closed (办理中 / 暂停); their steps and events belong to the case and go with it, and each case
  gets a CaseEvent ``household_moved``;
- the monitoring object that is active, or eliminated and still in its 渐退期 on the move date;
- measures planned or in progress (also those continuing after elimination);
- current assignments (包户干部 / 帮扶责任人) whose person covers the new village; the others end on the
  move date, and the new township assigns someone (``assistance.assignment_set``).

Stays where it was: closed leads, approved or rejected cases, objects eliminated past their 渐退期 or
revoked, measures done or stopped, every visit (a visit is done when it is recorded), ended assignments.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import Q

from fangpin.accounts.scope import in_scope
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household

from ..models import (
    Assignment,
    Case,
    CaseStatus,
    Lead,
    LeadSource,
    LeadStatus,
    Measure,
    MeasureStatus,
    MonitoringObject,
)
from ._common import case_event, township_code

E_NOT_MOVED = "household_not_moved"

OPEN_LEAD = (LeadStatus.OPEN, LeadStatus.IN_CASE)
OPEN_CASE = (CaseStatus.OPEN, CaseStatus.PAUSED)
LIVE_MEASURE = (MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS)


def following_objects(on: dt.date) -> Q:
    """Monitoring objects that are current work on ``on``: the household's monitoring objects on that day
    (``selectors.monitoring_objects_on``: not eliminated by then, or still in 渐退期)."""
    from ..selectors import monitoring_objects_on

    return Q(pk__in=monitoring_objects_on(on).values("pk"))


@dataclass
class FollowResult:
    """Ids of what followed the household (and of the assignments that ended instead)."""

    leads: list[int] = field(default_factory=list)
    lead_sources: list[int] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)
    objects: list[int] = field(default_factory=list)
    measures: list[int] = field(default_factory=list)
    assignments_moved: list[int] = field(default_factory=list)
    assignments_ended: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[int]]:
        return asdict(self)


def _ids(qs) -> list[int]:
    return list(qs.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def open_work_follow_household(
    *, actor, household: Household, old_village: str, new_village: str, on: dt.date
) -> FollowResult:
    """Moves the household's open monitoring work to ``new_village`` after the registry move.

    Called by the layer that carries out an authorised move (``trust.services.changes`` on an approved
    change request), inside its transaction, so it does not check a capability itself; it refuses unless the
    household really is in ``new_village`` now, so it cannot be used to move records anywhere else."""
    hh = Household.objects.select_for_update().get(pk=household.pk)
    if old_village == new_village or hh.village_id != new_village:
        raise DomainError(E_NOT_MOVED, "该户尚未迁入新村，未办结的监测事项不能随户转移")
    res = FollowResult()

    leads = Lead.objects.filter(household=hh, status__in=OPEN_LEAD).exclude(village_id=new_village)
    res.leads = _ids(leads)
    Lead.objects.filter(pk__in=res.leads).update(
        village_id=new_village, township_id=township_code(new_village)
    )
    sources = LeadSource.objects.filter(lead_id__in=res.leads).exclude(village_id=new_village)
    res.lead_sources = _ids(sources)
    LeadSource.objects.filter(pk__in=res.lead_sources).update(village_id=new_village)

    res.objects = _ids(
        MonitoringObject.objects.filter(household=hh)
        .filter(following_objects(on))
        .exclude(village_id=new_village)
    )
    MonitoringObject.objects.filter(pk__in=res.objects).update(village_id=new_village)
    res.measures = _ids(
        Measure.objects.filter(household=hh, status__in=LIVE_MEASURE).exclude(village_id=new_village)
    )
    Measure.objects.filter(pk__in=res.measures).update(village_id=new_village)

    for a in Assignment.objects.select_for_update().select_related("user").filter(household=hh, end_on=None):
        if in_scope(a.user, new_village):
            if a.village_id != new_village:
                a.village_id = new_village
                a.save(update_fields=["village"])
                res.assignments_moved.append(a.pk)
        else:
            a.end_on = max(on, a.start_on)
            a.save(update_fields=["end_on"])
            res.assignments_ended.append(a.pk)

    cases = list(
        Case.objects.select_for_update()
        .filter(household=hh, status__in=OPEN_CASE)
        .exclude(village_id=new_village)
        .order_by("pk")
    )
    for c in cases:
        from_village = c.village_id
        c.village_id = new_village
        c.save(update_fields=["village"])
        case_event(
            c,
            actor=actor,
            kind="household_moved",
            on=on,
            step=c.current_step,
            data={"from": from_village, "to": new_village},
            reason="户迁移，未办结程序转由迁入村办理",
        )
        res.cases.append(c.pk)

    audit_record(
        actor=actor,
        event_type="monitoring.open_work_follow",
        obj=hh,
        region_code=old_village,
        household_id=hh.pk,
        data={"from": old_village, "to": new_village, "on": on.isoformat(), **res.as_dict()},
        reason="户迁移：未办结的监测事项随户转入新村，已办结记录留在原村",
    )
    return res


__all__ = ["E_NOT_MOVED", "FollowResult", "following_objects", "open_work_follow_household"]
