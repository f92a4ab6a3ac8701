"""PostgreSQL ``timestamptz`` values read faster (no domain words).

Django's psycopg 3 backend reads every ``timestamptz`` through its own loader, a subclass of psycopg's
*Python* ``TimestamptzLoader`` (the C one of psycopg-binary is not used for it): a verbose regular
expression and seven ``int()`` per value, ~100 µs under a profiler. A household file reads ~110 of them (its
history rows, audit and case times), and every route reads some. ``install()`` gives Django's loader
(``BaseTzLoader.load``) a faster way to the very same value: the text PostgreSQL sends in its ISO date style
(``2026-12-03 05:28:39.913615+00``) parsed by ``datetime.fromisoformat`` (C), moved to the connection's time
zone and given the loader's ``timezone`` as Django's loader does. Anything else — another date style, BC,
infinity, an overflow — goes to the original loader unchanged (which parses or refuses it as before)."""

from __future__ import annotations

import datetime as dt
from typing import Any

_ORIGINAL: list[Any] = []


def install() -> None:
    """Once per process (``core.apps``); without psycopg 3 (SQLite only) nothing to do."""
    try:
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader
        from psycopg.types.datetime import TimestamptzLoader
    except ImportError:
        return
    if _ORIGINAL:
        return
    original = BaseTzLoader.load
    iso = TimestamptzLoader._load_iso
    _ORIGINAL.append(original)

    def load(self: Any, data: Any) -> dt.datetime:
        if self._load_method is iso:  # the connection's DateStyle is ISO: the regex's own format
            try:
                value = dt.datetime.fromisoformat(bytes(data).decode("ascii"))
                if value.tzinfo is not None:
                    return value.astimezone(self._timezone).replace(tzinfo=self.timezone)
            except (ValueError, OverflowError, UnicodeDecodeError):
                pass
        return original(self, data)

    BaseTzLoader.load = load


def original_load() -> Any:
    """Django's own ``BaseTzLoader.load`` (the tests compare with it)."""
    return _ORIGINAL[0] if _ORIGINAL else None
