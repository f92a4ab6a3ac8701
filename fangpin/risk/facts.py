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
from types import SimpleNamespace
from typing import Any

import polars as pl

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


def _db_person_versions(versions: list[Any]) -> list[tuple[dt.date | None, dt.date | None, Any]]:
    """(valid_from, known_on, person in effect) for every state of a person's registry history: for each
    version as it was recorded (known from its ``history_date``; the first one from the start) and each
    effective date stated so far, the facts in effect then as known at that recording
    (``registry.selectors._in_effect``, per field). ``features_at`` picks the latest known, then the
    latest in effect before its month: exactly what the registry said at the time."""
    from django.utils import timezone

    from fangpin.registry.selectors import _in_effect

    out: list[tuple[dt.date | None, dt.date | None, Any]] = []
    effs: list[dt.date | None] = []
    for i, v in enumerate(versions):
        eff = v.effective_on if v.effective_on is not None or i == 0 else timezone.localdate(v.history_date)
        known = None if i == 0 else timezone.localdate(v.history_date)
        effs.append(eff)
        for e in sorted(set(effs), key=lambda d: d or dt.date.min):
            obj = _in_effect(versions[: i + 1], e or dt.date.min)
            if obj is not None:
                out.append((e, known, obj))
    return out


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


def facts_from_db(county: str, *, lines: dict[int, float]) -> RiskFacts:
    """The facts of a county from the database: registry households and persons, complete-year income
    records, monitoring objects and leads, and the department events of the period (the demo keeps
    its history's events in ``demo.HistoryEvent``/``HistoryLead``: the stand-in for the monthly
    department pushes a county accumulates)."""
    from fangpin.demo.models import HistoryEvent, HistoryLead
    from fangpin.monitoring.models import Lead, MonitoringObject
    from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person

    hh = list(
        Household.objects.filter(village__code__startswith=county).values(
            "household_no",
            "village__code",
            "household_type",
            "exited_year",
            "cultivated_land_mu",
            "house_grade",
            "house_appraised_on",
            "water_scarce_area",
            "in_relocation_site",
        )
    )
    hh_rows = [
        {
            "household_no": h["household_no"],
            "village": h["village__code"],
            "household_type": h["household_type"],
            "exited_year": h["exited_year"],
            "land_mu": float(h["cultivated_land_mu"] or 0),
            "house_grade": h["house_grade"],
            "house_appraised_on": h["house_appraised_on"],
            "water_scarce": bool(h["water_scarce_area"]),
            "relocated": bool(h["in_relocation_site"]),
        }
        for h in hh
    ]
    changes: dict[str, dict[str, dt.date]] = {}
    for c in MemberChange.objects.filter(household__village__code__startswith=county).values(
        "person__person_no", "kind", "date"
    ):
        if c["person__person_no"]:
            changes.setdefault(c["person__person_no"], {})[c["kind"]] = c["date"]
    since = {
        e["person_no"]: e["month"]
        for e in HistoryEvent.objects.filter(household_no__startswith=county, kind="disability").values(
            "person_no", "month"
        )
    }
    p_rows = []
    people = list(
        Person.objects.filter(household__village__code__startswith=county).values(
            "id", "household__household_no", "person_no", "birth_date", "is_member", *_TRAITS
        )
    )
    # every history version of the county's persons (a subquery, not a list of ids: a county is large)
    versions: dict[int, list[Any]] = {}
    county_ids = Person.objects.filter(household__village__code__startswith=county).values("id")
    for v in Person.history.filter(id__in=county_ids).order_by("id", "history_date", "history_id"):
        versions.setdefault(v.id, []).append(v)
    for x in people:
        ch = changes.get(x["person_no"], {})
        entered = ch.get("birth") or ch.get("marriage_in") or ch.get("migration_in") or ch.get("other_in")
        left = ch.get("death") or ch.get("marriage_out") or ch.get("migration_out") or ch.get("other_out")
        if not x["is_member"] and left is None:
            continue
        states = _db_person_versions(versions.get(x["id"], []))
        if not states:  # no history rows (written around the history): the row as it is, since always
            states = [(None, None, SimpleNamespace(**{k: x[k] for k in _TRAITS}))]
        for valid_from, known, v in states:
            p_rows.append(
                {
                    "household_no": x["household__household_no"],
                    "person_no": x["person_no"],
                    "birth_date": x["birth_date"],
                    "entered_on": entered,
                    "left_on": left,
                    "health": v.health,
                    "disability_grade": v.disability_grade,
                    "disabled_since": since.get(x["person_no"]),
                    "labour_skill": v.labour_skill,
                    "work_status": v.work_status,
                    "school_status": v.school_status,
                    "dibao": v.dibao != "未享受",
                    "tekun": v.tekun != "不享受",
                    "valid_from": valid_from,
                    "known_on": known,
                }
            )
    inc_rows = []
    for r in IncomeRecord.objects.filter(household__village__code__startswith=county).select_related(
        "household"
    ):
        if r.period_start.month != 1 or (r.period_end.month, r.period_end.day) != (12, 31):
            continue
        from fangpin.demo.generator.income import net_of

        inc_rows.append(
            {
                "household_no": r.household.household_no,
                "year": r.period_start.year,
                "net": float(net_of(r.__dict__)),
                "oop": float(r.compliant_out_of_pocket),
                "known_on": income_known_on(r.period_start.year),
            }
        )
    ev_rows = list(
        HistoryEvent.objects.filter(household_no__startswith=county).values(
            "household_no", "person_no", "kind", "month", "known_on", "amount"
        )
    )
    lead_rows = list(
        HistoryLead.objects.filter(household_no__startswith=county).values(
            "household_no", "opened_on", "outcome", "closed_on"
        )
    )
    for ld in Lead.objects.filter(village__code__startswith=county).values(
        "household__household_no", "opened_on", "outcome", "closed_on"
    ):
        if ld["household__household_no"]:
            outcome = {"": "open", "confirmed": "confirmed"}.get(ld["outcome"], "rejected")
            lead_rows.append(
                {
                    "household_no": ld["household__household_no"],
                    "opened_on": ld["opened_on"],
                    "outcome": outcome,
                    "closed_on": ld["closed_on"],
                }
            )
    obj_rows = [
        {
            "household_no": o["household__household_no"],
            "identified_on": o["identified_on"],
            "eliminated_on": o["eliminated_on"],
        }
        for o in MonitoringObject.objects.filter(village__code__startswith=county).values(
            "household__household_no", "identified_on", "eliminated_on"
        )
    ]
    for r in ev_rows:
        r["amount"] = float(r["amount"])
    return RiskFacts(
        households=pl.DataFrame(hh_rows, infer_schema_length=None),
        persons=_persons_frame(p_rows),
        incomes=_frame(inc_rows, "incomes"),
        events=_frame(ev_rows, "events"),
        leads=_frame(lead_rows, "leads"),
        objects=_frame(obj_rows, "objects"),
        lines=lines,
    )
