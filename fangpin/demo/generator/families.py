"""Household composition and the facts of each person, consistent with age, health and relation.

Rows are plain dicts whose keys are the registry model's field names (so the same rows go to the
database and to Parquet). Keys starting with ``_`` are generator bookkeeping (entry/exit dates used
for the member-change history), never model fields.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

GROUP_NUMERALS = "一二三四五六七八九十"

# (kind, weight): tuned so the mean household has ~2.5 members like 龙安区's 4,226 户 / 10,588 人.
FAMILY_KINDS = (
    ("single_elder", 0.20),
    ("elder_couple", 0.19),
    ("couple_kids", 0.245),
    ("three_gen", 0.10),
    ("single_parent", 0.06),
    ("left_behind", 0.06),
    ("couple_only", 0.06),
    ("single_adult", 0.06),
    ("elder_with_son", 0.04),
)
_KINDS = [k for k, _ in FAMILY_KINDS]
_KIND_W = [w for _, w in FAMILY_KINDS]


def group_name(i: int) -> str:
    if i <= 10:
        return ("十" if i == 10 else GROUP_NUMERALS[i - 1]) + "组"
    return "十" + GROUP_NUMERALS[i - 11] + "组"


def age_on(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def birth_for_age(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` on ``on``."""
    latest = (
        on.replace(year=on.year - age)
        if not (on.month == 2 and on.day == 29)
        else dt.date(on.year - age, 2, 28)
    )
    return latest - dt.timedelta(days=rng.randint(0, 364))


def _member(rel: str, gender: str, age: int) -> dict[str, Any]:
    return {"relation": rel, "gender": gender, "_age": age}


def family(rng: random.Random) -> list[dict[str, Any]]:
    """Relation/gender/age of each member; the head first."""
    kind = rng.choices(_KINDS, weights=_KIND_W, k=1)[0]
    r = rng.randint
    out: list[dict[str, Any]] = []
    if kind == "single_elder":
        out.append(_member("户主", "F" if rng.random() < 0.55 else "M", r(62, 92)))
    elif kind in ("elder_couple", "elder_with_son"):
        h = r(58, 86)
        out += [_member("户主", "M", h), _member("配偶", "F", max(52, h - r(0, 6)))]
        if kind == "elder_with_son":
            out.append(_member("之子", "M", max(18, h - r(24, 34))))
    elif kind in ("couple_kids", "three_gen", "couple_only"):
        h = r(30, 56) if kind != "couple_only" else r(40, 60)
        w = max(22, h - r(-1, 5))
        out += [_member("户主", "M", h), _member("配偶", "F", w)]
        if kind != "couple_only":
            for _ in range(rng.choices([1, 2, 3], weights=[0.45, 0.45, 0.10])[0]):
                age = w - r(21, 38)
                if age >= 0:
                    g = "M" if rng.random() < 0.53 else "F"
                    out.append(_member("之子" if g == "M" else "之女", g, age))
        if kind == "three_gen":
            pa = min(95, h + r(23, 33))
            if rng.random() < 0.6:
                out.append(_member("之父", "M", pa))
            out.append(_member("之母", "F", max(pa - r(0, 5), h + 20)))
    elif kind == "single_parent":
        g = "F" if rng.random() < 0.6 else "M"
        h = r(30, 55)
        out.append(_member("户主", g, h))
        for _ in range(rng.choice([1, 1, 2])):
            age = h - r(22, 36)
            if age >= 0:
                cg = "M" if rng.random() < 0.53 else "F"
                out.append(_member("之子" if cg == "M" else "之女", cg, age))
    elif kind == "left_behind":
        h = r(58, 80)
        out.append(_member("户主", "M", h))
        if rng.random() < 0.6:
            out.append(_member("配偶", "F", max(52, h - r(0, 5))))
        for _ in range(rng.choice([1, 1, 2])):
            age = min(17, max(1, h - r(48, 66)))
            g = "M" if rng.random() < 0.53 else "F"
            out.append(_member("之孙子" if g == "M" else "之孙女", g, age))
    else:  # single_adult
        out.append(_member("户主", "M" if rng.random() < 0.75 else "F", r(28, 60)))
    for m in out:
        m["_kind"] = kind
    return out


