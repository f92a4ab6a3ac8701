"""Maintained household flags for the household list: below the monitoring line, has data-quality findings.

Computing either over a county is slow (the income rule per household, every registry check), so the
household list filters on ``HouseholdFlags`` rows instead of computing them per request:

- **Marked dirty** (``household_flags_touch``) in the same transaction as the change: a save or delete of
  the household, a member, an income record, a member change or the living conditions (model signals,
  ``apps.RegistryConfig.ready``), any audited state change of the household (``audit.record.audit_recorded``:
  cases, measures, monitoring objects, change requests…), and the bulk paths that bypass signals
  (the registry import, the demo county) touch their households explicitly.
- **Refreshed before a read** (``household_flags_refresh``): the rows of the asked households that are
  dirty, were computed for another day, or do not exist yet are recomputed first, so a filter is never
  answered from stale rows. A generation counter makes a concurrent write win: a row touched while it was
  being recomputed stays dirty.
- **Refreshed in the background** (``household_flags_refresh_dirty``, the Huey task
  ``household_flags_refresh_task``): a touch queues it when its transaction commits (once while one is
  queued); the browser's list (``household_flags_prepare``) leaves today's dirty rows to it while it is
  queued or running and not late, and says how many households are being updated — never silently: with
  no job expected the list recomputes them itself. Exports, the API and saved lists always recompute.
- **Rebuilt every night** (``household_flags_rebuild``; Huey at 00:40, ``fangpin flags_rebuild``), so the
  day's first list does not pay for the whole county (the checks depend on the day through ages, the income
  rule on the month).

The income judgement is the household list's: current members, the rolling window of
``income.window_months`` ending with the month of the day, against ``income.monitoring_line`` of the county
for that year (the household file's own assessment counts members as of the month's end from history).
Findings: every registered rule over the household (cross-household rules such as a duplicate ID number look
at the whole registry, as they do on the household file).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from fangpin.core.memo import memo_clear
from fangpin.policy.params import param_cache

from .models import Household, HouseholdFlags

CHUNK = 2000
TOUCH_CHUNK = 500

log = logging.getLogger(__name__)

# The background refresh (``household_flags_refresh_dirty``, the Huey task ``household_flags_refresh_task``):
# a touch queues it when its transaction commits, once while one is queued (PENDING_KEY, in the shared
# cache); the running job beats BEAT_KEY per chunk. A list may leave today's dirty rows to it while either
# is younger than JOB_LATE_SECONDS (and says how many households are being updated); otherwise, with no
# queue, no consumer or a late job, the list recomputes them itself as before.
PENDING_KEY = "registry.flags.refresh.pending"
BEAT_KEY = "registry.flags.refresh.beat"
JOB_LATE_SECONDS = 30
REFRESH_DELAY_SECONDS = (
    5  # the job starts this long after the first change that queued it (see _queue_refresh_task)
)


def _table() -> str:
    return HouseholdFlags._meta.db_table


def household_flags_touch(household_ids: Iterable[int | None]) -> int:
    """Mark the households' flags dirty (creating the row where there is none); ids of households that do
    not exist (any more) are ignored. Call inside the transaction that changes them."""
    ids = sorted({int(i) for i in household_ids if i})
    if ids:
        memo_clear()  # the request's memoised reads of household rows (core.memo) are stale now
    t, hh = _table(), Household._meta.db_table
    n = 0
    with connection.cursor() as cur:
        for i in range(0, len(ids), TOUCH_CHUNK):
            part = ids[i : i + TOUCH_CHUNK]
            marks = ", ".join(["%s"] * len(part))
            cur.execute(
                f"INSERT INTO {t} (household_id, dirty, gen, below_line, findings, finding_codes) "  # noqa: S608
                f"SELECT id, %s, 1, %s, 0, '' FROM {hh} WHERE id IN ({marks}) "
                f"ON CONFLICT (household_id) DO UPDATE SET dirty = %s, gen = {t}.gen + 1",
                [True, False, *part, True],
            )
            n += cur.rowcount
    if ids:
        household_flags_queue_refresh()
    return n


def household_flags_queue_refresh() -> None:
    """Queue the background refresh when the current transaction commits (once per transaction); for the
    paths that mark rows dirty without ``household_flags_touch`` (a new parameter marks a region)."""
    if not _enqueue_registered():
        transaction.on_commit(_enqueue_refresh)


def _enqueue_registered() -> bool:
    """Whether this transaction already queues the refresh on commit (once per transaction is enough)."""
    return any(entry[1] is _enqueue_refresh for entry in getattr(connection, "run_on_commit", ()))


def _enqueue_refresh() -> None:
    """After a touch commits: queue the background refresh unless one is queued already (it reads every
    dirty row when it starts, so one queued job covers every touch before its start)."""
    from django.core.cache import cache

    try:
        if not cache.add(PENDING_KEY, time.time(), timeout=JOB_LATE_SECONDS * 4):
            return
    except Exception:  # no shared cache: the lists refresh inline
        log.warning("household flags: cache unavailable, no background refresh queued", exc_info=True)
        return
    try:
        _queue_refresh_task()
    except Exception:  # no queue: forget the mark, so the lists refresh inline instead of waiting for it
        cache.delete(PENDING_KEY)
        log.warning("household flags: background refresh not queued", exc_info=True)


def _queue_refresh_task() -> None:
    """Queue the job ``REFRESH_DELAY_SECONDS`` ahead, so a burst of writes (a batch approval, fifty cadres at
    work) costs one run of the rule suite (~0.4 s fixed per run, whatever the number of households) instead
    of one per commit; at once where Huey runs tasks immediately (the tests)."""
    from huey.contrib.djhuey import HUEY

    from .tasks import household_flags_refresh_task

    if HUEY.immediate:
        household_flags_refresh_task()
    else:
        household_flags_refresh_task.schedule(delay=REFRESH_DELAY_SECONDS)


def refresh_job_expected() -> bool:
    """Whether a background refresh is queued or running and not late (see PENDING_KEY)."""
    from django.core.cache import cache

    try:
        marks = cache.get_many([PENDING_KEY, BEAT_KEY])
    except Exception:
        return False
    now = time.time()
    return any(now - float(v) < JOB_LATE_SECONDS for v in marks.values())


def touch_one(household_id: int | None) -> None:
    """For signal receivers: touch one household (a no-op without an id, but for the request memo)."""
    memo_clear()
    if household_id:
        household_flags_touch([household_id])


def _params(county: str, year: int, cache: dict) -> tuple[int, bool, float]:
    from fangpin.policy.params import param_value

    if (county, year) not in cache:
        cache[(county, year)] = (
            int(param_value("income.window_months", region_code=county, year=year)),
            bool(param_value("income.include_insurance_payout", region_code=county, year=year)),
            float(param_value("income.monitoring_line", region_code=county, year=year)),
        )
    return cache[(county, year)]


def _income(ids: list[int], *, on: dt.date, cache: dict) -> dict[int, Decimal | None]:
    """人均纯收入 by household (None: no income record covers the window)."""
    from fangpin.policy.rules.income import per_capita_net_income
    from fangpin.registry.services.assessment import income_facts

    month = on.replace(day=1)
    out: dict[int, Decimal | None] = {}
    rows = (
        Household.objects.filter(pk__in=ids)
        .only("id", "village_id")
        .annotate(_m=Count("persons", filter=Q(persons__is_member=True)))
        .prefetch_related("income_records")
    )
    for hh in rows:
        window, payout, _line = _params(hh.village_id[:6].ljust(12, "0"), month.year, cache)
        res = per_capita_net_income(
            income_facts(hh),
            members=hh._m or 1,
            month=month,
            window_months=window,
            include_insurance_payout=payout,
        )
        out[hh.pk] = Decimal(str(res.per_capita)) if res.months_covered > 0 else None
    return out


def _findings(ids: list[int], *, on: dt.date) -> dict[int, list]:
    """Every rule's findings by household, each household's in the order ``run_checks`` gives them for it
    alone (by rule code, then the rule's own order)."""
    from .checks.base import run_checks
    from .checks.report import context_for

    out: dict[int, list] = defaultdict(list)
    for f in run_checks(context_for(Household.objects.filter(pk__in=ids), on=on)):
        out[f.household_id].append(f)
    return out


def findings_dump(found: list) -> str:
    """A household's findings as ``HouseholdFlags.finding_list`` stores them: JSON, one
    ``[code, message, person_id, field]`` per finding, in order (the household is the row's)."""
    return json.dumps([[f.code, f.message, f.person_id, f.field] for f in found], ensure_ascii=False)


def findings_load(household_id: int, stored: list) -> list:
    """The findings ``findings_dump`` stored, as ``checks.base.Finding`` again."""
    from .checks.base import Finding

    return [
        Finding(code, household_id, message, person_id, field) for code, message, person_id, field in stored
    ]


def _compute(ids: list[int], *, on: dt.date, cache: dict) -> None:
    """Recompute and write the rows of ``ids``. Their generations are read before the data, and a row whose
    generation moved meanwhile (a concurrent change) is written but left dirty."""
    if not ids:
        return
    with transaction.atomic():  # one snapshot per statement still; and no WITH HOLD cursors for the rules
        _compute_rows(ids, on=on, cache=cache)


def _compute_rows(ids: list[int], *, on: dt.date, cache: dict) -> None:
    gens = dict(HouseholdFlags.objects.filter(household_id__in=ids).values_list("household_id", "gen"))
    villages = dict(Household.objects.filter(pk__in=ids).values_list("id", "village_id"))
    income = _income(ids, on=on, cache=cache)
    found = _findings(ids, on=on)
    month = on.replace(day=1)
    now = timezone.now()
    rows = []
    for hid in ids:
        if hid not in villages:
            continue  # deleted meanwhile
        pc = income.get(hid)
        line = _params(villages[hid][:6].ljust(12, "0"), month.year, cache)[2]
        listed = found.get(hid, [])
        codes = Counter(f.code for f in listed)
        rows.append(
            [
                hid,
                False,
                gens.get(hid, 0),
                month,
                pc,
                pc is not None and float(pc) < line,
                on,
                sum(codes.values()),
                ",".join(sorted(codes))[:500],
                findings_dump(listed),
                now,
            ]
        )
    t = _table()
    js = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    sql = (
        f"INSERT INTO {t} (household_id, dirty, gen, income_month, per_capita, below_line, checked_on, "  # noqa: S608
        f"findings, finding_codes, finding_list, computed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, {js}, %s) "
        "ON CONFLICT (household_id) DO UPDATE SET income_month = excluded.income_month, "
        "per_capita = excluded.per_capita, below_line = excluded.below_line, checked_on = excluded.checked_on, "
        "findings = excluded.findings, finding_codes = excluded.finding_codes, "
        "finding_list = excluded.finding_list, "
        f"computed_at = excluded.computed_at, dirty = ({t}.gen <> excluded.gen)"
    )
    with connection.cursor() as cur:
        cur.executemany(sql, rows)


def _stale_rows(
    households: QuerySet[Household], *, on: dt.date, village: str = ""
) -> tuple[list[int], list[int]]:
    """The households' rows to recompute for ``on``, split: (today's dirty rows — the background job's
    business —, the others: rows of another day, never computed, or missing). ``village``: ``households``
    are exactly that village's households (``household_flags_prepare``)."""
    if village:
        return _village_stale_rows(village, on=on)
    fresh_q = Q(dirty=True) | Q(checked_on__isnull=True) | Q(checked_on__lt=on) | Q(checked_on__gt=on)
    today_dirty, other = set(), set()
    for hid, dirty, checked in HouseholdFlags.objects.filter(
        fresh_q, household__in=households.order_by().values("pk")
    ).values_list("household_id", "dirty", "checked_on"):
        (today_dirty if dirty and checked == on else other).add(hid)
    # households without a row: every creation path touches its households, so only ids above the highest
    # row can lack one (a bulk load not yet rebuilt)
    top = RawSQL(f"SELECT COALESCE(MAX(household_id), 0) FROM {_table()}", [])  # noqa: S611
    other.update(households.filter(pk__gt=top).order_by().values_list("pk", flat=True))  # one query
    return sorted(today_dirty), sorted(other)


def _village_stale_rows(village: str, *, on: dt.date) -> tuple[list[int], list[int]]:
    """``_stale_rows`` of every household of one village, in one statement of fixed text: the flags rows by
    their own village (kept by the database, registry migration 0018; read through ``hhflags_village_state``,
    not a scan of the county's rows) instead of the village's households joined to them, and the village's
    households above the highest row (no row yet: ``_stale_rows``' rule)."""
    t, hh = _table(), Household._meta.db_table
    sql = (
        f"SELECT household_id, dirty AND checked_on = %s FROM {t} WHERE village = %s "  # noqa: S608
        "AND (dirty OR checked_on IS NULL OR checked_on < %s OR checked_on > %s) "
        f"UNION ALL SELECT id, %s FROM {hh} WHERE village_id = %s "
        f"AND id > (SELECT COALESCE(MAX(household_id), 0) FROM {t})"
    )
    today_dirty, other = set(), set()
    with connection.cursor() as cur:
        cur.execute(sql, [on, village, on, on, False, village])
        for hid, dirty_today in cur.fetchall():
            (today_dirty if dirty_today else other).add(hid)
    return sorted(today_dirty), sorted(other - today_dirty)


def _stale_ids(households: QuerySet[Household], *, on: dt.date, village: str = "") -> list[int]:
    today_dirty, other = _stale_rows(households, on=on, village=village)
    return sorted(today_dirty + other)


def _chunks(ids: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


_REFRESH_LOCK = 0x464C4147  # "FLAG": one refresher at a time on PostgreSQL


def _refresh_locked(stale: Callable[[], list[int]], *, on: dt.date, beat: bool = False) -> int:
    """Recompute the ids ``stale()`` gives. On PostgreSQL concurrent refreshers wait for one another (an
    advisory lock) and then look again, instead of all recomputing the same rows (the rules have a fixed
    cost per run)."""
    ids = stale()
    if not ids:
        return 0
    locked = connection.vendor == "postgresql" and not connection.in_atomic_block
    if locked:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [_REFRESH_LOCK])
    try:
        if locked:
            ids = stale()  # what the refresher before us left
        cache: dict = {}
        with param_cache():  # the rules' parameter reads: once per refresh (and the process cache)
            for part in _chunks(ids, CHUNK):
                if beat:
                    _beat()
                _compute(part, on=on, cache=cache)
    finally:
        if locked:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [_REFRESH_LOCK])
    return len(ids)


