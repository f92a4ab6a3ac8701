"""Chinese names with the right gender.

Faker's zh_CN ``name_male`` is not gendered and its ``first_names_male`` holds a few female-sounding
names (红霞); so the surname frequencies come from Faker (real 百家姓 shares) and the given names from
our own gendered lists, split by generation (a 70-year-old is 秀英 or 建国, a child 梓涵 or 浩然).
Two-character given names dominate, so most names have three characters.
"""

from __future__ import annotations

import random
from itertools import accumulate

import numpy as np
from faker.providers.person.zh_CN import Provider as _ZhProvider

# Single-character surnames only (compound surnames such as 欧阳 would break "surname = first char").
_SURNAMES = [(s, float(w)) for s, w in _ZhProvider.last_names.items() if len(s) == 1]
SURNAMES: list[str] = [s for s, _ in _SURNAMES]
_SURNAME_CUM: list[float] = list(accumulate(w for _, w in _SURNAMES))

MALE_GIVEN_OLD = [
    "建国",
    "建军",
    "建华",
    "志强",
    "国强",
    "卫东",
    "红军",
    "保国",
    "振华",
    "德胜",
    "长江",
    "永强",
    "文军",
    "国庆",
    "海军",
    "建平",
    "保华",
    "金山",
    "铁柱",
    "双喜",
    "满仓",
    "春生",
    "新民",
    "来福",
    "长海",
    "玉山",
    "学军",
    "爱民",
    "德明",
    "存才",
    "广田",
    "守义",
    "有才",
    "国良",
    "富贵",
    "振国",
    "伟",
    "强",
    "军",
    "刚",
    "平",
    "华",
    "斌",
    "勇",
    "明",
    "忠",
    "林",
    "山",
    "福",
    "贵",
    "根",
    "柱",
    "海",
    "成",
    "兵",
]
MALE_GIVEN_MID = [
    "志刚",
    "海涛",
    "永刚",
    "晓东",
    "建伟",
    "红伟",
    "卫国",
    "国伟",
    "振宇",
    "立新",
    "文杰",
    "海峰",
    "向东",
    "俊峰",
    "少华",
    "亚军",
    "东升",
    "伟",
    "强",
    "磊",
    "勇",
    "军",
    "杰",
    "涛",
    "超",
    "明",
    "辉",
    "鹏",
    "飞",
    "波",
    "斌",
    "凯",
    "健",
    "亮",
    "峰",
    "雷",
    "东",
    "彬",
    "坤",
    "岩",
    "松",
]
MALE_GIVEN_YOUNG = [
    "子轩",
    "浩然",
    "宇航",
    "俊杰",
    "梓豪",
    "博文",
    "一鸣",
    "家豪",
    "子豪",
    "皓轩",
    "天佑",
    "明哲",
    "思远",
    "嘉豪",
    "铭泽",
    "浩宇",
    "俊熙",
    "昊天",
    "宇轩",
    "梓睿",
    "晨阳",
    "子墨",
    "沐阳",
    "奕辰",
    "宇",
    "浩",
    "鑫",
    "帅",
    "旭",
    "博",
    "阳",
    "凯",
    "睿",
    "航",
]
FEMALE_GIVEN_OLD = [
    "秀英",
    "秀兰",
    "桂英",
    "玉兰",
    "桂兰",
    "秀珍",
    "玉梅",
    "玉珍",
    "凤英",
    "玉英",
    "兰英",
    "淑珍",
    "秀荣",
    "桂珍",
    "秀云",
    "桂荣",
    "秀梅",
    "玉华",
    "淑兰",
    "秀芳",
    "淑英",
    "素芬",
    "翠花",
    "金凤",
    "凤兰",
    "桂芝",
    "春兰",
    "爱莲",
    "改花",
    "巧云",
    "英",
    "兰",
    "梅",
    "珍",
    "凤",
    "芝",
]
FEMALE_GIVEN_MID = [
    "红梅",
    "春梅",
    "海燕",
    "冬梅",
    "丽娟",
    "雪梅",
    "丽丽",
    "红霞",
    "艳红",
    "晓燕",
    "丽萍",
    "秀娟",
    "美玲",
    "彩霞",
    "建英",
    "玉霞",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "艳",
    "娟",
    "霞",
    "燕",
    "玲",
    "丹",
    "萍",
    "红",
    "莉",
    "琴",
    "云",
]
FEMALE_GIVEN_YOUNG = [
    "梓涵",
    "欣怡",
    "子涵",
    "诗涵",
    "雨涵",
    "一诺",
    "思琪",
    "佳怡",
    "紫涵",
    "梦瑶",
    "可馨",
    "语桐",
    "雨萱",
    "欣妍",
    "婉清",
    "佳琪",
    "心怡",
    "雅琪",
    "静怡",
    "思雨",
    "婷婷",
    "若曦",
    "晶",
    "颖",
    "雪",
    "慧",
    "倩",
    "洁",
    "莹",
    "琳",
    "欣",
    "悦",
    "璐",
]

