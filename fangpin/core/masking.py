"""Masking of personal information (ID numbers, phones, names) for lists, exports, logs and public notices."""

from __future__ import annotations

import datetime as dt
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


def mask_birth_date(value: dt.date | str | None) -> str:
    """1985-03-07 → 1985****: wherever an ID number is masked, the birth date is masked too, otherwise
    prefix + birth date + last four would rebuild the full number (the mask hides exactly digits 7-14).
    The year alone leaves ~365 candidate dates (~33 after the MOD 11-2 check digit)."""
    if not value:
        return ""
    if isinstance(value, dt.date):
        return f"{value.year:04d}****"
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    return digits[:4] + "****" if len(digits) >= 4 else "****"


def age_on(birth: dt.date | None, on: dt.date) -> int | None:
    """Full years on ``on``: what screens show instead of the birth date next to a masked ID number."""
    if birth is None:
        return None
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


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
    """Application logs never carry ID numbers or phones (AUD-06): message, formatted traceback and stack
    are masked. Put on every configured handler (settings.LOGGING); ``install_log_masking`` masks records of
    handlers added outside that configuration (gunicorn, Huey, runserver's django.server) at creation."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record_text(record)
        return True


def mask_record_text(record: logging.LogRecord) -> logging.LogRecord:
    try:
        msg = record.getMessage()
    except Exception:  # pragma: no cover - a broken log call must not break the app
        return record
    masked = mask_text(msg)
    if masked != msg or record.args:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    return record


_installed = False


def install_log_masking() -> None:
    """Wraps the log-record factory once per process so every record, whichever logger and handler it
    goes to, is masked when it is created."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        return mask_record_text(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


def mask_text_field(field: str, text: str) -> str:
    """The stored copy of a value of ``field`` in a record that is only ever shown (provenance, audit, task
    titles): an ID number or phone masked, anything else as is — the full value lives encrypted on the
    registry row only."""
    if "id_number" in field:
        return mask_id_number(text)
    if "phone" in field:
        return mask_phone(text)
    return mask_text(text)


def mask_record(record: dict) -> dict:
    """A stored copy of a department or registry record (screening evidence, link reviews): ID numbers
    (``id_number``, ``id_raw``, 证件号码 …) and phones masked, other text through ``mask_text``."""
    out = {}
    for k, v in record.items():
        key = str(k)
        if isinstance(v, str):
            if "id_" in key or "证件" in key or "身份证" in key:
                v = mask_id_number(v)
            elif "phone" in key or "电话" in key:
                v = mask_phone(v)
            else:
                v = mask_text(v)
        out[k] = v
    return out
