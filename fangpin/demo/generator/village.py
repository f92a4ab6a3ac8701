"""One village's registry: households, members (with births, deaths and marriages since the baseline),
yearly income records, monitoring objects and planted defects.

Deterministic: everything is drawn from the village's own streams — ``random.Random(f"…:{seed}:{code}")``
household by household (composition, 低保/特困, monitoring, income plans) and numpy generators seeded
from (seed, code) for the facts drawn for all its rows at once (``village_np_rng``, ``income_streams``) —
so a village's output depends only on the seed, its code, its size and the parameters, never on which
other villages are generated with it (``generate_villages`` batches the villages of a county), in which
order or on how many workers. ID numbers are given afterwards by ``ids.IdAllocator`` (a per-county
counter walked in village-code order).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from fangpin.core.clock import add_months

from . import families as fam
from . import names
from .history import CAUSE_RISK, VillageHistory, changed_since, simulate_village
from .income import IncomePlan, IncomeVillage, income_streams, incomes_of_villages
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


def village_np_rng(seed: int, code: str, salt: str) -> np.random.Generator:
    """A numpy stream of the village (the draws made for all its households or persons at once)."""
    h = hashlib.blake2b(f"fangpin-demo:{seed}:{code}:{salt}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(h, "little"))


def _rand_date(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


_OWN_FAMILY = ("户主", "之子", "之女", "之父", "之孙子", "之孙女")
# (relation, gender, age, surname or None for one of its own, left kind, left on)
Planned = tuple[str, str, int, str | None, str, dt.date | None]


def _plan_members(rng: random.Random, p: GenParams) -> tuple[list[Planned], float | None]:
    """The persons of one household before their facts are drawn: the members (head first), then a
    daughter married out and a deceased parent or spouse since the baseline, if any; and the uniform
    that dates a spouse's marriage into the household (None if none married in)."""
    on, base = p.as_of, p.baseline
    plan = fam.family(rng)
    head_name = names.surname(rng)
    kind = plan[0]["_kind"]
    head_f = plan[0]["gender"] == "F"
    out: list[Planned] = []
    for m in plan:
        rel = m["relation"]
        own = rel in _OWN_FAMILY
        if head_f and rel in ("之子", "之女") and rng.random() < 0.5:
            own = False
        out.append((rel, m["gender"], m["_age"], head_name if own else None, "", None))
    head_age = plan[0]["_age"]  # the birth date is drawn to give exactly this age on as_of
    spouse = any(m["relation"] == "配偶" for m in plan)
    marry = rng.random() if spouse and head_age <= 33 and rng.random() < 0.5 else None
    if head_age >= 46 and spouse and rng.random() < 0.12:
        age = rng.randint(21, 30)
        if 20 <= head_age - age <= 40:
            left = _rand_date(rng, base + dt.timedelta(days=30), on - dt.timedelta(days=30))
            out.append(("之女", "F", age, head_name, "marriage_out", left))
    if kind in ("three_gen", "couple_kids") and rng.random() < 0.12:
        have = {x[0] for x in out}
        rel, g = ("之父", "M") if "之父" not in have else ("之母", "F")
        age = max(66, min(head_age + rng.randint(24, 32), 99))
        died = _rand_date(rng, base + dt.timedelta(days=20), on - dt.timedelta(days=20))
        out.append((rel, g, age, head_name if g == "M" else None, "death", died))
    elif kind in ("single_elder", "elder_couple") and not spouse and rng.random() < 0.06:
        g = "F" if plan[0]["gender"] == "M" else "M"
        age = max(66, min(head_age + rng.randint(-3, 5), 99))
        died = _rand_date(rng, base + dt.timedelta(days=20), on - dt.timedelta(days=20))
        out.append(("配偶", g, age, None, "death", died))
    return out, marry


_U_PERSON = 20  # uniform columns per person (one per draw, whichever branch it takes)


