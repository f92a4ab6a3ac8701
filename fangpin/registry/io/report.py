"""The reject report: the uploaded rows as they were, plus a 错误原因 column, so the user fixes the cells
and uploads the same sheet again (the importer ignores the extra 错误原因 column). A second sheet lists
every problem (row, column, value, reason, code)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from fangpin.core.errors import RowError

from .read import Table
from .xlsx import write_xlsx

REASON_HEADER = "错误原因"


def write_reject_report(table: Table, rejects: list[RowError], path: Path, *, title: str) -> Path:
    by_row: dict[int, list[str]] = defaultdict(list)
    for r in rejects:
        by_row[r.row].append(f"{r.column}：{r.message}" if r.column else r.message)
    headers = [*table.headers, REASON_HEADER]
    # Every original row (the file imports all or nothing, so the fixed sheet must be complete);
    # cells are written as text exactly as read, so IDs keep every digit.
    rows = (
        [*row, "；".join(by_row.get(n, []))] for n, row in zip(table.row_numbers, table.rows, strict=True)
    )
    detail = (
        [r.row, r.column, r.value, r.message, r.code]
        for r in sorted(rejects, key=lambda e: (e.row, e.column))
    )
    write_xlsx(
        path,
        title=title,
        subtitle=f"共{len(by_row)}行有错误；请修改后重新上传本表（“{REASON_HEADER}”列导入时忽略）；“错误明细”中的行号为原文件的行号。",
        headers=headers,
        rows=rows,
        sheet_name="导入数据",
        extra_sheets={"错误明细": (["行号（原文件）", "列", "值", "原因", "错误代码"], detail)},
    )
    return path
