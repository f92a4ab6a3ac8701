"""Writing spreadsheets safely: openpyxl write_only, every text cell a string cell, formulas neutralised.

Security VAL-05: a text cell starting with = + - @, tab, CR or NUL gets a leading ' so Excel never
evaluates it; ID numbers and phones are always text cells (never 4.10506E+17). The importer strips that
quote again (io.read.cell_text), so a neutralised export round-trips.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

_DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\x00")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_text(value: Any) -> str:
    s = "" if value is None else str(value)
    s = s.replace("\x00", "")
    # Characters XML cannot hold (VT, other C0 controls) would crash the whole file: shown as U+FFFD.
    s = ILLEGAL_CHARACTERS_RE.sub("\ufffd", s)
    if _PLAIN_NUMBER.fullmatch(s):
        return s  # a negative amount written as text (-500.00) is no formula
    return "'" + s if s.startswith(_DANGEROUS) else s


def cell_value(value: Any) -> Any:
    """Numbers stay numbers; everything else becomes neutralised text."""
    if isinstance(value, bool):
        return safe_text("是" if value else "否")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return safe_text(value)


def new_workbook() -> Workbook:
    """An empty workbook for a laid-out table (the 月推进 / 季通报 reports): its cells must be filled through
    ``cell_value`` / ``safe_text`` of this module, the one writer of fangpin's spreadsheets."""
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def write_xlsx(
    path: Path,
    *,
    title: str,
    subtitle: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    sheet_name: str = "Sheet1",
    extra_sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]] | None = None,
) -> int:
    """Title on row 1, subtitle on row 2, header on row 3 (as the national system), data below.
    Returns the number of data rows written."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    bold = Font(bold=True)
    t = WriteOnlyCell(ws, value=safe_text(title))
    t.font = Font(bold=True, size=14)
    ws.append([t])
    ws.append([safe_text(subtitle)])
    hdr = []
    for h in headers:
        c = WriteOnlyCell(ws, value=safe_text(h))
        c.font = bold
        c.alignment = Alignment(wrap_text=True)
        hdr.append(c)
    ws.append(hdr)
    n = 0
    for r in rows:
        ws.append([cell_value(v) for v in r])
        n += 1
    for name, (h2, rows2) in (extra_sheets or {}).items():
        ws2 = wb.create_sheet(name)
        ws2.append([safe_text(h) for h in h2])
        for r in rows2:
            ws2.append([cell_value(v) for v in r])
    wb.save(str(path))
    return n


def write_csv(path: Path, *, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """UTF-8 with BOM (Excel on Windows opens it correctly); same neutralisation as xlsx."""
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([safe_text(h) for h in headers])
        for r in rows:
            w.writerow([safe_text(v if not isinstance(v, bool) else ("是" if v else "否")) for v in r])
            n += 1
    return n
