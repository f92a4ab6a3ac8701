"""Value lists of the national export files and the spellings real files use for them (reusable machinery).

A ``ValueList`` knows the canonical values of one national code table (the exact strings the national
system exports) and the other spellings real exports, provincial forms and hand-saved files carry for
them (小学三年级 → kept, 一年级 → 小学一年级, 高中 → 普通高中, 非在校生 → blank, 本人 → 户主 …). Lookup is by a
normalised key (NFKC, no blanks, full-width brackets folded), so ``普通高中 一年级`` and ``普通高中一年级``
are the same spelling. ``convert`` returns the canonical value or raises ``CellError`` (``bad_enum``).

``Spellings`` counts, per column, which non-canonical spellings a file used and what they were mapped to;
the import report shows it (``ImportBatch.details["value_mappings"]``). Every importer of a national file
(监测对象信息, 户信息, 行政村信息) uses the same lists and the same counter.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

E_ENUM = "bad_enum"


class CellError(Exception):
    """A cell that cannot be read: a stable code (tests, reject reports) and a Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_FOLD = str.maketrans({"（": "(", "）": ")", "：": ":", "，": ",", "、": ",", "　": ""})


def value_key(text: str) -> str:
    """The form spellings are compared in: NFKC, no blanks, half-width brackets and commas, upper case."""
    s = unicodedata.normalize("NFKC", text or "").translate(_FOLD)
    return re.sub(r"\s+", "", s).upper()


@dataclass(frozen=True)
class ValueList:
    """One national code table: canonical values (as exported) and the other spellings of each."""

    name: str
    canonical: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)  # spelling → canonical ("" = blank)
    blank_spellings: tuple[str, ...] = ()  # spellings that mean "not applicable" (exported blank)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for v in self.canonical:
            index[value_key(v)] = v
        for spelling, target in self.aliases.items():
            if target and target not in self.canonical:
                raise ValueError(f"{self.name}: alias {spelling} → {target} is not a canonical value")
            index.setdefault(value_key(spelling), target)
        for spelling in self.blank_spellings:
            index.setdefault(value_key(spelling), "")
        object.__setattr__(self, "_index", index)

    def lookup(self, text: str) -> str | None:
        return self._index.get(value_key(text))  # type: ignore[attr-defined]

    def convert(self, text: str) -> str:
        v = self.lookup(text)
        if v is None:
            raise CellError(E_ENUM, f"“{text}”不是有效值，可选值：{'、'.join(self.canonical)}")
        return v

    def converter(self) -> Callable[[str], str]:
        return self.convert


def _grades(prefix: str, canonical_prefix: str, n: int = 3) -> dict[str, str]:
    cn = "一二三四五六"
    out: dict[str, str] = {}
    for i in range(n):
        target = f"{canonical_prefix}{cn[i]}年级"
        out[f"{prefix}{cn[i]}年级"] = target
        out[f"{prefix}{i + 1}年级"] = target
    return out


# --------------------------------------------------------------------------- 在校生状况 (100A12)

