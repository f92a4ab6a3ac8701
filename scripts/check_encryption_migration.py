"""Checks registry/0007 (encryption at rest) on a fresh SQLite file: plaintext rows written at 0006 (main and
history tables) come out as tokens with working blind-index lookups, and the reverse migration decrypts.

    .venv/bin/python scripts/check_encryption_migration.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ID, PHONE, HH_PHONE = "410506198307090636", "13912345678", "13800001111"
BEFORE = [("registry", "0006_merge_import_batch_progress")]
AFTER = [("registry", "0007_encrypt_id_numbers_and_phones")]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-enc-migration-"))
    os.environ.update(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        FANGPIN_VAR=str(tmp),
        DJANGO_SETTINGS_MODULE="fangpin.settings.dev",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from fangpin.regions.loader import load_regions
    from fangpin.registry.models import Household as CurrentHousehold
    from fangpin.registry.models import Person as CurrentPerson

    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    MigrationExecutor(connection).migrate(BEFORE)
    apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    household = apps.get_model("registry", "Household")
    person = apps.get_model("registry", "Person")
    hist = apps.get_model("registry", "HistoricalPerson")
    h = household.objects.create(
        household_no="H1", village_id="410506205201", household_type="一般农户", phone=HH_PHONE
    )
    common = {"household_id": h.id, "name": "张三", "gender": "M", "relation": "户主", "id_number": ID,
              "phone": PHONE, "disability_cert_no": ID + "42"}  # fmt: skip
    p = person.objects.create(**common)
    now = timezone.now()
    hist.objects.create(
        id=p.id, **common, history_date=now, history_type="+", version=1, created_at=now, is_member=True
    )
    MigrationExecutor(connection).migrate(AFTER)
    dump = "\n".join(connection.connection.iterdump())
    leaks = [s for s in (ID, PHONE, HH_PHONE) if s in dump]
    assert not leaks, leaks
    q = CurrentPerson.objects.get(id_number=ID)
    assert q.phone == PHONE and q.disability_cert_no == ID + "42"
    assert CurrentHousehold.objects.get(phone=HH_PHONE).pk == h.id
    assert CurrentPerson.history.get(id=q.id).id_number == ID
    MigrationExecutor(connection).migrate(BEFORE)  # the reverse migration decrypts
    with connection.cursor() as c:
        c.execute("SELECT id_number, phone FROM registry_person")
        assert c.fetchall() == [(ID, PHONE)]
    print("registry 0007 forward (encrypts rows and history rows, indexes match) and reverse (decrypts): OK")


if __name__ == "__main__":
    main()
