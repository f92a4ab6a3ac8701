"""The column-wise xlsx reader gives exactly the text a cell-by-cell read gives (types, blanks, quotes).

The sheet is written by hand here with openpyxl, cell by cell, with the cell types hand-saved national
files carry: text, numbers typed into text columns, an 18-digit ID that Excel turned into a number,
booleans, dates, a formula-neutralised quote, whitespace, blank and whitespace-only rows."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from python_calamine import CalamineWorkbook

from fangpin.registry.io.read import cell_text, read_table

HEADER = ["户编号", "证件号码", "姓名", "与户主关系", "工资性收入", "出生日期", "是否危房户", "备注"]


def _sheet() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["（自定义）监测对象信息"])
    ws.append(["导出时间：2024-03-01"])
    ws.append(HEADER)
    ws.append(
        ["410506001001000001", "41050619750120001X", " 张三 ", "户主", 12000, "19750120", "否", "'=SUM(A1)"]
    )
    ws.append(
        ["410506001001000001", 4.10506198001011e17, "李四", "配偶", 3500.5, dt.date(1980, 1, 1), False, ""]
    )
    ws.append([])  # blank row: skipped, the next keeps its Excel row number
    ws.append(["   ", "", "\u3000", None, None, None, None, None])  # only blanks: skipped too
    ws.append(
        [
            "410506001001000002",
            "410506198001010011",
            "王五",
            "户主",
            0,
            dt.datetime(1980, 1, 1, 8, 30),
            True,
            7,
        ]
    )
    ws.append(
        ["410506001001000002", "410506198001010012", "'+王六", "之子", "1,200", "1980-01-01", "是", 1e-05]
    )
    ws.append([None, None, None, None, None, None, None, None, "溢出"])  # a cell right of the header
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cell_by_cell(data: bytes) -> tuple[list[list[str]], list[int]]:
    """The reference: every cell through cell_text, rows with any text kept (row numbers as in Excel)."""
    raw = (
        CalamineWorkbook.from_filelike(io.BytesIO(data))
        .get_sheet_by_index(0)
        .to_python(skip_empty_area=False)
    )
    rows = [[cell_text(v) for v in r] for r in raw]
    keep = [(n, r) for n, r in enumerate(rows[3:], start=4) if any(r)]
    return [r for _, r in keep], [n for n, _ in keep]


def test_column_wise_read_equals_cell_by_cell_read():
    data = _sheet()
    t = read_table(data, "hand.xlsx")
    rows, numbers = _cell_by_cell(data)
    assert t.header_row == 3 and t.row_numbers == numbers == [4, 5, 8, 9, 10]
    assert [list(r) for r in t.rows] == rows
    assert len(t.rows) == 5 and t.rows[-1] == rows[-1] and t.rows[1:3] == rows[1:3]
    for key, j in t.columns.items():
        assert t.column_values(key) == [r[j] for r in rows], key
    assert t.unknown_headers == ["备注"]


def test_cell_types_come_out_as_the_user_typed_them():
    t = read_table(_sheet(), "hand.xlsx")
    assert t.column_values("id_number")[:2] == ["41050619750120001X", "4.10506198001011E+17"]
    assert t.column_values("name") == ["张三", "李四", "王五", "+王六", ""]
    assert t.column_values("wage") == ["12000", "3500.5", "0", "1,200", ""]
    assert t.column_values("birth_date")[:3] == ["19750120", "1980-01-01", "1980-01-01 08:30:00"]
    assert t.column_values("g_housing")[:4] == ["否", "否", "是", "是"]
    assert t.rows[0][7] == "=SUM(A1)" and t.rows[3][7] == "1e-05" and t.rows[4][8] == "溢出"
