"""Resident ID numbers (居民身份证号码, GB 11643) as this registry needs them.

Not python-stdnum's ``cn.ric`` as a gate: it rejects most people born before 1983 (its area table
starts in 1983) and raises KeyError on NBS-only codes. Here an unknown area prefix is a *warning*.
Known prefixes = every county code that ever existed per stdnum's ``loc.dat`` (date ranges ignored)
∪ the 2023 NBS county list shipped in ``fangpin/regions/data/areas.csv``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XXX")
_SCI = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")

# Stable codes and Chinese messages (tests assert on the codes).
E_EMPTY = ("id_empty", "证件号码为空")
E_SCIENTIFIC = (
    "id_scientific",
    "证件号码被Excel转成了科学计数法（如4.1E+17），末几位已丢失，请把该列设为文本后重新导出",
)
E_FORMAT = ("id_format", "证件号码格式错误：应为18位（最后一位可为X）或15位旧号码")
E_CHECKSUM = ("id_checksum", "证件号码校验位错误")
E_DATE = ("id_birth_date", "证件号码中的出生日期不是有效日期")
E_FUTURE = ("id_future", "证件号码中的出生日期晚于校验日期")
E_TOO_OLD = ("id_too_old", "证件号码中的出生日期早于1900年")
W_AREA = ("id_area_unknown", "证件号码的地区码从未出现在行政区划代码中（仅提示）")
W_UPGRADED = ("id_upgraded", "15位旧号码已升级为18位")
W_DISABILITY = ("id_disability_cert", "残疾人证号码：前18位为身份证号，后两位为残疾类别和等级")


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) == 17 and first17.isascii() and first17.isdigit():
        # The weights are 2**(17-i) mod 11, and 13 ≡ 2 (mod 11), so the weighted sum is
        # 2 × (the 17 digits read as a base-13 number) mod 11: one C-level int() instead of 17 products.
        return CHECK_CHARS[2 * int(first17, 13) % 11]
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def check_digits(first17s: Iterable[str]) -> list[str]:
    """``check_digit`` of many values at once, column-wise (polars); the same results. A value that is
    not 17 ASCII digits makes the whole call fall back to ``check_digit`` per value (and its errors)."""
    import polars as pl

    values = list(first17s)
    if not values:
        return []
    s = pl.Series("s", values, dtype=pl.String)
    if not s.str.contains(r"^[0-9]{17}$").all():
        return [check_digit(v) for v in values]
    total = pl.select(pl.sum_horizontal(s.str.slice(i, 1).cast(pl.Int32) * w for i, w in enumerate(WEIGHTS)))
    return [CHECK_CHARS[t % 11] for t in total.to_series().to_list()]


def upgrade_15(id15: str) -> str:
    """First-generation 15-digit number → 18 digits (century 19, new check digit)."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_digit(first17)


@lru_cache(maxsize=1)
def known_area_codes() -> frozenset[str]:
    codes = _stdnum_loc_codes()
    areas = Path(__file__).resolve().parent.parent / "regions" / "data" / "areas.csv"
    if areas.exists():
        with areas.open(encoding="utf-8") as f:
            codes |= {row["code"] for row in csv.DictReader(f)}
    return frozenset(codes)


def _stdnum_loc_codes() -> set[str]:
    """Every county code stdnum's loc.dat lists, whatever its validity range (2-digit province lines
    followed by indented 4-digit suffixes)."""
    try:
        import stdnum

        text = (Path(stdnum.__file__).parent / "cn" / "loc.dat").read_text(encoding="utf-8")
    except (ImportError, OSError):
        return set()
    codes: set[str] = set()
    province = ""
    for line in text.splitlines():
        if m := re.match(r"^(\d{2}) ", line):
            province = m.group(1)
        elif (m := re.match(r"^\s+(\d{4}) ", line)) and province:
            codes.add(province + m.group(1))
    return codes


@dataclass
class IdCheck:
    raw: str
    normalized: str = ""
    birth_date: dt.date | None = None
    gender: str = ""  # "M" / "F"
    disability_suffix: str = ""  # 2 chars of a 残疾人证 number: category + grade
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def message(self) -> str:
        return "；".join(m for _, m in self.errors) if self.errors else ""


def normalize_raw(raw: object) -> str:
    s = "" if raw is None else str(raw)
    s = s.translate(_FULLWIDTH).strip().replace(" ", "").replace("\u3000", "").upper()
    s = s.replace("'", "").replace("`", "")
    return s


