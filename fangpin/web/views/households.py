"""Households: search-first list (filters, sort, pages, recently viewed, export of exactly what is
filtered), the household file (户档案), edits through change requests, reporting a risk, the 明白纸."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import in_scope
from fangpin.accounts.throttle import Throttled
from fangpin.audit.record import audit_list_view
from fangpin.core import clock
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.core.masking import mask_phone
from fangpin.monitoring import selectors as mon
from fangpin.monitoring.household_search import (
    HouseholdFilter,
    bounded_count,
    flag_list_count,
    flag_list_village,
    household_page_rows,
    household_search_qs,
    search_refusal_record,
    visible_households,
)
from fangpin.monitoring.household_search import (
    household_search as search_households,
)
from fangpin.monitoring.models import Category, LeadChannel, ObjectStatus
from fangpin.monitoring.services.assistance import assignment_set
from fangpin.monitoring.services.leads import lead_submit
from fangpin.monitoring.workbench import assignable_users, current_assignments
from fangpin.policy.params import param_value
from fangpin.registry import selectors as registry_selectors
from fangpin.registry.checks.report import household_findings_cached
from fangpin.registry.choices import HouseholdType
from fangpin.registry.io.export import registry_export
from fangpin.registry.services import export_jobs
from fangpin.registry.services.assessment import household_guarantees_assess
from fangpin.trust import selectors as trust
from fangpin.trust.mingbaizhi import mingbaizhi_render
from fangpin.trust.services.changes import change_request_submit
from fangpin.trust.timeline import household_timeline
from fangpin.worklists import services as worklists

from ._common import field_errors, query_string, refused_page, today

MEMBER_COLUMNS = [
    "name",
    "relation",
    "id_number",
    "birth_date",
    "health",
    "labour_skill",
    "school_status",
    "phone",
]
MEMBER_HEADERS = {
    "name": "姓名",
    "relation": "与户主关系",
    "id_number": "证件号码",
    "birth_date": "出生日期",
    "health": "健康状况",
    "labour_skill": "劳动技能",
    "school_status": "在校生状况",
    "phone": "联系电话",
}
GUARANTEE_NAMES = {
    "food_clothing": "不愁吃穿",
    "education": "义务教育",
    "medical": "基本医疗",
    "housing": "住房安全",
    "water": "饮水安全",
}
RECENT_KEY = "recent_households"
RECENT_MAX = 8
PAGE_SIZE = 50


def _risk_catalogue(user) -> list[str]:
    region = (user.region_id or "410506000000")[:6].ljust(12, "0")
    return list(param_value("catalogue.risk_types", region_code=region, year=today().year))


def _regions_for(user) -> list[tuple[str, str]]:
    """The region tree under the user's own region, as (code, indented name) for the filter."""
    from fangpin.regions.models import Level
    from fangpin.regions.selectors import region_descendants

    if not user.scope_prefix or not user.region_id:
        return []
    from django.core.cache import cache

    key = f"web.region_options:{user.region_id}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    out = []
    for r in (
        region_descendants(user.region_id).filter(level__in=[Level.TOWNSHIP, Level.VILLAGE]).order_by("code")
    ):
        if r.code == user.region_id:
            continue
        out.append((r.code, ("　" if r.level == Level.VILLAGE else "") + r.name))
    cache.set(key, out, 3600)  # the division tree changes once a year
    return out


def _cell_monitoring(r: dict[str, Any]) -> str:
    status = r["mo_status"]
    label = OBJECT_STATUS_LABELS.get(status, "") if status else ""
    if not label:
        return ""
    if status == ObjectStatus.ACTIVE:
        return f'<span class="tag warn">{escape(label)}·{escape(r["mo_category"])}</span>'
    return f'<span class="tag">{escape(label)}</span>'


