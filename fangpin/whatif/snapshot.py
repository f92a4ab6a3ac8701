"""The what-if's input: one export of a region's registry and monitoring facts on a business date, as
plain tables (pandas) that the vectorised evaluator reads — and that ``bench/whatif.py`` generates
directly for a 100k-household county.

Tables (one row each):
- ``households``: household_id, household_no, village_id, township_id, household_type, no_labour_protected,
  head (masked head-of-household name, for the lists)
- ``spells``: household_id, person_id, start, stop (exclusive; NaT = open), labour_able — the periods in which
  a person is a member of a household, from the same definition as ``registry.selectors.members_as_of``
  (``person_in_effect`` evaluated at each date on which the person's facts or membership can change)
- ``income``: household_id, record_id, ord, r0, r1 (month indexes year*12+month-1), months, rec_at, base
  (工资性+生产经营性+财产性+转移性−生产经营性支出), payout (理赔收入), oop (合规自付支出), and the components
  for the exact fallback
- ``objects``: the monitoring objects not revoked: object_id, household_id, status, identified_on,
  eliminated_on, gradual_exit_until, measures_done, guarantees_ok, guarantee_failures (active ones only)
- ``monitored_now``: household ids of ``monitoring.selectors.monitoring_objects_on(on)`` — the current list
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, F, Field, Func, Q

from fangpin.accounts.scope import scoped
from fangpin.core.bulk_reads import whole_result_plans
from fangpin.core.masking import mask_name
from fangpin.registry.choices import LABOUR_ABLE, HouseholdStatus
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.models.income import TRANSFER_FIELDS
from fangpin.registry.selectors import membership_on, values_in_effect, version_effective_dates

INCOME_COLS = (
    "wage",
    "production_business",
    "property_income",
    "transfer",
    "production_expense",
    "insurance_payout",
    "compliant_out_of_pocket",
)


INCOME_VALUE_FIELDS = tuple(c for c in INCOME_COLS if c != "transfer") + tuple(TRANSFER_FIELDS)


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


@dataclass
class Snapshot:
    on: dt.date
    region_prefix: str
    households: pd.DataFrame
    spells: pd.DataFrame
    income: pd.DataFrame
    objects: pd.DataFrame
    monitored_now: set[int]
    timings: dict[str, float] = field(default_factory=dict)
    stamp: str = ""  # the registry generation it was built from (``store.registry_stamp``); "" = not stored
    built_at: str = ""  # when it was built (ISO time), shown by the screen
    _con: Any = field(default=None, repr=False, compare=False)  # evaluate.prepare's DuckDB tables
    # evaluate's memo: per-capita incomes per (window, payout) table, evaluations per resolved parameters
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def villages(self) -> list[str]:
        return sorted(self.households["village_id"].unique().tolist())


CHUNK = 20_000  # rows fetched per round trip by the streamed reads


def snapshot_build(*, actor, on: dt.date, region_prefix: str | None = None) -> Snapshot:
    """Reads (never writes) the facts of the actor's scope (optionally narrowed to ``region_prefix``).

    Set-based: a fixed number of queries whatever the county's size (households and heads; the person
    history and member changes, streamed; the income records with their amounts in fen computed by the
    database; the monitoring objects; the histories behind the active objects' guarantees, read at once by
    ``households_guarantees_assess``; the current list), each table built from plain rows and vectorised
    in pandas. The tables equal those of the former per-object build, kept as the tests' reference
    (``whatif/tests/orm_snapshot.py``)."""
    with whole_result_plans():
        return _snapshot_build(actor=actor, on=on, region_prefix=region_prefix)


def _snapshot_build(*, actor, on: dt.date, region_prefix: str | None) -> Snapshot:
    t0 = time.perf_counter()
    prefix = region_prefix or actor.scope_prefix or ""
    hh_qs = scoped(actor, Household.objects.filter(status=HouseholdStatus.ACTIVE))
    if prefix:
        hh_qs = hh_qs.filter(village__code__startswith=prefix)
    households = _households(hh_qs)
    timings = {"households": time.perf_counter() - t0}

    t = time.perf_counter()
    spells = _spells(hh_qs, set(households["household_id"].tolist()))
    timings["persons"] = time.perf_counter() - t

    t = time.perf_counter()
    income = _income(hh_qs)
    timings["income"] = time.perf_counter() - t

    t = time.perf_counter()
    objects, monitored = _objects(hh_qs, on)
    timings["objects"] = time.perf_counter() - t
    return Snapshot(on, prefix, households, spells, income, objects, monitored, timings)


def _households(hh_qs) -> pd.DataFrame:
    rows = hh_qs.values_list("id", "household_no", "village_id", "household_type", "no_labour_protected")
    heads = dict(
        Person.objects.filter(household__in=hh_qs, relation="户主", is_member=True).values_list(
            "household_id", "name"
        )
    )
    return pd.DataFrame(
        [
            (h, no, v, v[:9] + "000", kind, bool(protected), mask_name(heads.get(h, "")))
            for h, no, v, kind, protected in rows.iterator(chunk_size=CHUNK)
        ],
        columns=["household_id", "household_no", "village_id", "township_id", "household_type",
                 "no_labour_protected", "head"],
    )  # fmt: skip


_PERSON_ROW = ("history_date", "history_id", "history_type", "effective_on", "household_id", "is_member",
               "labour_skill")  # fmt: skip


SPELL_COLUMNS = ["household_id", "person_id", "start", "stop", "labour_able"]


def _spells(hh_qs, id_set: set[int]) -> pd.DataFrame:
    """Every person of the households' person history or member changes: their versions streamed in
    recording order, each person's spells from ``registry.selectors.values_in_effect`` (``_in_effect`` on
    the three fields a spell needs) and ``membership_on`` (``person_in_effect``'s membership) at every
    breakpoint; a person with one version and no member change straight from that version."""
    hh_ids = hh_qs.values("id")
    in_history = Person.history.filter(household_id__in=hh_ids).values("id")
    named = set(MemberChange.objects.filter(household_id__in=hh_ids).values_list("person_id", flat=True))
    changes: dict[int, list[MemberChange]] = defaultdict(list)
    change_rows = MemberChange.objects.filter(person_id__in=in_history).only(
        "id", "person_id", "household_id", "kind", "date"
    )
    for c in change_rows.order_by("date", "id").iterator(chunk_size=CHUNK):
        changes[c.person_id].append(c)
    rows: list[tuple] = []
    parts: list[pd.DataFrame] = []
    seen: set[int] = set()

    def flush() -> None:  # into a frame a chunk at a time: memory is the frame, not a million tuples
        mine = [r for r in rows if r[0] in id_set]
        if mine:
            parts.append(pd.DataFrame(mine, columns=SPELL_COLUMNS))
        rows.clear()

    def emit(pid: int, vs: list[tuple]) -> None:
        seen.add(pid)
        if len(rows) >= CHUNK:
            flush()
        ch = changes.get(pid)
        if len(vs) == 1 and not ch:
            v = vs[0]  # one version, no member change: in effect from its own date (or always)
            if v[2] != "-" and v[5]:
                rows.append((v[4], pid, v[3] or dt.date.min, None, v[6] in LABOUR_ABLE))
            return
        rows.extend((h, pid, start, stop, able) for h, start, stop, able in _person_spells(vs, ch or []))

    def stream(versions) -> None:
        rows_by_person = (
            versions.order_by("id", "history_date", "history_id")
            .values_list("id", *_PERSON_ROW)
            .iterator(chunk_size=CHUNK)
        )
        for pid, group in groupby(rows_by_person, key=itemgetter(0)):
            emit(pid, [row[1:] for row in group])

    stream(Person.history.filter(id__in=in_history))
    extra = sorted(named - seen)  # named by a member change of these households, never in their history
    if extra:
        for c in MemberChange.objects.filter(person_id__in=extra).order_by("date", "id"):
            changes[c.person_id].append(c)
        for i in range(0, len(extra), 5000):
            stream(Person.history.filter(id__in=extra[i : i + 5000]))
    flush()
    spells = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame([], columns=SPELL_COLUMNS)
    spells["start"] = pd.to_datetime(
        spells["start"].where(spells["start"] != dt.date.min, dt.date(1900, 1, 1))
    )
    spells["stop"] = pd.to_datetime(spells["stop"])
    return spells


def _person_spells(
    vs: list[tuple], changes: list[MemberChange]
) -> list[tuple[int, dt.date, dt.date | None, bool]]:
    """(household_id, start, stop, labour_able) of each period in which the person is a member: the answer
    of ``person_in_effect`` at each date on which it can change (a version's effective date, a member
    change's date), consecutive dates with the same answer merged."""
    effs = version_effective_dates(vs)
    points = [dt.date.min, *sorted({e for e in effs if e is not None} | {c.date for c in changes})]
    out: list[tuple[int, dt.date, dt.date | None, bool]] = []
    for i, d in enumerate(points):
        state = values_in_effect(vs, effs, d)
        if state is None:
            continue
        household, member, skill = state
        if changes:
            member, where = membership_on(changes, d)
            household = where if where is not None else household
        if not member:
            continue
        stop = points[i + 1] if i + 1 < len(points) else None
        able = skill in LABOUR_ABLE
        if out and out[-1][2] == d and (out[-1][0], out[-1][3]) == (household, able):
            out[-1] = (out[-1][0], out[-1][1], stop, out[-1][3])  # same state: extend
        else:
            out.append((household, d, stop, able))
    return out


class _Fen(Func):
    """The sum of the amount fields in fen, as the database computes it: PostgreSQL's numeric exactly (the
    sum × 100 is whole; the cast keeps it); SQLite stores a REAL, and the nearest integer of the sum × 100 is
    the fen for any amounts the fields hold (their rounding errors add up to far below half a fen). Typed as
    a bare ``Field``: the driver's int as it comes (an integer output field would add a Python ``int()``
    per value)."""

    output_field = Field()
    arg_joiner = " + "

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((%(expressions)s) * 100)::bigint", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(ROUND((%(expressions)s) * 100) AS INTEGER)", **extra
        )


def _columns(rows: Iterator[tuple], columns: list[str], objects: set[str]) -> dict[str, np.ndarray]:
    """The streamed ``rows`` as one array per column, converted a chunk at a time (memory: the arrays, not
    the tuples): int64, or Python objects for the ``objects`` columns (dates)."""
    parts: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    buf: list[tuple] = []

    def flush() -> None:
        for c, values in zip(columns, zip(*buf, strict=True) if buf else [()] * len(columns), strict=True):
            parts[c].append(np.array(values, dtype=object if c in objects else np.int64))
        buf.clear()

    for row in rows:
        buf.append(row)
        if len(buf) == CHUNK:
            flush()
    flush()
    return {c: np.concatenate(v) for c, v in parts.items()}


class _MonthIndex(Func):
    """year × 12 + month − 1 of a date (``month_index``), computed by the database as an integer."""

    output_field = Field()  # the driver's int as it comes (see ``_Fen``)

    def as_postgresql(self, compiler, connection, **extra):
        template = (
            "(date_part('year', %(expressions)s)::int * 12 + date_part('month', %(expressions)s)::int - 1)"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # %%%% → %% after the template → % after the backend puts its placeholders in
        template = (
            "(CAST(strftime('%%%%Y', %(expressions)s) AS INTEGER) * 12"
            " + CAST(strftime('%%%%m', %(expressions)s) AS INTEGER) - 1)"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class _EpochMicros(Func):
    """A timestamptz as microseconds since 1970 (PostgreSQL: exact, its timestamps are microseconds)."""

    output_field = Field()
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"


def _yuan_text(fen: np.ndarray) -> Any:
    """``str`` of the two-place Decimal of each amount in fen ("1234.50", "-0.05"), formatted once per
    distinct value; a pandas ``str`` array (what a column of those strings becomes)."""
    codes, values = pd.factorize(fen)
    texts = [f"{'-' if x < 0 else ''}{abs(x) // 100}.{abs(x) % 100:02d}" for x in values.tolist()]
    return pd.array(texts, dtype="str").take(codes)


_INCOME_COLUMNS = ["household_id", "record_id", "ord", "r0", "r1", "months", "rec_at", "period_start",
                   "period_end", *INCOME_COLS, "base", "payout", "oop", "base_f", "payout_f", "oop_f"]  # fmt: skip


def _income(hh_qs) -> pd.DataFrame:
    """Every income record of the households, ordered as ``income_facts`` orders them, amounts in fen."""
    amounts = {c: (c,) for c in INCOME_COLS if c != "transfer"} | {"transfer": tuple(TRANSFER_FIELDS)}
    fen = {f"{c}_fen": _Fen(*names) for c, names in amounts.items()}
    pg = connection.vendor == "postgresql"  # the recording time as epoch microseconds (no Python datetimes)
    qs = (
        IncomeRecord.objects.filter(household__in=hh_qs)
        .order_by("household_id", "period_start", "id")
        .annotate(r0_=_MonthIndex("period_start"), r1_=_MonthIndex("period_end"), **fen)
        .annotate(rec_=_EpochMicros("updated_at") if pg else F("updated_at"))
        .values_list("household_id", "id", "period_start", "period_end", "rec_", "r0_", "r1_", *fen)
    )
    raw = _columns(
        qs.iterator(chunk_size=CHUNK),
        ["household_id", "record_id", "period_start", "period_end", "rec_at", "r0", "r1", *amounts],
        objects={"period_start", "period_end"} | (set() if pg else {"rec_at"}),
    )
    n = len(raw["record_id"])
    if n == 0:
        return pd.DataFrame([], columns=_INCOME_COLUMNS)
    f = {c: raw[c] for c in amounts}
    base_f = (
        f["wage"] + f["production_business"] + f["property_income"] + f["transfer"] - f["production_expense"]
    )
    r0, r1 = raw["r0"], raw["r1"]
    if pg:
        rec_at = pd.Series(raw["rec_at"].astype("datetime64[us]")).dt.tz_localize("UTC")
    else:
        rec_at = pd.to_datetime(pd.Series(raw["rec_at"]), utc=True)
    h = raw["household_id"]  # ordered by household: a record's ordinal is its distance from the first
    first = np.r_[0, np.flatnonzero(np.diff(h)) + 1]
    cols: dict[str, Any] = {
        "household_id": h,
        "record_id": raw["record_id"],
        "ord": np.arange(n) - np.repeat(first, np.diff(np.r_[first, n])),
        "r0": r0,
        "r1": r1,
        "months": r1 - r0 + 1,
        "rec_at": rec_at,
        "period_start": pd.Series(raw["period_start"], dtype=object),
        "period_end": pd.Series(raw["period_end"], dtype=object),
        **{c: _yuan_text(f[c]) for c in INCOME_COLS},
        "base": base_f / 100,  # = float(Decimal): both the double nearest the exact amount
        "payout": f["insurance_payout"] / 100,
        "oop": f["compliant_out_of_pocket"] / 100,
        "base_f": base_f,
        "payout_f": f["insurance_payout"],
        "oop_f": f["compliant_out_of_pocket"],
    }
    return pd.DataFrame(cols, columns=_INCOME_COLUMNS)


def _objects(hh_qs, on: dt.date) -> tuple[pd.DataFrame, set[int]]:
    from fangpin.monitoring.models import MeasureStatus, MonitoringObject, ObjectStatus
    from fangpin.monitoring.selectors import monitoring_objects_on
    from fangpin.registry.services.assessment import households_guarantees_assess

    objs_qs = MonitoringObject.objects.filter(household__in=hh_qs, identified_on__lte=on)
    active = Household.objects.filter(
        id__in=objs_qs.filter(status=ObjectStatus.ACTIVE).values("household_id")
    )
    objs_qs = objs_qs.exclude(status=ObjectStatus.REVOKED).annotate(
        done=Count("measures", filter=Q(measures__status=MeasureStatus.DONE))
    )
    objs = list(
        objs_qs.values_list("id", "household_id", "household__village_id", "status", "category",
                            "identified_on", "eliminated_on", "gradual_exit_until", "done")
    )  # fmt: skip
    guarantees = households_guarantees_assess(active, on=on)
    obj_rows = []
    for pk, h, village, status, category, identified, eliminated, until, done in objs:
        ok, failures = None, []
        if status == ObjectStatus.ACTIVE:
            guar = guarantees[h][0]
            ok, failures = guar.ok, [x.message for x in guar.failures]
        obj_rows.append((pk, h, village, status, category, identified, eliminated, until, done, ok, failures))
    objects = pd.DataFrame(
        obj_rows,
        columns=["object_id", "household_id", "village_id", "status", "category", "identified_on",
                 "eliminated_on", "gradual_exit_until", "measures_done", "guarantees_ok", "guarantee_failures"],
    )  # fmt: skip
    monitored = set(
        monitoring_objects_on(on).filter(household__in=hh_qs).values_list("household_id", flat=True)
    )
    return objects, monitored
