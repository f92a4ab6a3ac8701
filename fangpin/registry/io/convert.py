"""Cell converters and formatters of the national export: how 是/否, dates (YYYYMMDD, 1975-01-20, Excel
serials), YYYYMM, enumerations, numbers and 性别 are read and written. A converter takes the stripped cell
text and returns the value or raises ``CellError`` (stable code + Chinese message)."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from fangpin.core.text import E_BAD_CHARACTER, text_problem
from fangpin.registry import choices as C

from .values import E_ENUM, CellError, ValueList, plain_number, yes_no

# Error codes (tests assert on them).
E_REQUIRED = "required"
E_BOOL = "bad_bool"
E_DATE = "bad_date"
E_FUTURE = "future_date"
E_NUMBER = "bad_number"
E_TOO_LONG = "too_long"
E_GENDER = "bad_gender"

# 监测对象类别 and 风险消除方式 are national value lists of the monitoring system (like choices.py);
# the risk-type catalogue is a policy parameter (catalogue.risk_types), checked in io.validate.
MONITORING_CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
MONITORING_CATEGORY_ALIASES = {
    "因病因灾因意外事故等刚性支出较大或收入大幅缩减导致基本生活出现严重困难户": "突发严重困难户",
    "突发严重困难户（突发严重困难）": "突发严重困难户",
}
ELIMINATION_METHODS = ("帮扶消除", "自然消除")
RISK_SLOTS = 5

YES, NO = "是", "否"


# --------------------------------------------------------------------------- converters


def conv_text(max_len: int) -> Callable[[str], str]:
    def f(s: str) -> str:
        if len(s) > max_len:
            raise CellError(E_TOO_LONG, f"内容过长（最多{max_len}个字符）")
        if problem := text_problem(s):  # core/text.py: control and bidi-override characters
            raise CellError(E_BAD_CHARACTER, problem)
        return s

    return f


def conv_bool(s: str) -> bool:
    v = yes_no(s)
    if v is None:
        raise CellError(E_BOOL, f"“{s}”不是有效的是/否值，应填写：是、否")
    return v


def conv_flag(s: str) -> bool:
    """公益性岗位: the cell holds the job (or 是) for people who have one; 否 means none."""
    return yes_no(s) is not False


def conv_values(values: ValueList) -> Callable[[str], str]:
    """A national code table with its real-file spellings (``io.values``)."""
    return values.convert


def conv_enum(values: Iterable[str], aliases: dict[str, str] | None = None) -> Callable[[str], str]:
    allowed = tuple(values)
    aliases = aliases or {}

    def f(s: str) -> str:
        s = aliases.get(s, s)
        if s in allowed:
            return s
        raise CellError(E_ENUM, f"“{s}”不是有效值，可选值：{'、'.join(allowed)}")

    return f


def conv_gender(s: str) -> str:
    g = C.GENDER_FROM_TEXT.get(s)
    if g is None:
        raise CellError(E_GENDER, f"“{s}”不是有效的性别，应填写：男、女")
    return g


def conv_decimal(max_digits: int = 12, places: int = 2, *, signed: bool = False) -> Callable[[str], Decimal]:
    limit = Decimal(10) ** (max_digits - places)

    def f(s: str) -> Decimal:
        try:
            d = Decimal(plain_number(s))
        except InvalidOperation:
            raise CellError(E_NUMBER, f"“{s}”不是有效的数字") from None
        if not d.is_finite() or abs(d) >= limit:
            raise CellError(E_NUMBER, f"“{s}”超出允许范围")
        if d < 0 and not signed:
            raise CellError(E_NUMBER, f"“{s}”不能为负数")
        return d.quantize(Decimal(1).scaleb(-places))

    return f


def conv_int(max_value: int) -> Callable[[str], int]:
    def f(s: str) -> int:
        try:
            d = Decimal(plain_number(s))
        except InvalidOperation:
            raise CellError(E_NUMBER, f"“{s}”不是有效的整数") from None
        if d != d.to_integral_value() or d < 0 or d > max_value:
            raise CellError(E_NUMBER, f"“{s}”应为0到{max_value}之间的整数")
        return int(d)

    return f


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FORMS = (
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), "ymd"),
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]0{1,2}:00(?::00)?)?$"), "ymd"),
)


# The business date the date columns are checked against (a birth date after it is in the future). Set by
# whoever converts a file (``validate_table``, the mapping preview) from the date it acts on; never the clock.
_as_of: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("fangpin_convert_as_of", default=None)


@contextlib.contextmanager
def dates_as_of(day: dt.date) -> Iterator[dt.date]:
    """Within the block the date converters (``conv_date``, ``conv_yyyymm``) check against ``day``."""
    token = _as_of.set(day)
    try:
        yield day
    finally:
        _as_of.reset(token)


def _today() -> dt.date:
    day = _as_of.get()
    if day is None:
        raise RuntimeError(
            "date columns are converted as of a business date: wrap in convert.dates_as_of(on)"
        )
    return day


def parse_date(s: str) -> dt.date:
    """YYYYMMDD (national), 1975-01-20 / 1975/1/20 / 1975年1月20日 (re-saved by hand) or an Excel serial."""
    for rx, _ in _DATE_FORMS:
        if m := rx.match(s):
            try:
                d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
            return d
    else:
        if re.fullmatch(r"\d{1,5}(\.0+)?", s) and 1 <= float(s) <= 80000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(float(s)))
    raise CellError(E_DATE, f"“{s}”不是有效日期，应为YYYYMMDD（如19750120）")


def conv_date(s: str) -> dt.date:
    d = parse_date(s)
    if d > (on := _today()):
        raise CellError(E_FUTURE, f"日期{d:%Y%m%d}晚于校验日期{on:%Y%m%d}")
    if d.year < 1900:
        raise CellError(E_DATE, f"日期{d:%Y%m%d}早于1900年")
    return d


def conv_yyyymm(s: str) -> dt.date:
    """识别监测时间 / 消除监测时间: YYYYMM (also 2023-05, 2023年5月 or a full date) → first of the month."""
    m = re.fullmatch(r"(\d{4})(\d{2})", s) or re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", s)
    if m:
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            raise CellError(E_DATE, f"“{s}”不是有效年月，应为YYYYMM（如202305）") from None
    else:
        try:
            d = parse_date(s).replace(day=1)
        except CellError:
            raise CellError(E_DATE, f"“{s}”不是有效年月，应为YYYYMM（如202305）") from None
    if d > (on := _today()).replace(day=1):
        raise CellError(E_FUTURE, f"年月{d:%Y%m}晚于校验日期所在月份{on:%Y%m}")
    if d.year < 2000:
        raise CellError(E_DATE, f"年月{d:%Y%m}早于2000年")
    return d


# --------------------------------------------------------------------------- formatters (export)


def fmt_bool(v: Any) -> str:
    return YES if v else NO


def fmt_date(v: dt.date | None) -> str:
    return v.strftime("%Y%m%d") if v else ""


def fmt_yyyymm(v: dt.date | None) -> str:
    return v.strftime("%Y%m") if v else ""


def fmt_gender(v: str) -> str:
    return {"M": "男", "F": "女"}.get(v, "")
