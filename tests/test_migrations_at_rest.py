"""The encryption-at-rest data migrations, forward and back, on a fresh SQLite file and a fresh PostgreSQL
database: plaintext rows written before them leave no plaintext in any table, lookups by blind index work, and
the reverse migrations give the plaintext back (``scripts/check_migrations_at_rest.py`` does the work, one
process per case, so the suite's own test database is never migrated backwards)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_migrations_at_rest.py"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="runs in the SQLite pass (it creates its own SQLite and PostgreSQL databases)",
    ),
]


def _check(database_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    cmd = [sys.executable, str(SCRIPT), "--database-url", database_url]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_encryption_migrations_forward_and_back_on_sqlite():
    out = _check("")
    assert "ids: registry/0007" in out and "phones: accounts/0003 + registry/0011" in out


def test_encryption_migrations_forward_and_back_on_postgresql():
    psycopg = pytest.importorskip("psycopg")
    try:
        psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL must be reachable in CI")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (skipped loudly: production runs on it)")
    name = f"fangpin_mig_{uuid.uuid4().hex[:8]}"
    try:
        out = _check(f"postgres://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert "ids: registry/0007" in out and "phones: accounts/0003 + registry/0011" in out