OBJECT_STATUS_LABELS = dict(ObjectStatus.choices)
# the list's cells, in the column order the user picked (worklists.COLUMNS): the row markup is made here,
# not by a template loop over rows × columns (that was a third of the page's CPU); every value escaped
LIST_CELLS: dict[str, Callable[[dict[str, Any], str], str]] = {
    "household_no": lambda r, url: (
        f'<td data-label="户编号"><a href="{url}">{escape(r["household_no"])}</a></td>\n'
    ),
    "head": lambda r, url: f'<td data-label="户主">{escape(r["head_name"] or "")}</td>',
    "village": lambda r, url: f'<td data-label="行政村">{escape(r["village_name"])}</td>',
    "type": lambda r, url: f'<td data-label="户类型">{escape(r["household_type"])}</td>\n',
    "members": lambda r, url: f'<td data-label="人口" class="num">{escape(r["n_members"])}</td>\n',
    "monitoring": lambda r, url: f'<td data-label="监测状态">{_cell_monitoring(r)}</td>\n',
    "phone": lambda r, url: f'<td data-label="联系电话">{escape(mask_phone(r["contact_phone"]))}</td>',
}


def list_rows_html(rows: list[dict[str, Any]], columns: list[str]) -> SafeString:
    """The ``<tr>`` of the household list's page (``household_row_values``), phones masked."""
    if not rows:
        return mark_safe(f'<tr><td colspan="{len(columns)}">没有符合条件的户</td></tr>')
    cells = [LIST_CELLS[c] for c in columns]
    sentinel = "987654321"
    file_url = reverse("web:household", args=[int(sentinel)])  # reversed once, the id put in per row
    out = []
    for r in rows:
        url = file_url.replace(sentinel, str(r["id"]))
        out.append("<tr>" + "".join(cell(r, url) for cell in cells) + "</tr>\n")
    return mark_safe("".join(out))


@login_required
def household_search(request: HttpRequest) -> HttpResponse:
    user = request.user
    f = HouseholdFilter.from_params(request.GET)
    errors: dict[str, str] = {}
    on = today()
    try:
        qs, updating = search_households(actor=user, f=f, on=on, defer_flags=True)
    except Throttled as e:  # per-user rate / daily look-up budget (accounts.throttle): audited there
        return refused_page(request, e, status=429)
    except DomainError as e:
        errors = field_errors(e)
        f.q = ""
        qs, updating = search_households(actor=user, f=f, on=on, defer_flags=True)
    # counted plainly up to COUNT_CAP ("超过 N 户" beyond); the page fetched in two steps (ids, then rows)
    total, capped = flag_list_count(user, f) or bounded_count(qs)  # a village's flag list: from its flags
    page = Paginator(range(total), PAGE_SIZE).get_page(request.GET.get("page"))  # numbers only
    offset = (page.number - 1) * PAGE_SIZE
    page.object_list = household_page_rows(  # within the counted ones ("只列出前 N 户" when capped)
        qs,
        sort=f.sort,
        offset=offset,
        limit=max(0, min(PAGE_SIZE, total - offset)),
        values=True,
        flags_village=flag_list_village(user, f),
    )
    audit_list_view(
        user,
        "registry.household_search",
        query=f.q,
        page=page.number,
        total=total,
        **({"capped": True} if capped else {}),
    )
    if f.q and not page.object_list:
        search_refusal_record(actor=user, q=f.q, on=on)
    columns = worklists.clean_columns([c for c in request.GET.get("cols", "").split(",") if c])
    recent_ids = request.session.get(RECENT_KEY, [])
    recent = []
    if recent_ids and not f.active:  # shown on the unfiltered list only
        visible = visible_households(actor=user, on=on).filter(pk__in=recent_ids)
        found = {h["id"]: h for h in visible.values("id", "household_no")}
        recent = [found[i] for i in recent_ids if i in found]
    ctx = {
        "page": page,
        "count_capped": capped,
        "flags_updating": updating,  # households whose 监测线/校验 flags the background job is recomputing
        "rows_html": list_rows_html(page.object_list, columns),
        "f": f,
        "errors": errors,
        "recent": recent,
        "pager_qs": query_string(request, page=None),
        "filter_qs": query_string(request, page=None),
        "sort_qs": query_string(request, page=None, sort=None),
        "types": HouseholdType.values,
        "categories": Category.values,
        "risk_types": _risk_catalogue(user),
        "regions": _regions_for(user),
        "columns": columns,
        "all_columns": worklists.COLUMNS,
        "worklists": list(worklists.worklist_list(actor=user)),
        "can_share": bool(worklists.township_of(user)),
        "can_export": user.can(Cap.REGISTRY_EXPORT),
        "can_unmasked": user.can(Cap.EXPORT_UNMASKED),
    }
    return render(request, "web/households/list.html", ctx)


