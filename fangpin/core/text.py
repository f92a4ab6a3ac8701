"""The character policy for names and free text (等保 8.1.4.4 d, VAL-01): no control characters and no
bidirectional-override or invisible formatting characters.

A NUL or vertical tab in a name used to be stored and then crash the xlsx export of a whole village;
U+202E (RIGHT-TO-LEFT OVERRIDE) makes ``张三\u202e3201`` display reversed; zero-width characters make
two different names look the same. One function for import validation, services and forms."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

E_BAD_CHARACTER = "bad_character"

_NAMES = {0: "空字符(NUL)", 9: "制表符", 10: "换行符", 11: "垂直制表符", 12: "换页符", 13: "回车符"}


def _describe(ch: str) -> str:
    cp = ord(ch)
    if cp in _NAMES:
        return f"{_NAMES[cp]} U+{cp:04X}"
    if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069 or cp in (0x200E, 0x200F, 0x061C):
        return f"文字方向控制符 U+{cp:04X}"
    if cp <= 0x9F:
        return f"控制字符 U+{cp:04X}"
    return f"不可见字符 U+{cp:04X}"


_CLASS = (
    "\u0000-\u001f\u007f-\u009f"  # C0 and C1 controls (Cc)
    "\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"  # bidi, zero-width, invisible (Cf)
    "\ud800-\udfff"  # lone surrogates (Cs). Private-use characters stay allowed: legacy systems (公安, 民政)
    # store rare name characters (生僻字) there.
    "\ufdd0-\ufdef\ufff9-\uffff"  # noncharacters, interlinear annotation, specials
)
_FORBIDDEN = re.compile(f"[{_CLASS}]")
# The same policy as a JSON-schema (ECMA-262) pattern, for the API's OpenAPI schema: clients and fuzzers read it.
# Without the lone surrogates: not a valid regex range in Unicode mode, and no UTF-8 JSON text can carry them.
_CLASS_ESCAPED = "".join(c if c == "-" else f"\\u{ord(c):04x}" for c in _CLASS.replace("\ud800-\udfff", ""))
PLAIN_TEXT_PATTERN = f"^[^{_CLASS_ESCAPED}]*$"
MULTILINE_TEXT_PATTERN = "^(?:[\\t\\n\\r]|[^" + _CLASS_ESCAPED + "])*$"
_FORBIDDEN_MULTILINE = re.compile(f"(?![\t\n\r])[{_CLASS}]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """A Chinese description of the first forbidden character in ``value``, or None if it is clean.
    ``multiline`` text (remarks) may hold line breaks and tabs; names and codes may not. One regex
    search (C speed): the importer calls this for every text cell."""
    m = (_FORBIDDEN_MULTILINE if multiline else _FORBIDDEN).search(value)
    if m is None:
        return None
    return f"第{m.start() + 1}个字符是{_describe(m.group())}，不允许使用控制字符、文字方向控制符或不可见字符，请删除后重新输入"


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
    return _FORBIDDEN.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)


E_ENCODING = "file_encoding"


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when the NUL bytes of a text file stand at odd / even positions (the
    high bytes of ASCII commas, digits and line breaks), else None."""
    sample = data[:8192]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def decode_text_file(data: bytes, file_name: str) -> str:
    """The text of an uploaded CSV/TXT: UTF-8 (with or without BOM), UTF-16 (with a BOM, or without one,
    recognised by its NUL bytes), else GB18030 (a superset of GBK/GB2312). Refused with a Chinese message
    naming the file and the line: a byte sequence no encoding explains, or a file whose first part is UTF-8
    and whose rest is not (two encodings pasted together, which a GBK reading would turn into mojibake)."""
    from .errors import DomainError

    name = file_name or "上传文件"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")) or (enc16 := _utf16_without_bom(data)):
        enc = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else enc16
        try:
            return data.decode(enc).lstrip("\ufeff")
        except UnicodeDecodeError as e:
            line = data[: e.start].decode(enc, errors="replace").count("\n") + 1
            raise DomainError(
                E_ENCODING, f"文件“{name}”第{line}行含有无效的UTF-16字节，请另存为UTF-8或GBK编码后重新上传"
            ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = e.start
    line = data[:start].count(b"\n") + 1
    # Two encodings pasted together: whole lines of UTF-8 Chinese (three-byte sequences, lead bytes E0-EF)
    # before the first byte UTF-8 refuses. A byte pair of GBK text that happens to be a valid two-byte UTF-8
    # sequence (e.g. D2 BD, "医" in GBK) is not that: a GBK file's first bad byte comes within its first line.
    whole_lines = data[: data.rfind(b"\n", 0, start) + 1]
    if any(0xE0 <= b <= 0xEF for b in whole_lines):
        raise DomainError(
            E_ENCODING,
            f"文件“{name}”第{line}行起不是UTF-8编码（此前为UTF-8：文件混用了多种编码，或含有无效字节），"
            "请整体另存为UTF-8或GBK编码后重新上传",
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DomainError(
            E_ENCODING,
            f"文件“{name}”第{line}行含有无法识别的字节（既不是UTF-8也不是GBK/GB18030编码），"
            "请另存为UTF-8或GBK编码后重新上传",
        ) from None
