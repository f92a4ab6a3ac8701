"""``whatif.snapshot.snapshot_build`` as it was until 2026-12-04 (session 10), kept verbatim as the reference
the set-based build is checked against (``test_snapshot_build.py``) and the bench's baseline
(``bench/whatif_snapshot.py``): every person with several versions or a member change through model
instances and ``registry.selectors.person_in_effect`` at each breakpoint, the income rows built one by one
with Decimal, and ``household_guarantees_assess`` (a dozen queries) per active monitoring object."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db.models import Count, Q
from django.utils import timezone

from fangpin.accounts.scope import scoped
from fangpin.core.masking import mask_name
from fangpin.registry.choices import LABOUR_ABLE, HouseholdStatus
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person
from fangpin.registry.models.income import TRANSFER_FIELDS
from fangpin.registry.selectors import person_in_effect
from fangpin.whatif.snapshot import INCOME_COLS, INCOME_VALUE_FIELDS, Snapshot, month_index


def _breakpoints(versions: list[Any], changes: list[MemberChange]) -> list[dt.date]:
    """Dates on which ``person_in_effect`` can change its answer (a version's effective date, the day a
    dateless later version was recorded, a member change's date)."""
    out = set()
    for i, v in enumerate(versions):
        eff = v.effective_on if v.effective_on is not None or i == 0 else timezone.localdate(v.history_date)
        if eff is not None:
            out.add(eff)
    out.update(c.date for c in changes)
    return sorted(out)


def person_spells(
    versions: list[Any], changes: list[MemberChange]
) -> list[tuple[int, dt.date, dt.date | None, bool]]:
    """(household_id, start, stop, labour_able) of each period in which the person is a member."""
    points = [dt.date.min, *_breakpoints(versions, changes)]
    out: list[tuple[int, dt.date, dt.date | None, bool]] = []
    for i, d in enumerate(points):
        p = person_in_effect(versions, changes or None, d)
        stop = points[i + 1] if i + 1 < len(points) else None
        if p is None or not p.is_member:
            continue
        state = (p.household_id, p.labour_skill in LABOUR_ABLE)
        if out and out[-1][2] == d and (out[-1][0], out[-1][3]) == state:
            out[-1] = (out[-1][0], out[-1][1], stop, out[-1][3])  # same state: extend
        else:
            out.append((state[0], d, stop, state[1]))
    return out


def orm_snapshot_build(*, actor, on: dt.date, region_prefix: str | None = None) -> Snapshot:
    """Reads (never writes) the facts of the actor's scope (optionally narrowed to ``region_prefix``)."""
    import time

    from fangpin.monitoring.models import Measure, MeasureStatus, MonitoringObject, ObjectStatus
    from fangpin.monitoring.selectors import monitoring_objects_on
    from fangpin.registry.services.assessment import household_guarantees_assess

    t0 = time.perf_counter()
    prefix = region_prefix or actor.scope_prefix or ""
    hh_qs = scoped(actor, Household.objects.filter(status=HouseholdStatus.ACTIVE))
    if prefix:
        hh_qs = hh_qs.filter(village__code__startswith=prefix)
    rows = list(hh_qs.values("id", "household_no", "village_id", "household_type", "no_labour_protected"))
    ids = [r["id"] for r in rows]
    id_set = set(ids)
    heads = dict(
        Person.objects.filter(household__in=hh_qs, relation="户主", is_member=True).values_list(
            "household_id", "name"
        )
    )
    households = pd.DataFrame(
        [
            {
                "household_id": r["id"],
                "household_no": r["household_no"],
                "village_id": r["village_id"],
                "township_id": r["village_id"][:9] + "000",
                "household_type": r["household_type"],
                "no_labour_protected": bool(r["no_labour_protected"]),
                "head": mask_name(heads.get(r["id"], "")),
            }
            for r in rows
        ],
        columns=["household_id", "household_no", "village_id", "township_id", "household_type",
                 "no_labour_protected", "head"],
    )  # fmt: skip
    timings = {"households": time.perf_counter() - t0}

    t = time.perf_counter()
    pid_q = Q(household_id__in=hh_qs.values("id"))
    person_ids = set(Person.history.filter(pid_q).values_list("id", flat=True))
    person_ids |= set(MemberChange.objects.filter(pid_q).values_list("person_id", flat=True))
    spell_rows = []
    ordered = sorted(person_ids)
    fields = ("id", "household_id", "is_member", "labour_skill", "effective_on", "history_type")
    for i in range(0, len(ordered), 5000):
        chunk = ordered[i : i + 5000]
        changes: dict[int, list[MemberChange]] = defaultdict(list)
        for c in MemberChange.objects.filter(person_id__in=chunk).order_by("date", "id"):
            changes[c.person_id].append(c)
        n_versions: dict[int, int] = defaultdict(int)
        single: dict[int, dict[str, Any]] = {}
        for v in Person.history.filter(id__in=chunk).values(*fields):
            n_versions[v["id"]] += 1
            single[v["id"]] = v
        slow = [pid for pid, n in n_versions.items() if n > 1 or pid in changes]
        # One version and no member change (most persons): ``person_in_effect`` holds it from its
        # effective date (or always), as that version states — the same answer without the model instances.
        for pid, n in n_versions.items():
            v = single[pid]
            if n == 1 and pid not in changes and v["history_type"] != "-" and v["is_member"]:
                start = v["effective_on"] or dt.date.min
                spell_rows.append((v["household_id"], pid, start, None, v["labour_skill"] in LABOUR_ABLE))
        versions: dict[int, list[Any]] = defaultdict(list)
        for h in Person.history.filter(id__in=slow).order_by("id", "history_date", "history_id"):
            versions[h.id].append(h)
        for pid, vs in versions.items():
            for h, start, stop, able in person_spells(vs, changes.get(pid, [])):
                spell_rows.append((h, pid, start, stop, able))
    spell_rows = [r for r in spell_rows if r[0] in id_set]
    spells = pd.DataFrame(spell_rows, columns=["household_id", "person_id", "start", "stop", "labour_able"])
    spells["start"] = pd.to_datetime(
        spells["start"].where(spells["start"] != dt.date.min, dt.date(1900, 1, 1))
    )
    spells["stop"] = pd.to_datetime(spells["stop"])
    timings["persons"] = time.perf_counter() - t

    t = time.perf_counter()
    inc_fields = ("id", "household_id", "period_start", "period_end", "updated_at", *INCOME_VALUE_FIELDS)
    recs = sorted(
        IncomeRecord.objects.filter(household__in=hh_qs).values(*inc_fields),
        key=lambda r: (r["household_id"], r["period_start"], r["id"]),
    )
    inc_rows = []
    ordinal: dict[int, int] = defaultdict(int)
    for r in recs:
        o = ordinal[r["household_id"]]
        ordinal[r["household_id"]] += 1
        vals = {c: r[c] for c in INCOME_COLS if c != "transfer"}
        vals["transfer"] = sum((r[c] for c in TRANSFER_FIELDS), Decimal(0))  # IncomeRecord.transfer
        r0, r1 = month_index(r["period_start"]), month_index(r["period_end"])
        inc_rows.append(
            {
                "household_id": r["household_id"],
                "record_id": r["id"],
                "ord": o,
                "r0": r0,
                "r1": r1,
                "months": r1 - r0 + 1,
                "rec_at": r["updated_at"],
                "period_start": r["period_start"],
                "period_end": r["period_end"],
                **{c: str(vals[c]) for c in INCOME_COLS},
                "base": float(
                    vals["wage"]
                    + vals["production_business"]
                    + vals["property_income"]
                    + vals["transfer"]
                    - vals["production_expense"]
                ),
                "payout": float(vals["insurance_payout"]),
                "oop": float(vals["compliant_out_of_pocket"]),
                "base_f": int(
                    (
                        vals["wage"]
                        + vals["production_business"]
                        + vals["property_income"]
                        + vals["transfer"]
                        - vals["production_expense"]
                    )
                    * 100
                ),
                "payout_f": int(vals["insurance_payout"] * 100),
                "oop_f": int(vals["compliant_out_of_pocket"] * 100),
            }  # fmt: skip
        )
    income = pd.DataFrame(
        inc_rows,
        columns=["household_id", "record_id", "ord", "r0", "r1", "months", "rec_at", "period_start",
                 "period_end", *INCOME_COLS, "base", "payout", "oop", "base_f", "payout_f", "oop_f"],
    )  # fmt: skip
    if not income.empty:
        income["rec_at"] = pd.to_datetime(income["rec_at"], utc=True)
    timings["income"] = time.perf_counter() - t

    t = time.perf_counter()
    objs = list(
        MonitoringObject.objects.filter(household__in=hh_qs, identified_on__lte=on)
        .exclude(status=ObjectStatus.REVOKED)
        .annotate(done=Count("measures", filter=Q(measures__status=MeasureStatus.DONE)))
        .select_related("household")
    )
    del Measure
    obj_rows = []
    for o in objs:
        ok, failures = None, []
        if o.status == ObjectStatus.ACTIVE:
            guar, _refs = household_guarantees_assess(o.household, on=on)
            ok, failures = guar.ok, [x.message for x in guar.failures]
        obj_rows.append(
            {
                "object_id": o.pk,
                "household_id": o.household_id,
                "village_id": o.household.village_id,
                "status": o.status,
                "category": o.category,
                "identified_on": o.identified_on,
                "eliminated_on": o.eliminated_on,
                "gradual_exit_until": o.gradual_exit_until,
                "measures_done": o.done,
                "guarantees_ok": ok,
                "guarantee_failures": failures,
            }
        )
    objects = pd.DataFrame(
        obj_rows,
        columns=["object_id", "household_id", "village_id", "status", "category", "identified_on",
                 "eliminated_on", "gradual_exit_until", "measures_done", "guarantees_ok", "guarantee_failures"],
    )  # fmt: skip
    monitored = set(
        monitoring_objects_on(on).filter(household__in=hh_qs).values_list("household_id", flat=True)
    )
    timings["objects"] = time.perf_counter() - t
    return Snapshot(on, prefix, households, spells, income, objects, monitored, timings)
