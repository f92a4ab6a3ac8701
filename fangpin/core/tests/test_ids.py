import datetime as dt

import pytest

from fangpin.core import ids

ON = dt.date(2026, 1, 1)


def test_valid_number_gives_birth_date_and_gender():
    n = ids.make_id_number("410506", dt.date(1955, 3, 9), 7, "F")
    r = ids.validate_id_number(n, on=dt.date(2026, 1, 1))
    assert r.ok and r.normalized == n and r.birth_date == dt.date(1955, 3, 9) and r.gender == "F"
    assert not r.warnings  # 410506 is a known prefix even for people born before the district existed


def test_checksum_error_is_rejected():
    n = ids.make_id_number("410506", dt.date(1980, 1, 1), 1, "M")
    bad = n[:17] + ("0" if n[17] != "0" else "1")
    r = ids.validate_id_number(bad, on=ON)
    assert not r.ok and r.errors[0][0] == "id_checksum"


@pytest.mark.parametrize(
    "raw,code", [("4.10506E+17", "id_scientific"), ("", "id_empty"), ("41050619800101", "id_format")]
)
def test_malformed(raw, code):
    assert ids.validate_id_number(raw, on=ON).errors[0][0] == code


def test_impossible_and_future_dates():
    first17 = "41050619800230001"  # 30 February
    assert ids.validate_id_number(first17 + ids.check_digit(first17), on=ON).errors[0][0] == "id_birth_date"
    future = ids.make_id_number("410506", dt.date(2030, 1, 1), 1, "M")
    assert ids.validate_id_number(future, on=dt.date(2026, 1, 1)).errors[0][0] == "id_future"


def test_15_digit_upgraded_and_fullwidth_and_disability_cert():
    r = ids.validate_id_number("410506750120008", on=ON)
    assert r.ok and r.normalized == "410506197501200080" and r.warnings[0][0] == "id_upgraded"
    full = "４１０５０６１９７５０１２０００８０"
    assert ids.validate_id_number(full, on=ON).normalized == "410506197501200080"
    cert = ids.validate_id_number("41050619750120008042", on=ON)
    assert cert.ok and cert.normalized == "410506197501200080" and cert.disability_suffix == "42"


def test_unknown_prefix_is_a_warning_not_an_error():
    first17 = "99990119800101001"
    r = ids.validate_id_number(first17 + ids.check_digit(first17), on=ON)
    assert r.ok and ("id_area_unknown", ids.W_AREA[1]) in r.warnings


def test_retired_prefix_is_known():
    # 410503 北关区 etc. exist; 110103 崇文区 was abolished in 2010 but people still hold such numbers
    n = ids.make_id_number("110103", dt.date(1960, 6, 1), 2, "M")
    assert ids.validate_id_number(n, on=ON).warnings == []


def test_phone():
    assert ids.is_valid_phone("13812345678")
    assert not ids.is_valid_phone("1381234567")
    assert not ids.is_valid_phone("12812345678")


# ---- the fast check digit and the column-wise (batch) forms give exactly the per-value results


def _weighted_sum_check(first17: str) -> str:
    """GB 11643-1999 §8.2 written out: Σ aᵢ·Wᵢ with Wᵢ = 2^(i-1) mod 11, i = 18..2; then 1 0 X 9 8 … 2."""
    total = sum(int(a) * (2 ** (17 - k) % 11) for k, a in enumerate(first17))
    return "10X98765432"[total % 11]


def test_check_digit_of_the_standards_published_examples():
    assert ids.check_digit("11010519491231002") == "X"  # GB 11643-1999's own example
    assert ids.check_digit("44052418800101001") == "4"
    assert ids.check_digits(["11010519491231002", "44052418800101001"]) == ["X", "4"]


def test_check_digit_agrees_with_the_weighted_sum_on_random_numbers():
    import random

    rnd = random.Random(11643)
    values = ["".join(rnd.choice("0123456789") for _ in range(17)) for _ in range(3000)]
    expected = [_weighted_sum_check(v) for v in values]
    assert [ids.check_digit(v) for v in values] == expected
    assert ids.check_digits(values) == expected
    assert len(set(expected)) == 11  # every check character occurs: the sample is not degenerate


def test_check_digit_keeps_its_errors_for_irregular_input():
    with pytest.raises(ValueError):
        ids.check_digit("4105061980010100")  # 16 digits
    with pytest.raises(ValueError):
        ids.check_digits(["41050619800101001", "4105061980A101001"])
    assert ids.check_digits([]) == []


def test_validate_id_numbers_equals_validate_id_number_value_by_value():
    ok = ids.make_id_number("410506", dt.date(1975, 1, 20), 4, "M")
    ok_x = next(
        n
        for s in range(200)
        if (n := ids.make_id_number("410506", dt.date(1990, 6, 1), s, "F")).endswith("X")
    )
    first17 = "41050619800230001"
    values = [
        ok,
        ok_x,
        ok_x.lower(),  # lower-case x: normalised by the per-value path
        f" {ok} ",
        "４１０５０６" + ok[6:],  # full-width digits
        ok[:17] + ("0" if ok[17] != "0" else "1"),  # checksum
        first17 + ids.check_digit(first17),  # 30 February
        "41050620300101001",  # born in the future (with its check digit below)
        "41050618991231" + "001",  # before 1900 (with its check digit below)
        "990000" + ok[6:17],  # unknown area (check digit added below)
        "410506750120008",  # 15 digits: upgraded
        ok + "42",  # 残疾人证
        "4.10506198001011E+17",
        "",
        "abc",
    ]
    for k in (7, 8, 9):
        values[k] += ids.check_digit(values[k])
    today = dt.date(2026, 1, 1)
    batch = ids.validate_id_numbers(values + [ok], on=today)  # duplicates collapse
    assert list(batch) == values
    for v in values:
        assert batch[v] == ids.validate_id_number(v, on=today), v
    assert batch[ok].ok and batch[ok].gender == "M" and batch[ok].birth_date == dt.date(1975, 1, 20)
    assert [c for v in values[5:10] for c, _ in batch[v].errors + batch[v].warnings] == [
        "id_checksum",
        "id_birth_date",
        "id_future",
        "id_too_old",
        "id_area_unknown",
    ]


def test_the_future_is_relative_to_the_date_of_the_check():
    """A birth date of 2024-06-01 is in the future for a check on 2024-03-01, not for one on 2025-01-01."""
    n = ids.make_id_number("410506", dt.date(2024, 6, 1), 3, "F")
    assert [c for c, _ in ids.validate_id_number(n, on=dt.date(2024, 3, 1)).errors] == ["id_future"]
    assert ids.validate_id_number(n, on=dt.date(2025, 1, 1)).ok
    assert not ids.validate_id_numbers([n], on=dt.date(2024, 3, 1))[n].ok
    assert ids.validate_id_numbers([n], on=dt.date(2025, 1, 1))[n].ok
    with pytest.raises(TypeError):
        ids.validate_id_number(n)  # the date is never defaulted