_PRIMARY = {f"小学{c}年级": f"小学{c}年级" for c in "一二三四五六"}
SCHOOL_STATUS = ValueList(
    "在校生状况",
    canonical=(
        "学龄前儿童",
        "学前教育",
        "小学",
        *_PRIMARY,
        "初中",
        "七年级",
        "八年级",
        "九年级",
        "普通高中",
        "普通高中一年级",
        "普通高中二年级",
        "普通高中三年级",
        "中职",
        "中职一年级",
        "中职二年级",
        "中职三年级",
        "高职高专",
        "高职高专一年级",
        "高职高专二年级",
        "高职高专三年级",
        "技师",
        "本科",
        "硕士生及以上",
    ),
    aliases={
        "学龄前": "学龄前儿童",
        "未入学": "学龄前儿童",
        "学前": "学前教育",
        "幼儿园": "学前教育",
        "学前班": "学前教育",
        "小学在读": "小学",
        "小学生": "小学",
        **{f"{c}年级": f"小学{c}年级" for c in "一二三四五六"},
        **{f"{i}年级": f"小学{c}年级" for i, c in zip(range(1, 7), "一二三四五六", strict=True)},
        **{f"小学{i}年级": f"小学{c}年级" for i, c in zip(range(1, 7), "一二三四五六", strict=True)},
        "初中在读": "初中",
        "初中生": "初中",
        "初一": "七年级",
        "初二": "八年级",
        "初三": "九年级",
        "初中一年级": "七年级",
        "初中二年级": "八年级",
        "初中三年级": "九年级",
        "初中1年级": "七年级",
        "初中2年级": "八年级",
        "初中3年级": "九年级",
        "7年级": "七年级",
        "8年级": "八年级",
        "9年级": "九年级",
        "高中": "普通高中",
        "普高": "普通高中",
        "高中在读": "普通高中",
        "高一": "普通高中一年级",
        "高二": "普通高中二年级",
        "高三": "普通高中三年级",
        **_grades("高中", "普通高中"),
        **_grades("普高", "普通高中"),
        **_grades("普通高中", "普通高中"),
        "中专": "中职",
        "职高": "中职",
        **_grades("中专", "中职"),
        **_grades("职高", "中职"),
        **_grades("中职", "中职"),
        "高职": "高职高专",
        "大专": "高职高专",
        **_grades("高职", "高职高专"),
        **_grades("大专", "高职高专"),
        **_grades("高职高专", "高职高专"),
        "技工": "技师",
        "技工学校": "技师",
        "大学本科": "本科",
        "本科在读": "本科",
        "本科生": "本科",
        "研究生": "硕士生及以上",
        "硕士": "硕士生及以上",
        "硕士研究生": "硕士生及以上",
        "博士": "硕士生及以上",
        "博士研究生": "硕士生及以上",
    },
    # the national export leaves the cell blank for non-students; hand-saved files spell it out
    blank_spellings=("非在校生", "非在校", "不在校", "不在校生", "未在校", "否", "无", "/"),
)

# --------------------------------------------------------------------------- person attributes

EDUCATION = ValueList(
    "文化程度",
    canonical=("文盲或半文盲", "小学", "初中", "高中", "中专", "大专", "本科及以上"),
    aliases={
        "文盲": "文盲或半文盲",
        "半文盲": "文盲或半文盲",
        "文盲半文盲": "文盲或半文盲",
        "文盲/半文盲": "文盲或半文盲",
        "小学文化": "小学",
        "初中文化": "初中",
        "高中文化": "高中",
        "普通高中": "高中",
        "中职": "中专",
        "职高": "中专",
        "中专/中职": "中专",
        "高职": "大专",
        "高职高专": "大专",
        "本科": "本科及以上",
        "大学本科": "本科及以上",
        "研究生": "本科及以上",
        "本科及研究生及以上": "本科及以上",
    },
    blank_spellings=("无", "/"),
)

HEALTH = ValueList(
    "健康状况",
    canonical=("健康", "长期慢性病", "患有大病", "残疾"),
    aliases={
        "健康人": "健康",
        "良好": "健康",
        "慢性病": "长期慢性病",
        "患慢性病": "长期慢性病",
        "长期慢性病患者": "长期慢性病",
        "大病": "患有大病",
        "患大病": "患有大病",
        "重病": "患有大病",
        "残疾人": "残疾",
        "有残疾": "残疾",
    },
)

LABOUR_SKILL = ValueList(
    "劳动技能",
    canonical=("技能劳动力", "普通劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力"),
    aliases={
        "技能劳动": "技能劳动力",
        "普通劳动": "普通劳动力",
        "普通劳力": "普通劳动力",
        "弱劳动力": "弱劳动力或半劳动力",
        "半劳动力": "弱劳动力或半劳动力",
        "弱劳动力/半劳动力": "弱劳动力或半劳动力",
        "弱劳动力或半劳力": "弱劳动力或半劳动力",
        "丧失劳动能力": "丧失劳动力",
        "完全丧失劳动能力": "丧失劳动力",
        "无劳动能力": "无劳动力",
    },
)

