"""The reject report: the uploaded rows, plus a 错误原因 column, so the user finds each bad cell by its row
number and fixes it in the original file. A second sheet lists every problem (row, column, value, reason,
code). ID numbers and phone numbers are masked in every cell (issue #17: no full ID or phone in a report;
the report is kept under ``registry.retention.report_days`` and purged by ``fangpin retention purge``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fangpin.core.errors import RowError
from fangpin.core.masking import mask_text

from .read import Table
from .xlsx import write_xlsx

REASON_HEADER = "错误原因"


def write_reject_report(table: Table, rejects: list[RowError], path: Path, *, title: str) -> Path:
    by_row: dict[int, list[str]] = defaultdict(list)
    for r in rejects:
        by_row[r.row].append(f"{r.column}：{r.message}" if r.column else r.message)
    headers = [*table.headers, REASON_HEADER]
    # Every original row (the file imports all or nothing), cells as text; ID numbers and phones masked.
    rows = (
        [*map(_masked, row), "；".join(by_row.get(n, []))]
        for n, row in zip(table.row_numbers, table.rows, strict=True)
    )
    detail = (
        [r.row, r.column, _masked(r.value), mask_text(r.message), r.code]
        for r in sorted(rejects, key=lambda e: (e.row, e.column))
    )
    write_xlsx(
        path,
        title=title,
        subtitle=f"共{len(by_row)}行有错误；请按行号在原文件中修改后重新上传（本表证件号码、电话已脱敏）；“错误明细”中的行号为原文件的行号。",
        headers=headers,
        rows=rows,
        sheet_name="导入数据",
        extra_sheets={"错误明细": (["行号（原文件）", "列", "值", "原因", "错误代码"], detail)},
    )
    return path


def _masked(cell: object) -> object:
    return mask_text(cell) if isinstance(cell, str) else cell