@login_required
def worklist_open(request: HttpRequest, worklist_id: int) -> HttpResponse:
    """A saved working list re-runs its search in the opener's own scope (a shared list never widens it)."""
    wl = worklists.worklist_get(actor=request.user, worklist_id=worklist_id)
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    q.update(wl.params)
    q["cols"] = ",".join(wl.columns)
    return redirect(reverse("web:households") + "?" + q.urlencode())


@login_required
@require_POST
def worklist_save(request: HttpRequest) -> HttpResponse:
    from django.http import QueryDict

    params = QueryDict(request.POST.get("qs", ""))
    f = HouseholdFilter.from_params(params)
    columns = [c for c in params.get("cols", "").split(",") if c]
    try:
        wl = worklists.worklist_save(
            actor=request.user,
            name=request.POST.get("name", ""),
            params=f.as_params(),
            columns=columns,
            share=request.POST.get("share") == "1",
        )
    except DomainError as e:
        messages.error(request, e.message)
        return redirect(reverse("web:households") + "?" + params.urlencode())
    messages.success(
        request, f"已保存工作清单“{wl.name}”" + ("，本乡镇同事可见" if wl.shared_township else "")
    )
    return redirect("web:worklist", worklist_id=wl.pk)


@login_required
def household_export(request: HttpRequest) -> HttpResponse:
    """Exactly the filtered households, in the national column format, masked unless asked (and allowed).
    The registry export service checks the rights and audits the export."""
    f = HouseholdFilter.from_params(request.GET)
    on = today()
    try:
        qs = household_search_qs(actor=request.user, f=f, on=on)
    except Throttled as e:
        return refused_page(request, e, status=429)
    except DomainError as e:
        messages.error(request, e.message)
        return redirect(reverse("web:households") + "?" + query_string(request))
    unmasked = request.GET.get("unmasked") == "1"
    limit = export_jobs.export_job_rows(on=on, region_code=f.region or request.user.region_id or "")
    rows, targets = export_jobs.export_targets(qs, limit=limit)  # the search run once
    if rows > limit:  # a large workbook is a job of the 下载中心
        job = export_jobs.export_job_create(
            actor=request.user,
            on=on,
            filters=f.as_params(),
            region_code=f.region or None,
            unmasked=unmasked,
            estimated_rows=rows,
        )
        return redirect("web:export_job", job_id=job.pk)
    out = Path(tempfile.mkdtemp(prefix="fangpin-export-")) / f"户档案导出_{on:%Y%m%d}.xlsx"
    try:
        res = registry_export(
            actor=request.user,
            out_path=out,
            on=on,
            region_code=f.region or None,
            unmasked=unmasked,
            households=targets,
            filters=f.as_params(),
        )
    except (PermissionDenied, NotFound):
        raise  # the Chinese 403/404 page, audited as a refused access
    except DomainError as e:
        messages.error(request, e.message)
        return redirect(reverse("web:households") + "?" + query_string(request))
    fh = open(res.path, "rb")  # noqa: SIM115 (closed by FileResponse)
    res.path.unlink()  # the open handle keeps the content; nothing personal stays on disk
    res.path.parent.rmdir()
    return FileResponse(fh, as_attachment=True, filename=res.path.name)