def canonical_id_number(raw: object) -> str:
    """The one form of a number that identifies a person: ``normalize_raw`` (full-width digits, spaces, a
    lower-case x) and a 15-digit legacy number upgraded to 18 — two records of one person share it."""
    s = normalize_raw(raw)
    if len(s) == 15 and s.isdigit():
        return upgrade_15(s)
    return s


def validate_id_number(raw: object, *, on: dt.date) -> IdCheck:
    """Validate and normalise an ID number as typed, imported or read from a department file, as of the
    business date ``on`` (a birth date after ``on`` is in the future)."""
    today = on
    s = normalize_raw(raw)
    res = IdCheck(raw="" if raw is None else str(raw))
    if not s:
        res.errors.append(E_EMPTY)
        return res
    if _SCI.match(s):
        res.errors.append(E_SCIENTIFIC)
        return res
    if len(s) in (20, 22) and re.fullmatch(r"\d{17}[\dX]\d{2,4}", s):
        res.disability_suffix = s[18:20]
        res.warnings.append(W_DISABILITY)
        s = s[:18]
    if len(s) == 15 and s.isdigit():
        s = upgrade_15(s)
        res.warnings.append(W_UPGRADED)
    if not re.fullmatch(r"\d{17}[\dX]", s):
        res.errors.append(E_FORMAT)
        return res
    if check_digit(s[:17]) != s[17]:
        res.errors.append(E_CHECKSUM)
    try:
        birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        res.errors.append(E_DATE)
        birth = None
    if birth:
        if birth > today:
            res.errors.append(E_FUTURE)
        elif birth.year < 1900:
            res.errors.append(E_TOO_OLD)
        res.birth_date = birth
    res.gender = "M" if int(s[16]) % 2 == 1 else "F"
    if s[:6] not in known_area_codes():
        res.warnings.append(W_AREA)
    res.normalized = s
    return res


def validate_id_numbers(values: Iterable[str], *, on: dt.date) -> dict[str, IdCheck]:
    """``validate_id_number`` for a whole column: ``{value: IdCheck}`` per distinct value, the same result
    as calling it on each. The common case (an 18-character number already in canonical form, valid check
    digit, birth date 1900..today, known area) is decided column-wise with polars; every other value goes
    through ``validate_id_number`` itself, so errors, warnings and upgrades are exactly the per-value ones."""
    import polars as pl

    today = on
    uniq = list(dict.fromkeys(values))
    out: dict[str, IdCheck] = {}
    if not uniq:
        return out
    df = pl.DataFrame({"s": pl.Series(uniq, dtype=pl.String)})
    canon = pl.col("s").str.contains(r"^[0-9]{17}[0-9X]$")
    total = pl.sum_horizontal(
        pl.col("s").str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(WEIGHTS)
    )
    check = pl.lit(list(CHECK_CHARS)).list.get(total % 11)
    birth = pl.col("s").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    res = df.with_columns(
        birth=pl.when(canon).then(birth),
        check_ok=pl.when(canon).then(pl.col("s").str.slice(17, 1) == check).otherwise(False),
        area=pl.col("s").str.slice(0, 6).is_in(list(known_area_codes())),
    )
    fast = (
        pl.col("check_ok")
        & pl.col("birth").is_not_null()
        & (pl.col("birth") >= dt.date(1900, 1, 1))
        & (pl.col("birth") <= today)
        & pl.col("area")
    )
    res = res.with_columns(fast=fast.fill_null(False))
    for s, ok, birth_date in zip(
        res["s"].to_list(), res["fast"].to_list(), res["birth"].to_list(), strict=True
    ):
        if ok:
            out[s] = IdCheck(
                raw=s, normalized=s, birth_date=birth_date, gender="M" if int(s[16]) % 2 == 1 else "F"
            )
        else:
            out[s] = validate_id_number(s, on=today)
    return out


def make_id_number(area_code: str, birth: dt.date, seq: int, gender: str) -> str:
    """Builds a valid 18-digit number (for the demo generator and tests). seq: 0..499 per day & area."""
    order = (seq % 500) * 2 + (1 if gender == "M" else 0)
    first17 = f"{area_code}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def is_valid_phone(value: str) -> bool:
    """Mobile numbers 1[3-9]xxxxxxxxx, or a landline with area code."""
    v = normalize_raw(value).replace("-", "") if value else ""
    return bool(PHONE_RE.match(v)) or bool(LANDLINE_RE.match(normalize_raw(value)))
