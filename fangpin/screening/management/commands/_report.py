"""Shared printing of the screening commands (a run's report, a mapping preview)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


def print_run(cmd: BaseCommand, run, *, pending_reviews: int | None = None) -> None:
    """A run's result as `screen` and `screen_show` print it: hits per rule, leads pushed, link reviews."""
    w = cmd.stdout.write
    w(
        f"筛查#{run.pk} {run.month} 引擎={run.engine} 状态={run.get_status_display()} 业务日期={run.as_of or ''}"
    )
    if run.error:
        w(f"  错误：{run.error}")
    c = run.counts or {}
    if not c:
        w(f"  进度 {run.progress}%：{run.progress_note}")
        return
    w(
        f"  本次筛查的新批次 {len(c.get('batches_new', []))} 个，回看批次 {len(c.get('batches_lookback', []))} 个"
    )
    for kind, d in (c.get("departments") or {}).items():
        w(
            f"  {kind}: 读取{d.get('rows_read', 0)}行 证件号匹配{d.get('matched_id', 0)} "
            f"概率匹配{d.get('matched_linkage', 0)} 未匹配{d.get('unmatched', 0)} 命中{d.get('hits', 0)}"
        )
    missing = c.get("consent_missing_per_rule") or {}
    hits = c.get("hits_per_rule") or {}
    for code, n in (c.get("leads_per_rule") or {}).items():
        extra = f"（缺少承诺授权，仅标记 {missing[code]}）" if missing.get(code) else ""
        w(f"  规则 {code}: 命中 {hits.get(code, 0)}，推送线索 {n}{extra}")
    f = c.get("facts") or {}
    w(
        f"  部门事实与户档案不一致 {f.get('differing', 0)}：记录 {f.get('recorded', 0)}"
        f"（按规则采用 {f.get('applied', 0)}，待核实 {f.get('pending', 0)}），此前已记录 {f.get('already_recorded', 0)}"
    )
    n = c.get("link_reviews_pending", 0) if pending_reviews is None else pending_reviews
    w(f"  新增待复核的疑似匹配 {n} 条" + ("（fangpin screen_show --reviews --as 用户 查看）" if n else ""))
    if run.timings:
        w(f"  耗时: {run.timings}")


def print_preview(cmd: BaseCommand, pv: dict[str, Any]) -> None:
    w = cmd.stdout.write
    head = pv.get("header_row")
    w(
        f"{pv.get('title', '')}（{pv.get('department', '')}）表头行：{'第' + str(head) + '行' if head else '未识别'}"
    )
    for c in pv["columns"]:
        star = "*" if c["required"] else " "
        w(f"  {star}{c['title']:<10} ← {c['source'] or '（未找到）'}")
    if pv.get("unmapped"):
        w("  未使用的列：" + "、".join(pv["unmapped"]))
    if pv.get("needs_answer"):
        w("需要确认：" + pv["question"])
        w(
            "  用法：fangpin dept_mapping 类型 文件 --set 列名=文件表头 [--set …] --as 用户（列名可用中文，如 证件号码=证照号码；无此列写 =无）"
        )
    if pv.get("parsed"):
        w(f"前{len(pv['parsed'])}行按此读取：")
        titles = pv["shown"]["titles"]
        for r in pv["shown"]["rows"]:  # the Chinese titles and words the browser's preview shows
            w(
                "  "
                + "，".join(
                    f"{t}={v}"
                    for t, v in zip(titles, r, strict=True)
                    if t != "证件号码（原样）" and v not in (None, "")
                )
            )
    elif pv.get("raw"):
        w("文件前几行（原样）：")
        for r in pv["raw"]:
            w("  " + " | ".join(str(x) for x in r))
    for e in pv.get("errors", [])[:10]:
        w(f"  第{e['row']}行 {e['column']}：{e['message']}")
