"""部门筛查: department officers upload their files (the header-mapping question and a preview of the
first rows as parsed, then the upload) and see their batches; the county starts a run, follows its progress
(htmx polls the run's progress record), reviews the hits with their evidence and match probability, and
works the link-review queue. All through ``fangpin.screening`` services and selectors."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Cap
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.core.uploads import upload_read
from fangpin.screening import selectors as sel
from fangpin.screening.pending import E_SUFFIX, default_behalf, pending_path, pending_store
from fangpin.screening.services.reviews import link_review_decide
from fangpin.screening.services.runs import screening_run_start
from fangpin.screening.services.uploads import dept_batch_upload, dept_mapping_preview, dept_mapping_save
from fangpin.screening.sources import source_get

from ._common import refused_page, today


def _can_upload(user) -> bool:
    return bool(sel.upload_kinds(actor=user))


def _pending_path(user, token: str) -> Path:
    try:
        return pending_path(actor=user, token=token)
    except NotFound as e:
        raise Http404("上传文件已过期，请重新选择文件") from e


@login_required
def screening_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (_can_upload(user) or user.can(Cap.SCREEN_RUN)):
        raise PermissionDenied("无权使用部门筛查")
    on = today()
    error = None
    if request.method == "POST" and _can_upload(user):
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise DomainError(E_SUFFIX, "请选择部门数据文件（xlsx 或 csv）", field="file")
            data = upload_read(upload, actor=user, entry="screening.upload")
            token = pending_store(actor=user, file_name=upload.name, data=data)
        except DomainError as e:
            error = e.message
        else:
            from urllib.parse import urlencode

            q = urlencode(
                {
                    "kind": request.POST.get("kind", ""),
                    "period": request.POST.get("period", ""),
                    "name": upload.name,
                    "behalf": request.POST.get("behalf", ""),
                }
            )
            return redirect(f"/screening/upload/{token}/?{q}")
    runs = sel.run_list(actor=user)[:10] if user.can(Cap.SCREEN_RUN) else []
    ctx = {
        "kinds": sel.upload_kinds(actor=user),
        "batches": sel.batch_list(actor=user).order_by("-id")[:30],
        "runs": runs,
        "can_run": user.can(Cap.SCREEN_RUN),
        "reviews": len(sel.link_review_queue(actor=user)) if user.can(Cap.SCREEN_RUN) else 0,
        "default_period": f"{on:%Y-%m}",
        "on_behalf": user.role == "county_admin",
        "departments": sorted(
            {d for k, _t in sel.upload_kinds(actor=user) for d in source_get(k).departments}
        ),
        "error": error,
    }
    return render(request, "web/screening/home.html", ctx, status=400 if error else 200)


@login_required
def upload_preview(request: HttpRequest, token: str) -> HttpResponse:
    """The mapping step: headers as read (with the department's saved mapping), the question if a column
    is not recognised, the first rows as parsed; answering saves the mapping; confirming uploads."""
    user = request.user
    path = _pending_path(user, token)
    kind = request.GET.get("kind") or request.POST.get("kind", "")
    period = request.GET.get("period") or request.POST.get("period", "")
    name = (request.GET.get("name") or request.POST.get("name") or path.name)[:200]
    behalf = default_behalf(user, kind, request.GET.get("behalf") or request.POST.get("behalf"))
    error = None
    try:
        spec = source_get(kind)
        if request.method == "POST" and request.POST.get("action") == "map":
            answer = {
                c.name: request.POST.get(f"map_{c.name}", "")
                for c in spec.columns
                if f"map_{c.name}" in request.POST
            }
            answer = {k: v for k, v in answer.items() if v}
            if answer:
                dept_mapping_save(
                    actor=user, kind=kind, columns=answer, path=path, on_behalf_of=behalf, on=today()
                )
                messages.success(request, "已保存本部门的表头对应关系，下次上传同样格式的文件不再询问")
        elif request.method == "POST" and request.POST.get("action") == "upload":
            batch = dept_batch_upload(
                actor=user,
                kind=kind,
                path=path,
                period=period,
                filename=name,
                on_behalf_of=behalf,
                on=today(),
            )
            path.unlink(missing_ok=True)
            return redirect("web:dept_batch", batch_id=batch.pk)
        preview = dept_mapping_preview(actor=user, kind=kind, path=path, on_behalf_of=behalf, on=today())
    except DomainError as e:
        if e.code == "permission_denied":
            raise
        error, preview = e.message, None
        try:
            preview = dept_mapping_preview(actor=user, kind=kind, path=path, on_behalf_of=behalf, on=today())
        except DomainError:
            preview = None
    ctx = {
        "token": token,
        "kind": kind,
        "period": period,
        "name": name,
        "behalf": behalf or "",
        "p": preview,
        "error": error,
    }
    return render(
        request, "web/screening/preview.html", ctx, status=400 if error and preview is None else 200
    )


@login_required
def dept_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    b = sel.batch_get(actor=request.user, batch_id=batch_id)
    issues = Paginator(b.issues.all().order_by("row", "id"), 100).get_page(request.GET.get("page"))
    return render(
        request, "web/screening/batch.html", {"b": b, "issues": issues, "title": source_get(b.kind).title}
    )


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    try:
        run = screening_run_start(
            actor=request.user, month=request.POST.get("month", ""), background=True, on=today()
        )
    except DomainError as e:
        return refused_page(request, e)
    return redirect("web:screening_run", run_id=run.pk)


def _run_ctx(request: HttpRequest, run_id: int) -> dict:
    run = sel.run_get(actor=request.user, run_id=run_id)
    return {"run": run, "running": run.status in ("queued", "running")}


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    ctx = _run_ctx(request, run_id)
    hits = sel.hit_list(actor=request.user, run_id=run_id).order_by("-match_probability", "id")
    if request.GET.get("consent") == "missing":
        hits = hits.filter(consent_missing=True)
    ctx["hits"] = Paginator(hits, 50).get_page(request.GET.get("page"))
    ctx["leads_total"] = sum((ctx["run"].counts or {}).get("leads_per_rule", {}).values())
    return render(request, "web/screening/run.html", ctx)


@login_required
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    ctx = _run_ctx(request, run_id)
    resp = render(request, "web/screening/_run_progress.html", ctx)
    if not ctx["running"] and request.headers.get("HX-Request"):
        resp["HX-Refresh"] = "true"
    return resp


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    if not request.user.can(Cap.REGISTRY_EDIT):
        raise PermissionDenied("无权处理疑似匹配")
    if request.method == "POST":
        try:
            link_review_decide(
                actor=request.user,
                review_id=int(request.POST.get("review_id") or 0),
                accept=request.POST.get("decision") == "accept",
                note=request.POST.get("note", "")[:200],
            )
        except (DomainError, ValueError) as e:
            messages.error(request, getattr(e, "message", "处理失败"))
        else:
            messages.success(request, "已处理")
        return redirect("web:screening_reviews")
    return render(request, "web/screening/reviews.html", {"queue": sel.link_review_queue(actor=request.user)})
