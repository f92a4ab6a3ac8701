"""A ``ReportTable`` as an .xlsx workbook: title, subtitle, two header rows (group / column), data, notes.
Text cells are formula-neutralised by the registry's safe writer (``registry.io.xlsx.cell_value``)."""

from __future__ import annotations

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from fangpin.registry.io.xlsx import cell_value, new_workbook, safe_text

from .tables import ReportTable

_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _sheet(wb: Workbook, table: ReportTable, name: str) -> None:
    ws = wb.create_sheet(name[:31])
    width = len(table.columns) + 1
    ws.cell(row=1, column=1, value=safe_text(table.title)).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(row=1, column=1).alignment = _CENTER
    if table.subtitle:
        ws.cell(row=2, column=1, value=safe_text(table.subtitle))
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.cell(row=3, column=1, value="乡镇")
    ws.merge_cells(start_row=3, start_column=1, end_row=4, end_column=1)
    col = 2
    for group, span in table.header_groups():
        ws.cell(row=3, column=col, value=safe_text(group))
        if span > 1:
            ws.merge_cells(start_row=3, start_column=col, end_row=3, end_column=col + span - 1)
        col += span
    for j, c in enumerate(table.columns, start=2):
        ws.cell(row=4, column=j, value=safe_text(c.label))
    for r in (3, 4):
        for j in range(1, width + 1):
            cell = ws.cell(row=r, column=j)
            cell.font, cell.alignment, cell.border = Font(bold=True), _CENTER, _BOX
    for i, row in enumerate(table.rows, start=5):
        ws.cell(row=i, column=1, value=safe_text(row["name"])).border = _BOX
        for j, c in enumerate(table.columns, start=2):
            v = row.get(c.key)
            cell = ws.cell(row=i, column=j, value=cell_value("" if v is None else v))
            cell.border = _BOX
            if not row["code"]:
                cell.font = Font(bold=True)
    last = 5 + len(table.rows)
    for k, note in enumerate(table.notes):
        ws.cell(row=last + 1 + k, column=1, value=safe_text(f"注：{note}"))
    ws.column_dimensions["A"].width = 16
    for j in range(2, width + 1):
        ws.column_dimensions[get_column_letter(j)].width = 11
    ws.row_dimensions[4].height = 42
    ws.freeze_panes = "B5"


def report_xlsx(table: ReportTable) -> bytes:
    wb = new_workbook()
    _sheet(wb, table, "月推进表" if table.code == "monthly" else "季度通报")
    for s in table.sections:
        _sheet(wb, s, s.title[:31])
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
