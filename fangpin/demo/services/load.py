"""Load a generated county into the registry (the county-size path).

Rows go in through ``bulk_create_with_history`` with ``source_kind=generated``; each history row is
dated when the fact began (baseline, birth, marriage) and carries it as its effective date, and members who left (death, marriage) get a
second history row dated when they left — so ``members_as_of(household, month)`` answers "who lived
here in month M". Monitoring objects go through ``monitoring.services.enrolment.enrol_existing`` and are
also kept in ``demo.GeneratedMonitoring``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.monitoring.models import MonitoringObject
from fangpin.monitoring.services.assistance import measure_add
from fangpin.monitoring.services.enrolment import enrol_existing
from fangpin.registry.flags import household_flags_touch
from fangpin.registry.models import Household, IncomeRecord, MemberChange, Person

from ..generator.county import county_plan, iter_villages, rural_villages_from_db
from ..generator.params import gen_params_from_db
from ..generator.village import VillageData
from ..models import DemoDataset, GeneratedMonitoring, HistoryEvent, HistoryLead, PlantedDefect

log = logging.getLogger(__name__)

E_NOT_EMPTY = "demo_not_empty"
E_NO_VILLAGES = "demo_no_villages"

HOUSEHOLD_FIELDS = [f.name for f in Household._meta.concrete_fields if f.name not in ("id", "village")] + [
    "village_id"
]
PERSON_FIELDS = [f.name for f in Person._meta.concrete_fields if f.name not in ("id", "household")]
INCOME_FIELDS = [f.name for f in IncomeRecord._meta.concrete_fields if f.name not in ("id", "household")]


@dataclass
class LoadResult:
    dataset: DemoDataset
    counts: dict[str, int]
    enrolled: int = 0
    enrol_errors: list[str] = field(default_factory=list)
    measures: int = 0


def _at(d: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(d, dt.time(9, 0)))


def _model_kwargs(row: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {k: row[k] for k in names if k in row}


def _write_village(
    v: VillageData, *, source_ref: str, now: dt.datetime, baseline: dt.date, as_of: dt.date
) -> dict[str, int]:
    sourced = {"source_kind": "generated", "source_ref": source_ref, "source_at": now}
    households = []
    for h in v.households:
        o = Household(**_model_kwargs(h, HOUSEHOLD_FIELDS), **sourced)
        o._history_date = _at(baseline)
        households.append(o)
    bulk_create_with_history(households, Household, batch_size=500)
    hh_id = {o.household_no: o.id for o in households}

    persons, leaving, changing = [], [], []
    for x in v.persons:
        # a trait the history set later (``demo.generator.history.changed_since``) starts at its earlier
        # value; its change is a version of its own, effective and recorded on its day (below)
        kw = _model_kwargs({**x, **(x.get("_before") or {})}, PERSON_FIELDS)
        # the first history row is the person's entry: a member, not yet dead
        kw.update(is_member=True, death_date=None, effective_on=x["_entered_on"])
        o = Person(household_id=hh_id[x["household_no"]], **kw, **sourced)
        o._history_date = _at(x["_entered_on"] or baseline)
        persons.append(o)
        if x["_left_on"]:
            leaving.append((o, x))
        if x.get("_since"):
            changing.append((o, x))
    bulk_create_with_history(persons, Person, batch_size=500)
    for day in sorted({d for _o, x in changing for d in x["_since"].values()}):
        batch, fields = [], set()
        for o, x in changing:
            now_set = [k for k, d in x["_since"].items() if d == day]
            if now_set:
                for k in now_set:
                    setattr(o, k, x[k])
                o.effective_on, o._history_date = day, _at(day)
                fields.update(now_set)
                batch.append(o)
        bulk_update_with_history(batch, Person, [*sorted(fields), "effective_on"], batch_size=500)
    for o, x in leaving:
        o.is_member, o.death_date, o.effective_on = False, x["death_date"], x["_left_on"]
        o._history_date = _at(x["_left_on"])
    if leaving:
        bulk_update_with_history(
            [o for o, _ in leaving], Person, ["is_member", "death_date", "effective_on"], batch_size=500
        )
    # the effective dates live in the history rows; the rows themselves carry none (registry.models.base)
    Person.objects.filter(pk__in=[o.pk for o in persons], effective_on__isnull=False).update(
        effective_on=None
    )
    person_id = {o.person_no: o.id for o in persons}

    incomes = []
    for r in v.incomes:
        o = IncomeRecord(household_id=hh_id[r["household_no"]], **_model_kwargs(r, INCOME_FIELDS), **sourced)
        o._history_date = _at(min(r["period_end"] + dt.timedelta(days=20), as_of))
        incomes.append(o)
    bulk_create_with_history(incomes, IncomeRecord, batch_size=500)

    MemberChange.objects.bulk_create(
        [
            MemberChange(
                household_id=hh_id[c["household_no"]],
                person_id=person_id[c["person_no"]],
                kind=c["kind"],
                date=c["date"],
                note=c["note"],
                **sourced,
            )
            for c in v.changes
        ],
        batch_size=500,
    )
    return {
        "households": len(households),
        "persons": sum(1 for x in v.persons if x["is_member"]),
        "persons_left": len(leaving),
        "income_records": len(incomes),
        "member_changes": len(v.changes),
        "monitoring_objects": len(v.monitoring),
        "planted_defects": len(v.defects),
    }


def _enrol(actor, dataset: DemoDataset) -> tuple[int, list[str]]:
    """Enrol the generated monitoring objects through the monitoring service."""
    done, errors = 0, []
    households = {
        h.household_no: h for h in Household.objects.filter(village__code__startswith=dataset.county_code)
    }
    for m in dataset.monitoring.filter(enrolled=False).order_by("household_no"):
        try:
            with transaction.atomic():
                enrol_existing(
                    actor=actor,
                    household=households[m.household_no],
                    category=m.category,
                    risk_types=m.risk_types,
                    identified_on=m.identified_on,
                    eliminated_on=m.eliminated_on,
                    elimination_method=m.elimination_method,
                    source_ref=f"演示数据 seed={dataset.seed}",
                )
        except DomainError as e:
            m.enrol_error = f"{e.code}: {e.message}"[:300]
            m.save(update_fields=["enrol_error"])
            errors.append(f"{m.household_no} {m.enrol_error}")
            continue
        m.enrolled = True
        m.save(update_fields=["enrolled"])
        done += 1
    return done, errors


def _measures(actor, dataset: DemoDataset) -> int:
    """一户一策 for the active monitoring objects, through monitoring's ``measure_add``: a fitting
    measure per risk type (``catalogue.risk_measure_fit``), 低保 where a member has it, and a
    developmental measure where the household has labour. Deterministic per household."""
    from fangpin.policy.params import param_value

    from ..generator.village import village_rng

    n = 0
    objects = MonitoringObject.objects.filter(
        household__village__code__startswith=dataset.county_code, status="active"
    ).select_related("household")
    for obj in objects.order_by("household__household_no"):
        hh = obj.household
        rng = village_rng(dataset.seed, hh.household_no, "measures")
        fit = param_value(
            "catalogue.risk_measure_fit", region_code=hh.village_id, year=obj.identified_on.year
        )
        kinds = param_value("catalogue.measures", region_code=hh.village_id, year=obj.identified_on.year)
        members = list(hh.persons.filter(is_member=True))
        # benefits that need an entitled member are only given where the registry shows one
        entitled = {
            "低保": any(p.dibao != "未享受" for p in members),
            "特困供养": any(p.tekun != "不享受" for p in members),
            "残疾人补贴": any(p.disability_grade for p in members),
        }
        names: list[str] = []
        for risk in obj.risk_types:
            options = [m for m in fit.get(risk, []) if m not in names and entitled.get(m, True)]
            if options:
                names.append(rng.choice(options))
        if any(p.dibao != "未享受" for p in members) and "低保" not in names:
            names.append("低保")
        if any(p.labour_skill in ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力") for p in members):
            developmental = [m for m in ("就业", "产业", "公益岗位", "技能培训") if m not in names]
            names.append(rng.choice(developmental))
        for i, name in enumerate(names):
            start = obj.identified_on + dt.timedelta(days=rng.randint(5, 25) + i)
            if start > dataset.as_of:
                start = dataset.as_of
            end = _measure_end(rng, kinds.get(name, ""), start, dataset.as_of)
            measure_add(
                actor=actor,
                monitoring_object=obj,
                name=name,
                start_on=start,
                end_on=end,
                amount=rng.choice([0, 500, 1000, 2000, 3000, 5000]),
                status="done" if end else "in_progress",
                outcome=f"{end:%Y年%m月}已落实" if end else "",
            )
            n += 1
    return n


# measures that are a running benefit (低保, 医疗救助, 教育资助 …) rather than something carried out
RUNNING_KINDS = ("protection", "health", "education")
MEASURE_DONE_AFTER_DAYS = 120


def _measure_end(rng, kind: str, start: dt.date, as_of: dt.date) -> dt.date | None:
    """When a measure was carried out (落实): a job found, a course finished, a house repaired, a
    one-off grant paid — two to ten months after it started, if that is before as_of. Running
    benefits stay in progress."""
    if kind in RUNNING_KINDS or (as_of - start).days <= MEASURE_DONE_AFTER_DAYS:
        return None
    end = start + dt.timedelta(days=rng.randint(60, 300))
    return end if end < as_of else None


def demo_county_generate(
    *,
    actor,
    county: str = "410506",
    seed: int = 0,
    scale: float = 1.0,
    as_of: dt.date,
    villages: list[str] | None = None,
    households_per_village: int | None = None,
    defect_rate: float = 0.015,
    min_defects_each: int = 0,
    enrol: bool = True,
) -> LoadResult:
    """Generate the demo county into an empty registry (refuses if the county already has households).

    ``villages``/``households_per_village`` generate a slice (tests); otherwise the county at ``scale``.
    """
    require(actor, Cap.REGISTRY_IMPORT)
    if Household.objects.filter(village__code__startswith=county).exists():
        raise DomainError(E_NOT_EMPTY, f"{county}已有户档案，演示数据只生成到空的县")
    all_villages = rural_villages_from_db(county)
    if villages is not None:
        all_villages = [v for v in all_villages if v[0] in set(villages)]
    if not all_villages:
        raise DomainError(E_NO_VILLAGES, f"{county}没有已加载的行政村，请先运行 setup 加载区划")
    specs = county_plan(county, seed=seed, scale=scale, villages=all_villages)
    if households_per_village is not None:
        from ..generator.village import VillageSpec

        specs = [
            VillageSpec(v[0], v[1], v[2], households_per_village, max(1, households_per_village // 15), v[3])
            for v in all_villages
        ]
    params = gen_params_from_db(county, as_of)
    now = timezone.now()
    source_ref = f"演示数据 {county} seed={seed} scale={scale}"
    totals: Counter[str] = Counter()
    with transaction.atomic():
        dataset = DemoDataset.objects.create(
            county_code=county, seed=seed, scale=scale, as_of=as_of, params=params.refs
        )
        for v in iter_villages(
            specs, lambda c: params, seed=seed, defect_rate=defect_rate, min_defects_each=min_defects_each
        ):
            totals.update(
                _write_village(v, source_ref=source_ref, now=now, baseline=params.baseline, as_of=as_of)
            )
            PlantedDefect.objects.bulk_create([PlantedDefect(dataset=dataset, **d) for d in v.defects])
            GeneratedMonitoring.objects.bulk_create(
                [GeneratedMonitoring(dataset=dataset, **m) for m in v.monitoring]
            )
            if v.history is not None:
                HistoryEvent.objects.bulk_create(
                    [HistoryEvent(dataset=dataset, **e) for e in v.history.events], batch_size=2000
                )
                HistoryLead.objects.bulk_create(
                    [HistoryLead(dataset=dataset, **ld) for ld in v.history.leads], batch_size=2000
                )
        dataset.counts = dict(totals)
        dataset.save(update_fields=["counts"])
        # bulk rows send no signal: the household list's flags are computed at first use or by the rebuild
        household_flags_touch(
            Household.objects.filter(village__code__startswith=county).values_list("pk", flat=True)
        )
        audit_record(
            actor=actor,
            event_type="demo.generated",
            obj=dataset,
            region_code=county.ljust(12, "0"),
            data={"seed": seed, "scale": scale, "as_of": as_of, "counts": dict(totals)},
        )
    enrolled, errors = _enrol(actor, dataset) if enrol else (0, [])
    measures = _measures(actor, dataset) if enrol and enrolled else 0
    return LoadResult(
        dataset=dataset, counts=dict(totals), enrolled=enrolled, enrol_errors=errors, measures=measures
    )
