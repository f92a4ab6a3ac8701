"""The county's two recurring report tables, built from ``indicators.indicator_table``:

- 月推进 (monthly progress): per township, the stock of monitoring objects by category (households and
  persons), the month's new identifications and eliminations, the elimination share, measures coverage,
  兜底, leads received by channel and closed, median identification days, overdue procedures.
- 季通报 (quarterly bulletin): per township, the quarter's flows, rates and a ranking, plus the active
  objects by risk type — a published table, so the risk-type cells (illness, disability …) go through
  the trust part's small-cell suppression (``trust.publication.suppress_for_publication``).

A table is plain data (title, column headers, rows of cells); ``excel.py`` and ``printable.py`` render it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fangpin.trust.publication import SUPPRESSED, suppress_for_publication

from .indicators import Period, _objects_active, _township, indicator_table, month_period, quarter_period


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str = ""
    pct: bool = False
    drill: str = ""  # indicator code whose households are behind the cell


@dataclass
class ReportTable:
    code: str
    title: str
    subtitle: str
    period: Period
    columns: list[Column]
    rows: list[dict[str, Any]]  # {"code": township code or "", "name": ..., key: value}
    notes: list[str] = field(default_factory=list)
    sections: list[ReportTable] = field(default_factory=list)

    def header_groups(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for c in self.columns:
            if out and out[-1][0] == c.group:
                out[-1] = (c.group, out[-1][1] + 1)
            else:
                out.append((c.group, 1))
        return out


MONTHLY_COLUMNS = [
    Column("objects", "户数", "监测对象", drill="objects"),
    Column("objects_persons", "人数", "监测对象", drill="objects"),
    Column("objects_unstable_exited", "脱贫不稳定户", "其中（户）", drill="objects_unstable_exited"),
    Column("objects_edge", "边缘易致贫户", "其中（户）", drill="objects_edge"),
    Column("objects_sudden", "突发严重困难户", "其中（户）", drill="objects_sudden"),
    Column("new", "户数", "本月新识别", drill="new"),
    Column("new_persons", "人数", "本月新识别", drill="new"),
    Column("eliminated", "户数", "本月风险消除", drill="eliminated"),
    Column("eliminated_persons", "人数", "本月风险消除", drill="eliminated"),
    Column("eliminated_share", "累计消除占比%", "风险消除", pct=True),
    Column("measure_coverage", "措施覆盖率%", "帮扶", pct=True),
    Column("protected", "兜底户数", "帮扶", drill="protected"),
    Column("leads_self_application", "自主申报", "本月线索（条）", drill="leads_self_application"),
    Column("leads_cadre_visit", "干部排查", "本月线索（条）", drill="leads_cadre_visit"),
    Column("leads_department_screening", "部门预警", "本月线索（条）", drill="leads_department_screening"),
    Column("leads_closed", "办结", "本月线索（条）", drill="leads_closed"),
    Column("duration_median", "识别用时中位数（天）", "时效"),
    Column("cases_overdue", "超期件数", "时效", drill="cases_overdue"),
    Column("overdue_rate", "超期率%", "时效", pct=True),
]

QUARTERLY_COLUMNS = [
    Column("objects", "监测户数", "季末", drill="objects"),
    Column("objects_persons", "监测人数", "季末", drill="objects"),
    Column("new", "新识别户", "本季", drill="new"),
    Column("eliminated", "消除户", "本季", drill="eliminated"),
    Column("leads", "收到线索", "本季", drill="leads"),
    Column("eliminated_share", "累计消除占比%", "比率", pct=True),
    Column("measure_coverage", "措施覆盖率%", "比率", pct=True),
    Column("visit_coverage", "走访覆盖率%", "比率", pct=True),
    Column("overdue_rate", "超期率%", "比率", pct=True),
    Column("duration_median", "识别用时中位数（天）", "比率"),
    Column("rank", "综合排名", "通报"),
    Column("flag", "通报意见", "通报"),
]


def _rows(table) -> list[dict[str, Any]]:
    out = [{"code": r.code, "name": r.name, **r.values} for r in table.rows]
    out.append({"code": "", "name": "合计", **table.total.values})
    return out


def monthly_progress(*, actor, year: int, month: int) -> ReportTable:
    period = month_period(year, month)
    t = indicator_table(actor=actor, period=period)
    return ReportTable(
        code="monthly",
        title=f"防止返贫动态监测和帮扶工作月推进表（{year}年{month}月）",
        subtitle=f"统计期 {period.label}；监测对象按期末状态统计；人数为当前家庭成员数",
        period=period,
        columns=MONTHLY_COLUMNS,
        rows=_rows(t),
        notes=[
            "累计消除占比 = 截至期末累计风险消除户 ÷ 截至期末累计纳入监测户。",
            "措施覆盖率 = 期末有在实施或已落实帮扶措施的监测户 ÷ 期末监测户。",
            "兜底 = 期末有低保、特困供养等综合保障类措施的监测户。",
            "超期率 = 期末超过办理时限仍未办结的程序 ÷ 期末在办程序。",
        ],
    )


def _rank(rows: list[dict[str, Any]]) -> None:
    """Composite ranking of townships: mean of the ranks on elimination share (high is good), measures
    coverage (high), visit coverage (high), overdue rate (low). Missing values rank last."""
    towns = [r for r in rows if r["code"]]
    scores: Counter = Counter()
    for key, high_good in (
        ("eliminated_share", True),
        ("measure_coverage", True),
        ("visit_coverage", True),
        ("overdue_rate", False),
    ):

        def sort_key(r, key=key, high_good=high_good):
            v = r.get(key)
            if v is None:
                return (1, 0.0)
            return (0, -v if high_good else v)

        for i, r in enumerate(sorted(towns, key=sort_key), start=1):
            scores[r["code"]] += i
    ordered = sorted(towns, key=lambda r: (scores[r["code"]], r["code"]))
    for i, r in enumerate(ordered, start=1):
        r["rank"] = i
        flags = []
        if r.get("overdue_rate"):
            flags.append(f"有超期未办结程序{r.get('cases_overdue', 0)}件，限期整改")
        if r.get("objects") and (r.get("visit_coverage") or 0) < 100:
            flags.append("监测户走访未全覆盖")
        r["flag"] = "；".join(flags) or "—"
    for r in rows:
        if not r["code"]:
            r["rank"], r["flag"] = "", ""


def risk_type_table(
    *, actor, period: Period, township_rows: list[dict[str, Any]], published: bool
) -> ReportTable:
    """Active monitoring objects by township × risk type (an object counts under each of its risk types).
    Published tables hide small cells of the sensitive dimension (``risk_type``) with complements."""
    from fangpin.policy.params import param_value

    region = getattr(actor, "region_id", "") or ""
    risk_types = list(param_value("catalogue.risk_types", region_code=region, year=period.end.year))
    idx = {code: i for i, code in enumerate(r["code"] for r in township_rows if r["code"])}
    counts = [[0] * len(risk_types) for _ in idx]
    col = {rt: j for j, rt in enumerate(risk_types)}
    for village, rts in _objects_active(actor, period).values_list("village_id", "risk_types"):
        i = idx.get(_township(village))
        if i is None:
            continue
        for rt in rts or []:
            if rt in col:
                counts[i][col[rt]] += 1
    names = [r["name"] for r in township_rows if r["code"]]
    if published and counts:
        pub = suppress_for_publication(
            counts,
            dimension="risk_type",
            region_code=region,
            on=period.end,
            row_labels=names,
            col_labels=risk_types,
        )
        cells, row_totals, col_totals, grand = pub.cells, pub.row_totals, pub.col_totals, pub.grand_total
        suppressed = len(pub.suppressed)
    else:
        cells = counts
        row_totals = [sum(r) for r in counts]
        col_totals = [sum(counts[i][j] for i in range(len(counts))) for j in range(len(risk_types))]
        grand, suppressed = sum(row_totals), 0
    codes = [r["code"] for r in township_rows if r["code"]]
    rows = [
        {
            "code": codes[i],
            "name": names[i],
            **{f"rt{j}": cells[i][j] for j in range(len(risk_types))},
            "total": row_totals[i],
        }
        for i in range(len(names))
    ]
    rows.append(
        {
            "code": "",
            "name": "合计",
            **{f"rt{j}": col_totals[j] for j in range(len(risk_types))},
            "total": grand,
        }
    )
    notes = ["一户有多个风险类型的，在每个类型下各计一次；合计为计次总数。"]
    if published:
        notes.append(
            f"本表对外公开：涉及疾病、残疾等敏感维度的小于最小单元格数的数值以“{SUPPRESSED}”表示"
            f"（另有为防止反推而隐藏的单元格），共隐藏{suppressed}格。"
        )
    return ReportTable(
        code="risk_types",
        title="季末监测对象风险类型分布（户次）",
        subtitle="",
        period=period,
        columns=[
            *[Column(f"rt{j}", rt, "风险类型") for j, rt in enumerate(risk_types)],
            Column("total", "合计", ""),
        ],
        rows=rows,
        notes=notes,
    )


def quarterly_bulletin(*, actor, year: int, quarter: int, published: bool = True) -> ReportTable:
    period = quarter_period(year, quarter)
    t = indicator_table(actor=actor, period=period)
    rows = _rows(t)
    _rank(rows)
    report = ReportTable(
        code="quarterly",
        title=f"防止返贫动态监测和帮扶工作季度通报（{year}年第{quarter}季度）",
        subtitle=f"统计期 {period.label}",
        period=period,
        columns=QUARTERLY_COLUMNS,
        rows=rows,
        notes=[
            "综合排名：按累计消除占比、措施覆盖率、走访覆盖率（高者优）和超期率（低者优）各自排名后取平均。",
            "走访覆盖率 = 本季有走访记录的季末监测户 ÷ 季末监测户。",
        ],
    )
    report.sections.append(
        risk_type_table(actor=actor, period=period, township_rows=rows, published=published)
    )
    return report


def report_build(*, actor, kind: str, year: int, number: int, published: bool = True) -> ReportTable:
    """``kind`` monthly (number = month) or quarterly (number = quarter)."""
    if kind == "monthly":
        return monthly_progress(actor=actor, year=year, month=number)
    if kind == "quarterly":
        return quarterly_bulletin(actor=actor, year=year, quarter=number, published=published)
    from fangpin.core.errors import DomainError

    raise DomainError("report_kind_unknown", f"未知的报表类型“{kind}”", field="kind")


def last_complete(kind: str, on: dt.date) -> tuple[int, int]:
    """The latest finished month / quarter before ``on`` (what the CLI reports by default)."""
    if kind == "monthly":
        first = on.replace(day=1) - dt.timedelta(days=1)
        return first.year, first.month
    q = (on.month - 1) // 3  # current quarter index 0..3; the previous one is complete
    return (on.year, q) if q else (on.year - 1, 4)
