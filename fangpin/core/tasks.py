"""Periodic job of the core part: the retention purge of files holding personal data (core.retention)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangpin.accounts.actors import system_actor
from fangpin.core import clock

from .retention import retention_purge


@db_periodic_task(crontab(hour="2", minute="40"))
def retention_periodic() -> dict:
    return retention_purge(actor=system_actor("retention_purge"), on=clock.today()).as_dict()
