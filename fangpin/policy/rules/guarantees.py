"""两不愁三保障 + 饮水安全: one judgement from the indicators, returning which guarantee fails and why.

Thresholds (water quantity, distances, interruption days, unsafe house grades, compulsory-school ages)
come from policy parameters; this module only applies them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

NO_STUDY_REASONS_EXEMPT = {"因病", "因残", "重度残疾", "送教上门"}


@dataclass(frozen=True)
class MemberFacts:
    name: str
    birth_date: dt.date | None
    school_status: str = ""  # 在校生状况; blank = not a student
    out_of_school: bool = False  # 失学辍学
    out_of_school_reason: str = ""
    medical_resident: bool = False
    medical_employee: bool = False


@dataclass(frozen=True)
class HouseholdFacts:
    members: tuple[MemberFacts, ...]
    food_ok: bool = True
    clothing_ok: bool = True
    house_grade: str = ""  # A/B/C/D; blank = not appraised
    relocated_keys_received: bool = False
    water_litres_per_day: float | None = None
    water_scarce_area: bool = False
    water_quality_ok: bool | None = None
    water_piped: bool = False
    water_fetch_minutes: float | None = None
    water_horizontal_m: float | None = None
    water_vertical_m: float | None = None
    water_interruption_days: int | None = None
    # 是否解决安全饮用水 as the national system states it (None = not stated): a stated 否 fails the dimension
    safe_drinking_water: bool | None = None


@dataclass(frozen=True)
class GuaranteeParams:
    compulsory_ages: tuple[int, int]
    unsafe_grades: tuple[str, ...]
    min_litres_rich: float
    min_litres_scarce: float
    max_fetch_minutes: float
    max_horizontal_m: float
    max_vertical_m: float
    max_interruption_days: int


@dataclass(frozen=True)
class Failure:
    dimension: str  # food_clothing / education / medical / housing / water
    code: str
    message: str


@dataclass
class GuaranteeResult:
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def failed(self, dimension: str) -> bool:
        return any(f.dimension == dimension for f in self.failures)


DIMENSION_NAMES = {
    "food_clothing": "不愁吃不愁穿",
    "education": "义务教育有保障",
    "medical": "基本医疗有保障",
    "housing": "住房安全有保障",
    "water": "饮水安全有保障",
}


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def judge_guarantees(facts: HouseholdFacts, params: GuaranteeParams, *, on: dt.date) -> GuaranteeResult:
    res = GuaranteeResult()
    add = res.failures.append
    if not facts.food_ok:
        add(Failure("food_clothing", "food", "不愁吃未达标：主粮不足或每月吃不上肉蛋奶"))
    if not facts.clothing_ok:
        add(Failure("food_clothing", "clothing", "不愁穿未达标：缺少换季衣物被褥"))
    lo, hi = params.compulsory_ages
    for m in facts.members:
        if m.birth_date is None:
            continue
        age = age_on(m.birth_date, on)
        if lo <= age <= hi and m.out_of_school and m.out_of_school_reason not in NO_STUDY_REASONS_EXEMPT:
            add(Failure("education", "dropout", f"{m.name}（{age}岁）处于义务教育阶段但失学辍学"))
        if not (m.medical_resident or m.medical_employee):
            add(Failure("medical", "uninsured", f"{m.name}未参加城乡居民或职工基本医疗保险"))
    if facts.house_grade in params.unsafe_grades and not facts.relocated_keys_received:
        add(Failure("housing", "unsafe_house", f"住房鉴定为{facts.house_grade}级危房，须改造或重建"))
    # 饮水: quantity, quality, convenience, supply reliability — each indicator that is known and fails.
    need = params.min_litres_scarce if facts.water_scarce_area else params.min_litres_rich
    if facts.water_litres_per_day is not None and facts.water_litres_per_day < need:
        add(
            Failure(
                "water", "quantity", f"水量不足：每人每天{facts.water_litres_per_day:g}升，低于{need:g}升"
            )
        )
    if facts.water_quality_ok is False:
        add(Failure("water", "quality", "水质不达标"))
    if facts.safe_drinking_water is False:
        add(Failure("water", "stated", "国家系统记录该户未解决安全饮用水"))
    if not facts.water_piped:
        far = []
        if facts.water_fetch_minutes is not None and facts.water_fetch_minutes > params.max_fetch_minutes:
            far.append(f"取水往返{facts.water_fetch_minutes:g}分钟")
        if facts.water_horizontal_m is not None and facts.water_horizontal_m > params.max_horizontal_m:
            far.append(f"水平距离{facts.water_horizontal_m:g}米")
        if facts.water_vertical_m is not None and facts.water_vertical_m > params.max_vertical_m:
            far.append(f"垂直距离{facts.water_vertical_m:g}米")
        known = [
            v
            for v in (facts.water_fetch_minutes, facts.water_horizontal_m, facts.water_vertical_m)
            if v is not None
        ]
        # Convenient if ANY one criterion is met (入户, or ≤20 min, or ≤800 m, or ≤80 m).
        if known and len(far) == len(known):
            add(Failure("water", "convenience", "用水不方便：" + "、".join(far)))
    if (
        facts.water_interruption_days is not None
        and facts.water_interruption_days > params.max_interruption_days
    ):
        add(Failure("water", "reliability", f"供水保证率不足：年累计断水{facts.water_interruption_days}天"))
    return res
