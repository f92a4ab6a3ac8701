"""Huey tasks: a screening run in the background (progress on the run row), the outcome sync."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def screening_run_task(run_id: int) -> int:
    from .services.runs import screening_run_execute

    return screening_run_execute(run_id).pk


@db_periodic_task(crontab(minute="15", hour="*/6"))
def screening_outcomes_sync_task() -> dict:
    from .services.reviews import screening_outcomes_sync

    return screening_outcomes_sync()