# -- person facts ---------------------------------------------------------------------------------

_PRIMARY = ["一", "二", "三", "四", "五", "六"]


def school_status_for(rng: random.Random, age: int) -> str:
    if age <= 2:
        return "学龄前儿童"
    if age <= 5:
        return "学前教育" if rng.random() < 0.85 else "学龄前儿童"
    if age <= 11:
        return f"小学{_PRIMARY[age - 6]}年级"
    if age <= 14:
        return ("七年级", "八年级", "九年级")[age - 12]
    if age <= 17:
        x = rng.random()
        n = ("一", "二", "三")[age - 15]
        if x < 0.62:
            return f"普通高中{n}年级"
        if x < 0.90:
            return f"中职{n}年级"
        return ""
    if age <= 21 and rng.random() < 0.25:
        return f"高职高专{('一', '二', '三')[min(age - 18, 2)]}年级" if rng.random() < 0.6 else "本科"
    return ""


def is_student(status: str) -> bool:
    return bool(status) and status != "学龄前儿童"


def education_for(rng: random.Random, age: int) -> str:
    choices: list[tuple[str, float]]
    if age >= 60:
        choices = [("文盲或半文盲", 0.38), ("小学", 0.42), ("初中", 0.18), ("高中", 0.02)]
    elif age >= 40:
        choices = [("文盲或半文盲", 0.04), ("小学", 0.31), ("初中", 0.50), ("高中", 0.12), ("中专", 0.03)]
    else:
        choices = [
            ("小学", 0.05),
            ("初中", 0.45),
            ("高中", 0.22),
            ("中专", 0.10),
            ("大专", 0.11),
            ("本科及以上", 0.07),
        ]
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


def health_for(rng: random.Random, age: int) -> str:
    x = rng.random()
    chronic = 0.03 if age < 40 else 0.12 if age < 60 else 0.30
    serious = 0.01 if age < 40 else 0.025 if age < 60 else 0.04
    disabled = 0.02 if age < 40 else 0.05 if age < 60 else 0.08
    if x < disabled:
        return "残疾"
    if x < disabled + serious:
        return "患有大病"
    if x < disabled + serious + chronic:
        return "长期慢性病"
    return "健康"


CHRONIC = ("高血压", "糖尿病", "慢性阻塞性肺病", "冠心病", "类风湿关节炎", "慢性肾病")
SERIOUS = ("恶性肿瘤", "尿毒症", "脑梗死后遗症", "重性精神病", "白血病")


def labour_for(rng: random.Random, age: int, health: str, student: bool) -> str:
    if age < 16 or student:
        return "无劳动力"
    if health == "健康":
        if age <= 60:
            return "技能劳动力" if (age < 45 and rng.random() < 0.3) else "普通劳动力"
        if age <= 65:
            return rng.choice(["普通劳动力", "弱劳动力或半劳动力"])
        return rng.choices(["弱劳动力或半劳动力", "无劳动力", "丧失劳动力"], weights=[0.45, 0.4, 0.15])[0]
    if health == "长期慢性病":
        return "弱劳动力或半劳动力" if age <= 70 else "无劳动力"
    return rng.choices(["弱劳动力或半劳动力", "丧失劳动力", "无劳动力"], weights=[0.3, 0.5, 0.2])[0]


def phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def work_for(rng: random.Random, age: int, labour: str, county_name: str) -> tuple[str, str, int]:
    if labour not in ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力") or age > 64:
        return "未务工", "", 0
    x = rng.random()
    if labour == "弱劳动力或半劳动力":
        return ("本地零散务工", county_name, rng.randint(2, 6)) if x < 0.35 else ("未务工", "", 0)
    if x < 0.28:
        return (
            "省外务工",
            rng.choice(["浙江省宁波市", "江苏省苏州市", "广东省东莞市", "北京市大兴区", "上海市闵行区"]),
            rng.randint(6, 11),
        )
    if x < 0.43:
        return "省内县外务工", rng.choice(["省会城市", "本市市区", "邻市"]), rng.randint(5, 11)
    if x < 0.65:
        return "县内务工", county_name, rng.randint(6, 12)
    if x < 0.80:
        return "本地零散务工", county_name, rng.randint(2, 8)
    return "未务工", "", 0