def _persons(
    U: np.ndarray,
    digits: np.ndarray,
    planned: list[Planned],
    owner: list[int],
    person_no: list[str],
    households: list[dict[str, Any]],
    spec: VillageSpec,
    on: dt.date,
    base: dt.date,
) -> list[dict[str, Any]]:
    """The facts of the planned persons of villages (of one county) from their uniforms ``U`` and phone
    ``digits``, all at once: relation-consistent ages, gendered names, school stage, education, health,
    disability, labour, work, insurance, pensions, phones."""
    P = len(planned)
    if not P:
        return []
    rel, gender_l, age_l, fam_l, left_kind, left_on = zip(*planned, strict=True)
    age = np.array(age_l, dtype=np.int64)
    gender = np.array(gender_l, dtype=object)
    birth_ord = fam.birth_ordinals(age, U[:, 0], on)
    births = [dt.date.fromordinal(o) for o in birth_ord.tolist()]
    school = fam.school_status(age, U[:, 1], U[:, 2])
    student = fam.students(school)
    health = fam.health(age, U[:, 3])
    labour = fam.labour(age, health, student, U[:, 4])
    work, where, months = fam.work(age, labour, spec.county_name, U[:, 5], U[:, 6], U[:, 7])
    employee = (work == "县内务工") & (labour == "技能劳动力") & (U[:, 8] < 0.25)
    surname = np.array(fam_l, dtype=object)
    own = surname != None  # noqa: E711 (elementwise)
    surname[~own] = names.surnames(U[~own, 9])
    name = surname + names.given_names(gender, np.array([b.year for b in births]), U[:, 10])
    edu = np.where(student | (age < 6), "", fam.education(age, U[:, 11]))
    chronic = np.where(
        health == "长期慢性病",
        fam.pick(U[:, 12], fam.CHRONIC),
        np.where(health == "患有大病", fam.pick(U[:, 12], fam.SERIOUS), ""),
    )
    pension = ~employee & (age >= 16) & ~student & (U[:, 13] < 0.9)
    has_phone = (age >= 16) & (age <= 70) & ~student & (U[:, 14] < 0.6)
    phone = np.where(has_phone, np.array(fam.phones(U[:, 15], digits), dtype=object), "")
    disabled = health == "残疾"
    grade = fam.pick(U[:, 16], [1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4])
    category = fam.pick(U[:, 17], DISABILITY_CATS, DISABILITY_CAT_W)
    subsidy = disabled & ((grade <= 2) | (U[:, 18] < 0.3))
    pwj = (age >= 40) & (age <= 65) & np.isin(labour, ABLE) & (work == "未务工") & (U[:, 19] < 0.08)
    work[pwj], where[pwj], months[pwj] = "县内务工", spec.county_name, 12
    dis = disabled.tolist()
    lk = list(left_kind)
    base_ord = base.toordinal()
    born = [o >= base_ord for o in birth_ord.tolist()]
    cols = {
        "relation": rel,
        "gender": gender_l,
        "birth_date": births,
        "name": name.tolist(),
        "is_member": [not k for k in lk],
        "id_type": ["残疾人证" if d else "身份证" for d in dis],
        "id_number": repeat(None),
        "disability_cert_no": repeat(""),
        "ethnicity": repeat("汉族"),
        "education": edu.tolist(),
        "school_status": school.tolist(),
        "out_of_school": repeat(False),
        "out_of_school_reason": repeat(""),
        "health": health.tolist(),
        "chronic_disease": chronic.tolist(),
        "disability_category": np.where(disabled, category, "").tolist(),
        "disability_grade": [g if d else None for g, d in zip(grade.tolist(), dis, strict=True)],
        "disability_subsidy": subsidy.tolist(),
        "labour_skill": labour.tolist(),
        "work_status": work.tolist(),
        "work_location": where.tolist(),
        "work_months": months.tolist(),
        "public_welfare_job": pwj.tolist(),
        "public_welfare_job_months": np.where(pwj, 12, 0).tolist(),
        "medical_resident": (~employee).tolist(),
        "medical_employee": employee.tolist(),
        "critical_illness_insurance": (~employee).tolist(),
        "medical_assistance": repeat(False),
        "pension_resident": pension.tolist(),
        "pension_employee": employee.tolist(),
        "dibao": repeat("未享受"),
        "tekun": repeat("不享受"),
        "tekun_amount": repeat(Decimal(0)),
        "phone": phone.tolist(),
        "death_date": repeat(None),
        "_entered_on": [b if y else None for b, y in zip(births, born, strict=True)],
        "_entered_kind": ["birth" if y else "" for y in born],
        "_left_on": left_on,
        "_left_kind": lk,
        "household_no": [households[h]["household_no"] for h in owner],
        "person_no": person_no,
        "_age_now": age_l,
    }
    out = [dict(zip(cols, r)) for r in zip(*cols.values())]  # noqa: B905 (the repeat() columns)
    for x, k, lo in zip(out, lk, left_on, strict=True):
        if k == "death":
            x.update(death_date=lo, phone="", public_welfare_job=False, public_welfare_job_months=0)
    return out


