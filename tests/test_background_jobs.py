"""The embedded task queue works for real: a queued import is picked up by a separate Huey worker process
(SQLite store, no server) and lands in the database. Runs the real CLI in subprocesses on a file database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
        timeout=600,
    )


@pytest.mark.slow
def test_queued_import_is_processed_by_a_separate_worker(tmp_path):
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    base["DJANGO_SETTINGS_MODULE"] = "fangpin.settings.dev"
    src = {**base, "FANGPIN_VAR": str(tmp_path / "source")}
    dst = {**base, "FANGPIN_VAR": str(tmp_path / "target")}

    # A small generated county, exported in the national format (unmasked, by the county admin).
    _manage(src, "migrate", "-v0")
    _manage(src, "demo_county", "--scale", "0.01", "--as-of", "2026-06-30")
    export = tmp_path / "national.xlsx"
    _manage(src, "export_registry", str(export), "--unmasked", "--as", "county_admin")
    n_src = (
        sqlite3.connect(tmp_path / "source" / "fangpin.sqlite3")
        .execute("select count(*) from registry_household")
        .fetchone()[0]
    )
    assert n_src > 10

    # Target: queue the import (no --now) — nothing is written until a worker runs it.
    _manage(dst, "migrate", "-v0")
    _manage(dst, "setup")
    queued = _manage(dst, "import_registry", str(export), "--as", "county_admin")
    assert "已排队" in queued.stdout
    db = tmp_path / "target" / "fangpin.sqlite3"

    def households() -> int:
        with sqlite3.connect(db) as c:
            return c.execute("select count(*) from registry_household").fetchone()[0]

    assert households() == 0
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_huey", "--quiet"],
        env=dst,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            with sqlite3.connect(db) as c:
                row = c.execute("select status from registry_importbatch order by id desc limit 1").fetchone()
            status = row[0] if row else None
            if status in {"imported", "failed"}:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert status == "imported"
    assert households() == n_src
