"""The what-if as an .xlsx workbook: the side-by-side table by township, then the households whose
judgement changes. Names are masked (the snapshot holds masked head names only); no ID numbers."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl.styles import Font

from fangpin.registry.io.xlsx import cell_value, new_workbook, safe_text

from .services import Comparison

LABELS = {
    "flagged": "监测范围",
    "enter": "新纳入",
    "leave": "退出",
    "eligible": "可消除",
    "missing": "收入缺失",
    "screened": "筛查预警",
}


def _pct(x: float | None) -> Any:
    return "" if x is None else f"{x:.1%}"


def side_by_side(c: Comparison) -> tuple[list[str], list[list[Any]]]:
    header = ["乡镇", "现监测户"]
    for m in c.measures:
        header += [
            f"{LABELS[m]}户（现行）",
            f"{LABELS[m]}户（模拟）",
            f"{LABELS[m]}人（现行）",
            f"{LABELS[m]}人（模拟）",
        ]
    header += ["覆盖率（现行）", "覆盖率（模拟）", "漏出率（现行）", "漏出率（模拟）"]
    rows = []
    for r in c.rows:
        b, s = r["base"], r["scen"]
        row: list[Any] = [r["name"], b["current"]["households"]]
        for m in c.measures:
            row += [b[m]["households"], s[m]["households"], b[m]["persons"], s[m]["persons"]]
        row += [_pct(b["coverage"]), _pct(s["coverage"]), _pct(b["leakage"]), _pct(s["leakage"])]
        rows.append(row)
    return header, rows


def whatif_xlsx(c: Comparison) -> bytes:
    wb = new_workbook()
    ws = wb.create_sheet("按乡镇对比")
    settings = (
        "；".join(f"{d['name']} {d['value']}（{d['year']}年起）" for d in c.scenario.describe())
        or c.scenario.label
    )
    ws.append([safe_text(f"政策模拟测算（{c.on:%Y年%m月%d日}）：{c.baseline.label} 对比 {settings}")])
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    header, rows = side_by_side(c)
    ws.append([safe_text(h) for h in header])
    for row in rows:
        ws.append([cell_value(v) for v in row])
    ws.append(
        [
            safe_text(
                "覆盖率：模拟纳入监测范围的户中现为监测对象的户 ÷ 现监测对象户；漏出率：监测范围内不在现监测名单的户 ÷ 监测范围户。仅为测算，未改变任何数据。"
            )
        ]
    )
    ws2 = wb.create_sheet("判定变化的户")
    ws2.append([safe_text(h) for h in ("户编号", "户主（脱敏）", "行政村", "人口", "变化前", "变化后")])
    for r in c.changed:
        ws2.append([cell_value(v) for v in (r["household_no"], r["head"], r["village_id"], r["members"],
                                            r["before"], r["after"])])  # fmt: skip
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