@login_required
def export_jobs_list(request: HttpRequest) -> HttpResponse:
    """下载中心: the user's own export jobs, newest first."""
    jobs = export_jobs.export_job_list(actor=request.user)
    return render(request, "web/households/exports.html", {"jobs": jobs})


def _job_context(job) -> dict:
    return {"job": job, "running": job.status in ("queued", "running")}


@login_required
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """One export job: htmx follows it until the file is ready, then offers the download."""
    job = export_jobs.export_job_get(actor=request.user, job_id=job_id)
    return render(request, "web/households/export_job.html", _job_context(job))


@login_required
def export_job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """The fragment htmx polls every 2 s while the job runs (it stops polling once the job ended)."""
    job = export_jobs.export_job_get(actor=request.user, job_id=job_id)
    return render(request, "web/households/_export_job.html", _job_context(job))


@login_required
def export_job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    """The finished workbook, decrypted for its requester only; every fetch audited."""
    try:
        job, fh = export_jobs.export_job_open(actor=request.user, job_id=job_id)
    except DomainError as e:
        if isinstance(e, NotFound):
            raise
        messages.error(request, e.message)
        return redirect("web:export_job", job_id=job_id)
    return FileResponse(fh, as_attachment=True, filename=job.file_name)


def _remember(request: HttpRequest, household_id: int) -> None:
    ids = [i for i in request.session.get(RECENT_KEY, []) if i != household_id]
    request.session[RECENT_KEY] = [household_id, *ids][:RECENT_MAX]


def _visible_or_404(user, household_id: int, on: dt.date) -> None:
    """The one gate (region, and a helper's assigned households); a refusal is audited as ``access.refused``
    with whether the household exists (for the auditor, never for the user)."""
    from fangpin.accounts.access import access_object
    from fangpin.registry.models import Household

    access_object(user, Household, household_id, what="户")


def _income_years(hh, on: dt.date) -> list[dict]:
    """人均纯收入 for the rolling 12 months and each of the last three calendar years (the API's too)."""
    from fangpin.registry.services.assessment import household_income_years

    return household_income_years(hh, on=on)


@login_required
def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    from fangpin.risk.selectors import household_risk

    user = request.user
    on = today()
    _visible_or_404(user, household_id, on)
    # access check + audit; the page shows neither the file's income rows nor its village history
    data = trust.household_file(actor=user, household_id=household_id, incomes=False, village_history=False)
    hh = data["household"]
    guarantees, _ = household_guarantees_assess(hh, on=on)
    # the monitoring history read once (access-checked): the timeline takes it, and the status section's
    # objects, cases and open leads are its records inside the user's region — what ``mon.object_list``,
    # ``case_list`` and ``lead_list`` filtered to this household give (the household itself passed the gate,
    # a helper's assignment included), newest first as their orderings are
    history = mon.household_monitoring_history(actor=user, household_id=hh.pk)
    objects = [o for o in reversed(history["objects"]) if in_scope(user, o.village_id)]
    active = next((o for o in objects if o.status == ObjectStatus.ACTIVE), None)
    cases = [c for c in reversed(history["cases"]) if in_scope(user, c.village_id)]
    open_leads = [
        x
        for x in reversed(history["leads"])
        if x.status in ("open", "in_case") and in_scope(user, x.village_id)
    ]
    _remember(request, hh.pk)
    members = []
    for m in data["members"]:
        if m["is_member"]:
            by = {fv.field: fv for fv in m["fields"]}
            members.append({"person": m["person"], "cols": [by[c] for c in MEMBER_COLUMNS if c in by]})
    ctx = {
        "members": members,
        "member_headers": [MEMBER_HEADERS[c] for c in MEMBER_COLUMNS],
        "hh": hh,
        "data": data,
        "path": " / ".join(data["village_path"]),
        "incomes": _income_years(hh, on),
        "guarantees": guarantees,
        "guarantee_failures": [
            {"dimension": GUARANTEE_NAMES.get(g.dimension, g.dimension), "message": g.message}
            for g in guarantees.failures
        ],
        "objects": objects,
        "active": active,
        "cases": cases,
        "open_leads": open_leads,
        "timeline": household_timeline(actor=user, household_id=hh.pk, history=history),
        "risk_trend": household_risk(actor=user, household=hh, on=on),
        "risk_types": _risk_catalogue(user),
        "assignments": current_assignments(household_id=hh.pk, on=on),
        "assignable": assignable_users(actor=user, household=hh),
        "can_report": user.can(Cap.LEAD_SUBMIT),
        "can_edit": user.can(Cap.REGISTRY_EDIT),
        "can_case": user.can(Cap.CASE_VILLAGE),
        "today": on,
    }
    return render(request, "web/households/file.html", ctx)


