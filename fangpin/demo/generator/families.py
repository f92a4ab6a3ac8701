"""Household composition and the facts of each person, consistent with age, health and relation.

Rows are plain dicts whose keys are the registry model's field names (so the same rows go to the
database and to Parquet). Keys starting with ``_`` are generator bookkeeping (entry/exit dates used
for the member-change history), never model fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

import numpy as np

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


# -- person facts, drawn for all the persons of a village at once (numpy) ------------------------
# Each function takes the persons' ages (and what it depends on) as arrays and one uniform column
# per draw, so a person's facts are the same whichever branch another person took.

_PRIMARY = ["一", "二", "三", "四", "五", "六"]
_GRADE = ("一", "二", "三")
CHRONIC = ("高血压", "糖尿病", "慢性阻塞性肺病", "冠心病", "类风湿关节炎", "慢性肾病")
SERIOUS = ("恶性肿瘤", "尿毒症", "脑梗死后遗症", "重性精神病", "白血病")
ABLE = ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
OUTSIDE_PROVINCE = ("浙江省宁波市", "江苏省苏州市", "广东省东莞市", "北京市大兴区", "上海市闵行区")
INSIDE_PROVINCE = ("省会城市", "本市市区", "邻市")


def pick(u: np.ndarray, labels, weights=None) -> np.ndarray:
    """``random.choices(labels, weights)`` for each uniform in ``u`` (uniform choice without weights)."""
    arr, cum = _choice_table(tuple(labels), None if weights is None else tuple(weights))
    if cum is None:
        return arr[np.minimum((u * len(arr)).astype(np.int64), len(arr) - 1)]
    return arr[np.minimum(np.searchsorted(cum, u * cum[-1], side="right"), len(arr) - 1)]


@functools.lru_cache(maxsize=256)
def _choice_table(labels: tuple, weights: tuple | None) -> tuple[np.ndarray, np.ndarray | None]:
    return np.asarray(labels), None if weights is None else np.cumsum(weights)


def randint(u: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``random.randint(lo, hi)`` for each uniform in ``u``."""
    return lo + np.minimum((u * (hi - lo + 1)).astype(np.int64), hi - lo)


def birth_ordinals(age: np.ndarray, u: np.ndarray, on: dt.date) -> np.ndarray:
    """Birth dates (proleptic ordinals) giving exactly ``age`` on ``on``: up to 364 days before the
    latest such day."""
    latest = {}
    for a in np.unique(age).tolist():
        latest[a] = (
            on.replace(year=on.year - a)
            if not (on.month == 2 and on.day == 29)
            else dt.date(on.year - a, 2, 28)
        ).toordinal()
    return np.array([latest[a] for a in age.tolist()], dtype=np.int64) - randint(u, 0, 364)


_FIXED_STAGE = np.array(
    ["学龄前儿童"] * 3
    + [""] * 3
    + [f"小学{g}年级" for g in _PRIMARY]
    + ["七年级", "八年级", "九年级"]
    + [""] * 106,
    dtype=object,
)  # by age: the stages every child of that age is in (3-5 and 15+ are drawn)


