"""Encryption at rest of ID numbers and phones (issue #17 item 4): the ciphers, the fields and their lookups,
key rotation, and what a database dump contains."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings

from fangpin.accounts.actors import system_actor
from fangpin.core import crypto
from fangpin.core.fields import seal, unseal
from fangpin.core.ids import make_id_number
from fangpin.registry import selectors
from fangpin.registry.models import Household, Person
from fangpin.testing import factories as F

ON = dt.date(2026, 12, 1)  # the business date the imports act on

ID_A = make_id_number("410506", dt.date(1983, 7, 9), 31, "M")
ID_B = make_id_number("410506", dt.date(1991, 12, 30), 42, "F")
PHONE_A = "13912345678"
PHONE_H = "15887654321"


def _raw(table: str, col: str, pk: int) -> str | None:
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(f"SELECT {qn(col)} FROM {qn(table)} WHERE id = %s", [pk])  # noqa: S608
        return cur.fetchone()[0]


# ---- the cipher -----------------------------------------------------------------------------------------


def test_sm4_gcm_round_trip_is_randomised_and_bound_to_its_purpose():
    a, b = crypto.encrypt(ID_A, "id_number"), crypto.encrypt(ID_A, "id_number")
    assert a != b and a.startswith("v1:dev1:") and ID_A not in a
    assert crypto.decrypt(a, "id_number") == ID_A
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(a, "phone")  # a token moved to a phone column does not decrypt
    body = a.rsplit(":", 1)[1]
    flipped = a[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(flipped, "id_number")


def test_blind_index_is_keyed_normalised_and_separates_purposes():
    d = crypto.blind_index(ID_A, "id_number")
    assert d == crypto.blind_index(" " + ID_A.lower() + " ", "id_number") and len(d) == 32
    assert d != crypto.blind_index(ID_A, "phone")
    assert crypto.tail_index(ID_A, "id_number") == crypto.tail_index(ID_A[-4:], "id_number")
    other = {"dev1": crypto.dev_key("data")}
    with override_settings(FANGPIN_INDEX_KEY=b"another-index-key-32-bytes-long!", FANGPIN_DATA_KEYS=other):
        assert crypto.blind_index(ID_A, "id_number") != d  # the key matters: no unkeyed hash to brute-force


def test_encrypt_many_matches_encrypt_and_keeps_empties():
    toks = crypto.encrypt_many([ID_A, None, "", ID_B], "id_number")
    assert toks[1] is None and toks[2] == ""
    assert [crypto.decrypt(t, "id_number") for t in (toks[0], toks[3])] == [ID_A, ID_B]
    assert len({toks[0].rsplit(":", 1)[1][:16], toks[3].rsplit(":", 1)[1][:16]}) == 2  # distinct nonces


def _decrypt_before_round_8(token: str, purpose: str) -> str:
    """``crypto.decrypt`` as it was (base64.urlsafe_b64decode), the reference for the body's decoding."""
    import base64

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _version, kid, body = token.split(":", 2)
    try:
        blob = base64.urlsafe_b64decode(body)
    except ValueError:
        raise crypto.DecryptionError("加密数据已损坏") from None
    nonce, ct, tag = blob[: crypto.NONCE], blob[crypto.NONCE : -crypto.TAG], blob[-crypto.TAG :]
    dec = Cipher(algorithms.SM4(crypto.keyring().keys[kid]), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(f"fangpin:{purpose}".encode())
    try:
        return (dec.update(ct) + dec.finalize()).decode()
    except InvalidTag:
        raise crypto.DecryptionError("加密数据校验失败（被篡改或用途不符）") from None


def _outcome(f, *args) -> tuple:
    try:
        return ("ok", f(*args))
    except Exception as e:  # noqa: BLE001 - the outcome compared, whatever it is
        return (type(e), str(e))


def test_decrypt_reads_the_body_exactly_as_urlsafe_b64decode_did():
    """``decrypt`` decodes the token's body with binascii directly (round 8): every body gives what the
    urlsafe_b64decode version gave — the value, DecryptionError (corrupt body or bad tag), or its error."""
    good = crypto.encrypt(ID_A, "id_number")
    head, body = good.rsplit(":", 1)
    bodies = [body, body + "=", body + "==", body.rstrip("="), body + "A", " " + body, body.replace("-", "+")]
    bodies += ["", "A", "AB", "中文", "A" * 5, "A" * 40, body[:-3] + "é==", body[:10] + "!" + body[10:]]
    outcomes = set()
    for b in bodies:
        got = _outcome(crypto.decrypt, f"{head}:{b}", "id_number")
        assert got == _outcome(_decrypt_before_round_8, f"{head}:{b}", "id_number"), b
        outcomes.add(got[0])
    assert outcomes >= {"ok", crypto.DecryptionError}
    for purpose in ("id_number", "phone"):  # the purpose still binds
        assert _outcome(crypto.decrypt, good, purpose) == _outcome(_decrypt_before_round_8, good, purpose)


def test_sealed_documents_encrypt_identifiers_at_any_depth():
    doc = {
        "fields": {"phone": PHONE_A},
        "person": {"id_number": ID_A, "name": "李四"},
        "list": [{"phone": ""}],
    }
    sealed = seal(doc)
    assert PHONE_A not in str(sealed) and ID_A not in str(sealed) and sealed["person"]["name"] == "李四"
    assert unseal(sealed) == doc


# ---- the fields ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_person_columns_hold_tokens_and_the_attribute_stays_plaintext():
    hh = F.household(phone=PHONE_H)
    p = F.person(hh, id_number=ID_A, phone=PHONE_A)
    raw_id = _raw(Person._meta.db_table, "id_number", p.pk)
    assert crypto.is_token(raw_id) and ID_A not in raw_id
    assert ID_A[-4:] not in _raw(Person._meta.db_table, "id_number_tail", p.pk)
    assert PHONE_H not in _raw(Household._meta.db_table, "phone", hh.pk)
    again = Person.objects.get(pk=p.pk)
    assert (again.id_number, again.phone, again.household.phone) == (ID_A, PHONE_A, PHONE_H)
    hist = p.history.latest()
    assert hist.id_number == ID_A
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT {qn('id_number')}, {qn('phone')} FROM {qn(Person.history.model._meta.db_table)}"  # noqa: S608
        )
        assert all(ID_A not in (a or "") and PHONE_A not in (b or "") for a, b in cur.fetchall())


