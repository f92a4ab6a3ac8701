"""A per-request memo of reads (no domain words): the web middleware opens one per request, so a page whose
parts each ask for the same rows (a household's member history for the income table and for 三保障, the
household behind three access checks) reads them once.

Entries live only inside ``request_memo()``; outside it ``memo_get`` returns None and every read goes to the
database. Whoever writes what an entry was read from calls ``memo_clear()`` (``registry.flags``' touch, which
every change to a household's registry rows already calls, clears it), so a read after a write in the same
request sees the write."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("fangpin_request_memo", default=None)


@contextlib.contextmanager
def request_memo() -> Iterator[None]:
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def memo_get(namespace: str) -> dict[Any, Any] | None:
    """The open memo's dict for ``namespace`` (created empty), or None outside ``request_memo()``."""
    memo = _MEMO.get()
    if memo is None:
        return None
    return memo.setdefault(namespace, {})


def memo_clear() -> None:
    """Forget every entry of the open memo (a write happened)."""
    memo = _MEMO.get()
    if memo:
        memo.clear()