def school_status(age: np.ndarray, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    out = _FIXED_STAGE[np.minimum(age, len(_FIXED_STAGE) - 1)]
    pre = (age >= 3) & (age <= 5)
    if pre.any():
        out[pre] = np.where(u1[pre] < 0.85, "学前教育", "学龄前儿童")
    teen = (age >= 15) & (age <= 17)
    if teen.any():
        n = np.array(_GRADE, dtype=object)[age[teen] - 15]
        out[teen] = np.where(
            u1[teen] < 0.62, "普通高中" + n + "年级", np.where(u1[teen] < 0.90, "中职" + n + "年级", "")
        )
    young = (age >= 18) & (age <= 21) & (u1 < 0.25)
    if young.any():
        n = np.array(_GRADE, dtype=object)[np.minimum(age[young] - 18, 2)]
        out[young] = np.where(u2[young] < 0.6, "高职高专" + n + "年级", "本科")
    return out


def is_student(status: str) -> bool:
    return bool(status) and status != "学龄前儿童"


def students(status: np.ndarray) -> np.ndarray:
    return (status != "") & (status != "学龄前儿童")


_EDU = (
    (["文盲或半文盲", "小学", "初中", "高中"], [0.38, 0.42, 0.18, 0.02]),
    (["文盲或半文盲", "小学", "初中", "高中", "中专"], [0.04, 0.31, 0.50, 0.12, 0.03]),
    (["小学", "初中", "高中", "中专", "大专", "本科及以上"], [0.05, 0.45, 0.22, 0.10, 0.11, 0.07]),
)


def education(age: np.ndarray, u: np.ndarray) -> np.ndarray:
    band = np.where(age >= 60, 0, np.where(age >= 40, 1, 2))
    out = np.full(len(age), "", dtype=object)
    for b, (labels, w) in enumerate(_EDU):
        m = band == b
        out[m] = pick(u[m], labels, w)
    return out


def health(age: np.ndarray, u: np.ndarray) -> np.ndarray:
    """健康 / 长期慢性病 / 患有大病 / 残疾 by age band (children under 3: 健康)."""
    chronic = np.where(age < 40, 0.03, np.where(age < 60, 0.12, 0.30))
    serious = np.where(age < 40, 0.01, np.where(age < 60, 0.025, 0.04))
    disabled = np.where(age < 40, 0.02, np.where(age < 60, 0.05, 0.08))
    out = np.where(
        u < disabled,
        "残疾",
        np.where(
            u < disabled + serious,
            "患有大病",
            np.where(u < disabled + serious + chronic, "长期慢性病", "健康"),
        ),
    ).astype(object)
    out[age < 3] = "健康"
    return out


def labour(age: np.ndarray, health_: np.ndarray, student: np.ndarray, u: np.ndarray) -> np.ndarray:
    out = np.full(len(age), "无劳动力", dtype=object)
    ok = (age >= 16) & ~student
    healthy = ok & (health_ == "健康")
    m = healthy & (age <= 60)
    out[m] = np.where((age[m] < 45) & (u[m] < 0.3), "技能劳动力", "普通劳动力")
    m = healthy & (age > 60) & (age <= 65)
    out[m] = pick(u[m], ["普通劳动力", "弱劳动力或半劳动力"])
    m = healthy & (age > 65)
    out[m] = pick(u[m], ["弱劳动力或半劳动力", "无劳动力", "丧失劳动力"], [0.45, 0.4, 0.15])
    m = ok & (health_ == "长期慢性病")
    out[m] = np.where(age[m] <= 70, "弱劳动力或半劳动力", "无劳动力")
    m = ok & ((health_ == "患有大病") | (health_ == "残疾"))
    out[m] = pick(u[m], ["弱劳动力或半劳动力", "丧失劳动力", "无劳动力"], [0.3, 0.5, 0.2])
    return out


def work(
    age: np.ndarray,
    labour_: np.ndarray,
    county_name: str,
    u: np.ndarray,
    u_place: np.ndarray,
    u_months: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(work status, location, months) of each person."""
    n = len(age)
    status = np.full(n, "未务工", dtype=object)
    where = np.full(n, "", dtype=object)
    months = np.zeros(n, dtype=np.int64)
    weak = (labour_ == "弱劳动力或半劳动力") & (age <= 64)
    full = ((labour_ == "技能劳动力") | (labour_ == "普通劳动力")) & (age <= 64)

    def put(m: np.ndarray, st: str, loc, lo: int, hi: int) -> None:
        status[m] = st
        where[m] = loc if isinstance(loc, str) else pick(u_place[m], loc)
        months[m] = randint(u_months[m], lo, hi)

    put(weak & (u < 0.35), "本地零散务工", county_name, 2, 6)
    put(full & (u < 0.28), "省外务工", OUTSIDE_PROVINCE, 6, 11)
    put(full & (u >= 0.28) & (u < 0.43), "省内县外务工", INSIDE_PROVINCE, 5, 11)
    put(full & (u >= 0.43) & (u < 0.65), "县内务工", county_name, 6, 12)
    put(full & (u >= 0.65) & (u < 0.80), "本地零散务工", county_name, 2, 8)
    return status, where, months


def phones(prefix_u: np.ndarray, digits: np.ndarray) -> list[str]:
    """Mobile numbers ``1[3-9]\\d{9}`` (``digits``: integers below 10**9)."""
    first = randint(prefix_u, 3, 9).tolist()
    return [f"1{a}{b:09d}" for a, b in zip(first, digits.tolist(), strict=True)]


def phone(rng: random.Random) -> str:
    """A mobile number ``1[3-9]\\d{9}``, uniform digits (as ``phones``), in two draws."""
    return f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
