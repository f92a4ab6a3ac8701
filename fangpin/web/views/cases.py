"""Cases (识别纳入 / 风险消除 / 回退): the list, leads, a screen per step (核查, 比对, 评议, 公示 with a
printable masked notice and objections, 乡镇审核, 县级审定), batch review with a preview, 绿色通道,
elimination, reversal and measures — every write through ``fangpin.monitoring.services``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Cap
from fangpin.core.errors import DomainError
from fangpin.core.masking import mask_name
from fangpin.monitoring import selectors as mon
from fangpin.monitoring.models import (
    CaseStatus,
    Category,
    EliminationMethod,
    LeadOutcome,
    LeadStatus,
    ObjectStatus,
)
from fangpin.monitoring.services import assistance, batch, cases, elimination, identification, leads
from fangpin.monitoring.workbench import awaiting_steps, step_codes_for
from fangpin.monitoring.workflows import steps_of
from fangpin.policy.params import param_value
from fangpin.regions.selectors import region_path_names
from fangpin.trust import selectors as trust_selectors

from ._common import form_date, input_refused, query_string, today


def _county(code: str) -> str:
    return code[:6].ljust(12, "0")


def _param(key: str, village: str, on: dt.date) -> Any:
    return param_value(key, region_code=_county(village), year=on.year)


# ---- lists -----------------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    on = today()
    awaiting = request.GET.get("awaiting") == "me"
    status = request.GET.get("status", "" if awaiting else "open")
    kind = request.GET.get("kind", "")
    if awaiting:
        qs = awaiting_steps(actor=user).values_list("case_id", flat=True)
        cs = mon.case_list(actor=user).filter(pk__in=qs)
    else:
        cs = mon.case_list(actor=user, status=status or None)
    if kind:
        cs = cs.filter(kind=kind)
    step = request.GET.get("step", "")
    if step:
        cs = cs.filter(current_step=step)
    cs = cs.select_related("household", "village").order_by("due_on", "id")
    page = Paginator(cs, 50).get_page(request.GET.get("page"))
    review_steps = [c for c in step_codes_for(user) if c in ("township", "county")]
    ctx = {
        "page": page,
        "awaiting": awaiting,
        "status": status,
        "kind": kind,
        "step": step,
        "on": on,
        "batch_step": step if step in review_steps else "",
        "review_steps": review_steps,
        "pager_qs": query_string(request, page=None),
        "step_names": {s.code: s.name for k in ("identification", "elimination") for s in steps_of(k)},
    }
    return render(request, "web/cases/list.html", ctx)


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    qs = mon.lead_list(actor=request.user, status=request.GET.get("status", LeadStatus.OPEN) or None)
    page = Paginator(qs.order_by("opened_on", "id"), 50).get_page(request.GET.get("page"))
    return render(
        request, "web/cases/leads.html", {"page": page, "pager_qs": query_string(request, page=None)}
    )


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = request.user
    lead = mon.lead_get(actor=user, lead_id=lead_id)
    on = today()
    ctx = {
        "lead": lead,
        "sources": list(lead.sources.order_by("id")),
        "path": " / ".join(region_path_names(lead.village_id)),
        "risk_types": _param("catalogue.risk_types", lead.village_id, on),
        "green_types": _param("procedure.green_channel_risk_types", lead.village_id, on),
        "categories": Category.values,
        "can_open": user.can(Cap.CASE_VILLAGE) and lead.status == LeadStatus.OPEN,
        "can_green": (user.can(Cap.CASE_TOWNSHIP) or user.can(Cap.CASE_COUNTY))
        and lead.status == LeadStatus.OPEN,
        "today": on,
        "cases": list(lead.cases.order_by("-id")),
    }
    return render(request, "web/cases/lead.html", ctx)


@login_required
@require_POST
def lead_action(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = request.user
    lead = mon.lead_get(actor=user, lead_id=lead_id)
    on = today()
    action = request.POST.get("action")
    try:
        d = form_date(request.POST.get("on"), on)
        if action == "open":
            case = identification.case_open(actor=user, lead=lead, on=d)
            messages.success(request, "已启动识别程序，请入户核查")
            return redirect("web:case", case_id=case.pk)
        if action == "green":
            case = identification.green_channel_enrol(
                actor=user,
                lead=lead,
                risk_types=request.POST.getlist("risk_types"),
                reason=request.POST.get("reason", "").strip(),
                category=request.POST.get("category", ""),
                on=d,
            )
            messages.success(request, "已通过绿色通道先行纳入，请在时限内补办识别程序")
            return redirect("web:case", case_id=case.pk)
        if action == "close":
            leads.lead_close(
                actor=user,
                lead=lead,
                outcome=request.POST.get("outcome", LeadOutcome.NOT_A_RISK),
                reason=request.POST.get("reason", "").strip(),
                on=d,
            )
            messages.success(request, "线索已办结")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("web:lead", lead_id=lead.pk)


# ---- one case --------------------------------------------------------------------------------------


def _step_form(case, user, on: dt.date) -> dict[str, Any]:
    """What the current step's form offers (choices come from parameters)."""
    v = case.household.village_id
    form: dict[str, Any] = {"code": case.current_step}
    if case.current_step == "verify" and case.kind == "identification":
        form["risk_types"] = _param("catalogue.risk_types", v, on)
        form["chosen"] = case.proposal.get("risk_types") or (case.lead.risk_types if case.lead else [])
        form["categories"] = Category.values
    if case.current_step == "compare":
        form["exclusions"] = _param("identification.exclusion_criteria", v, on)
    if case.current_step == "county" and case.kind == "identification":
        form["categories"] = Category.values
        form["risk_types"] = _param("catalogue.risk_types", v, on)
        form["chosen"] = case.proposal.get("risk_types", [])
    if case.current_step == "publicize":
        form["need_days"] = int(_param("procedure.publicity_days", v, on))
    if case.current_step == "deliberate":
        form["pass_pct"] = round(float(_param("procedure.deliberation_pass_share", v, on)) * 100)
    return form


