"""One village's registry: households, members (with births, deaths and marriages since the baseline),
yearly income records, monitoring objects and planted defects.

Deterministic: everything is drawn from ``random.Random(f"{seed}:{village_code}")``, so a village's
output depends only on the seed, its code, its size and the parameters — never on which other
villages are generated, in which order or on how many threads. ID numbers are given afterwards by
``ids.IdAllocator`` (a per-county counter walked in village-code order).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangpin.core.clock import add_months

from . import families as fam
from . import names
from .history import CAUSE_RISK, VillageHistory, changed_since, simulate_village
from .income import IncomePlan, income_streams, village_income_records
from .params import GenParams

EXITED = "脱贫户"
ORDINARY = "一般农户"

DISABILITY_CATS = ["1", "2", "3", "4", "5", "6", "7"]
DISABILITY_CAT_W = [0.12, 0.15, 0.04, 0.45, 0.10, 0.09, 0.05]
ABLE = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
FULL_LABOUR = ("技能劳动力", "普通劳动力")
ADVANCED_STUDY = ("普通高中", "中职", "高职高专", "本科")


@dataclass
class VillageData:
    village_code: str
    households: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    incomes: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    monitoring: list[dict[str, Any]] = field(default_factory=list)
    defects: list[dict[str, Any]] = field(default_factory=list)
    history: VillageHistory | None = None  # the monthly history (causes, leads) behind ``monitoring``


@dataclass(frozen=True)
class VillageSpec:
    code: str
    name: str
    county_name: str
    exited_households: int
    ordinary_households: int
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class EthnicMix:
    share: float  # share of households of a minority nationality
    names: dict[str, float]  # nationality → relative weight


ETHNICITY_FILE = Path(__file__).resolve().parent.parent / "data" / "ethnicity.json"


@functools.cache
def ethnic_mix(province: str) -> EthnicMix:
    """The demo's nationality mix of a province (``data/ethnicity.json``, marked 演示)."""
    data = json.loads(ETHNICITY_FILE.read_text(encoding="utf-8"))
    m = data["provinces"].get(province, data["default"])
    return EthnicMix(share=float(m["share"]), names={k: float(v) for k, v in m["names"].items()})


def village_rng(seed: int, code: str, salt: str = "") -> random.Random:
    return random.Random(f"fangpin-demo:{seed}:{code}:{salt}")


def _rand_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def _person(
    rng: random.Random,
    spec: VillageSpec,
    m: dict[str, Any],
    on: dt.date,
    family_name: str | None,
) -> dict[str, Any]:
    age = m["_age"]
    birth = fam.birth_for_age(rng, age, on)
    gender = m["gender"]
    school = fam.school_status_for(rng, age)
    student = fam.is_student(school)
    health = fam.health_for(rng, age) if age >= 3 else "健康"
    labour = fam.labour_for(rng, age, health, student)
    work, where, months = fam.work_for(rng, age, labour, spec.county_name)
    employee = work == "县内务工" and labour == "技能劳动力" and rng.random() < 0.25
    p: dict[str, Any] = {
        "relation": m["relation"],
        "gender": gender,
        "birth_date": birth,
        "name": names.full_name(rng, gender, birth.year, family_name),
        "is_member": True,
        "id_type": "身份证",
        "id_number": None,
        "disability_cert_no": "",
        "ethnicity": "汉族",
        "education": "" if (student or age < 6) else fam.education_for(rng, age),
        "school_status": school,
        "out_of_school": False,
        "out_of_school_reason": "",
        "health": health,
        "chronic_disease": rng.choice(fam.CHRONIC)
        if health == "长期慢性病"
        else rng.choice(fam.SERIOUS)
        if health == "患有大病"
        else "",
        "disability_category": "",
        "disability_grade": None,
        "disability_subsidy": False,
        "labour_skill": labour,
        "work_status": work,
        "work_location": where,
        "work_months": months,
        "public_welfare_job": False,
        "public_welfare_job_months": 0,
        "medical_resident": not employee,
        "medical_employee": employee,
        "critical_illness_insurance": not employee,
        "medical_assistance": False,
        "pension_resident": (not employee) and age >= 16 and not student and rng.random() < 0.9,
        "pension_employee": employee,
        "dibao": "未享受",
        "tekun": "不享受",
        "tekun_amount": Decimal(0),
        "phone": fam.phone(rng) if (16 <= age <= 70 and not student and rng.random() < 0.6) else "",
        "death_date": None,
        "_entered_on": None,
        "_entered_kind": "",
        "_left_on": None,
        "_left_kind": "",
    }
    if health == "残疾":
        grade = rng.choices([1, 2, 3, 4], weights=[0.1, 0.2, 0.3, 0.4])[0]
        p["disability_category"] = rng.choices(DISABILITY_CATS, weights=DISABILITY_CAT_W)[0]
        p["disability_grade"] = grade
        p["disability_subsidy"] = grade <= 2 or rng.random() < 0.3
        p["id_type"] = "残疾人证"
    if 40 <= age <= 65 and labour in ABLE and work == "未务工" and rng.random() < 0.08:
        p["public_welfare_job"] = True
        p["public_welfare_job_months"] = 12
        p["work_status"], p["work_location"], p["work_months"] = "县内务工", spec.county_name, 12
    return p