@pytest.mark.django_db
def test_exact_lookups_go_through_the_blind_index_and_fragments_are_refused():
    hh = F.household(phone=PHONE_H)
    a = F.person(hh, id_number=ID_A, phone=PHONE_A)
    b = F.person(hh, id_number=ID_B, name="王五", relation="配偶")
    assert Person.objects.get(id_number=ID_A) == a
    assert set(Person.objects.filter(id_number__in=[ID_A, ID_B.lower(), "nope"])) == {a, b}
    assert list(Household.objects.filter(persons__id_number=ID_B)) == [hh]
    assert list(selectors.persons_by_id_number(ID_B)) == [b]
    assert Person.objects.filter(phone=PHONE_A).get() == a
    assert Person.objects.filter(phone="").get() == b and b.phone == ""
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__contains=ID_A[:6]))
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__startswith="4105"))
    # the tail (尾号) and the full value find, a middle fragment does not
    assert set(Person.objects.filter(selectors.identifier_q(ID_A[-4:]))) == {a}
    assert set(Person.objects.filter(selectors.identifier_q(PHONE_A))) == {a}
    assert not Person.objects.filter(selectors.identifier_q(ID_A[6:14])).exists()


@pytest.mark.django_db
def test_uniqueness_lives_on_the_blind_index():
    from django.db import IntegrityError, transaction

    hh = F.household()
    F.person(hh, id_number=ID_A)
    with pytest.raises(IntegrityError), transaction.atomic():
        F.person(hh, id_number=ID_A, name="重复")


