"""The county job's former front end (``risk.facts.facts_from_db`` until 2026-12-01 evening), kept verbatim
as the reference the set-based reader is checked against (``test_facts_db.py``) and the bench's baseline
(``bench/risk_county_job.py --old``): ORM objects and Python dicts row by row, each person's history through
``registry.selectors._in_effect``."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import polars as pl

from fangpin.risk.facts import (
    _TRAITS,
    RiskFacts,
    _frame,
    _persons_frame,
    income_known_on,
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


def facts_from_db_orm(county: str, *, lines: dict[int, float]) -> RiskFacts:
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
