"""The national value lists (io.values): the spellings real exports, provincial forms and hand-saved files use
map to one canonical value each; the canonical values are the model's choices; unknown spellings are refused
with the list of valid values; dates in every hand-saved form are read."""

from __future__ import annotations

import datetime as dt

import pytest

from fangpin.registry import choices as CH
from fangpin.registry.io import columns as C
from fangpin.registry.io import values as V


@pytest.mark.parametrize(
    ("values", "choices"),
    [
        (V.SCHOOL_STATUS, CH.SchoolStatus),
        (V.EDUCATION, CH.Education),
        (V.HEALTH, CH.Health),
        (V.LABOUR_SKILL, CH.LabourSkill),
        (V.RELATION, CH.Relation),
        (V.HOUSEHOLD_TYPE, CH.HouseholdType),
        (V.ID_TYPE, CH.IdType),
        (V.DIBAO, CH.Dibao),
        (V.TEKUN, CH.Tekun),
    ],
)
def test_canonical_values_are_the_model_choices(values, choices):
    assert set(values.canonical) == set(choices.values)


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("小学", "小学"),  # the national spelling (Gzuwkj/fuping 5_17_002 tests == '小学')
        ("小学三年级", "小学三年级"),  # a grade given is kept
        ("三年级", "小学三年级"),
        ("小学3年级", "小学三年级"),
        ("初一", "七年级"),
        ("初中二年级", "八年级"),
        ("初中", "初中"),
        ("九年级", "九年级"),
        ("高中", "普通高中"),
        ("高二", "普通高中二年级"),
        ("普通高中 一年级", "普通高中一年级"),
        ("中专二年级", "中职二年级"),
        ("大专", "高职高专"),
        ("学龄前", "学龄前儿童"),
        ("幼儿园", "学前教育"),
        ("研究生", "硕士生及以上"),
        ("非在校生", ""),
        ("不在校", ""),
    ],
)
def test_school_status_spellings(spelling, canonical):
    assert C.BY_KEY["school_status"].conv(spelling) == canonical


@pytest.mark.parametrize(
    ("key", "spelling", "canonical"),
    [
        ("relation", "本人", "户主"),
        ("relation", "妻子", "配偶"),
        ("relation", "儿子", "之子"),
        ("labour_skill", "普通劳动", "普通劳动力"),
        ("labour_skill", "半劳动力", "弱劳动力或半劳动力"),
        ("health", "慢性病", "长期慢性病"),
        ("health", "大病", "患有大病"),
        ("education", "文盲", "文盲或半文盲"),
        ("education", "本科及研究生及以上", "本科及以上"),
        ("household_type", "一般户", "一般农户"),
        ("id_type", "居民身份证", "身份证"),
        ("id_type", "残疾证", "残疾人证"),
        ("dibao", "不享受", "未享受"),
        ("tekun", "未享受", "不享受"),
        ("category", "边缘户", "边缘易致贫户"),
        ("elimination_method", "帮扶措施消除", "帮扶消除"),
        ("member_change", "迁入", "迁移"),
        ("实施开发式帮扶措施情况", "未实施", "尚未实施"),
        ("综合保障", "低保、残疾人补贴", "低保,残疾人补贴"),
        ("risk1", "因病致贫", "因病"),
        ("risk2", "缺劳力", "缺劳动力"),
        ("risk3", "因灾", "因自然灾害"),
        ("ethnicity", "汉", "汉族"),
        ("ethnicity", "回族", "回族"),
        ("ethnicity", "其他", "其他"),
        ("gender", "男性", "M"),
    ],
)
def test_value_list_spellings(key, spelling, canonical):
    assert C.BY_KEY[key].conv(spelling) == canonical


def test_unknown_spelling_is_refused_with_the_valid_values():
    with pytest.raises(V.CellError) as e:
        C.BY_KEY["school_status"].conv("读书")
    assert e.value.code == "bad_enum" and "小学、小学一年级" in e.value.message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("是", True),
        ("Y", True),
        ("√", True),
        ("有", True),
        ("已解决", True),
        ("否", False),
        ("N", False),
        ("×", False),
        ("未参加", False),
    ],
)
def test_yes_no_spellings(text, value):
    assert C.conv_bool(text) is value


@pytest.mark.parametrize(
    "text",
    ["19750120", "1975-01-20", "1975/1/20", "1975.1.20", "1975年1月20日", "27414", "1975-01-20 00:00:00"],
)
def test_dates_in_every_form(text):
    assert C.parse_date(text) == dt.date(1975, 1, 20)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("19750120", "YYYYMMDD"),
        ("1975-01-20", "YYYY-MM-DD"),
        ("1975/1/20", "YYYY/M/D"),
        ("1975年1月20日", "YYYY年M月D日"),
        ("27414", "Excel日期序号"),
        ("2023-05", "YYYY-MM"),
    ],
)
def test_date_forms_for_the_spelling_report(text, form):
    assert C.date_form(text) == form


def test_spellings_count_cells_per_column():
    s = V.Spellings()
    s.add("在校生状况", "非在校生", "", 3)
    s.add("在校生状况", "小学", "小学", 5)  # canonical already: not reported
    assert s.as_dict() == {"在校生状况": {"非在校生 → （空）": 3}}
    assert s.lines() == ["在校生状况：非在校生 → （空）（3格）"]


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("wage", "12,000.00", "12000.00"),
        ("wage", "１２０００", "12000.00"),
        ("wage", "¥12000", "12000.00"),
        ("wage", "12000元", "12000.00"),
        ("cultivated_land_mu", "3.5亩", "3.50"),
        ("work_months", "10个月", 10),
    ],
)
def test_numbers_as_typed_by_hand(key, text, value):
    v = C.BY_KEY[key].conv(text)
    assert (str(v) if not isinstance(value, int) else v) == value


def test_numbers_still_refuse_words():
    with pytest.raises(V.CellError) as e:
        C.BY_KEY["wage"].conv("一万二")
    assert e.value.code == "bad_number"
