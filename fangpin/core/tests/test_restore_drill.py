"""BAK-02: the restore drill (command and weekly Huey job) backs up, restores into a scratch database,
compares every table and verifies the audit chain and the decision records' seals *on the copy*; its result
is an audit event the 等保 self-check dates."""

from __future__ import annotations

import json
import sqlite3

import pytest
from django.db import connection

from fangpin.core.tests.test_backup import SEED, _manage


def _events(db, n: int = 1) -> list[tuple]:
    with sqlite3.connect(db) as s:
        return s.execute(
            "SELECT event_type, result, data, reason FROM audit_auditevent ORDER BY seq DESC LIMIT ?", [n]
        ).fetchall()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite run")
def test_sqlite_drill_command_and_job_and_a_tampered_copy(tmp_path):
    src, work = tmp_path / "src.sqlite3", tmp_path / "drills"
    for args in (("migrate", "-v0"), ("python", SEED)):
        r = _manage(*args, db=src, tmp=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    r = _manage("restore_drill", "--workdir", str(work), db=src, tmp=tmp_path)
    assert r.returncode == 0 and "恢复演练通过" in r.stdout and "审计哈希链完整" in r.stdout, r.stderr[-2000:]
    kind, result, data, _ = _events(src)[0]
    data = json.loads(data)
    assert (kind, result) == ("core.restore_drill", "ok") and data["trigger"] == "command"
    assert data["sealed_rows"] >= 1 and data["integrity_failed"] == 0 and data["tables"] > 20
    assert list(work.iterdir()) == []  # the drill's backup and scratch copy are gone
    # the weekly job: the same drill through Huey's task object
    job = "import django; django.setup()\nfrom fangpin.core.tasks import restore_drill_periodic\nprint(restore_drill_periodic.call_local())"
    r = _manage("python", job, db=src, tmp=tmp_path)
    assert r.returncode == 0 and "'ok': True" in r.stdout, r.stderr[-2000:]
    assert json.loads(_events(src)[0][2])["trigger"] == "schedule"
    # an income figure changed behind the application travels into the backup: the drill fails on the copy
    with sqlite3.connect(src) as s:
        s.execute("UPDATE registry_incomerecord SET wage = 99999")
    r = _manage("restore_drill", "--keep", "--workdir", str(work), db=src, tmp=tmp_path)
    assert r.returncode != 0 and "校验码不符" in r.stderr and "收入记录" in r.stderr
    kind, result, data, reason = _events(src)[0]
    assert (kind, result) == ("core.restore_drill", "refused") and "收入记录" in reason
    assert json.loads(data)["integrity_failed"] == 1
    assert len(list(work.glob("*.bak"))) == 1  # --keep keeps the backup file, not the scratch copy
    assert not list(work.glob("*.sqlite3"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL run")
def test_postgresql_drill_restores_into_a_scratch_database_and_drops_it(db):
    import psycopg

    from fangpin.audit.models import AuditEvent
    from fangpin.core.backup import connection_url
    from fangpin.core.tasks import run_restore_drill

    res = run_restore_drill()
    assert res.ok, res.problems()
    assert res.engine == "postgresql" and res.tables > 20 and res.pending == []
    ev = AuditEvent.objects.filter(event_type="core.restore_drill").latest("seq")
    assert ev.result == "ok" and ev.data["rto_seconds"] >= 0
    admin = connection_url().rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin) as c:
        left = c.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                         [connection.settings_dict["NAME"] + "_drill_%"]).fetchall()  # fmt: skip
    assert left == []