def _date_param(raw: str | None, on: dt.date) -> dt.date:
    """A business date from a form (办理日期): defaults to today, never in the future."""
    if not raw:
        return on
    try:
        d = dt.date.fromisoformat(raw)
    except ValueError as e:
        raise DomainError("date_invalid", "日期格式应为 年-月-日", field="on") from e
    if d > on:
        raise DomainError("date_future", "办理日期不能晚于今天", field="on")
    return d


@login_required
@require_POST
def household_report_risk(request: HttpRequest, household_id: int) -> HttpResponse:
    """A cadre or helper reports a risk seen on a visit or otherwise (channel 基层干部排查)."""
    user = request.user
    on = today()
    _visible_or_404(user, household_id, on)
    hh = registry_selectors.household_get(actor=user, household_id=household_id)
    try:
        d = _date_param(request.POST.get("on"), on)
        lead = lead_submit(
            actor=user,
            household=hh,
            channel=LeadChannel.CADRE_VISIT,
            risk_types=request.POST.getlist("risk_types"),
            note=request.POST.get("note", "").strip(),
            on=d,
        )
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"已上报风险线索（{lead.get_status_display()}），承办村将入户核实")
    return redirect("web:household", household_id=household_id)


EDIT_FIELDS = {
    "contact": [("phone", "户联系电话"), ("address", "家庭住址"), ("group_name", "村民小组")],
    "condition": [
        ("house_grade", "住房安全等级（A/B/C/D）"),
        ("water_piped", "供水入户（是/否）"),
        ("water_quality_ok", "水质达标（是/否/空）"),
        ("water_litres_per_day", "日供水量（升/人）"),
        ("water_interruption_days", "年累计断水天数"),
        ("food_ok", "不愁吃（是/否）"),
        ("clothing_ok", "不愁穿（是/否）"),
    ],
}


def _field_text(hh, name: str) -> str:
    from fangpin.registry.services.changes import fmt

    return fmt(getattr(hh, name))


@login_required
def household_edit(request: HttpRequest, household_id: int) -> HttpResponse:
    """Edits go through change requests: contact details apply at once, conditions wait for a second person
    (maker-checker at the level the parameter trust.approval_levels sets) and need evidence."""
    user = request.user
    on = today()
    _visible_or_404(user, household_id, on)
    kind = request.GET.get("kind") or request.POST.get("kind") or "contact"
    if kind not in EDIT_FIELDS:
        kind = "contact"
    hh = registry_selectors.household_get(actor=user, household_id=household_id)
    values = {name: _field_text(hh, name) for name, _ in EDIT_FIELDS[kind]}
    errors: dict[str, str] = {}
    if request.method == "POST":
        posted = {name: request.POST.get(name, "").strip() for name, _ in EDIT_FIELDS[kind]}
        changes = {k: v for k, v in posted.items() if v != values[k]}
        values.update(posted)
        reason = request.POST.get("reason", "").strip()
        evidence_text = request.POST.get("evidence", "").strip()
        if not changes:
            errors["form"] = "没有修改任何内容"
        else:
            try:
                req = change_request_submit(
                    actor=user,
                    household_id=hh.pk,
                    kind=kind,
                    payload={"fields": changes},
                    reason=reason,
                    evidence=[{"kind": "说明", "ref": evidence_text}] if evidence_text else None,
                    on=clock.today(),
                )
            except DomainError as e:
                key = e.field or (
                    "reason"
                    if e.code == "reason_required"
                    else "evidence"
                    if "evidence" in e.code
                    else "form"
                )
                errors[key] = e.message
            else:
                if req.status == "applied":
                    messages.success(request, f"变更申请{req.number}已生效")
                else:
                    messages.success(
                        request,
                        f"变更申请{req.number}已提交，待{req.get_required_level_display() if hasattr(req, 'get_required_level_display') else req.required_level}审批后生效",
                    )
                return redirect("web:household", household_id=hh.pk)
    fields = [
        {"name": n, "label": lab, "value": values[n], "error": errors.get(n, "")}
        for n, lab in EDIT_FIELDS[kind]
    ]
    return render(
        request,
        "web/households/edit.html",
        {"hh": hh, "kind": kind, "fields": fields, "errors": errors, "post": request.POST},
    )


