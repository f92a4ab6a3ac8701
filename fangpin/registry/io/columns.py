"""The person-level 监测对象信息 export of 全国防返贫监测信息系统, as a column table.

One row per person, household fields repeated on every member's row (policy-research §4.2, §4.2.1).
Each ``Column`` says which header (and aliases) it answers to, where its value goes (household, person,
income record, monitoring facts, village resolution, or ``derived`` = written on export, ignored on import)
and how a cell is spelled (是/否, YYYYMMDD, YYYYMM, an enumeration from registry/choices.py …).

Converters take the cell text (already stripped) and return the Python value or raise ``CellError`` with a
stable code and a Chinese message; ``io.validate`` calls each converter once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fangpin.registry import choices as C

from . import values as V
from .convert import (  # noqa: F401  (re-exported: the column table's vocabulary)
    E_BOOL,
    E_DATE,
    E_ENUM,
    E_FUTURE,
    E_GENDER,
    E_NUMBER,
    E_REQUIRED,
    E_TOO_LONG,
    ELIMINATION_METHODS,
    MONITORING_CATEGORIES,
    MONITORING_CATEGORY_ALIASES,
    NO,
    RISK_SLOTS,
    YES,
    CellError,
    conv_bool,
    conv_date,
    conv_decimal,
    conv_enum,
    conv_flag,
    conv_gender,
    conv_int,
    conv_text,
    conv_values,
    conv_yyyymm,
    fmt_bool,
    fmt_date,
    fmt_gender,
    fmt_yyyymm,
    parse_date,
)
from .values import yes_no

# --------------------------------------------------------------------------- the table

# Where a column's value goes. HH_FACTS / PERSON_FACTS: kept as canonical text in the JSON field
# ``national_facts`` of the household / person (header → text); ROW: an instruction for this import
# (成员变更), recorded as what it causes (a MemberChange), not as a field.
LOC, HH, PERSON, INCOME, MON, DERIVED, PERSON_ID, HH_FACTS, PERSON_FACTS, ROW = (
    "loc",
    "household",
    "person",
    "income",
    "monitoring",
    "derived",
    "person_id",
    "household_facts",
    "person_facts",
    "row",
)

# Blank cell policy: "default" = the model field's default, "empty" = "" / None, "required" = reject.
DEFAULT, EMPTY, REQUIRED = "default", "empty", "required"


@dataclass(frozen=True)
class Column:
    key: str  # internal key (model field name for household/person/income columns)
    header: str  # national header text (what the exporter writes)
    target: str
    conv: Callable[[str], Any] | None = None
    blank: str = DEFAULT
    aliases: tuple[str, ...] = ()
    national: bool = True  # False = fangpin extra column (tolerated by the national checkers)
    kind: str = "text"  # text / bool / date / yyyymm / number / gender (export formatting)
    extra: dict[str, Any] = field(default_factory=dict)


def _c(key, header, target, conv=None, blank=DEFAULT, aliases=(), national=True, kind="text", **extra):
    return Column(key, header, target, conv, blank, tuple(aliases), national, kind, extra)


def _b(key, header, target=PERSON, aliases=(), national=True, blank=DEFAULT):
    return _c(key, header, target, conv_bool, blank, aliases, national, kind="bool")


def _mu(key, header, aliases=(), national=True):
    return _c(key, header, HH, conv_decimal(8, 2), DEFAULT, aliases, national, kind="number")


def _money(key, header, aliases=(), national=True, signed=False):
    return _c(
        key, header, INCOME, conv_decimal(12, 2, signed=signed), EMPTY, aliases, national, kind="number"
    )


def _fact(header, target, conv, kind="text", aliases=(), **extra):
    """A national column kept in ``national_facts`` (its key is the header)."""
    return _c(header, header, target, conv, EMPTY, aliases, True, kind, **extra)


# 帮扶措施: one column per category, the measure's name(s) in the cell (policy-research §4.2), per person.
MEASURE_HEADERS = (
    "产业帮扶",
    "就业帮扶",
    "金融帮扶",
    "公益岗位帮扶",
    "健康帮扶",
    "教育帮扶",
    "义务教育保障",
    "住房安全保障",
    "饮水安全保障",
    "综合保障",
    "社会帮扶",
    "搬迁",
    "生产生活条件改善",
    "基础设施建设",
    "就业渠道（易地搬迁后扶使用）",
)
MEASURE_ALIASES = {
    "公益岗位帮扶": ("公益性岗位帮扶",),
    "教育帮扶": ("其他教育帮扶",),
    "就业渠道（易地搬迁后扶使用）": ("就业渠道",),
}
# 风险消除后…: the household's state after its risk was eliminated (Gzuwkj/fuping 1_11_004, columns FI–FU).
POST_ELIMINATION_BOOLS = (
    "风险消除后是否义务教育阶段适龄儿童少年失学辍学",
    "风险消除后是否住房损毁",
    "风险消除后是否有家庭成员未参加城乡居民（职工）基本医疗保险",
    "风险消除后是否饮水设施损毁",
)
POST_ELIMINATION_MONEY = (
    "风险消除后工资性收入",
    "风险消除后财产性收入",
    "风险消除后转移性收入",
    "风险消除后生产经营性收入",
    "风险消除后生产经营性支出",
    "风险消除后家庭纯收入",
    "风险消除后家庭人均纯收入",
    "风险消除后理赔收入",
    "风险消除后合规自付支出",
)


def _measures(s: str) -> str:
    """A 帮扶措施 cell: several measures are written with "," between them (低保、残疾人补贴 → 低保,残疾人补贴)."""
    text = ",".join(t.strip() for t in re.split(r"[,，、;；]+", s) if t.strip())
    return conv_text(200)(text)


def _fact_money(s: str) -> str:
    return f"{conv_decimal(12, 2, signed=True)(s):.2f}"


def _fact_bool(s: str) -> str:
    return fmt_bool(conv_bool(s))


def _values(choices_cls) -> list[str]:
    return [str(v) for v in choices_cls.values]


COLUMNS: tuple[Column, ...] = (
    # --- location and identity
    _c(
        "county",
        "县",
        LOC,
        conv_text(60),
        EMPTY,
        ["县(市、区、旗)", "县（市、区、旗）", "县（区）", "县区", "区县"],
    ),
    _c("township", "乡", LOC, conv_text(60), EMPTY, ["乡(镇)", "乡（镇）", "乡镇", "乡镇（街道）"]),
    _c("village", "村", LOC, conv_text(60), EMPTY, ["行政村", "村(社区)", "村（社区）", "村名称"]),
    _c("household_no", "户编号", HH, conv_text(32), REQUIRED, ["户码"]),
    _c("person_no", "人编号", PERSON, conv_text(40), EMPTY, ["人员编号", "家庭成员编号"]),
    _c("name", "姓名", PERSON, conv_text(50), REQUIRED, ["成员姓名"]),
    _c(
        "id_type",
        "证件类型",
        PERSON,
        conv_values(V.ID_TYPE),
        DEFAULT,
    ),
    _c(
        "id_number",
        "证件号码",
        PERSON_ID,
        None,
        REQUIRED,
        ["身份证", "身份证号", "身份证号码", "证件号", "公民身份号码"],
    ),
    _c("gender", "性别", PERSON, conv_gender, EMPTY, kind="gender"),
    _c("birth_date", "出生日期", PERSON, conv_date, EMPTY, kind="date"),
    _c("ethnicity", "民族", PERSON, lambda s: conv_text(20)(V.ethnicity(s)), DEFAULT),
    _c("relation", "与户主关系", PERSON, conv_values(V.RELATION), REQUIRED),
    _c(
        "household_type",
        "户类型",
        HH,
        conv_values(V.HOUSEHOLD_TYPE),
        REQUIRED,
    ),
    _c(
        "category",
        "监测对象类别",
        MON,
        conv_values(V.MONITORING_CATEGORY),
        EMPTY,
        ["检测对象类别", "易返贫致贫户(监测对象)类型", "监测对象类型"],
    ),
    _c("phone", "户联系电话", HH, conv_text(20), EMPTY, ["户主联系电话"]),
    _c(
        "person_phone",
        "家庭成员联系电话",
        PERSON,
        conv_text(20),
        EMPTY,
        ["人联系电话", "成员联系电话", "联系电话"],
    ),
    # --- education, health, labour
    _c("education", "文化程度", PERSON, conv_values(V.EDUCATION), EMPTY),
    _c("school_status", "在校生状况", PERSON, conv_values(V.SCHOOL_STATUS), EMPTY, ["在校生情况"]),
    _c("out_of_school_reason", "失学或辍学原因", PERSON, conv_text(30), EMPTY, ["义务教育阶段未上学原因"]),
    # the 2023 export carries the same fact under both headers: written twice on export, read once
    _c(
        "out_of_school_reason_2",
        "义务教育阶段未上学原因",
        DERIVED,
        kind="text",
        same_as="out_of_school_reason",
    ),
    _c("health", "健康状况", PERSON, conv_values(V.HEALTH), DEFAULT),
    _c("labour_skill", "劳动技能", PERSON, conv_values(V.LABOUR_SKILL), DEFAULT, ["劳动能力"]),
    _c("work_location", "务工所在地", PERSON, conv_text(50), EMPTY, ["务工地点"]),
    _c(
        "work_months",
        "务工时间（月）",
        PERSON,
        conv_int(12),
        DEFAULT,
        ["务工时间(月)", "务工时长(月)"],
        kind="number",
    ),
    _c(
        "public_welfare_job_name",
        "公益性岗位",
        PERSON,
        lambda s: "" if yes_no(s) is False else ("是" if yes_no(s) else conv_text(50)(s)),
        EMPTY,
        kind="text",
    ),
    _c(
        "public_welfare_job_months",
        "公益性岗位(月数)",
        PERSON,
        conv_int(12),
        DEFAULT,
        ["公益性岗位（月数）"],
        kind="number",
    ),
    # --- insurance and social security
    _b("medical_resident", "是否参加城乡居民基本医疗保险", aliases=["城乡居民基本医疗保险"]),
    _b("medical_employee", "是否参加城镇职工基本医疗保险", aliases=["城镇职工基本医疗保险"]),
    _b("critical_illness_insurance", "是否参加大病保险", aliases=["参加大病医疗", "参加大病保险"]),
    _b("medical_assistance", "是否接受医疗救助"),
    _b("pension_resident", "是否参加城乡居民基本养老保险"),
    _b("pension_employee", "是否参加城镇职工基本养老保险"),
    _c(
        "dibao",
        "享受低保政策情况",
        PERSON,
        conv_values(V.DIBAO),
        DEFAULT,
    ),
    _c(
        "tekun",
        "享受特困供养政策情况",
        PERSON,
        conv_values(V.TEKUN),
        DEFAULT,
    ),
    _c("tekun_amount", "特困人员救助供养金", PERSON, conv_decimal(10, 2), DEFAULT, kind="number"),
    _b("no_labour_protected", "整户无劳动能力兜底保障户", target=HH),
    # --- monitoring
    _c("identified_on", "识别监测时间", MON, conv_yyyymm, EMPTY, ["风险识别时间"], kind="yyyymm"),
    *(
        _c(
            f"risk{i}",
            f"致贫/返贫风险{i}",
            MON,
            lambda s: conv_text(20)(V.risk_type(s)),
            EMPTY,
            [f"致贫返贫风险{i}", f"风险类型{i}"],
        )
        for i in range(1, RISK_SLOTS + 1)
    ),
    _c("eliminated", "风险是否已消除", MON, conv_bool, EMPTY, ["风险是否消除"], kind="bool"),
    _c("elimination_method", "风险消除方式", MON, conv_values(V.ELIMINATION_METHOD), EMPTY),
    _c("eliminated_on", "消除监测时间", MON, conv_yyyymm, EMPTY, ["风险消除时间"], kind="yyyymm"),
    _fact("因自然灾害子项", HH_FACTS, conv_text(50)),
    _fact("风险是否已消除0", PERSON_FACTS, _fact_bool, kind="bool"),
    # --- income (household, for the batch's income year)
    _money("wage", "工资性收入"),
    _money("production_business", "生产经营性收入", signed=True),
    _money("property_income", "财产性收入"),
    _money("transfer_total", "转移性收入"),
    _money("production_expense", "生产经营性支出"),
    _money("insurance_payout", "理赔收入", aliases=["家庭理赔收入"]),
    _money("compliant_out_of_pocket", "合规自付支出"),
    # the stated figure is kept (IncomeRecord.stated_per_capita); the export writes the computed one and
    # the check P-INCOME-STATED flags a disagreement
    _c(
        "stated_per_capita",
        "人均纯收入（元）",
        INCOME,
        conv_decimal(12, 2, signed=True),
        EMPTY,
        ["人均纯收入", "家庭人均纯收入"],
        kind="number",
    ),
    # --- 三保障 and 饮水: the two summary flags judged from the members are kept as stated and written
    # on export as policy.rules.guarantees judges them; 是否解决安全饮用水 is a stored fact
    _fact("是否义务教育阶段适龄儿童少年失学辍学", HH_FACTS, _fact_bool, kind="bool", export="g_education"),
    _fact(
        "是否有家庭成员未参加城乡居民（职工）基本医疗保险",
        HH_FACTS,
        _fact_bool,
        kind="bool",
        export="g_medical",
    ),
    _c("g_housing", "是否危房户", HH, conv_bool, EMPTY, ["危房户"], kind="bool"),
    _c("house_area_m2", "住房面积", HH, conv_decimal(8, 2), DEFAULT, ["住房面积（平方米）"], kind="number"),
    _c(
        "safe_drinking_water",
        "是否解决安全饮用水",
        HH,
        conv_bool,
        EMPTY,
        ["饮水安全", "是否饮水安全"],
        kind="bool",
    ),
    _b("has_electricity", "是否通生活用电", target=HH),
    _b("has_sanitary_toilet", "是否有卫生厕所", target=HH),
    _b("road_hardened", "入户道路是否硬化", target=HH),
    _c(
        "distance_to_main_road_km",
        "与村主干路距离",
        HH,
        conv_decimal(6, 2),
        DEFAULT,
        ["与村主干路距离（公里）"],
        kind="number",
    ),
    _mu("cultivated_land_mu", "耕地面积（亩）", ["耕地面积"]),
    _mu("forest_land_mu", "林地面积（亩）", ["林地面积"]),
    _mu("grain_for_green_mu", "退耕还林面积（亩）", ["退耕还林面积"]),
    _mu("orchard_mu", "林果面积（亩）", ["林果面积"]),
    _mu("pasture_mu", "牧草地面积", ["牧草地面积（亩）"]),
    _mu("water_surface_mu", "水面面积", ["水面面积（亩）"]),
    # --- 帮扶措施 (per person) and the rest of the 2023 export
    *(_fact(h, PERSON_FACTS, _measures, aliases=MEASURE_ALIASES.get(h, ())) for h in MEASURE_HEADERS),
    _fact("公益性岗位帮扶其他备注", PERSON_FACTS, conv_text(200)),
    _fact("实施开发式帮扶措施情况", PERSON_FACTS, conv_values(V.DEVELOPMENTAL_STATUS)),
    *(_fact(h, HH_FACTS, _fact_bool, kind="bool") for h in POST_ELIMINATION_BOOLS),
    *(_fact(h, HH_FACTS, _fact_money, kind="number") for h in POST_ELIMINATION_MONEY),
    _fact("其他备注", PERSON_FACTS, conv_text(200)),
    _fact("信息采集人", PERSON_FACTS, conv_text(50)),
    _fact("信息采集人联系电话", PERSON_FACTS, conv_text(20), phone=True),
    # --- fangpin extras: what the registry holds beyond the national export (round trip)
    _c(
        "village_code",
        "村代码",
        LOC,
        conv_text(12),
        EMPTY,
        ["行政村代码", "村区划代码", "区划代码"],
        national=False,
    ),
    _c("group_name", "村民小组", HH, conv_text(50), EMPTY, ["组", "自然村"], national=False),
    _c("address", "家庭住址", HH, conv_text(200), EMPTY, national=False),
    _c(
        "house_grade",
        "住房安全等级",
        HH,
        conv_enum(_values(C.HouseGrade), {"A级": "A", "B级": "B", "C级": "C", "D级": "D"}),
        EMPTY,
        national=False,
    ),
    _c("exited_year", "脱贫年度", HH, conv_int(2100), EMPTY, national=False, kind="number"),
    _b("in_relocation_site", "居住在易地扶贫搬迁集中安置区", target=HH, national=False),
    _b("relocated_keys_received", "搬迁已交钥匙", target=HH, national=False),
    _c("house_appraised_on", "住房鉴定日期", HH, conv_date, EMPTY, national=False, kind="date"),
    _mu("irrigated_land_mu", "有效灌溉面积（亩）", ["有效灌溉面积"], national=False),
    _b("food_ok", "不愁吃", target=HH, national=False),
    _b("clothing_ok", "不愁穿", target=HH, national=False),
    _b("water_piped", "供水入户", target=HH, national=False),
    _c(
        "water_litres_per_day",
        "人均日供水量（升）",
        HH,
        conv_decimal(6, 1),
        EMPTY,
        national=False,
        kind="number",
    ),
    _b("water_scarce_area", "缺水地区", target=HH, national=False),
    _c("water_quality_ok", "水质达标", HH, conv_bool, EMPTY, national=False, kind="bool"),
    _c(
        "water_fetch_minutes",
        "取水往返时间（分钟）",
        HH,
        conv_decimal(6, 1),
        EMPTY,
        national=False,
        kind="number",
    ),
    _c(
        "water_horizontal_m",
        "取水水平距离（米）",
        HH,
        conv_decimal(8, 1),
        EMPTY,
        national=False,
        kind="number",
    ),
    _c(
        "water_vertical_m", "取水垂直距离（米）", HH, conv_decimal(8, 1), EMPTY, national=False, kind="number"
    ),
    _c("water_interruption_days", "年累计断水天数", HH, conv_int(366), EMPTY, national=False, kind="number"),
    _c("work_status", "务工状况", PERSON, conv_enum(_values(C.WorkStatus)), DEFAULT, national=False),
    _b("out_of_school", "义务教育阶段失学辍学", national=False),
    _c("chronic_disease", "病种", PERSON, conv_text(50), EMPTY, national=False),
    _b("disability_subsidy", "享受残疾人两项补贴", national=False),
    _money("transfer_pension", "养老金", national=False),
    _money("transfer_dibao", "低保金", national=False),
    _money("transfer_tekun", "特困供养金", national=False),
    _money("transfer_eco_compensation", "生态补偿金", national=False),
    _money("transfer_family_planning", "计划生育金", national=False),
    _money("transfer_subsidies", "经常性政策补贴", national=False),
    _money("transfer_support", "赡养性收入", national=False),
    _money("transfer_other", "其他转移性收入", national=False),
    # 成员变更: a file states that a registered person now belongs to the row's household (迁移 / 分户);
    # without it such a row is refused (the importer never moves people silently)
    _c(
        "member_change",
        "成员变更",
        ROW,
        conv_values(V.MEMBER_CHANGE),
        EMPTY,
        ["成员变更类型", "人员变更", "变更类型"],
        national=False,
    ),
)

BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}


class FactsDict(dict):
    """``national_facts`` as one file states it: the non-blank cells, plus which headers the file had
    (``present``), so a column the file lacks never erases what an earlier file said (``io.write``)."""

    present: frozenset[str] = frozenset()

    def merged_into(self, current: dict | None) -> dict:
        out = {k: v for k, v in (current or {}).items() if k not in self.present and v != ""}
        out.update(self)
        return dict(sorted(out.items()))


def date_form(text: str) -> str:
    """How a date cell is spelled, for the spelling report: YYYYMMDD, YYYY-MM-DD, YYYY/M/D, Excel日期序号 …"""
    if re.fullmatch(r"\d{8}", text):
        return "YYYYMMDD"
    if re.fullmatch(r"\d{6}", text):
        return "YYYYMM"
    if re.fullmatch(r"\d{1,5}(\.0+)?", text):
        return "Excel日期序号"
    form = re.sub(r"\d{4}", "YYYY", text, count=1)
    parts = re.split(r"(\D+)", form)
    digits = [p for p in parts if p.isdigit()]
    padded = all(len(p) == 2 for p in digits[:2])  # 01-20 → MM-DD; 1/20 or 9/6 → M/D
    names = iter(("MM", "DD", "hh", "mm", "ss") if padded else ("M", "D", "h", "m", "s"))
    return "".join(next(names, "n") if p.isdigit() else p for p in parts)


def canonical_text(col: Column, value: Any) -> str | None:
    """The national spelling of a converted value (None for numbers: their spelling is not reported)."""
    if value is None:
        return ""
    if col.kind == "bool" and isinstance(value, bool):
        return fmt_bool(value)
    if col.kind == "date":
        return "YYYYMMDD"
    if col.kind == "yyyymm":
        return "YYYYMM"
    if col.kind == "gender":
        return fmt_gender(value)
    if col.kind == "number":
        return None
    return value if isinstance(value, str) else None


TRANSFER_ITEM_KEYS = tuple(k for k in BY_KEY if k.startswith("transfer_") and k != "transfer_total")
INCOME_KEYS = tuple(c.key for c in COLUMNS if c.target == INCOME)
RISK_KEYS = tuple(f"risk{i}" for i in range(1, RISK_SLOTS + 1))
REQUIRED_KEYS = ("household_no", "id_number", "name")
FACT_HEADERS = {t: tuple(c.header for c in COLUMNS if c.target == t) for t in (HH_FACTS, PERSON_FACTS)}

_PAREN = str.maketrans({"（": "(", "）": ")", "：": ":", "、": ",", "　": ""})


def normalize_header(text: object) -> str:
    """Header text as compared: NFKC, no blanks or line breaks, half-width brackets, no trailing '*'."""
    s = unicodedata.normalize("NFKC", "" if text is None else str(text)).translate(_PAREN)
    s = re.sub(r"\s+", "", s).strip("*")
    return s


HEADER_INDEX: dict[str, Column] = {}
for _col in COLUMNS:
    for _h in (_col.header, *_col.aliases):
        HEADER_INDEX.setdefault(normalize_header(_h), _col)


def match_header(text: object) -> Column | None:
    h = normalize_header(text)
    if not h:
        return None
    col = HEADER_INDEX.get(h)
    if col is None and h.endswith("(元)"):
        col = HEADER_INDEX.get(h[:-3])
    return col


# --------------------------------------------------------------------------- village names

_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "社区居委会", "社区居民委员会", "居委会", "村委会")


def normalize_village_name(name: str) -> str:
    """贾家村村民委员会 / 贾家村委会 / 贾家村 / 贾家 → 贾家; 东风社区居委会 / 东风社区 → 东风."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))
    for suf in _VILLAGE_SUFFIXES:
        if s.endswith(suf) and len(s) > len(suf):
            s = s[: -len(suf)]
            break
    for suf in ("社区", "村", "村"):  # 许串村村民委员会 → 许串村 → 许串 (and 许串村村 → 许串)
        if s.endswith(suf) and len(s) > len(suf):
            s = s[: -len(suf)]
    return s


def normalize_area_name(name: str) -> str:
    """County and township names: NFKC, no blanks, 街道办事处 → 街道."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or ""))
    return s.replace("街道办事处", "街道").replace("办事处", "街道")