def _household_row(rng: random.Random, spec: VillageSpec, no: str, htype: str, on: dt.date) -> dict[str, Any]:
    n_groups = len(spec.groups) or 0
    group = rng.choice(spec.groups) if n_groups else fam.group_name(rng.randint(1, 8))
    land = Decimal(rng.randint(4, 40)) / 4
    piped = rng.random() < 0.86
    return {
        "household_no": no,
        "village_id": spec.code,
        "group_name": group,
        "address": f"{spec.name.removesuffix('村民委员会').removesuffix('委员会')}{group}{rng.randint(1, 120)}号",
        "household_type": htype,
        "phone": "",
        "exited_year": rng.choices([2016, 2017, 2018, 2019, 2020], weights=[0.15, 0.25, 0.3, 0.2, 0.1])[0]
        if htype == EXITED
        else None,
        "no_labour_protected": False,
        "in_relocation_site": rng.random() < 0.02,
        "cultivated_land_mu": land,
        "irrigated_land_mu": (land * Decimal(rng.randint(3, 10)) / 10).quantize(Decimal("0.01")),
        "forest_land_mu": Decimal(rng.choice([0, 0, 0, 1, 2, 3])),
        "grain_for_green_mu": Decimal(rng.choice([0, 0, 0, 0, 1, 2])),
        "orchard_mu": Decimal(rng.choice([0, 0, 0, 0.5, 1])),
        "pasture_mu": Decimal(0),
        "water_surface_mu": Decimal(0),
        "house_area_m2": Decimal(rng.randint(45, 160)),
        "house_grade": rng.choices(["A", "B"], weights=[0.72, 0.28])[0],
        "house_appraised_on": _rand_date(rng, dt.date(2019, 3, 1), dt.date(2020, 10, 31)),
        "relocated_keys_received": False,
        "has_electricity": True,
        "has_sanitary_toilet": rng.random() < 0.88,
        "road_hardened": rng.random() < 0.95,
        "distance_to_main_road_km": Decimal(rng.randint(0, 30)) / 10,
        "food_ok": True,
        "clothing_ok": True,
        "water_piped": piped,
        "water_litres_per_day": Decimal(rng.randint(60, 120)) if piped else Decimal(rng.randint(24, 45)),
        "water_scarce_area": not piped,
        "water_quality_ok": True,
        "water_fetch_minutes": None if piped else Decimal(rng.randint(3, 15)),
        "water_horizontal_m": None if piped else Decimal(rng.randint(50, 600)),
        "water_vertical_m": None if piped else Decimal(rng.randint(0, 40)),
        "water_interruption_days": rng.randint(0, 5) if piped else rng.randint(0, 20),
    }


