"""Checks the encryption-at-rest data migrations on a fresh database: plaintext rows written before them (main
and history tables) come out as tokens with working blind-index lookups, no plaintext is left in any table, and
the reverse migrations decrypt.

    .venv/bin/python scripts/check_migrations_at_rest.py [--database-url URL]   # default: a fresh SQLite file

- ``ids``: registry/0007 (ID numbers, phones, disability certificate numbers of persons; household phones);
- ``phones``: accounts/0003 (staff phones) and registry/0011 (the phones among a person's national facts).
Each case starts from an empty database (the URL's database is dropped and created again on PostgreSQL).
``tests/test_migrations_at_rest.py`` runs it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ID, PHONE, HH_PHONE = "410506198307090636", "13912345678", "13800001111"
STAFF, COLLECTOR = "13911112222", "13733334444"
FACTS = {"信息采集人": "李文书", "信息采集人联系电话": COLLECTOR}
CASES = {
    "ids": (
        [("registry", "0006_merge_import_batch_progress")],
        [("registry", "0007_encrypt_id_numbers_and_phones")],
    ),
    "phones": (
        [("accounts", "0002_demo_and_otp_exempt_flags"), ("registry", "0010_merge_encryption_with_mapping_and_flags")],
        [("accounts", "0003_encrypt_staff_phones_at_rest"), ("registry", "0011_seal_phones_in_national_facts")],
    ),
}  # fmt: skip


def fresh_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import dj_database_url
    import psycopg

    c = dj_database_url.parse(url)
    with psycopg.connect(host=c["HOST"], port=c["PORT"] or 5432, user=c["USER"], dbname="postgres",
                         autocommit=True) as con:  # fmt: skip
        con.execute(f'DROP DATABASE IF EXISTS "{c["NAME"]}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{c["NAME"]}"')


def every_value(connection) -> str:
    """All rows of all tables as text: what a dump of the database holds."""
    out = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')
            out.extend(repr(row) for row in cur.fetchall())
    return "\n".join(out)


def seed_person(apps, common: dict) -> int:
    from django.utils import timezone

    person = apps.get_model("registry", "Person")
    hist = apps.get_model("registry", "HistoricalPerson")
    p = person.objects.create(**common)
    now = timezone.now()
    hist.objects.create(
        id=p.id, **common, history_date=now, history_type="+", version=1, created_at=now, is_member=True
    )
    return p.id


def case_ids(apps) -> Callable[[], None]:
    h = apps.get_model("registry", "Household").objects.create(
        household_no="H1", village_id="410506205201", household_type="一般农户", phone=HH_PHONE
    )
    common = {"household_id": h.id, "name": "张三", "gender": "M", "relation": "户主", "id_number": ID,
              "phone": PHONE, "disability_cert_no": ID + "42"}  # fmt: skip
    seed_person(apps, common)

    def after() -> None:
        from fangpin.registry.models import Household, Person

        q = Person.objects.get(id_number=ID)
        assert q.phone == PHONE and q.disability_cert_no == ID + "42"
        assert Household.objects.get(phone=HH_PHONE).pk == h.id
        assert Person.history.get(id=q.id).id_number == ID

    return after


def case_phones(apps) -> Callable[[], None]:
    apps.get_model("accounts", "User").objects.create(username="staff", phone=STAFF)
    h = apps.get_model("registry", "Household").objects.create(
        household_no="H1", village_id="410506205201", household_type="一般农户"
    )
    pid = seed_person(
        apps,
        {"household_id": h.id, "name": "张三", "gender": "M", "relation": "户主", "national_facts": FACTS},
    )

    def after() -> None:
        from fangpin.accounts.models import User
        from fangpin.registry.models import Person

        assert User.objects.get(username="staff").phone == STAFF
        assert Person.objects.get(pk=pid).national_facts == FACTS
        assert Person.history.get(id=pid).national_facts == FACTS

    return after


def reversed_is_plain(connection, name: str) -> None:
    with connection.cursor() as c:
        if name == "ids":
            c.execute("SELECT id_number, phone FROM registry_person")
            assert c.fetchall() == [(ID, PHONE)]
        else:
            c.execute("SELECT phone FROM accounts_user WHERE username = 'staff'")
            assert c.fetchall() == [(STAFF,)]
            c.execute("SELECT national_facts FROM registry_person")
            facts = c.fetchone()[0]
            assert (json.loads(facts) if isinstance(facts, str) else facts) == FACTS


def run_case(name: str) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from fangpin.regions.loader import load_regions

    before, after_targets = CASES[name]
    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    MigrationExecutor(connection).migrate(before)
    apps = MigrationExecutor(connection).loader.project_state(before).apps
    check_after = {"ids": case_ids, "phones": case_phones}[name](apps)
    MigrationExecutor(connection).migrate(after_targets)
    secrets_ = (ID, PHONE, HH_PHONE) if name == "ids" else (STAFF, COLLECTOR)
    leaks = [s for s in secrets_ if s in every_value(connection)]
    assert not leaks, f"{name}: plaintext left after the migration: {leaks}"
    call_command("migrate", verbosity=0)  # on to the latest schema, which the current models read
    leaks = [s for s in secrets_ if s in every_value(connection)]
    assert not leaks, f"{name}: plaintext after the later migrations: {leaks}"
    check_after()
    MigrationExecutor(connection).migrate(before)  # the reverse migrations decrypt
    reversed_is_plain(connection, name)
    print(f"{name}: {' + '.join(f'{a}/{m[:4]}' for a, m in after_targets)} forward (encrypted, lookups work) "
          "and reverse (decrypted): OK")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="")
    ap.add_argument("--case", choices=sorted(CASES), action="append")
    args = ap.parse_args()
    for name in args.case or sorted(CASES):
        # one process per case: each starts from an empty database and a fresh migration graph
        if len(args.case or CASES) > 1:
            import subprocess

            cmd = [sys.executable, __file__, "--case", name, "--database-url", args.database_url]
            subprocess.run(cmd, check=True)
            continue
        tmp = Path(tempfile.mkdtemp(prefix="fangpin-migration-at-rest-"))
        url = args.database_url or f"sqlite:///{tmp / 'db.sqlite3'}"
        fresh_database(url)
        os.environ.update(
            DATABASE_URL=url, FANGPIN_VAR=str(tmp), DJANGO_SETTINGS_MODULE="fangpin.settings.dev"
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        run_case(name)


if __name__ == "__main__":
    main()