RELATION = ValueList(
    "与户主关系",
    canonical=(
        "户主",
        "配偶",
        "之子",
        "之女",
        "之儿媳",
        "之女婿",
        "之孙子",
        "之孙女",
        "之外孙子",
        "之外孙女",
        "之曾孙子",
        "之曾孙女",
        "之父",
        "之母",
        "之公公",
        "之婆婆",
        "之岳父",
        "之岳母",
        "之祖父",
        "之祖母",
        "之兄弟姐妹",
        "之兄弟媳妇",
        "之侄儿",
        "之侄女",
        "之叔伯",
        "其他",
    ),
    aliases={
        "本人": "户主",
        "户主本人": "户主",
        "妻": "配偶",
        "妻子": "配偶",
        "夫": "配偶",
        "丈夫": "配偶",
        "子": "之子",
        "儿子": "之子",
        "长子": "之子",
        "次子": "之子",
        "女": "之女",
        "女儿": "之女",
        "长女": "之女",
        "次女": "之女",
        "儿媳": "之儿媳",
        "媳妇": "之儿媳",
        "女婿": "之女婿",
        "孙子": "之孙子",
        "孙女": "之孙女",
        "外孙": "之外孙子",
        "外孙子": "之外孙子",
        "外孙女": "之外孙女",
        "父亲": "之父",
        "母亲": "之母",
        "公公": "之公公",
        "婆婆": "之婆婆",
        "岳父": "之岳父",
        "岳母": "之岳母",
        "祖父": "之祖父",
        "祖母": "之祖母",
        "兄弟姐妹": "之兄弟姐妹",
        "兄弟": "之兄弟姐妹",
        "姐妹": "之兄弟姐妹",
        "侄子": "之侄儿",
        "侄儿": "之侄儿",
        "侄女": "之侄女",
    },
)

HOUSEHOLD_TYPE = ValueList(
    "户类型",
    canonical=("脱贫户", "一般农户"),
    aliases={"普通农户": "一般农户", "一般户": "一般农户", "农户": "一般农户", "已脱贫户": "脱贫户"},
)

ID_TYPE = ValueList(
    "证件类型",
    canonical=("身份证", "残疾人证", "其他"),
    aliases={
        "居民身份证": "身份证",
        "身份证号": "身份证",
        "二代身份证": "身份证",
        "第二代居民身份证": "身份证",
        "残疾证": "残疾人证",
        "第二代残疾人证": "残疾人证",
    },
)

DIBAO = ValueList(
    "享受低保政策情况",
    canonical=("农村低保", "城市低保", "未享受"),
    aliases={
        "农村低保户": "农村低保",
        "城市低保户": "城市低保",
        "不享受": "未享受",
        "否": "未享受",
        "无": "未享受",
    },
)

TEKUN = ValueList(
    "享受特困供养政策情况",
    canonical=("农村特困", "城市特困", "不享受"),
    aliases={
        "农村特困供养": "农村特困",
        "农村特困人员": "农村特困",
        "城市特困供养": "城市特困",
        "未享受": "不享受",
        "否": "不享受",
        "无": "不享受",
    },
)

MONITORING_CATEGORY = ValueList(
    "监测对象类别",
    canonical=("脱贫不稳定户", "边缘易致贫户", "突发严重困难户"),
    aliases={
        "不稳定户": "脱贫不稳定户",
        "脱贫不稳定": "脱贫不稳定户",
        "边缘户": "边缘易致贫户",
        "边缘易致贫": "边缘易致贫户",
        "突发严重困难": "突发严重困难户",
        "突发严重困难户(突发严重困难)": "突发严重困难户",
        "因病因灾因意外事故等刚性支出较大或收入大幅缩减导致基本生活出现严重困难户": "突发严重困难户",
    },
)

ELIMINATION_METHOD = ValueList(
    "风险消除方式",
    canonical=("帮扶消除", "自然消除"),
    aliases={"帮扶措施消除": "帮扶消除", "帮扶后消除": "帮扶消除"},
)

DEVELOPMENTAL_STATUS = ValueList(
    "实施开发式帮扶措施情况",
    canonical=("是", "尚未实施"),
    aliases={"已实施": "是", "已落实": "是", "未实施": "尚未实施", "否": "尚未实施"},
)

# 成员变更 (fangpin column): how a file states that a registered person now belongs to another household.
MEMBER_CHANGE = ValueList(
    "成员变更",
    canonical=("迁移", "分户"),
    aliases={"迁入": "迁移", "户间迁移": "迁移", "成员迁移": "迁移", "拆户": "分户", "分立": "分户"},
)