@pytest.mark.django_db
def test_changing_the_attribute_updates_the_indexes_in_save_and_bulk_update():
    from fangpin.core.fields import with_companions

    hh = F.household()
    p = F.person(hh, id_number=ID_A, phone=PHONE_A)
    p.phone = "13000000001"
    p.save()
    assert Person.objects.get(phone="13000000001") == p and not Person.objects.filter(phone=PHONE_A).exists()
    p.phone = "13000000002"
    Person.objects.bulk_update([p], with_companions(Person, ["phone"]))
    assert Person.objects.get(phone="13000000002") == p
    p.phone = "13000000003"
    p.save(update_fields=["phone"])  # the registry models add the indexes to update_fields
    assert Person.objects.get(phone="13000000003") == p


# ---- keys --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_reads_old_tokens_and_reencrypts_them_with_the_current_key():
    from fangpin.audit.models import AuditEvent
    from fangpin.core.rotation import encryption_rotate

    hh = F.household(phone=PHONE_H)
    p = F.person(hh, id_number=ID_A, phone=PHONE_A)
    old = _raw(Person._meta.db_table, "id_number", p.pk)
    new_key = os.urandom(16)
    keys = {"k2": new_key, "dev1": crypto.dev_key("data")}
    with override_settings(FANGPIN_DATA_KEYS=keys, FANGPIN_DATA_KEY_ID="k2"):
        assert Person.objects.get(id_number=ID_A).id_number == ID_A  # old token still reads
        res = encryption_rotate(actor=system_actor("test"))
        assert res.values["registry.Person.id_number"] >= 1 and res.values["registry.Household.phone"] >= 1
        now = _raw(Person._meta.db_table, "id_number", p.pk)
        assert crypto.key_id(now) == "k2" and now != old
        assert AuditEvent.objects.filter(event_type="security.key_rotate").exists()
        with override_settings(FANGPIN_DATA_KEYS={"k2": new_key}, FANGPIN_DATA_KEY_ID="k2"):
            assert Person.objects.get(pk=p.pk).id_number == ID_A  # readable without the old key
    with pytest.raises(crypto.MissingKeyError):
        Person.objects.get(pk=p.pk)  # back on the old ring only: k2 is unknown


@pytest.mark.django_db
def test_index_key_rotation_recomputes_every_index_and_lookups_work_during_and_after():
    """Item 3: a new index key (id i2) becomes current; before the rotation runs, lookups still find the
    rows indexed under the old key (id 0); ``encryption_rotate`` recomputes every *_bidx/*_tail; afterwards
    no digest of the old key is left, every row decrypts, lookups by full ID, phone and last four work
    without the old key."""
    from fangpin.core.rotation import encryption_rotate, index_key_counts

    hh = F.household(phone=PHONE_H)
    p = F.person(hh, id_number=ID_A, phone=PHONE_A)
    p.name = "改名后"  # a history row too
    p.save()
    F.person(hh, id_number=ID_B)
    before = index_key_counts()
    assert set(before) == {crypto.LEGACY_INDEX_ID} and before[crypto.LEGACY_INDEX_ID] >= 6
    new = {"i2": os.urandom(32), crypto.LEGACY_INDEX_ID: crypto.dev_key("index", 32)}

    def found() -> tuple:
        return (
            Person.objects.get(id_number=ID_A).pk,
            Person.objects.filter(id_number__in=[ID_A, ID_B]).count(),
            Household.objects.filter(selectors.identifier_q(ID_A[-4:], prefix="persons__"))
            .distinct()
            .count(),
            Household.objects.filter(selectors.identifier_q(PHONE_A, prefix="persons__")).distinct().count(),
            Household.objects.filter(selectors.household_phone_q(PHONE_H[-4:])).count(),
        )

    expected = (p.pk, 2, 1, 1, 1)
    assert found() == expected
    with override_settings(FANGPIN_INDEX_KEYS=new, FANGPIN_INDEX_KEY_ID="i2"):
        assert found() == expected  # during: the old digests are still compared
        dry = encryption_rotate(actor=system_actor("test"), dry_run=True)
        assert dry.indexes["registry.Person.id_number"] >= 2 and index_key_counts() == before
        res = encryption_rotate(actor=system_actor("test"))
        assert res.index_current == "i2" and res.indexes["registry.Person.id_number"] >= 2
        assert (
            res.indexes["registry.Household.phone"] >= 1
            and res.indexes["registry.HistoricalPerson.id_number"] >= 3
        )
        counts = index_key_counts()
        assert counts.get(crypto.LEGACY_INDEX_ID, 0) == 0 and counts["i2"] == sum(before.values())
        raw = _raw(Person._meta.db_table, "id_number_bidx", p.pk)
        assert raw.startswith("i2:") and len(raw) <= 32
        assert len(_raw(Person._meta.db_table, "id_number_tail", p.pk)) <= 16
        assert encryption_rotate(actor=system_actor("test")).indexes == {}  # nothing left to do
        with override_settings(FANGPIN_INDEX_KEYS={"i2": new["i2"]}, FANGPIN_INDEX_KEY_ID="i2"):
            assert found() == expected  # after: the old key is gone
            assert {q.id_number for q in Person.objects.all()} == {ID_A, ID_B}  # every row decrypts
            F.person(hh, id_number=make_id_number("410506", dt.date(2001, 1, 1), 5, "M"))
            assert Person.objects.filter(id_number_bidx__startswith="i2:").count() == 3