def _members(rng: random.Random, spec: VillageSpec, hh: dict[str, Any], p: GenParams) -> list[dict[str, Any]]:
    on, base = p.as_of, p.baseline
    plan = fam.family(rng)
    head_name = names.surname(rng)
    kind = plan[0]["_kind"]
    out: list[dict[str, Any]] = []
    for m in plan:
        rel = m["relation"]
        own_family = rel in ("户主", "之子", "之女", "之父", "之孙子", "之孙女")
        if plan[0]["gender"] == "F" and rel in ("之子", "之女") and rng.random() < 0.5:
            own_family = False
        out.append(_person(rng, spec, m, on, head_name if own_family else None))
    # events since the baseline: births, a spouse married in, a daughter married out, a death
    for x in out:
        if x["birth_date"] >= base:
            x["_entered_on"], x["_entered_kind"] = x["birth_date"], "birth"
    head = out[0]
    spouse = next((x for x in out if x["relation"] == "配偶"), None)
    kids = [x for x in out if x["relation"] in ("之子", "之女")]
    if spouse and fam.age_on(head["birth_date"], on) <= 33 and rng.random() < 0.5:
        first_kid = min((k["birth_date"] for k in kids), default=on - dt.timedelta(days=60))
        hi = first_kid - dt.timedelta(days=300)
        if hi > base + dt.timedelta(days=30):
            spouse["_entered_on"], spouse["_entered_kind"] = (
                _rand_date(rng, base + dt.timedelta(days=30), hi),
                "marriage_in",
            )
    head_age = fam.age_on(head["birth_date"], on)
    if head_age >= 46 and spouse and rng.random() < 0.12:
        age = rng.randint(21, 30)
        if 20 <= head_age - age <= 40:
            d = _person(rng, spec, {"relation": "之女", "gender": "F", "_age": age}, on, head_name)
            d["is_member"] = False
            d["_left_on"], d["_left_kind"] = (
                _rand_date(rng, base + dt.timedelta(days=30), on - dt.timedelta(days=30)),
                "marriage_out",
            )
            out.append(d)
    if kind in ("three_gen", "couple_kids") and rng.random() < 0.12:
        have = {x["relation"] for x in out}
        rel, g = ("之父", "M") if "之父" not in have else ("之母", "F")
        out.append(
            _deceased(
                rng, spec, rel, g, head_age + rng.randint(24, 32), on, base, head_name if g == "M" else None
            )
        )
    elif kind in ("single_elder", "elder_couple") and not spouse and rng.random() < 0.06:
        g = "F" if head["gender"] == "M" else "M"
        out.append(_deceased(rng, spec, "配偶", g, head_age + rng.randint(-3, 5), on, base, None))
    return out


def _deceased(rng, spec, rel, gender, age_now, on, base, family_name) -> dict[str, Any]:
    died = _rand_date(rng, base + dt.timedelta(days=20), on - dt.timedelta(days=20))
    d = _person(
        rng, spec, {"relation": rel, "gender": gender, "_age": max(66, min(age_now, 99))}, on, family_name
    )
    d.update(
        is_member=False,
        death_date=died,
        _left_on=died,
        _left_kind="death",
        phone="",
        public_welfare_job=False,
    )
    d["public_welfare_job_months"] = 0
    return d