# --------------------------------------------------------------------------- 致贫/返贫风险 (100A27)
# The risk catalogue is a policy parameter (catalogue.risk_types, checked in io.validate); these are the other
# spellings of its national labels that provincial forms and ledgers use.
RISK_TYPE_ALIASES = {
    "因病致贫": "因病",
    "因病返贫": "因病",
    "因残致贫": "因残",
    "因残返贫": "因残",
    "因学致贫": "因学",
    "因学返贫": "因学",
    "因灾": "因自然灾害",
    "因灾致贫": "因自然灾害",
    "因灾返贫": "因自然灾害",
    "自然灾害": "因自然灾害",
    "因意外": "因意外事故",
    "意外事故": "因意外事故",
    "缺劳力": "缺劳动力",
    "缺少劳动力": "缺劳动力",
    "因务工就业不稳定": "因务工就业不稳",
    "务工就业不稳": "因务工就业不稳",
    "因产业失败": "因产业项目失败",
    "住房安全": "因安全住房",
    "因住房安全": "因安全住房",
    "饮水安全": "因安全饮水",
    "因饮水安全": "因安全饮水",
}
_RISK_INDEX = {value_key(k): v for k, v in RISK_TYPE_ALIASES.items()}


def risk_type(text: str) -> str:
    """A risk label in the catalogue's spelling (因病致贫 → 因病); unknown labels are left for the catalogue check."""
    return _RISK_INDEX.get(value_key(text), text)


# 民族: 汉 → 汉族 (hand-typed); the names themselves are free text of the national export.
_NOT_A_NATIONALITY_SUFFIX = ("其他", "未识别", "穿青人", "外国血统", "入籍")


def ethnicity(text: str) -> str:
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if s and not s.endswith("族") and not s.startswith(_NOT_A_NATIONALITY_SUFFIX) and len(s) <= 4:
        return s + "族"
    return s


# --------------------------------------------------------------------------- 是/否

YES_SPELLINGS = (
    "是", "Y", "YES", "TRUE", "1", "√", "✓", "有", "是的", "对",
    "已解决", "已消除", "已参加", "已参保", "参加", "已通", "通", "已硬化",
)  # fmt: skip
NO_SPELLINGS = (
    "否", "N", "NO", "FALSE", "0", "×", "✗", "无", "不是", "没有",
    "未解决", "未消除", "未参加", "未参保", "不参加", "未通", "不通", "未硬化",
)  # fmt: skip
_YES = {value_key(s) for s in YES_SPELLINGS}
_NO = {value_key(s) for s in NO_SPELLINGS}


def plain_number(text: str) -> str:
    """A number as typed by hand: full-width digits, thousands separators, a currency sign or a unit
    (１，２００元, ¥1,200, 3.5亩, 12个月) → 1200 / 3.5 / 12."""
    s = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
    s = re.sub(r"^[¥￥]", "", s)
    return re.sub(r"(元|亩|平方米|㎡|公里|千米|米|个月|月|天)$", "", s)


def yes_no(text: str) -> bool | None:
    """True / False for the spellings of 是 / 否, None for anything else."""
    k = value_key(text)
    if k in _YES:
        return True
    if k in _NO:
        return False
    return None


# --------------------------------------------------------------------------- the spelling report


@dataclass
class Spellings:
    """Which non-canonical spellings a file used, per column: header → {"raw → canonical": cells}."""

    counts: dict[str, Counter] = field(default_factory=dict)

    def add(self, header: str, raw: str, canonical: str, cells: int) -> None:
        if raw == canonical or cells <= 0:
            return
        self.counts.setdefault(header, Counter())[f"{raw} → {canonical or '（空）'}"] += cells

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {h: dict(sorted(c.items())) for h, c in sorted(self.counts.items())}

    def lines(self) -> list[str]:
        out = []
        for h, c in self.as_dict().items():
            out.append(f"{h}：" + "；".join(f"{k}（{n}格）" for k, n in c.items()))
        return out


def all_value_lists() -> Iterable[ValueList]:
    return (
        v
        for v in globals().values()
        if isinstance(v, ValueList)  # every list above, for the docs and the tests
    )