def test_production_refuses_development_keys():
    from fangpin.core.checks import encryption_keys

    assert encryption_keys() == []  # test settings: development keys allowed
    with override_settings(FANGPIN_DEV_KEYS=False):
        assert [e.id for e in encryption_keys()] == ["fangpin.E_KEYS"]
    with override_settings(FANGPIN_DEV_KEYS=False, FANGPIN_DATA_KEYS={}):
        assert [e.id for e in encryption_keys()] == ["fangpin.E_KEYS"]
    with override_settings(
        FANGPIN_DEV_KEYS=False,
        FANGPIN_DATA_KEYS={"k1": os.urandom(16)},
        FANGPIN_DATA_KEY_ID="k1",
        FANGPIN_INDEX_KEY=os.urandom(32),
    ):
        assert encryption_keys() == []


# ---- a populated database dumped ---------------------------------------------------------------------------


def _populate(personas) -> tuple[set[str], set[str]]:
    """Registry rows through an import, a factory, a phone change request and a self-application."""
    from fangpin.registry.services.import_mapping import import_mapping_save
    from fangpin.registry.tests.national_file import xlsx_bytes
    from fangpin.registry.tests.test_import import HEADERS, ID1, ID2, _run, good_rows
    from fangpin.trust.services.changes import change_request_submit
    from fangpin.trust.services.self_application import self_application_submit

    admin = personas["county_admin"]
    # the test file's own column (备注（本县自加）) answered 不导入 once, as registry/tests/conftest.py does
    import_mapping_save(
        on=ON,
        actor=admin,
        file_name="a.xlsx",
        data=xlsx_bytes(HEADERS, good_rows()),
        answers={"备注（本县自加）": ""},
    )
    batch, _ = _run(admin, good_rows())
    assert batch.created == 4
    rows = good_rows()
    rows[1][14] = "13700002222"
    _run(admin, rows)  # a changed phone: update, history row, provenance
    hh = F.household(F.VILLAGE_A1, phone=PHONE_H)
    F.person(hh, id_number=ID_A, phone=PHONE_A)
    on = dt.date(2024, 5, 6)
    change_request_submit(
        actor=admin, household_id=hh.pk, kind="contact", payload={"fields": {"phone": "13611112222"}},
        reason="换号", on=on,
    )  # fmt: skip
    self_application_submit(
        actor=admin, household_id=hh.pk, on=on, ack_no="SA-TEST-1",
        form={"applicant": "张三", "applicant_phone": "13533334444", "difficulties": "看病", "risk_types": []},
        consent={"signed": False},
    )  # fmt: skip
    # a staff member's phone, and the 信息采集人联系电话 the national file keeps among a person's columns
    from fangpin.accounts.models import User

    User.objects.create(username="staff_phone", phone="13144445555")
    F.person(hh, name="李四", national_facts={"信息采集人": "李文书", "信息采集人联系电话": "13255556666"})
    ids = {ID1, ID2, ID_A}
    phones = {PHONE_A, PHONE_H, "13700002222", "13611112222", "13533334444", "13144445555", "13255556666"}
    phones |= {p for p in Person.objects.values_list("phone", flat=True) if p}
    phones |= {p for p in Household.objects.values_list("phone", flat=True) if p}
    phones |= {p for p in User.objects.values_list("phone", flat=True) if p}
    for facts in Person.objects.values_list("national_facts", flat=True):
        phones |= {v for k, v in (facts or {}).items() if k.endswith("联系电话") and v}
    assert User.objects.get(username="staff_phone").phone == "13144445555"  # plaintext in Python
    collector = Person.objects.filter(household=hh).exclude(national_facts={}).get()
    assert collector.national_facts == {"信息采集人": "李文书", "信息采集人联系电话": "13255556666"}
    ids |= {i for i in Person.objects.values_list("id_number", flat=True) if i}
    return ids, phones


