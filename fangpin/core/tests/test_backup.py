"""Backup → restore into a fresh database → compare, on SQLite and (when the suite runs on it) PostgreSQL.
The audit table's append-only triggers come back with the data."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from fangpin.core import crypto
from fangpin.core.backup import backup_create, fingerprint_diff, fingerprint_url, pending_migrations

ROOT = Path(__file__).resolve().parents[3]
SEED = """
import django
django.setup()
from fangpin.regions.loader import load_regions
from fangpin.testing import factories as f
from fangpin.testing.personas import persona
from fangpin.audit.record import audit_record
load_regions(county_prefixes=["410506"])
hh = f.household(f.VILLAGE_A1, phone="13812345678")
f.person(hh, name="王大山")
f.income(hh, year=2025, wage=12000.5)
audit_record(actor=persona("cadre_a1"), event_type="test.before_backup", obj=hh)
"""


ID_RE, PHONE_RE = re.compile(rb"\d{17}[\dX]"), re.compile(rb"1[3-9]\d{9}")


def _assert_sealed(out: Path, tmp: Path) -> None:
    """BAK-01: the backup file is encrypted — no ID or phone pattern, no table name, no name in it; its
    manifest lists both digests; the clear dump was removed; decrypted, it is the database again."""
    data = out.read_bytes()
    assert data.startswith(crypto.BACKUP_MAGIC)
    assert ID_RE.findall(data) == [] and PHONE_RE.findall(data) == []
    assert b"audit_auditevent" not in data and "王大山".encode() not in data
    manifest = json.loads(Path(str(out) + ".manifest.json").read_text())
    assert manifest["encryption"]["alg"] == "SM4-GCM" and len(manifest["plain_sha256"]) == 64
    assert hashlib.sha256(data).hexdigest() == manifest["sha256"]
    assert not list(out.parent.glob("*.plain.tmp"))
    plain = io.BytesIO()
    with out.open("rb") as f:
        crypto.open_stream(f, plain)
    assert hashlib.sha256(plain.getvalue()).hexdigest() == manifest["plain_sha256"]
    assert b"audit_auditevent" in plain.getvalue()  # the scan above could have failed
    # one byte changed anywhere, or the last chunk cut off, does not decrypt
    for broken in (data[:200] + bytes([data[200] ^ 1]) + data[201:], data[:-5]):
        with pytest.raises(crypto.DecryptionError):
            crypto.open_stream(io.BytesIO(broken), io.BytesIO())


def _manage(*args: str, db: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "FANGPIN_VAR": str(tmp / "var"),
           "DJANGO_SETTINGS_MODULE": "fangpin.settings.dev"}  # fmt: skip
    cmd = ["-c", args[1]] if args[0] == "python" else ["manage.py", *args]
    r = subprocess.run([sys.executable, *cmd], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return r


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite run")
def test_sqlite_backup_restore_compare(tmp_path):
    """A real file database (the test database is in memory, inside a transaction): migrate, seed,
    ``fangpin backup``, ``fangpin restore`` into a new file, compare every table."""
    src, dst, out = tmp_path / "src.sqlite3", tmp_path / "restored.sqlite3", tmp_path / "fangpin.bak"
    for args in (("migrate", "-v0"), ("python", SEED), ("backup", str(out))):
        r = _manage(*args, db=src, tmp=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
    _assert_sealed(out, tmp_path)
    r = _manage("restore", str(out), "--database-url", f"sqlite:///{dst}", db=src, tmp=tmp_path)
    assert r.returncode == 0 and "一致" in r.stdout and "未应用" not in r.stdout, r.stderr[-2000:]
    assert pending_migrations(f"sqlite:///{dst}") == []
    before, after = fingerprint_url(f"sqlite:///{src}"), fingerprint_url(f"sqlite:///{dst}")
    # the source has recorded the backup and the drill since (the assessor's evidence), nothing else
    audit_src, audit_dst = before.pop("audit_auditevent"), after.pop("audit_auditevent")
    assert fingerprint_diff(before, after) == []
    assert after["registry_household"]["rows"] == 1 and audit_dst["rows"] >= 1
    assert audit_src["rows"] == audit_dst["rows"] + 2
    with sqlite3.connect(src) as s:
        newest = [
            r[0] for r in s.execute("SELECT event_type FROM audit_auditevent ORDER BY seq DESC LIMIT 2")
        ]
    assert newest == ["core.restore_drill", "core.backup"]
    c = sqlite3.connect(dst)
    triggers = {row[0] for row in c.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert {"audit_event_no_update", "audit_event_no_delete"} <= triggers
    with pytest.raises(sqlite3.DatabaseError):
        c.execute("DELETE FROM audit_auditevent")
    c.execute("DELETE FROM django_migrations WHERE app='audit' AND name='0002_append_only'")
    c.commit()
    c.close()
    assert pending_migrations(f"sqlite:///{dst}") == ["audit.0002_append_only"]
    # a restore into a database that is not empty is refused, and so is a damaged backup
    assert (
        _manage("restore", str(out), "--database-url", f"sqlite:///{dst}", db=src, tmp=tmp_path).returncode
        != 0
    )
    out.write_bytes(out.read_bytes()[:-1] + b"x")
    r = _manage(
        "restore", str(out), "--database-url", f"sqlite:///{tmp_path / 'x.sqlite3'}", db=src, tmp=tmp_path
    )
    assert r.returncode != 0 and "SHA-256" in r.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL run")
def test_postgresql_backup_restore_compare(db, tmp_path):
    """pg_dump sees committed data only: the session-wide regions and parameters (and the schema)."""
    import psycopg

    sd = connection.settings_dict
    base = (
        f"postgres://{sd.get('USER') or 'postgres'}@{sd.get('HOST') or '127.0.0.1'}:{sd.get('PORT') or 5432}"
    )
    source_url = f"{base}/{sd['NAME']}"
    res = backup_create(tmp_path / "fangpin.dump")
    _assert_sealed(res.path, tmp_path)
    target_name = f"fangpin_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target_name}"')
    try:
        call_command("restore", str(res.path), "--database-url", f"{base}/{target_name}")
        assert fingerprint_diff(fingerprint_url(source_url), fingerprint_url(f"{base}/{target_name}")) == []
        assert fingerprint_url(f"{base}/{target_name}")["regions_region"]["rows"] > 0
        with psycopg.connect(f"{base}/{target_name}") as c:
            c.execute(
                "INSERT INTO audit_auditevent (at, actor_role, event_type, object_type, object_id, region_code,"
                " result, reason, data, request_id, prev_hash, hash) VALUES (now(), '', 'x', '', '', '', 'ok', '',"
                " '{}', '', '', '')"
            )
            with pytest.raises(psycopg.errors.RaiseException):
                c.execute("DELETE FROM audit_auditevent")
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')


def test_backup_commands_are_listed():
    from django.core.management import get_commands

    assert {"backup", "restore"} <= set(get_commands())
