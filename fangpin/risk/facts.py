"""What the risk model may read: the facts of a county as Polars frames, each row with the day the
system knew it (``known_on``), so features at a month use only what was known then.

Two sources build the same frames: the generator's output (``facts_from_villages``, the bench, no
database) and the database (``facts_from_db``: the registry, monitoring and the department events).
Neither carries 民族, 性别, names or ID numbers: the frames below are the model's whole world, so a
protected attribute cannot reach a feature (``PERSON_COLUMNS``; a test holds this).

When facts become known (the rule both sources apply):
- a complete year's income record: 31 March of the next year (the yearly 收入采集 ends in Q1);
- a department event of a month: its push after the month (``demo.generator.history.KNOWN_LAG_DAYS``);
- a lead: the day it was opened; its outcome: the day it was closed; an enrolment: ``identified_on``;
- registry traits (health, labour, work, school, 低保/特困): bitemporal, like the registry
  (docs/architecture.md "History (bitemporal)"). The person frame holds one row per *version* of a
  person's traits, each with ``valid_from`` (the day it took effect; null: since always) and
  ``known_on`` (the day it was recorded; null: from the start, a first import states what is);
  ``features_at`` takes, per person, the latest version recorded and in effect before the month, so an
  illness, a job or a 学籍 that only began later is never seen earlier. A disability is known from its
  certificate's day when one was issued in the period, else from the start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import polars as pl

from fangpin.core.bulk_reads import whole_result_plans as _whole_result_plans

HOUSEHOLD_COLUMNS = (
    "household_no",
    "village",
    "household_type",
    "exited_year",
    "land_mu",
    "house_grade",
    "house_appraised_on",
    "water_scarce",
    "relocated",
)
# no gender, ethnicity, name, ID number or phone: protected or identifying, never model inputs
PERSON_COLUMNS = (
    "household_no",
    "person_no",
    "birth_date",
    "entered_on",
    "left_on",
    "health",
    "disability_grade",
    "disabled_since",
    "labour_skill",
    "work_status",
    "school_status",
    "dibao",
    "tekun",
    "valid_from",
    "known_on",
)
_TRAITS = ("health", "disability_grade", "labour_skill", "work_status", "school_status", "dibao", "tekun")
PROTECTED = ("ethnicity", "gender", "name", "id_number", "phone")


def income_known_on(year: int) -> dt.date:
    return dt.date(year + 1, 3, 31)


@dataclass
class RiskFacts:
    households: pl.DataFrame
    persons: pl.DataFrame
    incomes: pl.DataFrame  # household_no, year, net, oop, known_on
    events: pl.DataFrame  # household_no, person_no, kind, month, known_on, amount
    leads: pl.DataFrame  # household_no, opened_on, outcome, closed_on
    objects: pl.DataFrame  # household_no, identified_on, eliminated_on
    lines: dict[int, float]  # year → monitoring line


_SCHEMAS: dict[str, dict[str, Any]] = {
    "incomes": {
        "household_no": pl.Utf8,
        "year": pl.Int32,
        "net": pl.Float64,
        "oop": pl.Float64,
        "known_on": pl.Date,
    },
    "events": {
        "household_no": pl.Utf8,
        "person_no": pl.Utf8,
        "kind": pl.Utf8,
        "month": pl.Date,
        "known_on": pl.Date,
        "amount": pl.Float64,
    },
    "leads": {"household_no": pl.Utf8, "opened_on": pl.Date, "outcome": pl.Utf8, "closed_on": pl.Date},
    "objects": {"household_no": pl.Utf8, "identified_on": pl.Date, "eliminated_on": pl.Date},
}


def _frame(rows: list[dict[str, Any]], name: str) -> pl.DataFrame:
    schema = _SCHEMAS[name]
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)


def _net(rec: dict[str, Any]) -> float:
    from fangpin.demo.generator.income import net_of

    return float(net_of(rec))


def _person_row(x: dict[str, Any], valid_from: dt.date | None, known_on: dt.date | None) -> dict[str, Any]:
    return {
        "household_no": x["household_no"],
        "person_no": x["person_no"],
        "birth_date": x["birth_date"],
        "entered_on": x["_entered_on"],
        "left_on": x["_left_on"],
        "health": x["health"],
        "disability_grade": x["disability_grade"],
        "disabled_since": x.get("_disabled_since"),
        "labour_skill": x["labour_skill"],
        "work_status": x["work_status"],
        "school_status": x["school_status"],
        "dibao": x["dibao"] != "未享受",
        "tekun": x["tekun"] != "不享受",
        "valid_from": valid_from,
        "known_on": known_on,
    }


def _person_versions(x: dict[str, Any]) -> list[dict[str, Any]]:
    """A generated person's versions: the snapshot at as_of, preceded by the earlier values of the
    fields that changed in the history (``demo.generator.history.changed_since``), each change
    recorded on the day it took effect."""
    since: dict[str, dt.date] = x.get("_since") or {}
    if not since:
        return [_person_row(x, None, None)]
    before = x["_before"]
    days = sorted(set(since.values()))
    out = [_person_row({**x, **before}, None, None)]
    for d in days:
        state = {**x, **{k: v for k, v in before.items() if since[k] > d}}
        out.append(_person_row(state, d, d))
    return out


def _persons_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema={c: pl.Utf8 for c in PERSON_COLUMNS}).with_columns(
            pl.col("birth_date", "entered_on", "left_on", "disabled_since", "valid_from", "known_on").cast(
                pl.Date
            ),
            pl.col("disability_grade").cast(pl.Int64),
            pl.col("dibao", "tekun").cast(pl.Boolean),
        )
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("valid_from", "known_on", "disabled_since", "entered_on", "left_on").cast(pl.Date)
    )


def facts_from_villages(villages: Iterable[Any], lines: dict[int, Any]) -> RiskFacts:
    """The facts of generated villages (``demo.generator.VillageData`` with their history)."""
    hh_rows: list[dict[str, Any]] = []
    p_rows: list[dict[str, Any]] = []
    inc_rows: list[dict[str, Any]] = []
    ev_rows: list[dict[str, Any]] = []
    lead_rows: list[dict[str, Any]] = []
    obj_rows: list[dict[str, Any]] = []
    for v in villages:
        for h in v.households:
            hh_rows.append(
                {
                    "household_no": h["household_no"],
                    "village": h["village_id"],
                    "household_type": h["household_type"],
                    "exited_year": h["exited_year"],
                    "land_mu": float(h["cultivated_land_mu"]),
                    "house_grade": h["house_grade"],
                    "house_appraised_on": h["house_appraised_on"],
                    "water_scarce": bool(h["water_scarce_area"]),
                    "relocated": bool(h["in_relocation_site"]),
                }
            )
        for x in v.persons:
            p_rows.extend(_person_versions(x))
        for r in v.incomes:
            if r["period_start"].month != 1 or r["period_end"].month != 12 or r["period_end"].day != 31:
                continue  # the current year's partial record: known only at as_of
            y = r["period_start"].year
            inc_rows.append(
                {
                    "household_no": r["household_no"],
                    "year": y,
                    "net": _net(r),
                    "oop": float(r["compliant_out_of_pocket"]),
                    "known_on": income_known_on(y),
                }
            )
        if v.history is not None:
            ev_rows.extend(v.history.events)
            lead_rows.extend(v.history.leads)
        obj_rows.extend(v.monitoring)
    return RiskFacts(
        households=pl.DataFrame(hh_rows, infer_schema_length=None),
        persons=_persons_frame(p_rows),
        incomes=_frame(inc_rows, "incomes"),
        events=_frame(ev_rows, "events"),
        leads=_frame(lead_rows, "leads"),
        objects=_frame(obj_rows, "objects"),
        lines={int(y): float(v) for y, v in lines.items()},
    )


# --- the database (the county job's front end) --------------------------------------------------------
# Set-based: one query per table, streamed (``values_list(...).iterator``) in chunks of CHUNK rows into
# Polars frames, joined and mapped in Polars; no ORM object, no query per household or person. Python
# touches only each person's history rows (grouped as they stream, ordered by person), to read the
# versions the way ``registry.selectors._in_effect`` does. The same code on PostgreSQL and SQLite.

CHUNK = 50_000
_HOUSEHOLD_SCHEMA = {
    "household_no": pl.Utf8,
    "village": pl.Utf8,
    "household_type": pl.Utf8,
    "exited_year": pl.Int64,
    "land_mu": pl.Float64,
    "house_grade": pl.Utf8,
    "house_appraised_on": pl.Date,
    "water_scarce": pl.Boolean,
    "relocated": pl.Boolean,
}
_TRAIT_SCHEMA = {
    "health": pl.Utf8,
    "disability_grade": pl.Int64,
    "labour_skill": pl.Utf8,
    "work_status": pl.Utf8,
    "school_status": pl.Utf8,
    "dibao": pl.Utf8,
    "tekun": pl.Utf8,
}
_ENTERED = ("birth", "marriage_in", "migration_in", "other_in")
_LEFT = ("death", "marriage_out", "migration_out", "other_out")


def _read(qs: Any, fields: tuple[str, ...], schema: dict[str, Any]) -> pl.DataFrame:
    """The rows of ``qs`` (``fields`` → the columns of ``schema``, in order), streamed in chunks."""
    parts: list[pl.DataFrame] = []
    buf: list[tuple] = []
    for row in qs.values_list(*fields).iterator(chunk_size=CHUNK):
        buf.append(row)
        if len(buf) == CHUNK:
            parts.append(pl.DataFrame(buf, schema=schema, orient="row"))
            buf = []
    if buf or not parts:
        parts.append(pl.DataFrame(buf, schema=schema, orient="row"))
    return pl.concat(parts, rechunk=True)


def _trait_states(vs: list[tuple]) -> list[tuple[dt.date | None, dt.date | None, tuple]]:
    """(valid_from, known_on, traits) for every state of one person's history ``vs`` (rows of
    (history_date, history_id, history_type, effective_on, *traits) in recording order): for each version
    as it was recorded (known from its ``history_date``; the first one from the start) and each effective
    date stated so far, the traits in effect then as known at that recording — per field, the value of
    the latest-effective version that changed it (ties: the later recorded), none before the first
    version took effect or after a deletion (``registry.selectors._in_effect``, on the traits only: each
    field's value depends on that field alone). ``features_at`` picks the latest known, then the latest
    in effect before its month: exactly what the registry said at the time."""
    from django.utils import timezone

    from fangpin.registry.selectors import values_in_effect, version_effective_dates

    effs = version_effective_dates(vs)
    out: list[tuple[dt.date | None, dt.date | None, tuple]] = []
    for i in range(len(vs)):
        known = None if i == 0 else timezone.localdate(vs[i][0])
        for on in sorted(set(effs[: i + 1]), key=lambda d: d or dt.date.min):
            state = values_in_effect(vs[: i + 1], effs, on or dt.date.min)
            if state is not None:
                out.append((on, known, state))
    return out


def _person_states(county: str) -> pl.DataFrame:
    """person id, valid_from, known_on and the traits of every state of every county person's history."""
    from fangpin.registry.models import Person

    ids = Person.objects.filter(household__village__code__startswith=county).values("id")
    qs = Person.history.filter(id__in=ids).order_by("id", "history_date", "history_id")
    fields = ("id", "history_date", "history_id", "history_type", "effective_on", *_TRAITS)
    schema = {"id": pl.Int64, "valid_from": pl.Date, "known_on": pl.Date, **_TRAIT_SCHEMA}
    parts: list[pl.DataFrame] = []
    rows: list[tuple] = []

    def emit(pid: int, vs: list[tuple]) -> None:
        # one version (most persons): in effect since its own date; else every state of the history
        if len(vs) == 1 and vs[0][2] != "-":
            rows.append((pid, vs[0][3], None, *vs[0][4:]))
        else:
            rows.extend((pid, valid_from, known, *traits) for valid_from, known, traits in _trait_states(vs))
        if len(rows) >= CHUNK:  # into Polars a chunk at a time: memory is the frame, not Python objects
            parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
            rows.clear()

    for pid, group in groupby(qs.values_list(*fields).iterator(chunk_size=CHUNK), key=itemgetter(0)):
        emit(pid, [row[1:] for row in group])  # the rows come ordered by person
    parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    return pl.concat(parts, rechunk=True)


def _net_expression() -> Any:
    from django.db.models import DecimalField, ExpressionWrapper, F

    from fangpin.demo.generator.income import TRANSFERS

    net = F("wage") + F("production_business") + F("property_income")
    for t in TRANSFERS:
        net = net + F(t)
    net = net - F("production_expense") + F("insurance_payout")
    return ExpressionWrapper(net, output_field=DecimalField(max_digits=20, decimal_places=2))


def facts_from_db(county: str, *, lines: dict[int, float]) -> RiskFacts:
    """The facts of a county from the database (``_facts_from_db``), read with whole-result plans."""
    with _whole_result_plans():
        return _facts_from_db(county, lines=lines)


def _facts_from_db(county: str, *, lines: dict[int, float]) -> RiskFacts:
    """The facts of a county from the database: registry households and persons (their history),
    complete-year income records, monitoring objects and leads, and the department events of the period
    (the demo keeps its history's events in ``demo.HistoryEvent``/``HistoryLead``: the stand-in for the
    monthly department pushes a county accumulates). Set-based (see above): ~a dozen queries for a county
    of any size; memory is the frames plus one chunk of rows."""
    from fangpin.demo.models import HistoryEvent, HistoryLead
    from fangpin.monitoring.models import Lead, MonitoringObject
    from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person

    in_county = {"village__code__startswith": county}
    by_household = {"household__village__code__startswith": county}
    households = _read(
        Household.objects.filter(**in_county).order_by("id"),
        ("household_no", "village__code", "household_type", "exited_year", "cultivated_land_mu",
         "house_grade", "house_appraised_on", "water_scarce_area", "in_relocation_site"),
        _HOUSEHOLD_SCHEMA,
    ).with_columns(pl.col("land_mu").fill_null(0.0), pl.col("water_scarce", "relocated").fill_null(False))  # fmt: skip
    # member changes: per person number and kind the latest (date, id)
    changes = _read(
        MemberChange.objects.filter(**by_household).exclude(person__person_no="").order_by("date", "id"),
        ("person__person_no", "kind", "date"),
        {"person_no": pl.Utf8, "kind": pl.Utf8, "date": pl.Date},
    ).filter(pl.col("person_no").is_not_null())
    last = changes.group_by("person_no", "kind", maintain_order=True).agg(pl.col("date").last())
    moves = (
        pl.DataFrame({"person_no": last["person_no"].unique()}, schema={"person_no": pl.Utf8})
        if last.height == 0
        else last.pivot(on="kind", index="person_no", values="date")
    )
    for k in (*_ENTERED, *_LEFT):
        if k not in moves.columns:
            moves = moves.with_columns(pl.lit(None, dtype=pl.Date).alias(k))
    moves = moves.select(
        "person_no",
        pl.coalesce(*[pl.col(k) for k in _ENTERED]).alias("entered_on"),
        pl.coalesce(*[pl.col(k) for k in _LEFT]).alias("left_on"),
    )
    since = (
        _read(
            HistoryEvent.objects.filter(household_no__startswith=county, kind="disability").order_by(
                "household_no", "month", "id"
            ),
            ("person_no", "month"),
            {"person_no": pl.Utf8, "disabled_since": pl.Date},
        )
        .group_by("person_no", maintain_order=True)
        .agg(pl.col("disabled_since").last())
    )
    people = _read(
        Person.objects.filter(**by_household).order_by("id"),
        ("id", "household__household_no", "person_no", "birth_date", "is_member", *_TRAITS),
        {"id": pl.Int64, "household_no": pl.Utf8, "person_no": pl.Utf8, "birth_date": pl.Date,
         "is_member": pl.Boolean, **_TRAIT_SCHEMA},
    ).join(moves, on="person_no", how="left").filter(pl.col("is_member") | pl.col("left_on").is_not_null())  # fmt: skip
    states = _person_states(county)
    # a person without history rows (written around the history): the row as it is, since always
    bare = people.join(states, on="id", how="anti").select(
        "id", pl.lit(None, dtype=pl.Date).alias("valid_from"), pl.lit(None, dtype=pl.Date).alias("known_on"),
        *_TRAITS,
    )  # fmt: skip
    states = pl.concat([states.join(people.select("id"), on="id", how="semi"), bare])
    persons = (
        people.drop(*_TRAITS)
        .join(states, on="id", how="inner", maintain_order="left")
        .join(since, on="person_no", how="left")
        .select(
            "household_no",
            "person_no",
            "birth_date",
            "entered_on",
            "left_on",
            "health",
            "disability_grade",
            "disabled_since",
            "labour_skill",
            "work_status",
            "school_status",
            (pl.col("dibao") != "未享受").alias("dibao"),
            (pl.col("tekun") != "不享受").alias("tekun"),
            "valid_from",
            "known_on",
        )  # fmt: skip
    )
    incomes = (  # complete years only (the current year's partial record is known only at as_of)
        _read(
            IncomeRecord.objects.filter(**by_household)
            .order_by("household_id", "period_start", "id")  # the order the features sum in
            .annotate(net_=_net_expression()),
            ("household__household_no", "period_start", "period_end", "net_", "compliant_out_of_pocket"),
            {"household_no": pl.Utf8, "start": pl.Date, "end": pl.Date, "net": pl.Float64, "oop": pl.Float64},
        )
        .filter(
            (pl.col("start").dt.month() == 1)
            & (pl.col("end").dt.month() == 12)
            & (pl.col("end").dt.day() == 31)
        )
        .with_columns(pl.col("start").dt.year().cast(pl.Int32).alias("year"))
        .with_columns(pl.date(pl.col("year") + 1, 3, 31).alias("known_on"))
        .select(list(_SCHEMAS["incomes"]))
    )
    events = _read(
        HistoryEvent.objects.filter(household_no__startswith=county).order_by("household_no", "month", "id"),
        tuple(_SCHEMAS["events"]),
        _SCHEMAS["events"],
    )
    leads = _read(
        HistoryLead.objects.filter(household_no__startswith=county).order_by(
            "household_no", "opened_on", "id"
        ),
        tuple(_SCHEMAS["leads"]),
        _SCHEMAS["leads"],
    )
    registry_leads = _read(
        Lead.objects.filter(**in_county, household__isnull=False).order_by("-opened_on", "-id"),
        ("household__household_no", "opened_on", "outcome", "closed_on"),
        _SCHEMAS["leads"],
    ).with_columns(
        pl.when(pl.col("outcome") == "")
        .then(pl.lit("open"))
        .when(pl.col("outcome") == "confirmed")
        .then(pl.lit("confirmed"))
        .otherwise(pl.lit("rejected"))
        .alias("outcome")
    )
    objects = _read(
        MonitoringObject.objects.filter(**in_county).order_by("-identified_on", "-id"),
        ("household__household_no", "identified_on", "eliminated_on"),
        _SCHEMAS["objects"],
    )
    return RiskFacts(
        households=households,
        persons=persons,
        incomes=incomes,
        events=events,
        leads=pl.concat([leads, registry_leads]),
        objects=objects,
        lines=lines,
    )
