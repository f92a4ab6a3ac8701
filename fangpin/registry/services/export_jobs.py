"""Export jobs (下载中心, ``registry.models.ExportJob``): the same export as the synchronous one
(``registry.io.export.registry_export``: the same filter, columns, masking and ``registry.export`` audit event
with rows and SHA-256, INT-02), written by a Huey job when the filtered list has more than
``registry.export.job_rows`` rows (persons), so no web request builds a large workbook.

- **At rest** the workbook is SM4-GCM in chunks (``core.sealed_files``, over ``core.crypto.seal_stream``; the
  import reject reports use the same helper); the clear file exists only in a private temporary directory
  while the job writes it, and while a fetch streams it (unlinked at once, the open handle keeps it).
- **Access**: a job is its requester's only: anyone else (the county administrator included) gets the same
  404 as for a job that does not exist, audited as ``access.refused``. The job re-runs the filter *as the
  requester* when it runs, so the region scope applies then too.
- **Fetch**: decrypted, checked against the recorded SHA-256 (a swapped or altered file is refused), audited
  as ``registry.export_download`` (job, rows, SHA-256).
- **Retention**: the file is deleted ``security.retention.export_days`` after the job finished
  (``core.retention.retention_purge``); the job row stays (who, when, filter, rows, digest) as ``purged``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core import crypto, sealed_files
from fangpin.core.errors import DomainError, NotFound, PermissionDenied
from fangpin.registry.models import ExportJob, ExportJobStatus, Person

JOB_ROWS = "registry.export.job_rows"
DEFAULT_JOB_ROWS = 2000  # used where the parameter is not installed yet (``params_defaults``)
E_NOT_READY = "export_job_conflict"  # 409 in the API (not ready, purged, failed)
STALE_MINUTES = "registry.export.stale_minutes"
DEFAULT_STALE_MINUTES = 30  # used where the parameter is not installed yet


def exports_dir() -> Path:
    return Path(settings.FANGPIN_FILES_DIR) / "exports"


def export_job_rows(*, on: dt.date, region_code: str = "") -> int:
    """The row count (persons) above which an export runs as a job (policy parameter
    ``registry.export.job_rows``), as set for ``region_code`` (the exported area or the requester's own: a
    county's or province's value wins over the national default, as for every parameter)."""
    from fangpin.policy.params import param_value

    try:
        return int(param_value(JOB_ROWS, region_code=region_code or "", year=on.year))
    except DomainError:
        return DEFAULT_JOB_ROWS


def export_estimate(households: QuerySet) -> int:
    """The rows an export of these households (a queryset of households or their ids) will have: the current
    members of its active households (one COUNT)."""
    ids = households.order_by().values("pk")
    return Person.objects.filter(household_id__in=ids, household__status="active", is_member=True).count()


def export_targets(households: QuerySet, *, limit: int) -> tuple[int, list[int] | QuerySet]:
    """(``export_estimate``, what to hand ``registry_export`` as ``households``) of a filtered list, its
    filter run once: the ids of at most ``limit`` + 1 households are read, the members counted over those
    ids, and the export reads the same ids — the browser's and the API's synchronous export no longer run
    the search twice (in the COUNT, then again under the export's household query). More than ``limit``
    households: the count and the export over the filter as before (a job, almost always). The count is
    ``export_estimate``'s: current members of the active ones among them."""
    found = list(households.order_by().values_list("pk", "status")[: limit + 1])
    if len(found) > limit:
        return export_estimate(households), households.order_by().values("pk")
    ids = [pk for pk, _ in found]
    active = [pk for pk, status in found if status == "active"]
    if not active:
        return 0, ids
    # no join: the households' status is read with their ids, so the COUNT walks the members' index only
    return Person.objects.filter(household_id__in=active, is_member=True).count(), ids


def export_job_create(
    *,
    actor,
    on: dt.date,
    filters: dict[str, str],
    region_code: str | None = None,
    unmasked: bool = False,
    kind: str = "registry",
    income_year: int | None = None,
    estimated_rows: int = 0,
    via: str = "web",
    queue: bool = True,
) -> ExportJob:
    """Queue an export of the list ``filters`` (``HouseholdFilter.as_params()``) as of ``on``; audited as
    ``registry.export_job``. The rights are checked now (and again by the export when the job runs).
    ``queue=False``: not handed to Huey (the caller runs ``export_job_run`` itself, e.g. the CLI's ``--run``)."""
    require(actor, Cap.REGISTRY_EXPORT)
    if unmasked and not actor.can(Cap.EXPORT_UNMASKED):
        raise PermissionDenied("无权导出明文身份证号和电话，请申请脱敏导出")
    with transaction.atomic():
        job = ExportJob.objects.create(
            created_by=actor,
            on=on,
            kind=kind,
            region_code=region_code or "",
            unmasked=unmasked,
            income_year=income_year,
            filters=dict(filters),
            estimated_rows=estimated_rows,
            file_name=f"户档案导出_{on:%Y%m%d}_{{id}}.xlsx",
        )
        job.file_name = job.file_name.replace("{id}", str(job.pk))
        job.save(update_fields=["file_name"])
        audit_record(
            actor=actor,
            event_type="registry.export_job",
            obj=job,
            region_code=region_code or actor.region_id or "",
            data={
                "filters": job.filters,
                "estimated_rows": estimated_rows,
                "masked": not unmasked,
                "via": via,
            },
        )
        if queue:
            from fangpin.registry.tasks import export_job_task

            transaction.on_commit(lambda: export_job_task(job.pk))
    return job


def export_job_run(job_id: int) -> ExportJob:
    """Write the job's workbook (the synchronous export's service, as its requester) and keep it encrypted."""
    from fangpin.policy.params import param_cache
    from fangpin.registry import hooks
    from fangpin.registry.io.export import registry_export

    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.QUEUED).update(
        status=ExportJobStatus.RUNNING, started_at=timezone.now()
    )
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job  # run once (a re-delivered queue entry, or a second runner, does nothing)
    actor = job.created_by
    sealed = exports_dir() / f"{job.pk}-{secrets.token_hex(8)}.xlsx{sealed_files.SUFFIX}"
    try:
        # the parameters read once for the job, as a web request reads them (``policy.params.param_cache``:
        # the process's values while no parameter row changed), not 8 statements for each village
        with param_cache():
            qs, _ = hooks.monitoring().household_search(
                actor=actor, params=job.filters, on=job.on, gate=False
            )
            with sealed_files.sealed_output(sealed, name=job.file_name) as out:
                res = registry_export(
                    actor=actor,
                    out_path=out.path,
                    on=job.on,
                    region_code=job.region_code or None,
                    unmasked=job.unmasked,
                    kind=job.kind,
                    income_year=job.income_year,
                    households=qs.order_by().values("pk"),
                    filters={**job.filters, "job": str(job.pk)},
                )
    except (DomainError, OSError) as e:
        job.status, job.finished_at = ExportJobStatus.FAILED, timezone.now()
        job.message = (getattr(e, "message", "") or "导出失败，请重新提交")[:500]
        job.save(update_fields=["status", "finished_at", "message"])
        audit_record(actor=actor, event_type="registry.export_job", obj=job, result="failed",
                     reason=job.message)  # fmt: skip
        return job
    job.status, job.finished_at = ExportJobStatus.DONE, timezone.now()
    job.rows, job.households, job.sha256 = res.rows, res.households, res.sha256
    job.file_path, job.size = str(sealed.relative_to(Path(settings.FANGPIN_FILES_DIR))), out.size
    job.message = f"已生成{res.rows}行（{res.households}户）"
    fields = ["status", "finished_at", "rows", "households", "sha256", "file_path", "size", "message"]
    if not ExportJob.objects.filter(pk=job.pk, status=ExportJobStatus.RUNNING).update(
        **{f: getattr(job, f) for f in fields}
    ):  # the sweep gave it up meanwhile (``export_job_sweep``): its answer stands, the file goes
        sealed.unlink(missing_ok=True)
        job.refresh_from_db()
    return job


