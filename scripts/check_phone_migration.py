"""Checks accounts/0003 (staff phones) and registry/0011 (the phones among a person's national facts) on a fresh
SQLite file: plaintext rows written before them come out as tokens, read back as plaintext, and the reverse
migrations decrypt.

    .venv/bin/python scripts/check_phone_migration.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

STAFF, COLLECTOR = "13911112222", "13733334444"
FACTS = {"信息采集人": "李文书", "信息采集人联系电话": COLLECTOR}
BEFORE = [
    ("accounts", "0002_demo_and_otp_exempt_flags"),
    ("registry", "0010_merge_encryption_with_mapping_and_flags"),
]
AFTER = [
    ("accounts", "0003_encrypt_staff_phones_at_rest"),
    ("registry", "0011_seal_phones_in_national_facts"),
]


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    tmp = Path(tempfile.mkdtemp(prefix="fangpin-phone-migration-"))
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

    from fangpin.accounts.models import User as CurrentUser
    from fangpin.regions.loader import load_regions
    from fangpin.registry.models import Person as CurrentPerson

    call_command("migrate", verbosity=0)
    load_regions(county_prefixes=["410506"])
    MigrationExecutor(connection).migrate(BEFORE)
    apps = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    apps.get_model("accounts", "User").objects.create(username="staff", phone=STAFF)
    household = apps.get_model("registry", "Household")
    person = apps.get_model("registry", "Person")
    hist = apps.get_model("registry", "HistoricalPerson")
    h = household.objects.create(household_no="H1", village_id="410506205201", household_type="一般农户")
    common = {
        "household_id": h.id,
        "name": "张三",
        "gender": "M",
        "relation": "户主",
        "national_facts": FACTS,
    }
    p = person.objects.create(**common)
    now = timezone.now()
    hist.objects.create(
        id=p.id, **common, history_date=now, history_type="+", version=1, created_at=now, is_member=True
    )
    MigrationExecutor(connection).migrate(AFTER)
    dump = "\n".join(connection.connection.iterdump())
    leaks = [s for s in (STAFF, COLLECTOR) if s in dump]
    assert not leaks, leaks
    assert CurrentUser.objects.get(username="staff").phone == STAFF
    assert CurrentPerson.objects.get(pk=p.pk).national_facts == FACTS
    assert CurrentPerson.history.get(id=p.pk).national_facts == FACTS
    MigrationExecutor(connection).migrate(BEFORE)  # the reverse migrations decrypt
    with connection.cursor() as c:
        c.execute("SELECT phone FROM accounts_user WHERE username = 'staff'")
        assert c.fetchall() == [(STAFF,)]
        c.execute("SELECT national_facts FROM registry_person")
        assert json.loads(c.fetchone()[0]) == FACTS
    print("accounts 0003 + registry 0011 forward (staff and collector phones encrypted) and reverse: OK")


if __name__ == "__main__":
    main()
