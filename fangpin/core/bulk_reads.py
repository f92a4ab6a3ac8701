"""Reads that want a whole result set (a county's registry into frames: risk facts, the what-if snapshot)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def whole_result_plans() -> Iterator[None]:
    """PostgreSQL plans a server-side cursor (what ``iterator`` opens) for its first 10 % of rows
    (``cursor_tuple_fraction``): ordered index walks filtered row by row, ~10x slower on a township of the
    million-person county than the hash joins and sorts it picks for a whole result. A reader that wants
    every row sets it to 1 while it runs (two statements more on PostgreSQL; nothing on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as c:
        c.execute("SET cursor_tuple_fraction = 1.0")
    try:
        yield
    finally:
        with connection.cursor() as c:
            c.execute("RESET cursor_tuple_fraction")
