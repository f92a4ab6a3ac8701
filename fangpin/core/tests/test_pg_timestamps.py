"""``core.pg_timestamps``: Django's timestamptz loader given a faster parse — the same value, time zone
object included, as Django's own loader for every text PostgreSQL sends, and the same refusal otherwise."""

from __future__ import annotations

import pytest
from django.db import connection

from fangpin.core import pg_timestamps

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loader (PostgreSQL)")

TEXTS = [
    b"2026-12-03 05:28:39.913615+00",
    b"2026-12-03 05:28:39+00",
    b"2026-12-03 05:28:39.9+05:30",
    b"2026-12-03 05:28:39.01-08",
    b"2024-02-29 23:59:59.999999+08",
    b"1900-01-01 00:00:00+08:05:43",
    b"0001-01-01 00:00:00+00",
    b"9999-12-31 23:59:59.999999+00",
    b"9999-12-31 23:59:59.999999-01",  # past the largest datetime once moved to UTC
    b"0001-01-01 00:00:00+01",  # before the smallest
    b"2000-01-01 00:00:00+00 BC",
    b"infinity",
    b"-infinity",
    b"garbage",
]


def _outcome(fn, loader, data):
    try:
        v = fn(loader, data)
    except Exception as e:  # noqa: BLE001 - the refusal is compared
        return ("error", type(e).__name__)
    return (v, v.tzinfo, v.utcoffset())


@pytest.mark.django_db
@pytest.mark.parametrize("session_zone", ["UTC", "Asia/Shanghai"])
def test_the_same_value_as_djangos_loader_for_each_text(session_zone):
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from psycopg.adapt import Transformer

    original = pg_timestamps.original_load()
    assert original is not None and BaseTzLoader.load is not original  # installed at start-up
    connection.ensure_connection()
    with connection.cursor() as cur:
        cur.execute(f"SET TIME ZONE '{session_zone}'")
        try:
            pg = connection.connection
            oid = pg.adapters.types["timestamptz"].oid
            loader_class = Transformer(pg).get_loader(oid, 0).__class__  # Django's SpecificTzLoader
            assert issubclass(loader_class, BaseTzLoader)
            loader = loader_class(oid, pg)
            for text in TEXTS:
                for data in (text, memoryview(text)):
                    assert _outcome(BaseTzLoader.load, loader, data) == _outcome(original, loader, data), text
            # a value read from the database through the backend as usual
            cur.execute("SELECT '2026-12-03 13:28:39.913615+08'::timestamptz, NULL::timestamptz")
            got, none = cur.fetchone()
        finally:
            cur.execute("SET TIME ZONE 'UTC'")
    assert none is None
    assert got == original(loader, b"2026-12-03 05:28:39.913615+00") or session_zone != "UTC"
    assert got.isoformat().startswith("2026-12-03")