MALE_GIVEN = frozenset(MALE_GIVEN_OLD + MALE_GIVEN_MID + MALE_GIVEN_YOUNG)
FEMALE_GIVEN = frozenset(FEMALE_GIVEN_OLD + FEMALE_GIVEN_MID + FEMALE_GIVEN_YOUNG)
assert not MALE_GIVEN & FEMALE_GIVEN, MALE_GIVEN & FEMALE_GIVEN


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM, k=1)[0]


def given_name(rng: random.Random, gender: str, birth_year: int) -> str:
    if gender == "M":
        pool = (
            MALE_GIVEN_OLD if birth_year < 1965 else MALE_GIVEN_MID if birth_year < 1995 else MALE_GIVEN_YOUNG
        )
    else:
        pool = (
            FEMALE_GIVEN_OLD
            if birth_year < 1965
            else FEMALE_GIVEN_MID
            if birth_year < 1995
            else FEMALE_GIVEN_YOUNG
        )
    return rng.choice(pool)


def full_name(rng: random.Random, gender: str, birth_year: int, family_name: str | None = None) -> str:
    return (family_name or surname(rng)) + given_name(rng, gender, birth_year)


def name_gender(name: str) -> str:
    """ "M"/"F" when the given name is in one of our lists, "" otherwise (used by tests)."""
    given = name[1:]
    if given in MALE_GIVEN:
        return "M"
    if given in FEMALE_GIVEN:
        return "F"
    return ""


# -- the same, for the persons of a village at once (numpy) ----------------------------------------
_SURNAME_ARR = np.array(SURNAMES, dtype=object)
_SURNAME_CUM_ARR = np.array(_SURNAME_CUM)
_POOLS = {
    ("M", 0): MALE_GIVEN_OLD,
    ("M", 1): MALE_GIVEN_MID,
    ("M", 2): MALE_GIVEN_YOUNG,
    ("F", 0): FEMALE_GIVEN_OLD,
    ("F", 1): FEMALE_GIVEN_MID,
    ("F", 2): FEMALE_GIVEN_YOUNG,
}


def surnames(u: np.ndarray) -> np.ndarray:
    """A surname by the 百家姓 frequencies for each uniform in ``u``."""
    i = np.searchsorted(_SURNAME_CUM_ARR, u * _SURNAME_CUM_ARR[-1], side="right")
    return _SURNAME_ARR[np.minimum(i, len(SURNAMES) - 1)]


def given_names(gender: np.ndarray, birth_year: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A given name of the person's gender and generation (born before 1965, before 1995, later)."""
    gen = np.where(birth_year < 1965, 0, np.where(birth_year < 1995, 1, 2))
    out = np.full(len(u), "", dtype=object)
    for (g, k), pool in _POOLS.items():
        m = (gender == g) & (gen == k)
        out[m] = np.asarray(pool, dtype=object)[
            np.minimum((u[m] * len(pool)).astype(np.int64), len(pool) - 1)
        ]
    return out
