"""The case engine: one guarded transition function per verb, for every procedure kind.

case_step_complete / case_reject / case_pause / case_resume / publicity_objection_record.
Every transition: capability of the step, region scope (access_object), order of steps, separation of
duties for the township/county levels, a CaseEvent row and an audit event in one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fangpin.accounts.access import access_object
from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audited_atomic
from fangpin.core import clock
from fangpin.core.errors import DomainError

from ..models import Case, CaseStatus, CaseStep, Lead, MonitoringObject, StepStatus
from ..workflows import next_step, step_def, steps_of
from ._common import Params, case_event, require_any

E_CASE_CLOSED = "case_closed"
E_CASE_PAUSED = "case_paused"
E_CASE_NOT_PAUSED = "case_not_paused"
E_STEP_ORDER = "step_out_of_order"
E_SELF_APPROVAL = "self_approval"
E_DATE = "step_date_invalid"
E_REASON = "reason_required"
E_NOT_PUBLICITY = "not_in_publicity"
E_STALE = "case_version_stale"


def case_create(
    *,
    actor,
    kind: str,
    household,
    on: dt.date,
    lead: Lead | None = None,
    monitoring_object: MonitoringObject | None = None,
    green_channel: bool = False,
    proposal: dict[str, Any] | None = None,
    facts: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
) -> Case:
    """Creates the case and its step rows; the first step starts at ``on``. Caller holds the transaction."""
    p = Params(household.village_id, on.year)
    total = int(p("procedure.total_days"))
    if green_channel:
        due = on + dt.timedelta(days=int(p("procedure.green_channel_complete_days")))
    else:
        due = clock.add_working_days(on, total)
    step_days = p("procedure.step_days")
    case = Case.objects.create(
        kind=kind,
        household=household,
        lead=lead,
        monitoring_object=monitoring_object,
        green_channel=green_channel,
        started_on=on,
        due_on=due,
        proposal=proposal or {},
        facts=facts or {},
        params=(params or []) + p.refs(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    defs = steps_of(kind)
    for i, sd in enumerate(defs):
        first = i == 0
        CaseStep.objects.create(
            case=case,
            code=sd.code,
            seq=i + 1,
            name=sd.name,
            status=StepStatus.ACTIVE if first else StepStatus.PENDING,
            started_on=on if first else None,
            due_on=clock.add_working_days(on, int(step_days.get(sd.code, total))) if first else None,
        )
    case.current_step = defs[0].code
    case.save(update_fields=["current_step"])
    case_event(
        case,
        actor=actor,
        kind="open",
        on=on,
        step=defs[0].code,
        data={
            "kind": kind,
            "green_channel": green_channel,
            "due_on": due.isoformat(),
            "proposal": proposal or {},
        },
    )
    return case


def _load(actor, case: Case | int) -> Case:
    pk = case if isinstance(case, int) else case.pk
    return access_object(actor, Case, pk, what="办理程序", for_update=True)


def _current(case: Case) -> CaseStep:
    return case.steps.get(code=case.current_step)


def _current_and_next(case: Case, nxt: str | None) -> tuple[CaseStep, CaseStep | None]:
    """The current step's row (``_current``: missing raises) and the next step's (None if missing), read
    in one query."""
    if nxt is None:
        return _current(case), None
    rows = {r.code: r for r in case.steps.filter(code__in=[case.current_step, nxt])}
    if case.current_step not in rows:
        raise CaseStep.DoesNotExist(f"case {case.pk} has no step {case.current_step}")
    return rows[case.current_step], rows.get(nxt)


def _earlier_actor_ids(case: Case) -> set[int]:
    ids = set(
        case.steps.filter(status=StepStatus.DONE).exclude(actor=None).values_list("actor_id", flat=True)
    )
    if case.lead_id:
        ids |= set(case.lead.sources.exclude(submitted_by=None).values_list("submitted_by_id", flat=True))
    if case.created_by_id:
        ids.add(case.created_by_id)
    return ids


def _check_open(case: Case) -> None:
    if case.status == CaseStatus.PAUSED:
        raise DomainError(E_CASE_PAUSED, f"程序已暂停（{case.pause_reason}），请先处理异议后恢复")
    if case.status != CaseStatus.OPEN:
        raise DomainError(E_CASE_CLOSED, "该程序已办结，不能再办理")


@audited_atomic
def case_step_complete(
    *,
    actor,
    case: Case | int,
    step: str,
    on: dt.date,
    data: dict[str, Any] | None = None,
    version: int | None = None,
) -> Case:
    """Completes the current step with what it recorded; the next step starts the same day. The last
    step applies the case's outcome (enrolment, elimination or reversal). ``case``: the case or its id
    (locked and checked for scope here, once); ``version``: the case version the caller read (the API's
    optimistic lock): a case changed meanwhile is refused (``E_STALE``) right after the lock."""
    from .steps import HANDLERS

    case = _load(actor, case)
    if version is not None and case.version != version:
        raise DomainError(E_STALE, f"该程序已被他人更新（当前版本 {case.version}），请刷新后再办理")
    _check_open(case)
    if step != case.current_step:
        cur = step_def(case.kind, case.current_step).name
        raise DomainError(E_STEP_ORDER, f"当前应办理“{cur}”环节，不能办理其他环节")
    sd = step_def(case.kind, step)
    require(actor, sd.cap)
    if sd.is_review and actor is not None and actor.pk in _earlier_actor_ids(case):
        raise DomainError(
            E_SELF_APPROVAL, f"本人已参与前序环节或提交线索，不能再办理“{sd.name}”（不得自审自批）"
        )
    nxt = next_step(case.kind, step)
    row, nrow = _current_and_next(case, nxt.code if nxt is not None else None)
    if on < row.started_on:
        raise DomainError(E_DATE, f"办理日期不能早于本环节开始日期 {row.started_on:%Y-%m-%d}")
    handler = HANDLERS.get((case.kind, step)) or HANDLERS.get(("*", step))
    recorded = handler(case, row, actor=actor, on=on, data=dict(data or {})) if handler else dict(data or {})
    before = {"status": row.status}
    row.status = StepStatus.DONE
    row.completed_on = on
    row.actor = actor if getattr(actor, "pk", None) else None
    row.data = {**row.data, **recorded}
    row.save()
    if nxt is not None:
        p = Params(case.household.village_id, on.year)
        days = int(p("procedure.step_days").get(nxt.code, p("procedure.total_days")))
        if nrow is not None:  # the row as read under the case's lock, sealed by its save (one UPDATE)
            nrow.status, nrow.started_on = StepStatus.ACTIVE, on
            nrow.due_on = clock.add_working_days(on, days)
            nrow.save()
        case.current_step = nxt.code
        case.params = _merge_refs(case.params, p.refs())
    case.version += 1
    case.save()
    case_event(
        case, actor=actor, kind="step_done", on=on, step=step, data={"before": before, "recorded": recorded}
    )
    if nxt is None:
        from .steps import FINALIZERS

        FINALIZERS[case.kind](case, actor=actor, on=on, data=recorded)
        case.status = CaseStatus.APPROVED
        case.closed_on = on
        case.save(update_fields=["status", "closed_on"])
        case_event(case, actor=actor, kind="approved", on=on, step=step)
    return case


def _merge_refs(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {(r["key"], r["id"]) for r in a}
    return a + [r for r in b if (r["key"], r["id"]) not in seen]


@audited_atomic
def case_reject(*, actor, case: Case, reason: str, on: dt.date) -> Case:
    """不予通过 at the current step (不予纳入 for identification): closes the case and, for an
    identification, closes its lead with the explanation. A green-channel enrolment is revoked."""
    from .steps import REJECTERS

    case = _load(actor, case)
    if case.status not in (CaseStatus.OPEN, CaseStatus.PAUSED):
        raise DomainError(E_CASE_CLOSED, "该程序已办结，不能再办理")
    if not (reason or "").strip():
        raise DomainError(E_REASON, "不予通过须填写理由", field="reason")
    sd = step_def(case.kind, case.current_step)
    require(actor, sd.cap)
    row = _current(case)
    row.status = StepStatus.REJECTED
    row.completed_on = on
    row.actor = actor if getattr(actor, "pk", None) else None
    row.data = {**row.data, "rejected": reason}
    row.save()
    case.status = CaseStatus.REJECTED
    case.closed_on = on
    case.result_reason = reason
    case.version += 1
    case.save()
    case_event(case, actor=actor, kind="rejected", on=on, step=sd.code, reason=reason)
    REJECTERS[case.kind](case, actor=actor, on=on, reason=f"{sd.name}不予通过：{reason}")
    return case


@audited_atomic
def case_pause(*, actor, case: Case, reason: str, ref: str = "", on: dt.date) -> Case:
    """Pauses the current step (e.g. an objection during 公示, an appeal). Deadlines stop running:
    on resume, step and case due dates move by the days paused. ``ref`` links the appeal/objection."""
    require_any(actor, Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY, Cap.APPEAL_HANDLE)
    case = _load(actor, case)
    _check_open(case)
    if not (reason or "").strip():
        raise DomainError(E_REASON, "暂停须说明原因", field="reason")
    row = _current(case)
    row.status = StepStatus.PAUSED
    row.data = {**row.data, "paused_from": on.isoformat()}
    row.save()
    case.status = CaseStatus.PAUSED
    case.pause_reason = reason
    case.version += 1
    case.save()
    case_event(case, actor=actor, kind="paused", on=on, step=row.code, data={"ref": ref}, reason=reason)
    return case


@audited_atomic
def case_resume(*, actor, case: Case, reason: str, ref: str = "", on: dt.date) -> Case:
    """Resumes a paused case; the paused calendar days are added to the step's and the case's deadline
    and do not count towards the minimum 公示 days."""
    require_any(actor, Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY, Cap.APPEAL_HANDLE)
    case = _load(actor, case)
    if case.status != CaseStatus.PAUSED:
        raise DomainError(E_CASE_NOT_PAUSED, "该程序未暂停")
    if not (reason or "").strip():
        raise DomainError(E_REASON, "恢复办理须说明异议处理结果", field="reason")
    row = _current(case)
    paused_from = dt.date.fromisoformat(row.data.get("paused_from", on.isoformat()))
    if on < paused_from:
        raise DomainError(E_DATE, "恢复日期不能早于暂停日期")
    gap = (on - paused_from).days
    row.paused_days += gap
    row.status = StepStatus.ACTIVE
    if row.due_on:
        row.due_on += dt.timedelta(days=gap)
    row.data = {k: v for k, v in row.data.items() if k != "paused_from"}
    objections = row.data.get("objections", [])
    for o in objections:
        if not o.get("resolved"):
            o["resolved"] = reason
            o["resolved_on"] = on.isoformat()
    row.save()
    case.status = CaseStatus.OPEN
    case.pause_reason = ""
    case.due_on += dt.timedelta(days=gap)
    case.version += 1
    case.save()
    case_event(
        case,
        actor=actor,
        kind="resumed",
        on=on,
        step=row.code,
        data={"paused_days": gap, "ref": ref},
        reason=reason,
    )
    return case


@audited_atomic
def publicity_objection_record(
    *, actor, case: Case, text: str, raised_by: str = "", ref: str = "", on: dt.date
) -> Case:
    """An objection raised during 村内公示: recorded on the step and the case pauses until it is
    handled (``case_resume`` with the outcome, or ``case_reject``)."""
    require_any(actor, Cap.CASE_VILLAGE, Cap.CASE_TOWNSHIP, Cap.CASE_COUNTY, Cap.APPEAL_HANDLE)
    case = _load(actor, case)
    _check_open(case)
    if case.current_step != "publicize":
        raise DomainError(E_NOT_PUBLICITY, "只有公示期间可以登记公示异议")
    if not (text or "").strip():
        raise DomainError(E_REASON, "异议内容不能为空", field="text")
    row = _current(case)
    objections = [
        *row.data.get("objections", []),
        {"on": on.isoformat(), "text": text, "by": raised_by, "ref": ref},
    ]
    row.data = {**row.data, "objections": objections}
    row.save()
    case_event(
        case,
        actor=actor,
        kind="objection",
        on=on,
        step="publicize",
        data={"by": raised_by, "ref": ref},
        reason=text,
    )
    return case_pause(actor=actor, case=case, reason=f"公示异议：{text}", ref=ref, on=on)