def household_flags_refresh(households: QuerySet[Household], *, on: dt.date, village: str = "") -> int:
    """Bring the flags of ``households`` up to date for ``on``; returns how many rows were recomputed.
    ``village``: the caller's promise that ``households`` are exactly that village's households (a village
    actor's, no helper's subset): the stale rows are then read by the flags rows' own village."""
    return _refresh_locked(lambda: _stale_ids(households, on=on, village=village), on=on)


def household_flags_prepare(households: QuerySet[Household], *, on: dt.date, village: str = "") -> int:
    """For a list that says so on screen: bring the flags of ``households`` up to date for ``on``, except
    today's dirty rows while the background refresh is queued or running and not late
    (``refresh_job_expected``); returns how many households are left to it (their rows still hold the
    values before the change: the list says "N户数据更新中"). Rows of another day, never computed or missing
    are recomputed here as always; with no job expected, everything is (``household_flags_refresh``).
    ``village`` as for ``household_flags_refresh``."""
    if not refresh_job_expected():
        household_flags_refresh(households, on=on, village=village)
        return 0
    today_dirty, other = _stale_rows(households, on=on, village=village)
    if other:
        _refresh_locked(lambda: _stale_rows(households, on=on, village=village)[1], on=on)
    return len(today_dirty)


def _beat() -> None:
    from django.core.cache import cache

    with contextlib.suppress(Exception):  # no cache: the lists refresh inline (slower, never wrong)
        cache.set(BEAT_KEY, time.time(), timeout=JOB_LATE_SECONDS * 4)


