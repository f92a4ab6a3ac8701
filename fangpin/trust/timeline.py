"""One timeline of everything that happened to a household, for the household file: leads with their
sources, each case event, monitoring objects, measures, visits, member changes, registry edits, change
requests, discrepancies, appeals and consent — newest first, each with its business date and who."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fangpin.core.precompiled import precompiled_list
from fangpin.monitoring.models import CaseEvent, LeadSource
from fangpin.monitoring.selectors import household_monitoring_history
from fangpin.monitoring.workflows import WORKFLOWS
from fangpin.registry.models import MemberChange

from .models import Appeal, ChangeRequest, Consent, Discrepancy

STEP_NAMES = {s.code: s.name for steps in WORKFLOWS.values() for s in steps}  # any kind (display fallback)


def step_name(kind: str, code: str) -> str:
    """The step's name in its own procedure (入户核查 for identification, 入户核实 for elimination)."""
    for s in WORKFLOWS.get(kind, ()):
        if s.code == code:
            return s.name
    return STEP_NAMES.get(code, code)


CASE_EVENT_NAMES = {
    "open": "启动程序",
    "step_done": "完成环节",
    "rejected": "不予通过",
    "reject": "不予通过",
    "pause": "暂停（异议）",
    "paused": "暂停（异议）",
    "resume": "恢复办理",
    "resumed": "恢复办理",
    "objection": "公示期异议",
    "approved": "审定通过",
    "green_channel_enrol": "绿色通道先行纳入",
    "household_moved": "随户迁移",
}


@dataclass(frozen=True)
class TimelineEntry:
    on: dt.date
    kind: str  # lead / case / object / measure / visit / member / change / discrepancy / appeal / consent
    title: str
    detail: str = ""
    who: str = ""
    link_case: int | None = None


def household_timeline(*, actor, household_id: int, history: dict | None = None) -> list[TimelineEntry]:
    """Access is checked by ``household_monitoring_history`` (NotFound for out-of-scope households); a caller
    that has just read it for the same actor and household passes it as ``history`` (read once)."""
    h = (
        history
        if history is not None
        else household_monitoring_history(actor=actor, household_id=household_id)
    )
    if h["household_id"] != household_id:
        raise ValueError("history of another household")
    out: list[TimelineEntry] = []
    leads = {x.pk: x for x in h["leads"]}
    first_source: set[int] = set()
    # the sources and events of the household's leads and cases (those just read; one made since is left
    # to the next reading), each list's SQL compiled once per process (core.precompiled)
    for s in precompiled_list("trust.timeline.sources", _sources, household_id) if leads else ():
        lead = leads.get(s.lead_id)
        if lead is None:
            continue
        # the first report is the lead's business date; later reports carry only when they were recorded
        when = lead.opened_on if lead.pk not in first_source else s.created_at.date()
        first_source.add(lead.pk)
        out.append(
            TimelineEntry(
                when,
                "lead",
                f"风险线索（{s.get_channel_display()}）",
                "、".join(s.risk_types or lead.risk_types) + (f"；{s.note}" if s.note else ""),
            )
        )
    for lead in h["leads"]:
        if lead.closed_on:
            out.append(
                TimelineEntry(
                    lead.closed_on, "lead", f"线索办结：{lead.get_outcome_display()}", lead.outcome_reason
                )
            )
    cases = {c.pk: c for c in h["cases"]}
    for e in precompiled_list("trust.timeline.case_events", _case_events, household_id) if cases else ():
        c = cases.get(e.case_id)
        if c is None:
            continue
        step = step_name(c.kind, e.step)
        title = f"{c.get_kind_display()}：{CASE_EVENT_NAMES.get(e.kind, e.kind)}" + (
            f"「{step}」" if step else ""
        )
        detail = ""
        data = e.data or {}
        if data.get("reason"):
            detail = str(data["reason"])
        elif data.get("text"):
            detail = str(data["text"])
        out.append(TimelineEntry(e.on, "case", title, detail, str(e.actor or "系统"), c.pk))
    for o in h["objects"]:
        out.append(
            TimelineEntry(
                o.identified_on,
                "object",
                f"纳入监测对象（{o.category}）",
                "、".join(o.risk_types),
                link_case=None,
            )
        )
        if o.eliminated_on:
            out.append(
                TimelineEntry(o.eliminated_on, "object", f"风险消除（{o.get_elimination_method_display()}）")
            )
    for m in h["measures"]:
        out.append(TimelineEntry(m.start_on, "measure", f"帮扶措施：{m.name}", m.get_status_display()))
    for v in h["visits"]:
        out.append(
            TimelineEntry(
                v.visited_on,
                "visit",
                "走访" + ("（发现风险）" if v.has_risk else "（无风险）"),
                "、".join(v.risk_types or []) or (v.note or "")[:80],
            )
        )
    for mc in precompiled_list("trust.timeline.member_changes", _member_changes, household_id):
        out.append(TimelineEntry(mc.date, "member", f"人口变更：{mc.get_kind_display()}", mc.person.name))
    for r in precompiled_list("trust.timeline.change_requests", _change_requests, household_id):
        out.append(
            TimelineEntry(
                r.created_at.date(),
                "change",
                f"变更申请{r.number}（{r.get_kind_display()}）：{r.get_status_display()}",
                r.reason,
                str(r.maker or ""),
            )
        )
    for d in precompiled_list("trust.timeline.discrepancies", _discrepancies, household_id):
        out.append(
            TimelineEntry(
                d.observed_on or d.created_at.date(),
                "discrepancy",
                f"数据差异（{d.department or d.source_kind}）：{d.get_status_display()}",
                f"{d.field}：{d.proposed_value}",
            )
        )
    for a in precompiled_list("trust.timeline.appeals", _appeals, household_id):
        out.append(
            TimelineEntry(
                a.lodged_on,
                "appeal",
                f"异议/申诉{a.number}（{a.get_kind_display()}）：{a.get_status_display()}",
            )
        )
    for c in precompiled_list("trust.timeline.consents", _consents, household_id):
        out.append(TimelineEntry(c.signed_on, "consent", "签署承诺授权书", f"签署人 {c.signed_by_name}"))
        if c.withdrawn_on:
            out.append(TimelineEntry(c.withdrawn_on, "consent", "撤回授权", c.withdrawn_reason))
    out.sort(key=lambda e: e.on, reverse=True)
    return out


# the timeline's reads by household id (the household passed the gate in household_monitoring_history)
def _sources(h: int):
    return LeadSource.objects.filter(lead__household_id=h).order_by("id")


def _case_events(h: int):
    return CaseEvent.objects.filter(case__household_id=h).select_related("actor").order_by("id")


def _member_changes(h: int):
    return MemberChange.objects.filter(household_id=h).select_related("person").order_by("date")


def _change_requests(h: int):
    return ChangeRequest.objects.filter(household_id=h).select_related("maker").order_by("id")


def _discrepancies(h: int):
    return Discrepancy.objects.filter(household_id=h).order_by("id")


def _appeals(h: int):
    return Appeal.objects.filter(household_id=h).order_by("id")


def _consents(h: int):
    return Consent.objects.filter(household_id=h).order_by("signed_on")