_LAND = {k: Decimal(k) / 4 for k in range(4, 41)}
_TENTHS = {k: Decimal(k) / 10 for k in range(0, 31)}
_INT = {k: Decimal(k) for k in range(0, 601)}
_ORCHARD = (Decimal(0), Decimal(0), Decimal(0), Decimal("0.5"), Decimal(1))
_APPRAISAL_FROM = dt.date(2019, 3, 1)
_APPRAISAL_DAYS = (dt.date(2020, 10, 31) - _APPRAISAL_FROM).days


def _household_rows(U: np.ndarray, specs: list[VillageSpec]) -> list[dict[str, Any]]:
    """The household rows of villages (land, house, water …) from their uniforms ``U`` (21 columns, the
    rows of each village in turn, as many as its households); numbered in order, the 脱贫户 first."""
    ri = fam.randint
    groups: list[str] = []
    codes: list[str] = []
    places: list[str] = []
    index: list[int] = []
    exited: list[bool] = []
    k = 0
    for spec in specs:
        n = spec.exited_households + spec.ordinary_households
        u = U[k : k + n, 0]
        k += n
        groups += (
            fam.pick(u, spec.groups).tolist()
            if spec.groups
            else [fam.group_name(i) for i in ri(u, 1, 8).tolist()]
        )
        codes += [spec.code] * n
        places += [spec.name.removesuffix("村民委员会").removesuffix("委员会")] * n
        index += range(1, n + 1)
        exited += [i < spec.exited_households for i in range(n)]
    piped = (U[:, 2] < 0.86).tolist()
    cols = (
        groups, ri(U[:, 1], 4, 40).tolist(), piped, ri(U[:, 3], 1, 120).tolist(),
        fam.pick(U[:, 4], [2016, 2017, 2018, 2019, 2020], [0.15, 0.25, 0.3, 0.2, 0.1]).tolist(),
        (U[:, 5] < 0.02).tolist(), ri(U[:, 6], 3, 10).tolist(), fam.pick(U[:, 7], [0, 0, 0, 1, 2, 3]).tolist(),
        fam.pick(U[:, 8], [0, 0, 0, 0, 1, 2]).tolist(), ri(U[:, 9], 0, 4).tolist(), ri(U[:, 10], 45, 160).tolist(),
        fam.pick(U[:, 11], ["A", "B"], [0.72, 0.28]).tolist(), ri(U[:, 12], 0, _APPRAISAL_DAYS).tolist(),
        (U[:, 13] < 0.88).tolist(), (U[:, 14] < 0.95).tolist(), ri(U[:, 15], 0, 30).tolist(),
        np.where(U[:, 2] < 0.86, ri(U[:, 16], 60, 120), ri(U[:, 16], 24, 45)).tolist(),
        ri(U[:, 17], 3, 15).tolist(), ri(U[:, 18], 50, 600).tolist(), ri(U[:, 19], 0, 40).tolist(),
        np.where(U[:, 2] < 0.86, ri(U[:, 20], 0, 5), ri(U[:, 20], 0, 20)).tolist(),
    )  # fmt: skip
    out: list[dict[str, Any]] = []
    q = Decimal("0.01")
    for code, place, i, ex, (grp, land, pip, door, year, reloc, irr, forest, grain, orch, area, grade, appr, toilet,
            road, dist, litres, fetch, horiz, vert, interrupt) in zip(
        codes, places, index, exited, zip(*cols, strict=True), strict=True
    ):  # fmt: skip
        htype = EXITED if ex else ORDINARY
        land_mu = _LAND[land]
        out.append(
            {
                "household_no": f"{code}{i:04d}",
                "village_id": code,
                "group_name": grp,
                "address": f"{place}{grp}{door}号",
                "household_type": htype,
                "phone": "",
                "exited_year": year if htype == EXITED else None,
                "no_labour_protected": False,
                "in_relocation_site": reloc,
                "cultivated_land_mu": land_mu,
                "irrigated_land_mu": (land_mu * _INT[irr] / 10).quantize(q),
                "forest_land_mu": _INT[forest],
                "grain_for_green_mu": _INT[grain],
                "orchard_mu": _ORCHARD[orch],
                "pasture_mu": _INT[0],
                "water_surface_mu": _INT[0],
                "house_area_m2": _INT[area],
                "house_grade": grade,
                "house_appraised_on": _APPRAISAL_FROM + dt.timedelta(days=appr),
                "relocated_keys_received": False,
                "has_electricity": True,
                "has_sanitary_toilet": toilet,
                "road_hardened": road,
                "distance_to_main_road_km": _TENTHS[dist],
                "food_ok": True,
                "clothing_ok": True,
                "water_piped": pip,
                "water_litres_per_day": _INT[litres],
                "water_scarce_area": not pip,
                "water_quality_ok": True,
                "water_fetch_minutes": None if pip else _INT[fetch],
                "water_horizontal_m": None if pip else _INT[horiz],
                "water_vertical_m": None if pip else _INT[vert],
                "water_interruption_days": interrupt,
            }
        )
    return out


