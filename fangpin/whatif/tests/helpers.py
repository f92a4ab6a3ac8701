"""The direct, per-household recomputation the what-if must agree with: the services themselves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from fangpin.core import clock
from fangpin.monitoring.models import MonitoringObject, ObjectStatus
from fangpin.monitoring.rules import derive_category
from fangpin.monitoring.selectors import monitored_household_ids
from fangpin.monitoring.services.facts import elimination_check
from fangpin.registry.models import Household
from fangpin.registry.services.assessment import household_income_assess

ON = dt.date(2025, 7, 15)  # 龙安区 2025 line: 7,600


def _at(y, m, d):
    return time_machine.travel(dt.datetime(y, m, d, 9, tzinfo=dt.UTC), tick=False)


def direct(household_ids: list[int], on: dt.date) -> dict[int, dict[str, Any]]:
    """Per household: what ``household_income_assess`` and ``elimination_check`` say on ``on``."""
    month = clock.month_start(on)
    monitored = monitored_household_ids(on=on)
    out: dict[int, dict[str, Any]] = {}
    for hh in Household.objects.filter(pk__in=household_ids):
        a = household_income_assess(hh, month=month)
        row = {
            "members": a.result.members,
            "missing": a.missing,
            "per_capita": float(a.per_capita),
            "per_capita_after_rigid": float(a.result.per_capita_after_rigid),
            "below": a.below_line,
            "below_rigid": a.below_line_after_rigid,
            "flagged": a.below_line or a.below_line_after_rigid,
            "category": derive_category(
                household_type=hh.household_type,
                below_line=a.below_line,
                below_line_after_rigid=a.below_line_after_rigid,
            ).category,
            "monitored": hh.pk in monitored,
            "refusals": None,
            "months_above": None,
        }
        obj = MonitoringObject.objects.filter(
            household=hh, status=ObjectStatus.ACTIVE, identified_on__lte=on
        ).first()
        if obj is not None:
            refusals, facts, _refs = elimination_check(obj, on=on)
            row["refusals"] = [r.code for r in refusals]
            row["months_above"] = facts["income_months_above"]
        out[hh.pk] = row
    return out


def whatif_rows(res) -> dict[int, dict[str, Any]]:
    out = {}
    for h, r in res.iterrows():
        out[int(h)] = {
            "members": int(r["members"]),
            "missing": bool(r["missing"]),
            "per_capita": float(r["per_capita"]),
            "per_capita_after_rigid": float(r["per_capita_after_rigid"]),
            "below": bool(r["below"]),
            "below_rigid": bool(r["below_rigid"]),
            "flagged": bool(r["flagged"]),
            "category": r["category"],
            "monitored": bool(r["monitored"]),
            "refusals": r["refusals"] if r["object_active"] else None,
            "months_above": int(r["months_above"]) if r["object_active"] else None,
        }
    return out


def differences(a: dict[int, dict], b: dict[int, dict]) -> list[tuple[int, str, Any, Any]]:
    assert set(a) == set(b), set(a) ^ set(b)
    out = []
    for h in sorted(a):
        for k, v in a[h].items():
            w = b[h][k]
            if k in ("per_capita", "per_capita_after_rigid") and not a[h]["missing"]:
                if round(v, 2) != round(w, 2):
                    out.append((h, k, v, w))
            elif k not in ("per_capita", "per_capita_after_rigid") and v != w:
                out.append((h, k, v, w))
    return out
