"""Periodic jobs of the core part: the retention purge of files holding personal data (core.retention), the
weekly restore drill (core.drill) and the nightly integrity verify of decision records (core.integrity).
Each is audited."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone
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


def run_integrity_verify(*, trigger: str = "command", models_=None, checkpoint: bool = False):
    """``integrity_verify`` plus the deleted-row check against the checkpoint file (``core.seal_checkpoint``),
    audited as ``core.integrity_verify`` (the rows that fail named in the event). ``checkpoint``: after a clean
    run over every sealed table, anchor the ids not anchored yet in a new signed line."""
    from fangpin.audit.record import audit_record

    from .integrity import integrity_verify
    from .seal_checkpoint import checkpoint_append, checkpoint_check

    res = integrity_verify(models_)
    cp = checkpoint_check(models_)
    res.tampered.extend(cp.deleted)
    res.checkpoint_problems, res.checkpoint_lines = cp.problems, cp.lines
    if checkpoint and models_ is None and res.ok:
        res.checkpoint_written = checkpoint_append(cp.new_runs, at=timezone.now())
    failed = len(res.tampered) + len(cp.problems)
    reason = "；".join(([f"{len(res.tampered)}条记录校验不通过"] if res.tampered else []) + cp.problems)
    audit_record(actor=system_actor("integrity_verify"), event_type="core.integrity_verify",
                 result="ok" if res.ok else "refused", reason=reason[:500],
                 data={"checked": res.checked, "failed": failed, "trigger": trigger,
                       "deleted": sum(1 for t in cp.deleted if t.pk is not None),
                       "checkpoint": {"lines": cp.lines, "problems": cp.problems[:10],
                                      "written": res.checkpoint_written},
                       "rows": [[t.model, t.pk] for t in res.tampered[:50]]})  # fmt: skip
    return res


@db_periodic_task(crontab(hour="3", minute="50"))
def integrity_verify_periodic() -> dict:
    """Nightly: every decision record's seal recomputed; a failure is an audit event (and the self-check's)."""
    res = run_integrity_verify(trigger="schedule", checkpoint=True)
    return {"ok": res.ok, "checked": res.checked, "failed": len(res.tampered),
            "checkpoint_written": res.checkpoint_written}  # fmt: skip
