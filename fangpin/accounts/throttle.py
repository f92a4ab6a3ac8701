"""Per-user throttles of searches and look-ups (API-02, API-03; docs/parts/security.md).

One gate, ``search_gate``, called by the one household search selector (``monitoring.household_search``),
so the browser search, its export and the API are counted alike:

- every search by one user counts toward ``FANGPIN_SEARCH_PER_MINUTE`` (300) per minute;
- a search for a full ID number or phone number is a *look-up*: each distinct value of the day counts toward
  the user's daily budget ``FANGPIN_LOOKUP_DAILY_BUDGET[role]`` (village cadre 200; a role not listed:
  ``FANGPIN_LOOKUP_DAILY_DEFAULT``). Repeating a value already looked up today costs nothing.

Beyond either the request is refused (``Throttled``: 429 in the API and the browser) and audited; the first
refusal of the day beyond the budget is an alert for the 安全管理员 (``security.lookup_budget_exceeded``,
``data.alert``). The values are counted by their blind index (``core.crypto``), never in clear. Counts live in
the Django cache (``settings.CACHES``): Redis when ``FANGPIN_REDIS_URL`` is set, else a file cache under the
var directory, both shared by every worker process of the machine. Whether a value was found or is outside the user's scope plays no part here, so the
answers for "not found" and "out of scope" stay identical.
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from fangpin.audit.refusals import audit_refusal
from fangpin.core import crypto
from fangpin.core.errors import DomainError

E_THROTTLED = "throttled"
_ID = re.compile(r"\d{17}[\dX]|\d{15}")
_PHONE = re.compile(r"1[3-9]\d{9}")


class Throttled(DomainError):
    """Too many searches or look-ups: HTTP 429."""

    def __init__(self, message: str) -> None:
        super().__init__(E_THROTTLED, message, field="q")


def lookup_kind(q: str) -> str | None:
    """``id_number`` / ``phone`` when the search text is a full ID or phone number (a look-up), else None."""
    text = crypto.normalize(q or "")
    if _ID.fullmatch(text):
        return "id_number"
    if _PHONE.fullmatch(text):
        return "phone"
    return None


def lookup_budget(actor) -> int:
    role = str(getattr(actor, "role", "") or "")
    return int(settings.FANGPIN_LOOKUP_DAILY_BUDGET.get(role, settings.FANGPIN_LOOKUP_DAILY_DEFAULT))


def search_gate(actor, q: str, *, on: dt.date) -> None:
    """Counts one search of ``actor`` for ``q`` (business date ``on`` names the look-up day); raises
    ``Throttled`` beyond the per-minute rate or the daily look-up budget."""
    uid = getattr(actor, "pk", None)
    if uid is None or not q:  # jobs (system actor) are not throttled
        return
    minute = int(timezone.now().timestamp() // 60)
    key = f"fangpin:search:{uid}:{minute}"
    cache.add(key, 0, 120)
    n = cache.incr(key)
    limit = int(settings.FANGPIN_SEARCH_PER_MINUTE)
    if n > limit:
        if n == limit + 1:  # once per user and minute
            audit_refusal(actor=actor, event_type="security.search_throttled", data={"per_minute": limit})
        raise Throttled(f"查询过于频繁（每分钟最多{limit}次），请稍后再试")
    kind = lookup_kind(q)
    if kind is None:
        return
    digest = crypto.blind_index(q, kind)
    day_key = f"fangpin:lookup:{uid}:{on.isoformat()}"
    seen_key, count_key, ttl = f"{day_key}:{digest}", f"{day_key}:n", 2 * 86400
    if cache.get(seen_key):  # looked up already today: costs nothing
        return
    budget = lookup_budget(actor)
    cache.add(count_key, 0, ttl)
    # add + incr are atomic in a shared cache (Redis): two workers never both spend the last look-up
    if (cache.get(count_key) or 0) < budget and cache.add(seen_key, 1, ttl):
        if cache.incr(count_key) <= budget:
            return
        cache.delete(seen_key)  # a concurrent look-up took the last one
        cache.decr(count_key)
    elif cache.get(seen_key):  # another request of this user looked it up a moment ago
        return
    first = cache.add(f"{day_key}:alerted", 1, ttl)
    audit_refusal(
        actor=actor, event_type="security.lookup_budget_exceeded",
        reason="按证件号码或电话查询超过每日额度",
        data={"budget": budget, "day": on.isoformat(), "kind": kind, "alert": bool(first)},
    )  # fmt: skip
    raise Throttled(f"今日按证件号码或电话的查询已达上限（{budget}个），已通知安全管理员")