def export_job_stale_minutes(*, on: dt.date) -> int:
    """Minutes after which a queued or running job counts as abandoned (``registry.export.stale_minutes``)."""
    from fangpin.policy.params import param_value

    try:
        return int(param_value(STALE_MINUTES, region_code="", year=on.year))
    except DomainError:
        return DEFAULT_STALE_MINUTES


def export_job_sweep(*, actor, now: dt.datetime, minutes: int | None = None) -> list[int]:
    """Gives up the jobs whose consumer died: queued (since it was submitted) or running (since it started)
    for more than ``minutes`` (default ``registry.export.stale_minutes``, 30) before ``now``. Each is marked
    failed with a Chinese reason the 下载中心 shows and audited (``registry.export_job``, failed, ``swept``);
    a consumer that delivers it later does nothing (``export_job_run`` claims queued jobs only) and a run
    that finishes after the sweep discards its file. Returns the ids given up."""
    from django.db.models import Q

    if actor is None:
        raise TypeError("export_job_sweep needs an actor (system_actor for the job)")
    minutes = minutes or export_job_stale_minutes(on=timezone.localdate(now))
    if minutes < 1:
        raise DomainError("invalid", "分钟数须为正整数", field="minutes")
    cut = now - dt.timedelta(minutes=minutes)
    stale = ExportJob.objects.filter(
        Q(status=ExportJobStatus.QUEUED, created_at__lt=cut)
        | Q(status=ExportJobStatus.RUNNING, started_at__lt=cut)
    )
    swept = []
    for job in stale.order_by("id"):
        what = "排队" if job.status == ExportJobStatus.QUEUED else "生成"
        reason = f"导出任务{what}超过{minutes}分钟未完成（后台任务可能已中断），已标记为失败，请重新导出"
        with transaction.atomic():
            if not ExportJob.objects.filter(pk=job.pk, status=job.status).update(
                status=ExportJobStatus.FAILED, finished_at=now, message=reason
            ):
                continue  # it moved on meanwhile
            audit_record(actor=actor, event_type="registry.export_job", obj=job, result="failed", reason=reason,
                         region_code=job.region_code or "", data={"swept": True, "was": job.status, "minutes": minutes})  # fmt: skip
        swept.append(job.pk)
    return swept