def household_flags_refresh_dirty(*, on: dt.date) -> int:
    """The background refresh: recompute every dirty row for ``on`` (a few households after ordinary
    writes; a region after a new parameter), chunk by chunk; returns how many. The queued mark is dropped
    first, so a touch committed from now on queues the next run."""
    from django.core.cache import cache

    with contextlib.suppress(Exception):
        cache.delete(PENDING_KEY)
    _beat()
    try:
        return _refresh_locked(
            lambda: sorted(HouseholdFlags.objects.filter(dirty=True).values_list("household_id", flat=True)),
            on=on,
            beat=True,
        )
    finally:
        with contextlib.suppress(Exception):
            cache.delete(BEAT_KEY)


def household_flags_rebuild(*, actor, on: dt.date, region_code: str | None = None, progress=None) -> int:
    """Recompute the flags of every household (of a region prefix), e.g. nightly; returns the count.
    Derived data only (nothing a user sees changes meaning), so it is not audited; the actor (a user or
    ``system_actor``) is still required."""
    from fangpin.accounts.actors import is_system

    if not is_system(actor) and not getattr(actor, "is_authenticated", False):
        raise TypeError("household_flags_rebuild needs a user or a system actor")
    qs = Household.objects.all()
    if region_code:
        from fangpin.regions.models import code_prefix

        qs = qs.filter(village__code__startswith=code_prefix(region_code))
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    cache: dict = {}
    with param_cache():
        for k, part in enumerate(_chunks(ids, CHUNK)):
            _compute(part, on=on, cache=cache)
            if progress:
                progress(min(len(ids), (k + 1) * CHUNK), len(ids))
    return len(ids)


def below_line_filter(households: QuerySet[Household], *, on: dt.date) -> QuerySet[Household]:
    """The households under the monitoring line on ``on`` (flags refreshed first)."""
    household_flags_refresh(households, on=on)
    return households.filter(flags__below_line=True)


def has_findings_filter(households: QuerySet[Household], *, on: dt.date) -> QuerySet[Household]:
    """The households with at least one data-quality finding on ``on`` (flags refreshed first)."""
    household_flags_refresh(households, on=on)
    return households.filter(flags__findings__gt=0)
