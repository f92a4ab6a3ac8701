"""Fast inserts of new registry rows *and* their simple_history rows, for large imports.

Django's ``bulk_create`` on SQLite is limited to 999 bound variables per statement, so a 55-column
Person row goes in ~18 rows per INSERT and the SQL compiler dominates (about 5k rows/s measured, i.e.
a minute for 100k persons with history). Here values are adapted once per field type and written with
``executemany`` (SQLite) or ``COPY`` (PostgreSQL, psycopg 3), ids are pre-allocated (SQLite: above the
table's max/sequence while the import transaction holds the write lock; PostgreSQL: ``nextval`` of the
table's sequence) so the history rows can carry them. The caller holds ``transaction.atomic()``.

Same semantics as ``simple_history.utils.bulk_create_with_history``: one '+' history row per object
with history_user, history_change_reason and history_date; no model signals (neither sends them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import connection, models
from simple_history.utils import get_history_manager_for_model

_CHUNK = 5000


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    ops = connection.ops
    t = field.get_internal_type()
    if t == "DateTimeField":
        cache: dict[Any, Any] = {}  # an import stamps one "now" on every row: adapt it once

        def adapt_dt(v: Any) -> Any:
            if v not in cache:
                cache[v] = ops.adapt_datetimefield_value(v)
            return cache[v]

        return adapt_dt
    if t == "DateField":
        return ops.adapt_datefield_value
    if t == "DecimalField":
        return lambda v: (
            None if v is None else ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
        )
    if t in ("JSONField",):
        return lambda v: field.get_db_prep_save(v, connection)
    if t in (
        "CharField",
        "TextField",
        "BooleanField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "PositiveBigIntegerField",
        "SmallIntegerField",
        "AutoField",
        "BigAutoField",
        "ForeignKey",
    ):
        return lambda v: v
    return lambda v: field.get_db_prep_save(v, connection)


def _allocate_ids(model: type[models.Model], n: int) -> list[int]:
    table = model._meta.db_table
    pk = model._meta.pk.column
    qn = connection.ops.quote_name
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",  # noqa: S608
                [table, pk, n],
            )
            return [r[0] for r in cur.fetchall()]
        cur.execute(f"SELECT COALESCE(MAX({qn(pk)}), 0) FROM {qn(table)}")  # noqa: S608
        top = cur.fetchone()[0]
        if connection.vendor == "sqlite":
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            top = max(top, row[0] if row else 0)
    return list(range(top + 1, top + 1 + n))


def _write(model: type[models.Model], fields: list[models.Field], rows: list[list[Any]]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            raw = cur.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:  # noqa: S608
                for r in rows:
                    cp.write_row(r)
            return
        # A bigger page cache for this connection keeps the index B-trees in memory during a large load.
        cur.execute("PRAGMA cache_size = -262144")
        marks = ", ".join(["%s"] * len(fields))
        for i in range(0, len(rows), _CHUNK):
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows[i : i + _CHUNK])  # noqa: S608
        cur.execute("PRAGMA cache_size = -2000")  # back to SQLite's default for this connection


def fast_create_with_history(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    history_user_id: int | None,
    change_reason: str,
    now: dt.datetime,
) -> list[int]:
    """Insert ``rows`` (dicts keyed by field attname; missing fields take their defaults) and one history
    row each. Returns the new primary keys in the order of ``rows``."""
    if not rows:
        return []
    meta = model._meta
    fields = list(meta.concrete_fields)
    ids = _allocate_ids(model, len(rows))
    names = [f.attname for f in fields]
    adapt = [_adapter(f) for f in fields]
    pk_pos = names.index(meta.pk.attname)
    # Defaults adapted once (an import gives every row the same "now" and the same empty defaults).
    default_vals: list[Any] = []
    for f, a in zip(fields, adapt, strict=True):
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default_vals.append(a(now))
        else:
            default_vals.append(a(f.get_default()))  # "" for non-null text, None for nullable
    out_rows: list[list[Any]] = []
    for r, pk in zip(rows, ids, strict=True):
        vals = [a(r[n]) if n in r else d for n, a, d in zip(names, adapt, default_vals, strict=True)]
        vals[pk_pos] = pk
        out_rows.append(vals)
    _write(model, fields, out_rows)

    hist = get_history_manager_for_model(model).model
    h_fields = [f for f in hist._meta.concrete_fields if not f.primary_key]
    pos = {n: i for i, n in enumerate(names)}
    extra = {
        "history_date": now,
        "history_change_reason": change_reason,
        "history_type": "+",
        "history_user_id": history_user_id,
    }
    # Per history column: the index of the same value in the main row, or a constant.
    plan = [
        (None, _adapter(f)(extra[f.attname])) if f.attname in extra else (pos[f.attname], None)
        for f in h_fields
    ]
    _write(hist, h_fields, [[vals[i] if i is not None else c for i, c in plan] for vals in out_rows])
    return ids