def _registry(
    seed: int, rngs: list[random.Random], specs: list[VillageSpec], p: GenParams
) -> list[list[tuple[dict, list[dict]]]]:
    """Households and their persons (with births, marriages and deaths since the baseline) of villages of
    one county: the composition from each village's ``rng`` household by household, the facts from its
    numpy stream — each village's draws in the same order as if it were alone, the arithmetic on all the
    villages' rows at once."""
    on, base = p.as_of, p.baseline
    hh_u: list[np.ndarray] = []
    p_u: list[np.ndarray] = []
    digits: list[np.ndarray] = []
    planned: list[Planned] = []
    owner: list[int] = []
    person_no: list[str] = []
    marry: list[float | None] = []
    sizes: list[int] = []
    for spec, rng in zip(specs, rngs, strict=True):
        n = spec.exited_households + spec.ordinary_households
        np_rng = village_np_rng(seed, spec.code, "registry")
        hh_u.append(np_rng.random((n, 21)))
        first = len(planned)
        for i in range(n):
            members, m = _plan_members(rng, p)
            planned.extend(members)
            owner.extend([len(sizes)] * len(members))
            no = f"{spec.code}{i + 1:04d}"
            person_no.extend(f"{no}{j:02d}" for j in range(1, len(members) + 1))
            marry.append(m)
            sizes.append(len(members))
        if len(planned) > first:
            p_u.append(np_rng.random((len(planned) - first, _U_PERSON)))
            digits.append(np_rng.integers(0, 10**9, len(planned) - first))
    households = _household_rows(np.concatenate(hh_u), specs)
    persons = (
        _persons(
            np.concatenate(p_u),
            np.concatenate(digits),
            planned,
            owner,
            person_no,
            households,
            specs[0],
            on,
            base,
        )
        if planned
        else []
    )
    drawn: list[tuple[dict, list[dict]]] = []
    k = 0
    lo = base + dt.timedelta(days=30)
    for hh, u, size in zip(households, marry, sizes, strict=True):
        members = persons[k : k + size]
        k += size
        if u is not None:
            # a spouse married in since the baseline, at least 300 days before the first child
            current = [x for x in members if not x["_left_kind"]]
            spouse = next(x for x in current if x["relation"] == "配偶")
            kids = [x["birth_date"] for x in current if x["relation"] in ("之子", "之女")]
            hi = min(kids, default=on - dt.timedelta(days=60)) - dt.timedelta(days=300)
            if hi > lo:
                spouse["_entered_on"] = lo + dt.timedelta(days=int(u * ((hi - lo).days + 1)))
                spouse["_entered_kind"] = "marriage_in"
        drawn.append((hh, members))
    out, k = [], 0
    for spec in specs:
        n = spec.exited_households + spec.ordinary_households
        out.append(drawn[k : k + n])
        k += n
    return out


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
    return generate_villages(
        [spec], p, seed=seed, defect_rate=defect_rate, min_defects_each=min_defects_each
    )[0]