def _social(rng: random.Random, hh: dict[str, Any], members: list[dict[str, Any]]) -> None:
    """低保/特困, 医疗救助, phones, 整户无劳动能力."""
    current = [x for x in members if x["is_member"]]
    able = [x for x in current if x["labour_skill"] in ABLE]
    if len(current) == 1 and not able and current[0]["_age_now"] >= 60 and rng.random() < 0.4:
        x = current[0]
        x["tekun"], x["tekun_amount"], x["medical_assistance"] = (
            "农村特困",
            Decimal(rng.randint(60, 75) * 100),
            True,
        )
    elif (not able or len(able) * 3 < len(current)) and rng.random() < 0.45 or rng.random() < 0.05:
        covered = current if rng.random() < 0.7 else current[: max(1, len(current) // 2)]
        for x in covered:
            x["dibao"], x["medical_assistance"] = "农村低保", True
    for x in current:
        if x["health"] == "残疾" and x["disability_grade"] and x["disability_grade"] <= 2:
            x["medical_assistance"] = True
    hh["no_labour_protected"] = not able
    head = current[0]
    if not head["phone"] and head["_age_now"] <= 80:
        head["phone"] = fam.phone(rng)
    phones = [x["phone"] for x in current if x["phone"]]
    hh["phone"] = phones[0] if phones else fam.phone(rng)
    mix = ethnic_mix(hh["village_id"][:2])
    if rng.random() < mix.share:
        names = list(mix.names)
        # one draw more only where there is a choice (河南's 回族-only mix keeps its random stream)
        e = names[0] if len(names) == 1 else rng.choices(names, weights=list(mix.names.values()))[0]
        for x in members:
            x["ethnicity"] = e


def _risk_types(rng: random.Random, hh, current, p: GenParams, ident: dt.date, eliminated: bool) -> list[str]:
    cands: list[str] = []
    if any(x["health"] in ("患有大病", "长期慢性病") for x in current):
        cands.append("因病")
    if any(x["health"] == "残疾" for x in current):
        cands.append("因残")
    if any(x["school_status"].startswith(ADVANCED_STUDY) for x in current):
        cands.append("因学")
    full = [x for x in current if x["labour_skill"] in FULL_LABOUR]
    if len(full) * 4 <= len(current):
        cands.append("缺劳动力")
    if any(x["work_status"] != "未务工" and x["labour_skill"] in ABLE for x in current):
        cands.append("因务工就业不稳")
    if rng.random() < 0.08:
        cands.append("因安全住房")
    if hh["water_scarce_area"] and rng.random() < 0.3:
        cands.append("因安全饮水")
    if hh["cultivated_land_mu"] >= 5 and rng.random() < 0.1:
        cands.append("因产业项目失败")
    if not cands:
        # an illness found by the enrolment's visit: recorded from the identification day (the history
        # never saw it), so the registry keeps its earlier values and that date (``changed_since``)
        sick = rng.choice(current)
        before = {k: sick[k] for k in ("health", "chronic_disease", "labour_skill")}
        sick["health"], sick["chronic_disease"] = "长期慢性病", rng.choice(fam.CHRONIC)
        if sick["labour_skill"] in FULL_LABOUR and sick["_age_now"] > 60:
            sick["labour_skill"] = "弱劳动力或半劳动力"
        changed_since(sick, before, ident)
        cands.append("因病")
    k = min(len(cands), rng.choices([1, 2, 3], weights=[0.45, 0.4, 0.15])[0])
    chosen = cands[:1] + rng.sample(cands[1:], k - 1) if k > 1 else cands[:1]
    chosen = [r for r in chosen if r in p.risk_types]
    if "因安全住房" in chosen and not eliminated:
        hh["house_grade"] = rng.choice(["C", "C", "D"])
        hh["house_appraised_on"] = add_months(ident, -1)
    elif "因安全住房" in chosen:
        hh["house_grade"], hh["house_appraised_on"] = "B", add_months(ident, 5)
    if "因安全饮水" in chosen and not eliminated:
        hh["water_interruption_days"] = rng.randint(40, 75)
    return chosen


def _monitoring(
    rng: random.Random,
    hh: dict[str, Any],
    members: list[dict[str, Any]],
    p: GenParams,
    entry_month: dt.date,
    cause: str,
) -> dict[str, Any]:
    """The monitoring object of a household the history enrolled in ``entry_month`` after ``cause``
    (a history event kind, or "" when no cause was visible)."""
    current = [x for x in members if x["is_member"]]
    lo = add_months(p.baseline, 4)
    hi = add_months(p.as_of, -2)
    ident = min(hi, max(lo, entry_month.replace(day=rng.randint(1, 28))))
    sudden = rng.random() < 0.15
    if hh["household_type"] == EXITED:
        category = "突发严重困难户" if sudden else "脱贫不稳定户"
    else:
        category = "突发严重困难户" if sudden else "边缘易致贫户"
    eliminated_on = None
    method = ""
    able = any(x["labour_skill"] in ABLE for x in current)
    if able and add_months(ident, 7) < p.as_of and rng.random() < 0.45:
        cand = add_months(ident, rng.randint(6, 15))
        if cand < add_months(p.as_of, -1):
            eliminated_on = cand
            method = "帮扶消除" if rng.random() < 0.85 else "自然消除"
    risks = _risk_types(rng, hh, current, p, ident, eliminated_on is not None)
    first = CAUSE_RISK.get(cause)
    if first and first in p.risk_types:
        risks = ([first] + [r for r in risks if r != first])[:3]
    if sudden and "因病" not in risks and "因意外事故" in p.risk_types:
        risks = (["因意外事故"] + risks)[:3]
    return {
        "household_no": hh["household_no"],
        "category": category,
        "risk_types": risks,
        "identified_on": ident,
        "eliminated_on": eliminated_on,
        "elimination_method": method,
    }


def generate_village(
    spec: VillageSpec,
    p: GenParams,
    *,
    seed: int,
    monitor_rate: float = 0.03,
    defect_rate: float = 0.015,
    min_defects_each: int = 0,
) -> VillageData:
    """Generate one village (IDs not yet assigned, see ``ids.IdAllocator``). Pre-ID defects planted."""
    from .defects import plant_pre_id

    rng = village_rng(seed, spec.code)
    # the current year (and the outlook at as_of) has its own stream: the complete years are drawn
    # exactly as they would be without it
    partial_rng = village_rng(seed, spec.code, "as-of")
    out = VillageData(spec.code)
    n = spec.exited_households + spec.ordinary_households
    drawn: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for i in range(n):
        htype = EXITED if i < spec.exited_households else ORDINARY
        no = f"{spec.code}{i + 1:04d}"
        hh = _household_row(rng, spec, no, htype, p.as_of)
        members = _members(rng, spec, hh, p)
        for k, x in enumerate(members, start=1):
            x["household_no"] = no
            x["person_no"] = f"{no}{k:02d}"
            x["_age_now"] = fam.age_on(x["birth_date"], p.as_of)
        _social(rng, hh, members)
        drawn.append((hh, members))
    # the monthly history since the baseline decides who enters monitoring, when, and why
    hist = simulate_village(
        seed, spec.code, [h for h, _ in drawn], {h["household_no"]: m for h, m in drawn}, p
    )
    out.history = hist
    plans: list[IncomePlan] = []
    for hh, members in drawn:
        no = hh["household_no"]
        hh_hist = hist.households[no]
        mon = None
        if hh_hist.entry_month is not None:
            mon = _monitoring(rng, hh, members, p, hist.months[hh_hist.entry_month], hh_hist.cause)
            out.monitoring.append(mon)
        fall_on = hist.months[hh_hist.fall_month] if hh_hist.fall_month is not None and mon else None
        plan = IncomePlan.for_household(rng, hh, members, p, mon, base=hist.buffer[no], fall_on=fall_on)
        plan.extend_to_as_of(partial_rng, hh, members, p, mon)
        plans.append(plan)
    years_rng, as_of_rng = income_streams(seed, spec.code)
    incomes = village_income_records(
        years_rng, as_of_rng, [h for h, _ in drawn], [m for _, m in drawn], plans, p
    )
    for (hh, members), recs in zip(drawn, incomes, strict=True):
        out.incomes.extend(recs)
        for x in members:
            if x["_entered_kind"]:
                out.changes.append(_change(x, x["_entered_kind"], x["_entered_on"]))
            if x["_left_kind"]:
                out.changes.append(_change(x, x["_left_kind"], x["_left_on"]))
        out.households.append(hh)
        out.persons.extend(members)
    plant_pre_id(village_rng(seed, spec.code, "defects"), out, p, rate=defect_rate, min_each=min_defects_each)
    return out


_CHANGE_NOTES = {
    "birth": "新生儿随户登记",
    "marriage_in": "婚入",
    "marriage_out": "出嫁迁出",
    "death": "因病去世",
}


def _change(x: dict[str, Any], kind: str, date: dt.date) -> dict[str, Any]:
    return {
        "household_no": x["household_no"],
        "person_no": x["person_no"],
        "kind": kind,
        "date": date,
        "note": _CHANGE_NOTES.get(kind, ""),
    }