def export_job_get(*, actor, job_id: int) -> ExportJob:
    """The job, for its requester only; anyone else gets the 404 of a missing job, audited."""
    from fangpin.accounts.access import access_refused_record

    job = ExportJob.objects.filter(pk=job_id, created_by_id=getattr(actor, "pk", None)).first()
    if job is None:
        access_refused_record(actor, ExportJob, job_id, what="导出任务")
        raise NotFound("导出任务")
    return job


def export_job_list(*, actor, limit: int = 50) -> list[ExportJob]:
    """The requester's own jobs, newest first (下载中心)."""
    return list(ExportJob.objects.filter(created_by_id=actor.pk).order_by("-created_at", "-id")[:limit])


def export_job_open(*, actor, job_id: int) -> tuple[ExportJob, BinaryIO]:
    """The finished workbook, decrypted into an unlinked temporary file (the handle is the only way to it),
    checked against the recorded SHA-256 and audited as ``registry.export_download``."""
    job = export_job_get(actor=actor, job_id=job_id)
    if job.status != ExportJobStatus.DONE or not job.file_path:
        reason = {ExportJobStatus.PURGED: "导出文件已过保留期限被删除，请重新导出",
                  ExportJobStatus.FAILED: "导出失败，请重新导出"}.get(job.status, "导出文件尚未生成，请稍候")  # fmt: skip
        raise DomainError(E_NOT_READY, reason)
    try:
        fh = sealed_files.sealed_open(Path(settings.FANGPIN_FILES_DIR) / job.file_path, sha256=job.sha256)
    except sealed_files.DigestMismatch:
        audit_record(actor=actor, event_type="registry.export_download", obj=job, result="failed",
                     reason="导出文件与记录的SHA-256不符")  # fmt: skip
        raise DomainError(E_NOT_READY, "导出文件校验不通过，请重新导出") from None
    except (OSError, crypto.DecryptionError, crypto.MissingKeyError):
        audit_record(actor=actor, event_type="registry.export_download", obj=job, result="failed",
                     reason="导出文件无法解密或已损坏")  # fmt: skip
        raise DomainError(E_NOT_READY, "导出文件已损坏，请重新导出") from None
    ExportJob.objects.filter(pk=job.pk).update(downloads=job.downloads + 1)
    audit_record(
        actor=actor,
        event_type="registry.export_download",
        obj=job,
        region_code=job.region_code or actor.region_id or "",
        data={"job": job.pk, "rows": job.rows, "households": job.households, "sha256": job.sha256,
              "masked": not job.unmasked},
    )  # fmt: skip
    return job, fh