MEASURE_KIND_NAMES = {
    "developmental": "开发式帮扶",
    "protection": "综合保障",
    "education": "教育帮扶",
    "health": "健康帮扶",
    "housing": "住房保障",
    "water": "饮水保障",
    "social": "社会帮扶",
    "relocation": "搬迁后扶",
    "other": "其他",
}
AUDIT_NAMES = {
    "monitoring.lead_submit": "上报风险线索",
    "monitoring.lead_close": "线索办结",
    "monitoring.object_enrol": "纳入监测对象",
    "monitoring.object_import": "从国家系统导入监测对象",
    "monitoring.object_confirm": "确认绿色通道纳入",
    "monitoring.object_revoke": "撤销绿色通道纳入",
    "monitoring.measure_add": "添加帮扶措施",
    "monitoring.measure_update": "更新帮扶措施",
    "monitoring.object_eliminate": "风险消除",
    "monitoring.object_reverse": "风险消除回退",
}


def _timeline_rows(rows: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The case history with Chinese names for events and steps (display only)."""
    from fangpin.trust.timeline import CASE_EVENT_NAMES, step_name

    out = []
    for r in rows:
        if r["source"] == "case":
            label = CASE_EVENT_NAMES.get(r["kind"], r["kind"])
        else:
            label = AUDIT_NAMES.get(r["kind"], r["kind"])
        out.append({**r, "label": label, "step_name": step_name(kind, r["step"]) if r["step"] else ""})
    return out


def _may_act(case, user) -> bool:
    if case.status != CaseStatus.OPEN or not case.current_step:
        return False
    return case.current_step in step_codes_for(user)


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    from fangpin.policy.calendar import calendar_missing

    user = request.user
    case = mon.case_get(actor=user, case_id=case_id)
    on = today()
    steps = list(case.steps.order_by("seq"))
    current = next((s for s in steps if s.code == case.current_step), None)
    ctx = {
        "case": case,
        "hh": case.household,
        "path": " / ".join(region_path_names(case.village_id)),
        "steps": steps,
        "current": current,
        "form": _step_form(case, user, on) if _may_act(case, user) else None,
        "may_act": _may_act(case, user),
        "may_object": case.current_step == "publicize"
        and case.status in (CaseStatus.OPEN, CaseStatus.PAUSED),
        "paused": case.status == CaseStatus.PAUSED,
        "timeline": _timeline_rows(mon.case_timeline(actor=user, case=case), case.kind),
        "verify": (case.facts or {}).get("verify") or {},
        # 信息比对: what the departments' data says against the registry (open discrepancies of the household)
        "discrepancies": list(
            trust_selectors.discrepancy_list(actor=user, status=None)
            .filter(household=case.household)
            .order_by("-id")[:20]
        ),
        "objections": (current.data.get("objections", []) if current else []),
        "today": on,
        "post": request.session.pop("case_form_post", {}),
        # deadlines counted in a year without a holiday calendar are Monday–Friday only: say so
        "calendar_missing": calendar_missing(on, case.started_on, case.due_on, *(s.due_on for s in steps)),
    }
    return render(request, "web/cases/detail.html", ctx)


def _step_data(request: HttpRequest, code: str) -> dict[str, Any]:
    p = request.POST
    if code == "verify":
        return {
            "risk_types": p.getlist("risk_types"),
            "category": p.get("category", ""),
            "override_reason": p.get("override_reason", "").strip(),
            "findings": p.get("findings", "").strip(),
        }
    if code == "compare":
        flags = [x.strip() for x in p.get("asset_red_flags", "").replace("，", ",").split(",") if x.strip()]
        return {
            "exclusions": p.getlist("exclusions"),
            "asset_red_flags": flags,
            "note": p.get("note", "").strip(),
        }
    if code == "deliberate":
        return {
            "meeting_on": p.get("meeting_on") or None,
            "meeting_kind": p.get("meeting_kind", "村民代表会议"),
            "attendance": p.get("attendance", ""),
            "votes_for": p.get("votes_for", ""),
            "votes_against": p.get("votes_against", "0") or "0",
            "minutes": p.get("minutes", "").strip(),
        }
    if code == "publicize":
        return {"start_on": p.get("start_on") or None, "place": p.get("place", "").strip()}
    data: dict[str, Any] = {"opinion": p.get("opinion", "").strip() or "同意"}
    if code == "county":
        if p.get("category"):
            data["category"] = p["category"]
            data["override_reason"] = p.get("override_reason", "").strip()
        if p.getlist("risk_types"):
            data["risk_types"] = p.getlist("risk_types")
    return data


@login_required
@require_POST
def case_step(request: HttpRequest, case_id: int) -> HttpResponse:
    user = request.user
    case = mon.case_get(actor=user, case_id=case_id)
    on = today()
    code = request.POST.get("step", "")
    try:
        try:
            d = form_date(request.POST.get("on"), on)
        except DomainError as e:
            raise input_refused(request, e) from None
        case = cases.case_step_complete(
            actor=user, case=case, step=code, on=d, data=_step_data(request, code)
        )
    except DomainError as e:
        messages.error(request, e.message)
        request.session["case_form_post"] = {
            k: request.POST.getlist(k) for k in request.POST if k != "csrfmiddlewaretoken"
        }
    else:
        if case.status == CaseStatus.APPROVED:
            messages.success(request, f"{case.get_kind_display()}已审定通过")
        else:
            messages.success(request, "本环节已完成")
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_action(request: HttpRequest, case_id: int) -> HttpResponse:
    """不予通过, 公示期异议 (pauses the case), 恢复办理."""
    user = request.user
    case = mon.case_get(actor=user, case_id=case_id)
    on = today()
    action = request.POST.get("action")
    try:
        d = form_date(request.POST.get("on"), on)
        if action == "reject":
            cases.case_reject(actor=user, case=case, reason=request.POST.get("reason", "").strip(), on=d)
            messages.success(request, "已作出不予通过决定")
        elif action == "objection":
            cases.publicity_objection_record(
                actor=user,
                case=case,
                text=request.POST.get("text", "").strip(),
                raised_by=request.POST.get("raised_by", "").strip(),
                on=d,
            )
            messages.warning(request, "已登记公示异议，程序暂停，核实处理后恢复")
        elif action == "resume":
            cases.case_resume(actor=user, case=case, reason=request.POST.get("reason", "").strip(), on=d)
            messages.success(request, "异议已处理，程序恢复办理")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("web:case", case_id=case.pk)


@login_required
def case_notice(request: HttpRequest, case_id: int) -> HttpResponse:
    """The printable 公示 notice: names masked as any public notice; no ID numbers, no phones."""
    case = mon.case_get(actor=request.user, case_id=case_id)
    on = today()
    step = case.steps.filter(code="publicize").first()
    head = case.household.persons.filter(is_member=True, relation="户主").first()
    ctx = {
        "case": case,
        "village": " ".join(region_path_names(case.village_id)[-2:]),
        "head": mask_name(head.name) if head else "",
        "members": case.household.persons.filter(is_member=True).count(),
        "step": step,
        "days": int(_param("procedure.publicity_days", case.village_id, on)),
        "today": on,
    }
    return render(request, "web/cases/notice.html", ctx)


# ---- batch review ----------------------------------------------------------------------------------


@login_required
@require_POST
def case_batch(request: HttpRequest) -> HttpResponse:
    """Step 1 (``confirm`` absent): the preview of what will change. Step 2: all-or-nothing completion."""
    user = request.user
    on = today()
    step = request.POST.get("step", "")
    ids = [int(x) for x in request.POST.getlist("case_ids") if x.isdigit()]
    try:
        if request.POST.get("confirm") != "1":
            rows = batch.case_batch_preview(actor=user, case_ids=ids, step=step)
            return render(request, "web/cases/batch_preview.html", {"rows": rows, "step": step, "today": on})
        d = form_date(request.POST.get("on"), on)
        done = batch.case_batch_complete(
            actor=user,
            case_ids=ids,
            step=step,
            on=d,
            data={"opinion": request.POST.get("opinion", "") or "同意"},
        )
        messages.success(request, f"已批量办理{len(done)}件")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect(f"/cases/?awaiting=me&step={step}")


# ---- monitoring objects: measures, elimination, reversal ----------------------------------------------


@login_required
def object_detail(request: HttpRequest, object_id: int) -> HttpResponse:
    user = request.user
    obj = mon.object_get(actor=user, object_id=object_id)
    on = today()
    ctx = {
        "obj": obj,
        "hh": obj.household,
        "measures": list(
            mon.measure_list(actor=user, monitoring_object_id=obj.pk).order_by("start_on", "id")
        ),
        "catalogue": list(_param("catalogue.measures", obj.household.village_id, on)),
        "kind_names": MEASURE_KIND_NAMES,
        "warnings": mon.case_warnings(actor=user, monitoring_object=obj, on=on)
        if obj.status == ObjectStatus.ACTIVE
        else [],
        "can_measure": user.can(Cap.MEASURE_EDIT) and obj.status == ObjectStatus.ACTIVE,
        "can_eliminate": user.can(Cap.CASE_VILLAGE) and obj.status == ObjectStatus.ACTIVE,
        "can_reverse": user.can(Cap.CASE_VILLAGE) and obj.status == ObjectStatus.ELIMINATED,
        "can_county_reverse": user.can(Cap.CASE_COUNTY) and obj.status == ObjectStatus.ELIMINATED,
        "methods": EliminationMethod.values,
        "members": list(obj.household.persons.filter(is_member=True).order_by("id")),
        "today": on,
        "cases": list(mon.case_list(actor=user).filter(monitoring_object=obj).order_by("-id")),
    }
    return render(request, "web/cases/object.html", ctx)


@login_required
@require_POST
def object_action(request: HttpRequest, object_id: int) -> HttpResponse:
    user = request.user
    obj = mon.object_get(actor=user, object_id=object_id)
    on = today()
    action = request.POST.get("action")
    try:
        d = form_date(request.POST.get("on"), on)
        if action == "measure":
            person = None
            if request.POST.get("person"):
                person = next(
                    (
                        p
                        for p in obj.household.persons.filter(is_member=True)
                        if str(p.pk) == request.POST["person"]
                    ),
                    None,
                )
            assistance.measure_add(
                actor=user,
                monitoring_object=obj,
                name=request.POST.get("name", ""),
                start_on=d,
                amount=request.POST.get("amount") or 0,
                person=person,
                status=request.POST.get("status", "in_progress"),
            )
            messages.success(request, "已添加帮扶措施")
        elif action == "measure_done":
            m = mon.measure_list(actor=user, monitoring_object_id=obj.pk).get(
                pk=int(request.POST["measure_id"])
            )
            assistance.measure_update(
                actor=user, measure=m, status="done", end_on=d, outcome=request.POST.get("outcome", "")
            )
            messages.success(request, "措施已标记为已落实")
        elif action == "eliminate":
            case = elimination.elimination_propose(
                actor=user,
                monitoring_object=obj,
                method=request.POST.get("method", EliminationMethod.ASSISTED),
                on=d,
            )
            messages.success(request, "已启动风险消除程序")
            return redirect("web:case", case_id=case.pk)
        elif action == "reverse":
            case = elimination.reversal_propose(
                actor=user, monitoring_object=obj, reason=request.POST.get("reason", "").strip(), on=d
            )
            messages.success(request, "已启动风险消除回退程序")
            return redirect("web:case", case_id=case.pk)
        elif action == "county_reverse":
            elimination.elimination_reverse(
                actor=user, monitoring_object=obj, reason=request.POST.get("reason", "").strip(), on=d
            )
            messages.success(request, "已按县级决定回退，恢复监测")
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("web:monitoring_object", object_id=obj.pk)
