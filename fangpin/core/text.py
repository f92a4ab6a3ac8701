"""The character policy for names and free text (等保 8.1.4.4 d, VAL-01): no control characters and no
bidirectional-override or invisible formatting characters.

A NUL or vertical tab in a name used to be stored and then crash the xlsx export of a whole village;
U+202E (RIGHT-TO-LEFT OVERRIDE) makes ``张三\u202e3201`` display reversed; zero-width characters make
two different names look the same. One function for import validation, services and forms."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

E_BAD_CHARACTER = "bad_character"

# Formatting characters that reorder or hide text (Unicode Cf): bidi embeddings/overrides/isolates,
# marks, zero-width space/joiners, word joiner and invisible operators, BOM.
_INVISIBLE = frozenset(
    [0x061C, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
)
_NAMES = {0: "空字符(NUL)", 9: "制表符", 10: "换行符", 11: "垂直制表符", 12: "换页符", 13: "回车符"}


def _describe(ch: str) -> str:
    cp = ord(ch)
    if cp in _NAMES:
        return f"{_NAMES[cp]} U+{cp:04X}"
    if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069 or cp in (0x200E, 0x200F, 0x061C):
        return f"文字方向控制符 U+{cp:04X}"
    if cp in _INVISIBLE:
        return f"不可见字符 U+{cp:04X}"
    return f"控制字符 U+{cp:04X}"


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """A Chinese description of the first forbidden character in ``value``, or None if it is clean.
    ``multiline`` text (remarks) may hold line breaks and tabs; names and codes may not."""
    for i, ch in enumerate(value):
        cp = ord(ch)
        if multiline and ch in "\n\r\t":
            continue
        cat = unicodedata.category(ch)
        if (
            cat in ("Cc", "Cs", "Co")
            or cp in _INVISIBLE
            or (0xFFF9 <= cp <= 0xFFFF)
            or (0xFDD0 <= cp <= 0xFDEF)
        ):
            return f"第{i + 1}个字符是{_describe(ch)}，不允许使用控制字符、文字方向控制符或不可见字符，请删除后重新输入"
    return None


def check_text(value: str | None, *, field: str, label: str, multiline: bool = False) -> str:
    """For services: returns ``value`` or raises DomainError naming the field."""
    from .errors import DomainError

    if value is None:
        return ""
    problem = text_problem(str(value), multiline=multiline)
    if problem:
        raise DomainError(E_BAD_CHARACTER, f"{label}：{problem}", field=field)
    return value


def validate_plain_text(value: str) -> None:
    """Django validator (model fields and forms) for single-line text."""
    problem = text_problem(str(value or ""))
    if problem:
        raise ValidationError(problem, code=E_BAD_CHARACTER)


def validate_multiline_text(value: str) -> None:
    problem = text_problem(str(value or ""), multiline=True)
    if problem:
        raise ValidationError(problem, code=E_BAD_CHARACTER)


def visible(value: str) -> str:
    """``value`` with every forbidden character written as ``<U+XXXX>``: for storing and showing a refused
    value (PostgreSQL text cannot hold NUL; a bidi override would garble the report around it)."""
    out = []
    for ch in value:
        cp = ord(ch)
        cat = unicodedata.category(ch)
        if (
            cat in ("Cc", "Cs", "Co")
            or cp in _INVISIBLE
            or (0xFFF9 <= cp <= 0xFFFF)
            or (0xFDD0 <= cp <= 0xFDEF)
        ):
            out.append(f"<U+{cp:04X}>")
        else:
            out.append(ch)
    return "".join(out)
