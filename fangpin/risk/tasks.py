"""Huey: scoring the whole county in the background (``fangpin risk_score --background``; progress on the
``RiskScoreJob`` row, ``fangpin risk_score --job ID``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task


@db_task()
def risk_score_task(job_id: int) -> int:
    from .services import risk_score_job_run

    return risk_score_job_run(job_id).households
