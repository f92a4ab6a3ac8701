"""Scanning rendered pages and exported files for ID numbers a viewer could rebuild from a masked ID
and a birth date shown elsewhere on the same screen or in the same file (issue #17 item 1)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from fangpin.core.masking import mask_id_number


def date_renderings(d: dt.date) -> set[str]:
    """Every way a birth date is commonly written on a Chinese screen or sheet."""
    return {
        f"{d:%Y%m%d}",
        f"{d:%Y-%m-%d}",
        f"{d:%Y/%m/%d}",
        f"{d:%Y.%m.%d}",
        f"{d.year}-{d.month}-{d.day}",
        f"{d.year}/{d.month}/{d.day}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d:%Y年%m月%d日}",
    }


def rebuildable(text: str, people: list[tuple[str, dt.date]]) -> list[str]:
    """The full ID numbers of ``people`` that ``text`` gives away: shown in full, or masked with the
    8 hidden digits (the birth date) shown anywhere in the same text."""
    out = []
    for idn, birth in people:
        if idn in text or mask_id_number(idn) in text and any(r in text for r in date_renderings(birth)):
            out.append(idn)
    return out


def file_text(path: Path) -> str:
    """All cell values of every sheet (xlsx) or the whole text (csv), one string."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return "\n".join("\t".join(r) for r in csv.reader(f))
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    parts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            parts.append("\t".join("" if v is None else str(v) for v in row))
    return "\n".join(parts)
