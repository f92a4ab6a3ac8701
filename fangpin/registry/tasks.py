"""Background jobs of the registry (Huey). They call the same services as the CLI."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def import_batch_task(batch_id: int, user_id: int, on: str | None = None) -> dict:
    """Run an import batch created by ``import_batch_create`` (large files do not block a web request), as
    of the business date ``on`` (ISO date) the caller confirmed it on; a job queued without one (an older
    queue entry) acts on the day it runs."""
    import datetime as dt

    from fangpin.accounts.models import User
    from fangpin.core import clock
    from fangpin.registry.services.imports import import_batch_run

    actor = User.objects.get(pk=user_id)
    day = dt.date.fromisoformat(on) if on else clock.today()
    batch = import_batch_run(batch_id=batch_id, actor=actor, on=day)
    return {"batch": batch.pk, "status": batch.status, "created": batch.created, "rejected": batch.rejected}


@db_periodic_task(crontab(hour="0", minute="40"))
def household_flags_nightly() -> int:
    """The household list's flags for the new day (``registry.flags``), so its first list is fast."""
    from fangpin.accounts.actors import system_actor
    from fangpin.core import clock
    from fangpin.registry.flags import household_flags_rebuild

    return household_flags_rebuild(actor=system_actor("flags_nightly"), on=clock.today())


@db_task()
def household_flags_refresh_task() -> int:
    """The household list's dirty flags, recomputed off the request (``registry.flags``: queued when a
    change commits; the lists say meanwhile how many households are being updated)."""
    from fangpin.core import clock
    from fangpin.registry.flags import household_flags_refresh_dirty

    return household_flags_refresh_dirty(on=clock.today())


@db_task()
def export_job_task(job_id: int) -> dict:
    """Write a queued export (``registry.services.export_jobs``): large lists do not block a web request."""
    from fangpin.registry.services.export_jobs import export_job_run

    job = export_job_run(job_id)
    return {"job": job.pk, "status": job.status, "rows": job.rows}


@db_periodic_task(crontab(minute="*/10"))
def export_jobs_sweep_periodic() -> list[int]:
    """Export jobs whose consumer died (queued or running beyond ``registry.export.stale_minutes``) are
    marked failed with a Chinese reason instead of staying 排队中 for ever (``export_job_sweep``)."""
    from django.utils import timezone

    from fangpin.accounts.actors import system_actor
    from fangpin.registry.services.export_jobs import export_job_sweep

    return export_job_sweep(actor=system_actor("export_jobs_sweep"), now=timezone.now())
