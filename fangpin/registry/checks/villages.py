"""Data-quality checks of the 行政村信息 (``VillageProfile``), after a provincial checker's countryside rules
(Gzuwkj/fuping countryside/*.py; its rule numbers kept for traceability, its *messages* implemented — some
of its conditions cannot fire, e.g. 1_03_002 compares a text cell with the number 0).

All of them concern 出列村 (villages that left the poor-village list): their statistics must be complete
and consistent. Findings are per village (the household checks of this package are per household), so
these rules have their own runner, ``village_findings``, and command, ``fangpin check_villages``.
"""

from __future__ import annotations

from dataclasses import dataclass

from fangpin.accounts.scope import scoped
from fangpin.regions.models import code_prefix
from fangpin.registry.models import VillageProfile

V_EMPTY = "V-DELISTED-EMPTY"
V_NO_ROAD = "V-DELISTED-NO-ROAD"
V_OVER_TOTAL = "V-DELISTED-OVER-TOTAL"

TITLES = {
    V_EMPTY: "出列村统计项为空（1_03_002-016、3_03_003）",
    V_NO_ROAD: "出列村到乡镇未通硬化路（2_03_001）",
    V_OVER_TOTAL: "出列村未实现饮水安全户数与危房户数之和大于总户数（3_03_001）",
}

# (field, label, rule number, zero counts as empty)
REQUIRED_OF_DELISTED = (
    ("households_total", "总户数", "3_03_003", True),
    ("population_total", "总人口数", "1_03_002", True),
    ("collective_income_10k", "村级集体经济收入（万元）", "1_03_003", True),
    ("primary_schools", "村小学（个数）", "1_03_004", False),
    ("pension_insured_persons", "参加城乡居民基本养老保险人数", "1_03_006", False),
    ("bus_service", "是否通客运班车", "1_03_007", False),
    ("clinics", "行政村卫生室个数", "1_03_009", False),
    ("public_toilets", "行政村公共卫生厕所个数", "1_03_010", False),
    ("doctors", "行政村执业（助理）医师（人）", "1_03_011", False),
    ("waste_points", "行政村生产生活垃圾集中堆放点个数（个）", "1_03_012", False),
    ("cultural_rooms", "行政村文化（图书）室个数（个）", "1_03_013", False),
    ("dibao_households", "低保户数", "1_03_014", False),
    ("dibao_persons", "低保人口数", "1_03_014", False),
    ("tekun_persons", "特困供养人口数", "1_03_015", False),
    ("disabled_persons", "残疾人口数", "1_03_016", False),
)


@dataclass(frozen=True)
class VillageFinding:
    code: str
    village_code: str
    village_name: str
    message: str
    field: str = ""


def village_findings(*, actor, region_code: str | None = None) -> list[VillageFinding]:
    """The findings of every rule on the village profiles in the actor's scope (or under ``region_code``)."""
    qs = scoped(actor, VillageProfile.objects.select_related("village"))
    if region_code:
        qs = qs.filter(village__code__startswith=code_prefix(region_code))
    out: list[VillageFinding] = []
    for vp in qs.filter(delisted=True).order_by("village_id"):
        code, name = vp.village_id, vp.village.name
        for field, label, rule, zero_is_empty in REQUIRED_OF_DELISTED:
            v = getattr(vp, field)
            if v is None or (zero_is_empty and v == 0):
                what = "为空或为0" if zero_is_empty else "为空"
                out.append(VillageFinding(V_EMPTY, code, name, f"出列村“{label}”{what}（{rule}）", field))
        if vp.paved_road_to_township is False:
            out.append(
                VillageFinding(
                    V_NO_ROAD,
                    code,
                    name,
                    "出列村到乡镇未通沥青（水泥）路（2_03_001）",
                    "paved_road_to_township",
                )
            )
        parts = (vp.unsafe_water_households, vp.dangerous_house_households, vp.households_total)
        if None not in parts and parts[0] + parts[1] > parts[2]:
            out.append(
                VillageFinding(
                    V_OVER_TOTAL,
                    code,
                    name,
                    f"出列村未实现饮水安全户数{parts[0]}与危房户数{parts[1]}之和大于总户数{parts[2]}（3_03_001）",
                    "households_total",
                )
            )
    return out
