"""Periodic job of the audit part: anchor the chain head outside the table."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .checkpoint import checkpoint_write


@db_periodic_task(crontab(minute="*/10"))
def audit_checkpoint_periodic() -> int:
    cp = checkpoint_write()
    return cp.seq if cp else 0
