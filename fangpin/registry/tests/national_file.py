"""Builders of small national-format files for the import/export tests (openpyxl, in the test)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import openpyxl

from fangpin.core.ids import make_id_number

# The three villages of the test personas (regions loaded by conftest): 龙安区 马家乡 / 龙泉镇.
COUNTY_NAME = "龙安区"


def xlsx_bytes(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title_rows: int = 2) -> bytes:
    """A sheet like the national export: title rows first, then the header, then the data."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "监测对象信息"
    if title_rows:
        ws.append(["（自定义）监测对象信息"])
        for _ in range(title_rows - 1):
            ws.append(["导出时间：2024-01-05"])
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def person_id(area: str, birth: dt.date, seq: int, gender: str) -> str:
    return make_id_number(area, birth, seq, gender)
