"""Periodic jobs of the core part: the retention purge of files holding personal data (core.retention), the
weekly restore drill (core.drill) and the nightly integrity verify of decision records (core.integrity).
Each is audited."""

from __future__ import annotations

from pathlib import Path

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fangpin.accounts.actors import system_actor
from fangpin.core import clock

from .retention import retention_purge


@db_periodic_task(crontab(hour="2", minute="40"))
def retention_periodic() -> dict:
    return retention_purge(actor=system_actor("retention_purge"), on=clock.today()).as_dict()


def run_restore_drill(*, workdir: Path | str | None = None, keep: bool = False, trigger: str = "command"):
    """One drill (``core.drill.restore_drill``), audited as ``core.restore_drill`` in the source database
    whatever its outcome: ok, refused (the copy differs), or failed (the backup or restore itself failed,
    then the DomainError propagates)."""
    from fangpin.audit.record import audit_record

    from .drill import restore_drill
    from .errors import DomainError

    actor = system_actor("restore_drill")
    try:
        res = restore_drill(workdir, keep=keep)
    except DomainError as e:
        audit_record(actor=actor, event_type="core.restore_drill", result="failed", reason=e.message[:500],
                     data={"trigger": trigger})  # fmt: skip
        raise
    audit_record(actor=actor, event_type="core.restore_drill", result="ok" if res.ok else "refused",
                 reason="；".join(res.problems())[:500], data={**res.as_audit_data(), "trigger": trigger})  # fmt: skip
    return res


@db_periodic_task(crontab(day_of_week="0", hour="3", minute="20"))
def restore_drill_periodic() -> dict:
    """Sundays 03:20: backup → restore into a scratch database → compare → verify (BAK-02). Weekly, so one
    failed run still leaves a successful drill within the 31 days the 等保 self-check asks for."""
    res = run_restore_drill(trigger="schedule")
    return {"ok": res.ok, **res.as_audit_data()}


def run_integrity_verify(*, trigger: str = "command", models_=None):
    """``integrity_verify`` audited as ``core.integrity_verify`` (the rows that fail named in the event)."""
    from fangpin.audit.record import audit_record

    from .integrity import integrity_verify

    res = integrity_verify(models_)
    audit_record(actor=system_actor("integrity_verify"), event_type="core.integrity_verify",
                 result="ok" if res.ok else "refused",
                 reason="" if res.ok else f"{len(res.tampered)}条记录校验不通过",
                 data={"checked": res.checked, "failed": len(res.tampered), "trigger": trigger,
                       "rows": [[t.model, t.pk] for t in res.tampered[:50]]})  # fmt: skip
    return res


@db_periodic_task(crontab(hour="3", minute="50"))
def integrity_verify_periodic() -> dict:
    """Nightly: every decision record's seal recomputed; a failure is an audit event (and the self-check's)."""
    res = run_integrity_verify(trigger="schedule")
    return {"ok": res.ok, "checked": res.checked, "failed": len(res.tampered)}
