"""数据导入: upload a national export, see its validation row by row (a dry run), confirm, follow the
background job's progress (htmx polls the batch's progress record), download the reject report.

All work is the registry's (the API calls the same): ``import_upload_check`` (dry run, in the request: it
writes nothing) / ``import_confirm_queue`` (confirm + the Huey task for the real import) /
``import_report_open`` (the audited reject report)."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.core.errors import DomainError, NotFound
from fangpin.core.uploads import upload_read
from fangpin.registry.models import ImportStatus
from fangpin.registry.selectors import import_batch_get, import_batch_list
from fangpin.registry.services.import_mapping import (
    batch_file,
    import_batch_remap,
    import_mapping_save,
    mapping_question,
)
from fangpin.registry.services.imports import (
    import_batch_run,
    import_confirm_queue,
    import_report_open,
    import_upload_check,
)

from ._common import today

RUNNING = {ImportStatus.PENDING, ImportStatus.VALIDATING}


@login_required
def imports_home(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_IMPORT)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            year = int(request.POST.get("income_year") or today().year - 1)
        except ValueError:
            year = today().year - 1
        if upload is None:
            error = "请选择要上传的文件（国家系统导出的 xlsx 或 csv）"
        else:
            try:
                batch = import_upload_check(  # validation only, writes nothing
                    actor=request.user,
                    file_name=upload.name,
                    data=upload_read(upload, actor=request.user, entry="registry.import"),
                    income_year=year,
                    on=today(),
                )
            except DomainError as e:
                error = e.message
            else:
                if batch.status == ImportStatus.MAPPING:
                    return redirect("web:import_mapping", batch_id=batch.pk)
                return redirect("web:import_batch", batch_id=batch.pk)
    ctx = {
        "batches": import_batch_list(actor=request.user)[:30],
        "error": error,
        "default_year": today().year - 1,
    }
    return render(request, "web/imports/home.html", ctx, status=400 if error else 200)


def _batch(request: HttpRequest, batch_id: int):
    require(request.user, Cap.REGISTRY_IMPORT)
    return import_batch_get(actor=request.user, batch_id=batch_id)


@login_required
def import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    rejects = Paginator(batch.rejects.all(), 100).get_page(request.GET.get("page"))
    ctx = {
        "b": batch,
        "rejects": rejects,
        "running": batch.status in RUNNING,
        "can_confirm": batch.dry_run
        and batch.status == ImportStatus.CHECKED
        and not batch.confirmed_batch_id,
    }
    return render(request, "web/imports/batch.html", ctx)


@login_required
def import_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The progress fragment htmx polls every second while the job runs (stops polling when done)."""
    batch = _batch(request, batch_id)
    resp = render(request, "web/imports/_progress.html", {"b": batch, "running": batch.status in RUNNING})
    if batch.status not in RUNNING and request.headers.get("HX-Request"):
        resp["HX-Refresh"] = "true"  # the job ended: reload once to show its results
    return resp


@login_required
@require_POST
def import_confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    _batch(request, batch_id)
    try:  # Huey: the real import is queued (immediate mode in tests)
        batch = import_confirm_queue(actor=request.user, batch_id=batch_id, on=today())
    except DomainError as e:
        from ._common import refused_page

        return refused_page(request, e)
    return redirect("web:import_batch", batch_id=batch.pk)


@login_required
def import_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The reject report (the original rows + 错误原因), private to the uploader; decrypted for the
    download (kept SM4-GCM at rest), checked against its SHA-256, audited."""
    _batch(request, batch_id)
    try:
        fh, name = import_report_open(actor=request.user, batch_id=batch_id)
    except NotFound as e:
        raise Http404("没有错误报告") from e
    except DomainError as e:
        return render(request, "web/_refused.html", {"message": e.message}, status=409)
    resp = FileResponse(fh, as_attachment=True, filename=name)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return resp


def _answers(request: HttpRequest) -> dict[str, str]:
    """The form's answers: ``h-<i>`` is the file header, ``map-<i>`` its column key ("" = 不导入, "?" =
    not chosen yet)."""
    out = {}
    for k, header in request.POST.items():
        if k.startswith("h-"):
            v = request.POST.get("map-" + k[2:], "?")
            if v != "?":
                out[header] = v
    return out


@login_required
def import_mapping(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The mapping question of a batch whose headers are not all known: each unknown header → a national
    column or 不导入, the missing required columns, and the first rows as parsed with the proposal (htmx
    re-renders the preview on every change). Saving stores the answer for this header layout, then checks
    the same file again as a new batch."""
    batch = _batch(request, batch_id)
    if batch.status != ImportStatus.MAPPING or (batch.details or {}).get("remapped_batch"):
        return redirect("web:import_batch", batch_id=batch.pk)
    try:
        data = batch_file(actor=request.user, batch=batch)
    except DomainError as e:
        from ._common import refused_page

        return refused_page(request, e)
    answers = _answers(request) if request.method == "POST" else {}
    errors: dict[str, str] = {}
    on = today()
    if request.method == "POST" and request.POST.get("action") == "save":
        chosen = {h: v for h, v in answers.items()}
        unanswered = [
            request.POST[k] for k in request.POST if k.startswith("h-") and request.POST[k] not in chosen
        ]
        try:
            if unanswered:
                raise DomainError(
                    "import_mapping",
                    f"请为表头“{unanswered[0]}”选择对应的列（或“不导入”）",
                    field=unanswered[0],
                )
            import_mapping_save(
                actor=request.user,
                file_name=batch.file_name,
                data=data,
                answers=chosen,
                on=on,
                kind=batch.kind,
            )
        except DomainError as e:
            errors[e.field or "general"] = e.message
        else:
            new = import_batch_remap(actor=request.user, batch_id=batch.pk, on=on)
            import_batch_run(batch_id=new.pk, actor=request.user, on=on)
            return redirect("web:import_batch", batch_id=new.pk)
    q = mapping_question(
        actor=request.user, file_name=batch.file_name, data=data, answers=answers, on=on, kind=batch.kind
    )
    for u in q["unknown"]:
        u["error"] = errors.get(u["header"], "")
    ctx = {
        "b": batch,
        "q": q,
        "errors": errors,
        "general_error": errors.get("general") or errors.get("answers"),
    }
    if request.headers.get("HX-Request") and request.POST.get("action") == "preview":
        return render(request, "web/imports/_mapping_preview.html", ctx)
    return render(request, "web/imports/mapping.html", ctx, status=400 if errors else 200)