def _leaks(text: str, ids: set[str], phones: set[str]) -> list[str]:
    return sorted(v for v in ids | phones if v in text)


@pytest.mark.django_db
def test_sqlite_dump_holds_no_full_id_number_or_phone(personas):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite dump")
    ids, phones = _populate(personas)
    dump = "\n".join(connection.connection.iterdump())  # the same connection sees the test's rows
    assert "registry_person" in dump and len(ids) >= 3 and len(phones) >= 4
    assert _leaks(dump, ids, phones) == []
    # a masked ID next to the birth date cannot be rebuilt: no masked form is stored either
    assert not re.search(r"410506\*{8}", dump)


@pytest.mark.django_db
def test_postgresql_dump_holds_no_full_id_number_or_phone(personas):
    """Every table's data as ``pg_dump --data-only`` writes it (COPY … TO STDOUT, table by table), read on
    the test's own connection so the uncommitted test rows are in it."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL dump")
    ids, phones = _populate(personas)
    parts = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            with cur.cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT") as cp:
                parts.append(b"".join(bytes(chunk) for chunk in cp).decode())
    dump = "\n".join(parts)
    assert len(dump) > 10_000 and any(crypto.VERSION + ":" in p for p in parts)
    assert _leaks(dump, ids, phones) == []


# ---- logs ----------------------------------------------------------------------------------------------------


def test_every_configured_handler_and_every_logger_masks_identifiers():
    import io
    import logging

    from django.conf import settings

    for name, h in settings.LOGGING["handlers"].items():
        assert "pii" in h.get("filters", []), name
    seen = []
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(n) for n in ("django.server", "django.request", "huey")),
    ]
    loggers += [logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict)[:50]]
    for lg in loggers:
        stream = io.StringIO()
        probe = logging.StreamHandler(stream)  # a handler added outside the configuration
        lg.addHandler(probe)
        old = lg.level
        lg.setLevel(logging.INFO)
        try:
            lg.warning('"GET /households/?q=%s HTTP/1.1" 200 phone %s', ID_A, PHONE_A)
            try:
                raise ValueError(f"bad id {ID_B}")
            except ValueError:
                lg.exception("failed")
        finally:
            lg.removeHandler(probe)
            lg.setLevel(old)
        out = stream.getvalue()
        seen.append(out)
        assert ID_A not in out and PHONE_A not in out and ID_B not in out, lg.name
        assert ID_A[:6] + "********" + ID_A[-4:] in out
    # every handler the configuration attached (any logger) carries the masking filter itself
    from fangpin.core.masking import PiiLogFilter

    configured = {n for n in settings.LOGGING["handlers"]}
    for lg in loggers:
        for h in lg.handlers:
            if h.get_name() in configured:
                assert any(isinstance(f, PiiLogFilter) for f in h.filters), (lg.name, h.get_name())
                rec = logging.LogRecord("x", logging.WARNING, __file__, 1, "q=%s", (ID_A,), None)
                for f in h.filters:
                    f.filter(rec)
                assert ID_A not in rec.getMessage()
    assert len(seen) >= 4
