"""Parallel writers on PostgreSQL lose no update: four processes each add 1 to the same household field ten
times through the registry service (optimistic lock + row lock, retry when refused as stale), each write
followed by a read's audit event outside a transaction. The field ends at exactly 40, its version advanced by
40, every refused attempt was a clean 'stale' refusal, and the audit hash chain is one unforked line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="runs in the SQLite pass (it creates its own PostgreSQL database)",
)

WRITERS, INCREMENTS, VIEWS = 4, 10, 10

SETUP = """
from fangpin.accounts.models import User
from fangpin.registry.models import Household
u = User.objects.get(username="county_admin")
hh = Household.objects.create(household_no="P-1", village_id="410506205201", household_type="脱贫户")
print(hh.pk)
"""

WRITER = """
import time
from fangpin.accounts.models import User
from fangpin.core.errors import DomainError
from fangpin.registry.models import Household
from fangpin.registry.services.changes import household_update
from fangpin.audit.record import audit_record
u = User.objects.get(username="county_admin")
done = stale = 0
while done < {n}:
    hh = Household.objects.get(pk={pk})
    try:
        household_update(actor=u, household_id=hh.pk, expected_version=hh.version,
                         changes={{"cultivated_land_mu": hh.cultivated_land_mu + 1}}, reason="并发测试")
        done += 1
        # reads' audit events outside any transaction (one statement: lock + INSERT reading the head)
        for _ in range({views}):
            audit_record(actor=u, event_type="registry.household_view", obj=hh, household_id=hh.pk)
    except DomainError as e:
        assert e.code == "stale_version", e.code
        stale += 1
print("STALE", stale)
"""


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return r


@pytest.mark.slow
def test_parallel_writers_on_postgresql_lose_no_update(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True)
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432 (skipped loudly: production runs on it)")
    name = f"fangpin_par_{uuid.uuid4().hex[:8]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        env.update(
            DJANGO_SETTINGS_MODULE="fangpin.settings.dev",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
            FANGPIN_VAR=str(tmp_path),
        )
        _manage(env, "migrate", "-v0")
        _manage(env, "setup")
        pk = int(_manage(env, "shell", "-c", SETUP).stdout.strip().splitlines()[-1])
        code = WRITER.format(n=INCREMENTS, pk=pk, views=VIEWS)
        procs = [
            subprocess.Popen(
                [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(WRITERS)
        ]
        outs = [p.communicate(timeout=600) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as c:
            land, version = c.execute(
                "select cultivated_land_mu, version from registry_household where id = %s", [pk]
            ).fetchone()
            history = c.execute(
                "select count(*) from registry_historicalhousehold where id = %s", [pk]
            ).fetchone()[0]
        assert land == WRITERS * INCREMENTS
        assert version == 1 + WRITERS * INCREMENTS
        assert history == 1 + WRITERS * INCREMENTS  # every accepted write left exactly one history row
        # the audit chain did not fork under the parallel writers (changes and reads): each event links to
        # the one before it, and recomputing it finds nothing
        with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as c:
            views, heads, links = c.execute(
                "select count(*) filter (where event_type = 'registry.household_view'), count(*), "
                "count(distinct prev_hash) from audit_auditevent"
            ).fetchone()
        assert views == WRITERS * INCREMENTS * VIEWS and links == heads
        verify = "from fangpin.audit.record import audit_verify; print('BAD', audit_verify())"
        assert _manage(env, "shell", "-c", verify).stdout.strip().splitlines()[-1] == "BAD []"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
