"""Masking of personal information (ID numbers, phones, names) for lists, exports, logs and public notices."""

from __future__ import annotations

import logging
import re

ID_PATTERN = re.compile(r"(?<![0-9])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9])")
ID15_PATTERN = re.compile(r"(?<![0-9])(\d{6})\d{6}(\d{3})(?![0-9])")
PHONE_PATTERN = re.compile(r"(?<![0-9])(1[3-9]\d)\d{4}(\d{4})(?![0-9])")


def mask_id_number(value: str | None) -> str:
    """410506********1234 — keeps the area prefix and the last four characters."""
    if not value:
        return ""
    v = str(value)
    if len(v) <= 8:
        return "*" * len(v)
    return v[:6] + "*" * (len(v) - 10) + v[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    v = str(value)
    if len(v) < 7:
        return "*" * len(v)
    return v[:3] + "****" + v[-4:]


def mask_name(value: str | None) -> str:
    """张三丰 → 张*丰, 张三 → 张*: the form used on public notices (公示)."""
    if not value:
        return ""
    v = str(value)
    if len(v) == 1:
        return v
    if len(v) == 2:
        return v[0] + "*"
    return v[0] + "*" * (len(v) - 2) + v[-1]


def mask_text(text: str) -> str:
    """Masks every ID number and mobile number inside free text (logs, messages)."""
    text = ID_PATTERN.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = ID15_PATTERN.sub(lambda m: m.group(1) + "******" + m.group(2), text)
    return PHONE_PATTERN.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class PiiLogFilter(logging.Filter):
    """Application logs never carry ID numbers or phones (AUD-06)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:  # pragma: no cover - a broken log call must not break the app
            return True
        masked = mask_text(msg)
        if masked != msg:
            record.msg, record.args = masked, ()
        return True
