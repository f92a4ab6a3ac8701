"""The restore drill (BAK-02, 等保 8.1.4.9; docs/howto/backup-and-restore-drill.md): take a backup, restore it
into a scratch database, and prove the copy is usable.

One drill (``restore_drill``):

1. ``backup_create`` into a work folder (encrypted, with its manifest: per-table row counts and content hashes);
2. ``backup_restore`` into a scratch database — SQLite: a new file beside the backup; PostgreSQL: a new
   database ``<name>_drill_<random>`` on the same server (the role needs CREATEDB; ``FANGPIN_DRILL_ADMIN_URL``
   names another server or role), dropped afterwards;
3. compares every table with the manifest (``fingerprint_diff``), lists migrations the copy lacks, and on
   the copy itself recomputes the audit hash chain (``audit_verify``) and every decision record's seal
   (``integrity_verify``);
4. reports RTO (restore and checks, measured) and removes the scratch database and, unless ``keep``, the
   drill's backup file.

The caller audits the result (``core.restore_drill``): the ``restore_drill`` command and the weekly Huey
job (``core.tasks.restore_drill_periodic``); ``securitycheck --mlps3`` dates the latest successful one.
RPO is a property of the deployment (WAL archiving, the nightly backup's schedule), not of a drill: the
drill says so rather than printing a number it did not measure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from django.conf import settings
from django.db import connection as default_connection

from .backup import (
    E_RESTORE,
    backup_create,
    backup_restore,
    connection_url,
    fingerprint_diff,
    fingerprint_url,
    pending_migrations,
)
from .errors import DomainError


@dataclass
class DrillResult:
    engine: str
    backup: str
    backup_created_at: str
    tables: int
    rows: int
    diff: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    audit_bad: list[int] = field(default_factory=list)
    tampered: list[dict[str, Any]] = field(default_factory=list)
    sealed_rows: int = 0
    backup_seconds: float = 0.0
    restore_seconds: float = 0.0
    check_seconds: float = 0.0
    kept: bool = False

    @property
    def ok(self) -> bool:
        return not (self.diff or self.audit_bad or self.tampered)

    @property
    def rto_seconds(self) -> float:
        """Time from a backup file to a checked, usable copy (decrypt, restore, compare, verify)."""
        return self.restore_seconds + self.check_seconds

    def problems(self) -> list[str]:
        out = [f"表不一致：{d}" for d in self.diff[:10]]
        if self.audit_bad:
            out.append(f"恢复后审计哈希链{len(self.audit_bad)}条不符（首条序号 {self.audit_bad[0]}）")
        out += [f"恢复后校验码不符：{t['name']} #{t['pk']} {t['label']}" for t in self.tampered[:10]]
        return out

    def as_audit_data(self) -> dict[str, Any]:
        return {
            "backup": self.backup, "backup_created_at": self.backup_created_at, "engine": self.engine,
            "tables": self.tables, "rows": self.rows, "pending_migrations": len(self.pending),
            "audit_chain_bad": len(self.audit_bad), "integrity_failed": len(self.tampered),
            "sealed_rows": self.sealed_rows, "backup_seconds": round(self.backup_seconds, 1),
            "rto_seconds": round(self.rto_seconds, 1), "kept": self.kept,
        }  # fmt: skip


def _pg_scratch(conn) -> tuple[str, str, str]:
    """(scratch database URL, admin URL, scratch name) on the source's server (or FANGPIN_DRILL_ADMIN_URL)."""
    admin = getattr(settings, "FANGPIN_DRILL_ADMIN_URL", "") or ""
    src = urlparse(admin or connection_url(conn))
    name = f"{conn.settings_dict['NAME']}_drill_{uuid.uuid4().hex[:8]}"[:63]
    admin_url = admin or urlunparse(src._replace(path="/postgres"))
    return urlunparse(src._replace(path=f"/{name}")), admin_url, name


_CHECK_COPY = """
import json, django
django.setup()
from fangpin.audit.record import audit_verify
from fangpin.core.integrity import integrity_verify
res = integrity_verify()
print(json.dumps({"audit_bad": audit_verify(), "sealed_rows": sum(res.checked.values()),
                  "tampered": [t.as_dict() for t in res.tampered]}, ensure_ascii=False, default=str))
"""


def _checks_on_copy(url: str, res: DrillResult) -> None:
    """The audit chain and every seal recomputed on the restored copy, by this code base in a process of its
    own pointed at the copy (``DATABASE_URL``) — what an operator who switches to the copy would run. Reads
    only: nothing is written into the copy."""
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
    r = subprocess.run([sys.executable, "-c", _CHECK_COPY], cwd=settings.BASE_DIR, env=env,
                       capture_output=True, text=True, timeout=6 * 3600)  # fmt: skip
    if r.returncode != 0:
        raise DomainError(E_RESTORE, f"恢复后的副本无法核对：{r.stderr.strip()[-300:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    res.audit_bad, res.sealed_rows, res.tampered = out["audit_bad"], out["sealed_rows"], out["tampered"]


def restore_drill(workdir: Path | str | None = None, *, keep: bool = False, conn=None) -> DrillResult:
    """One drill of the database behind ``conn`` (default: Django's). ``workdir``: where the backup and a
    SQLite scratch copy go (default: a temporary folder in ``FANGPIN_VAR``); removed afterwards unless
    ``keep``. Raises DomainError when the backup or the restore itself fails; a copy that differs is a
    result (``ok`` False), not an exception."""
    conn = conn or default_connection
    conn.ensure_connection()
    base = Path(settings.VAR_DIR) if hasattr(settings, "VAR_DIR") else Path(tempfile.gettempdir())
    own = workdir is None
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="restore-drill-", dir=_mkdir(base)))
    work.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    bak = work / f"fangpin-drill-{stamp}.bak"
    scratch = admin_url = name = None
    try:
        b = backup_create(bak, conn=conn)
        m = b.manifest
        res = DrillResult(engine=m["engine"], backup=str(bak), backup_created_at=m["created_at"],
                          tables=len(m["tables"]), rows=sum(t["rows"] for t in m["tables"].values()),
                          backup_seconds=b.seconds, kept=keep)  # fmt: skip
        if conn.vendor == "sqlite":
            scratch = f"sqlite:///{work / f'drill-{stamp}.sqlite3'}"
        else:
            import psycopg

            scratch, admin_url, name = _pg_scratch(conn)
            with psycopg.connect(admin_url, autocommit=True) as adm:
                adm.execute(f'CREATE DATABASE "{name}"')
        res.restore_seconds = backup_restore(bak, database_url=scratch)
        t0 = time.perf_counter()
        res.diff = fingerprint_diff(m["tables"], fingerprint_url(scratch))
        res.pending = pending_migrations(scratch)
        _checks_on_copy(scratch, res)
        res.check_seconds = time.perf_counter() - t0
        return res
    finally:
        if scratch and conn.vendor == "sqlite":  # the scratch copy goes whatever ``keep`` says
            db = Path(urlparse(scratch).path.removeprefix("/"))
            for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                p.unlink(missing_ok=True)
        if name and admin_url:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as adm:
                adm.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not keep:
            if own:
                shutil.rmtree(work, ignore_errors=True)
            else:
                for p in work.glob(f"*{stamp}*"):
                    p.unlink(missing_ok=True)


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p