@login_required
def household_mingbaizhi(request: HttpRequest, household_id: int) -> HttpResponse:
    """The printable 明白纸 (masked as a public notice; the trust service audits the view)."""
    html = mingbaizhi_render(actor=request.user, household_id=household_id, on=clock.today())
    return HttpResponse(html)


@login_required
def change_list(request: HttpRequest) -> HttpResponse:
    """Change requests waiting for a second person (maker-checker), each with exactly what it would change."""
    user = request.user
    pending = list(trust.change_request_list(actor=user).select_related("maker").order_by("created_at")[:100])
    rows = [{"r": r, "plan": trust.change_preview(r), "mine": r.maker_id == user.pk} for r in pending]
    return render(
        request,
        "web/households/changes.html",
        {"rows": rows, "can_approve": user.can(Cap.CHANGE_APPROVE)},
    )


@login_required
@require_POST
def change_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    from fangpin.trust.services.changes import change_request_approve, change_request_reject

    user = request.user
    reason = request.POST.get("reason", "").strip()
    try:
        if request.POST.get("action") == "approve":
            req = change_request_approve(actor=user, request_id=request_id, reason=reason)
            messages.success(request, f"变更申请{req.number}已批准并生效")
        else:
            req = change_request_reject(actor=user, request_id=request_id, reason=reason)
            messages.success(request, f"变更申请{req.number}已驳回")
    except NotFound:
        raise  # another region's (or no) request: the Chinese 404 page, audited — never "not pending"
    except DomainError as e:
        messages.error(request, e.message)
    return redirect("web:changes")


@login_required
@require_POST
def household_assign(request: HttpRequest, household_id: int) -> HttpResponse:
    """指定包户干部 / 帮扶责任人 (township or county)."""
    user = request.user
    on = today()
    _visible_or_404(user, household_id, on)
    hh = registry_selectors.household_get(actor=user, household_id=household_id)
    chosen = next(
        (u for u in assignable_users(actor=user, household=hh) if str(u.pk) == request.POST.get("user")), None
    )
    try:
        if chosen is None:
            raise DomainError("assignee_unknown", "请选择本村范围内的人员")
        assignment_set(actor=user, household=hh, user=chosen, kind=request.POST.get("kind", "helper"), on=on)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"已指定{chosen}")
    return redirect("web:household", household_id=household_id)


@login_required
def household_findings(request: HttpRequest, household_id: int) -> HttpResponse:
    """The 逻辑校验 section of the household file, loaded by htmx after the page (the rules take longest)."""
    user = request.user
    on = today()
    _visible_or_404(user, household_id, on)
    hh = registry_selectors.household_get(actor=user, household_id=household_id)
    return render(
        request,
        "web/households/_findings.html",
        {"hh": hh, "findings": household_findings_cached(hh, on=on), "can_edit": user.can(Cap.REGISTRY_EDIT)},
    )
