"""bench/county_clone.py (the load bench's million-person county): the copies' new ID numbers are real
ciphertext with working blind indexes — they decrypt, are valid and unique, and a search by the full number
or by its last four finds the copy — and their canonical index feeds the duplicate-ID rule. PostgreSQL only
(the clone is SQL for PostgreSQL); run inside the test's transaction."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from django.db import connection

from fangpin.core import crypto
from fangpin.core.ids import make_id_number, validate_id_number
from fangpin.core.integrity import integrity_verify
from fangpin.monitoring.household_search import HouseholdFilter, household_search_qs
from fangpin.registry.checks import codes as C
from fangpin.registry.checks.report import household_findings
from fangpin.registry.models import Household, IncomeRecord, Person
from fangpin.registry.selectors import identifier_q, persons_by_id_number
from fangpin.testing import factories as f

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the clone is PostgreSQL SQL"),
]
BENCH = Path(__file__).resolve().parents[3] / "bench"
BORN = dt.date(1968, 2, 29)


@pytest.fixture
def clone():
    sys.path.insert(0, str(BENCH))
    try:
        from county_clone import clone as run
    finally:
        sys.path.remove(str(BENCH))
    connection.ensure_connection()
    return lambda copies: run("", copies, conn=connection.connection)


def test_copies_have_decryptable_unique_ids_found_by_their_blind_indexes(personas, clone):
    a = f.household(f.VILLAGE_A1)
    head = f.person(a, name="周一", birth=BORN, id_number=make_id_number("410506", BORN, 1, "M"))
    f.person(a, name="周二", relation="之子", birth=dt.date(1990, 1, 2), id_number=None)
    b = f.household(f.VILLAGE_B1)
    legacy = f.person(b, name="吴三", birth=dt.date(1955, 5, 5), id_number="410506550505123")
    f.income(a, year=2024, wage=15000)
    clone(2)
    assert Household.objects.count() == 6 and Person.objects.count() == 9
    # the copied income records are sealed anew for their own ids (INT-01)
    assert IncomeRecord.objects.count() == 3 and integrity_verify().ok
    copies = Person.objects.exclude(pk__in=[head.pk, legacy.pk]).exclude(id_number__isnull=True)
    numbers = [p.id_number for p in copies]  # decrypted by the field: real SM4-GCM tokens
    # the 18-digit number gets a new one per copy; a 15-digit (odd) one and a missing one: none
    assert len(numbers) == 2 and len(set(numbers) | {head.id_number, legacy.id_number}) == 4
    assert all(validate_id_number(n, on=dt.date(2025, 1, 1)).ok and len(n) == 18 for n in numbers)
    raw = dict(Person.objects.values_list("id", "id_number"))  # stored values, not the plaintext
    with connection.cursor() as cur:
        cur.execute(
            "select id, id_number, id_number_bidx, id_number_tail, id_number_canon from registry_person"
        )
        stored = {r[0]: r[1:] for r in cur.fetchall()}
    for p in copies:
        token, bidx, tail, canon = stored[p.pk]
        assert crypto.is_token(token) and p.id_number not in token
        assert crypto.decrypt(token, "id_number") == raw[p.pk]
        assert bidx == canon == crypto.blind_index(p.id_number, "id_number")
        assert tail == crypto.tail_index(p.id_number, "id_number")
        assert list(persons_by_id_number(p.id_number).values_list("pk", flat=True)) == [p.pk]
        tail_hits = Person.objects.filter(identifier_q(p.id_number[-4:])).values_list("pk", flat=True)
        assert p.pk in tail_hits
    # the household search (the county admin's) finds a copy by its full number and by its last four
    admin = personas["county_admin"]
    p = copies.filter(household__village_id=f.VILLAGE_A1).first()
    for q in (p.id_number, p.id_number[-4:]):
        hits = household_search_qs(actor=admin, f=HouseholdFilter(q=q), on=dt.date(2025, 3, 1))
        assert p.household_id in set(hits.values_list("pk", flat=True))
    # new numbers: no duplicate of the original (each copy is another person)
    assert not [
        x for x in household_findings(p.household, on=dt.date(2025, 3, 1)) if x.code == C.ID_DUPLICATE
    ]