def generate_villages(
    specs: list[VillageSpec],
    p: GenParams,
    *,
    seed: int,
    defect_rate: float = 0.015,
    min_defects_each: int = 0,
) -> list[VillageData]:
    """Generate villages (IDs not yet assigned, see ``ids.IdAllocator``; pre-ID defects planted). Each
    village's rows are exactly those it gets generated alone (its own streams, drawn in the same order);
    the villages of one county share the vectorised work, which is what makes small villages cheap."""
    out: list[VillageData] = []
    k = 0
    while k < len(specs):  # the villages of one county together (a person's work place names it)
        j = k
        while j < len(specs) and specs[j].county_name == specs[k].county_name:
            j += 1
        out += _generate(specs[k:j], p, seed=seed, defect_rate=defect_rate, min_defects_each=min_defects_each)
        k = j
    return out


def _generate(
    specs: list[VillageSpec], p: GenParams, *, seed: int, defect_rate: float, min_defects_each: int
) -> list[VillageData]:
    from .defects import plant_pre_id

    rngs = [village_rng(seed, spec.code) for spec in specs]
    registry = _registry(seed, rngs, specs, p)
    out: list[VillageData] = []
    incomes_in: list[IncomeVillage] = []
    for spec, rng, drawn in zip(specs, rngs, registry, strict=True):
        # the current year (and the outlook at as_of) has its own stream: the complete years are drawn
        # exactly as they would be without it
        partial_rng = village_rng(seed, spec.code, "as-of")
        v = VillageData(spec.code)
        for hh, members in drawn:
            _social(rng, hh, members)
        # the monthly history since the baseline decides who enters monitoring, when, and why
        hist = simulate_village(
            seed, spec.code, [h for h, _ in drawn], {h["household_no"]: m for h, m in drawn}, p
        )
        v.history = hist
        plans: list[IncomePlan] = []
        for hh, members in drawn:
            no = hh["household_no"]
            hh_hist = hist.households[no]
            mon = None
            if hh_hist.entry_month is not None:
                mon = _monitoring(rng, hh, members, p, hist.months[hh_hist.entry_month], hh_hist.cause)
                v.monitoring.append(mon)
            fall_on = hist.months[hh_hist.fall_month] if hh_hist.fall_month is not None and mon else None
            plan = IncomePlan.for_household(rng, hh, members, p, mon, base=hist.buffer[no], fall_on=fall_on)
            plan.extend_to_as_of(partial_rng, hh, members, p, mon)
            plans.append(plan)
        years_rng, as_of_rng = income_streams(seed, spec.code)
        incomes_in.append((years_rng, as_of_rng, [h for h, _ in drawn], [m for _, m in drawn], plans))
        out.append(v)
    for spec, v, drawn, incomes in zip(specs, out, registry, incomes_of_villages(incomes_in, p), strict=True):
        for (hh, members), recs in zip(drawn, incomes, strict=True):
            v.incomes.extend(recs)
            for x in members:
                if x["_entered_kind"]:
                    v.changes.append(_change(x, x["_entered_kind"], x["_entered_on"]))
                if x["_left_kind"]:
                    v.changes.append(_change(x, x["_left_kind"], x["_left_on"]))
            v.households.append(hh)
            v.persons.extend(members)
        plant_pre_id(
            village_rng(seed, spec.code, "defects"), v, p, rate=defect_rate, min_each=min_defects_each
        )
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
