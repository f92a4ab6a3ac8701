import datetime as dt

import pytest

from fangpin.core import ids


def test_valid_number_gives_birth_date_and_gender():
    n = ids.make_id_number("410506", dt.date(1955, 3, 9), 7, "F")
    r = ids.validate_id_number(n, today=dt.date(2026, 1, 1))
    assert r.ok and r.normalized == n and r.birth_date == dt.date(1955, 3, 9) and r.gender == "F"
    assert not r.warnings  # 410506 is a known prefix even for people born before the district existed


def test_checksum_error_is_rejected():
    n = ids.make_id_number("410506", dt.date(1980, 1, 1), 1, "M")
    bad = n[:17] + ("0" if n[17] != "0" else "1")
    r = ids.validate_id_number(bad)
    assert not r.ok and r.errors[0][0] == "id_checksum"


@pytest.mark.parametrize(
    "raw,code", [("4.10506E+17", "id_scientific"), ("", "id_empty"), ("41050619800101", "id_format")]
)
def test_malformed(raw, code):
    assert ids.validate_id_number(raw).errors[0][0] == code


def test_impossible_and_future_dates():
    first17 = "41050619800230001"  # 30 February
    assert ids.validate_id_number(first17 + ids.check_digit(first17)).errors[0][0] == "id_birth_date"
    future = ids.make_id_number("410506", dt.date(2030, 1, 1), 1, "M")
    assert ids.validate_id_number(future, today=dt.date(2026, 1, 1)).errors[0][0] == "id_future"


def test_15_digit_upgraded_and_fullwidth_and_disability_cert():
    r = ids.validate_id_number("410506750120008")
    assert r.ok and r.normalized == "410506197501200080" and r.warnings[0][0] == "id_upgraded"
    full = "４１０５０６１９７５０１２０００８０"
    assert ids.validate_id_number(full).normalized == "410506197501200080"
    cert = ids.validate_id_number("41050619750120008042")
    assert cert.ok and cert.normalized == "410506197501200080" and cert.disability_suffix == "42"


def test_unknown_prefix_is_a_warning_not_an_error():
    first17 = "99990119800101001"
    r = ids.validate_id_number(first17 + ids.check_digit(first17))
    assert r.ok and ("id_area_unknown", ids.W_AREA[1]) in r.warnings


def test_retired_prefix_is_known():
    # 410503 北关区 etc. exist; 110103 崇文区 was abolished in 2010 but people still hold such numbers
    n = ids.make_id_number("110103", dt.date(1960, 6, 1), 2, "M")
    assert ids.validate_id_number(n).warnings == []


def test_phone():
    assert ids.is_valid_phone("13812345678")
    assert not ids.is_valid_phone("1381234567")
    assert not ids.is_valid_phone("12812345678")
