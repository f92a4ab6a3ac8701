"""Cell spellings the importer must accept (policy-research §4.2.1) and header/village normalisation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from fangpin.registry.io import columns as C
from fangpin.registry.io.convert import dates_as_of
from fangpin.registry.io.read import cell_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19750120", dt.date(1975, 1, 20)),
        ("1975-01-20", dt.date(1975, 1, 20)),
        ("1975/1/20", dt.date(1975, 1, 20)),
        ("1975年1月20日", dt.date(1975, 1, 20)),
        ("1975-01-20 00:00:00", dt.date(1975, 1, 20)),
        ("27414", dt.date(1975, 1, 20)),  # Excel serial
    ],
)
def test_dates_in_every_spelling(text, expected):
    assert C.parse_date(text) == expected


@pytest.mark.parametrize("text", ["19750230", "20/01/1975", "abc", "197501"])
def test_bad_dates(text):
    with pytest.raises(C.CellError) as e:
        C.parse_date(text)
    assert e.value.code == C.E_DATE


def test_yyyymm_and_future():
    with dates_as_of(dt.date(2026, 12, 1)):
        _yyyymm_and_future()


def test_the_future_of_a_date_column_is_relative_to_the_business_date():
    with dates_as_of(dt.date(2024, 3, 1)), pytest.raises(C.CellError) as e:
        C.conv_date("20240601")
    assert e.value.code == C.E_FUTURE
    with dates_as_of(dt.date(2025, 1, 1)):
        assert C.conv_date("20240601") == dt.date(2024, 6, 1)
    with pytest.raises(RuntimeError):  # no date given: refused, never the clock
        C.conv_date("20240601")


def _yyyymm_and_future():
    assert C.conv_yyyymm("202305") == dt.date(2023, 5, 1)
    assert C.conv_yyyymm("2023-05") == dt.date(2023, 5, 1)
    assert C.conv_yyyymm("2023-05-17") == dt.date(2023, 5, 1)
    with pytest.raises(C.CellError) as e:
        C.conv_yyyymm("209901")
    assert e.value.code == C.E_FUTURE
    with pytest.raises(C.CellError) as e:
        C.conv_yyyymm("202313")
    assert e.value.code == C.E_DATE


def test_yes_no_and_enumerations():
    assert C.conv_bool("是") is True and C.conv_bool("否") is False
    with pytest.raises(C.CellError, match="应填写：是、否"):
        C.conv_bool("可能")
    tekun = C.BY_KEY["tekun"].conv
    assert tekun("未享受") == "不享受"  # the other list's spelling of "none"
    with pytest.raises(C.CellError, match="可选值：农村特困、城市特困、不享受"):
        tekun("特困")
    assert C.BY_KEY["tekun_amount"].conv("1,200") == Decimal("1200.00")


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("检测对象类别", "category"),
        ("风险是否消除", "eliminated"),
        ("人均纯收入", "stated_per_capita"),
        ("人均纯收入(元)", "stated_per_capita"),
        ("人均纯收入（元）", "stated_per_capita"),
        ("身份证", "id_number"),
        ("证件号码*", "id_number"),
        ("县(市、区、旗)", "county"),
        ("县（市、区、旗）", "county"),
        ("公益性岗位(月数)", "public_welfare_job_months"),
        (" 户 编 号 ", "household_no"),
    ],
)
def test_header_aliases(header, key):
    assert C.match_header(header).key == key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("王家岗村民委员会", "王家岗村"),
        ("许串村村民委员会", "许串村"),
        ("许串村村民委员会", "许串村村"),
        ("东风社区居民委员会", "东风社区"),
        ("东风社区居委会", "东风"),
    ],
)
def test_village_names_normalise_to_the_same_key(a, b):
    assert C.normalize_village_name(a) == C.normalize_village_name(b)


def test_cell_text_keeps_ids_and_flags_lost_precision():
    assert cell_text(4.10506198001011e17) == "4.10506198001011E+17"
    assert cell_text(13812345678.0) == "13812345678"
    assert cell_text(12.5) == "12.5"
    assert cell_text(dt.datetime(1975, 1, 20)) == "1975-01-20"
    assert cell_text("'=SUM(A1)") == "=SUM(A1)"  # our own neutralisation undone
    assert cell_text(" 410506197501200013 ") == "410506197501200013"
