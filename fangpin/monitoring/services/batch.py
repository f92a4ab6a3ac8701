"""Batch review (乡镇审核 / 县级审定 of many cases at once): a preview of exactly what each case would
change, then all-or-nothing completion through ``case_step_complete`` (every rule of a single step holds)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fangpin.accounts.access import access_object
from fangpin.core.errors import DomainError

from ..models import Case, CaseKind, CaseStatus
from ..workflows import next_step, steps_of
from .cases import case_step_complete

E_BATCH_STEP = "batch_step_mismatch"
E_BATCH_EMPTY = "batch_empty"


@dataclass(frozen=True)
class BatchPreviewRow:
    case_id: int
    household_id: int
    household_no: str
    kind: str
    step: str
    outcome: str  # what completing the step does: next step, or the final effect


def _effect(case: Case, step: str) -> str:
    nxt = next_step(case.kind, step)
    if nxt is not None:
        return f"转入“{nxt.name}”"
    prop = case.proposal or {}
    if case.kind == CaseKind.IDENTIFICATION:
        verb = "确认绿色通道纳入" if case.monitoring_object_id else "纳入监测对象"
        return f"{verb}：{prop.get('category', '')}（{'、'.join(prop.get('risk_types', []))}）"
    if case.kind == CaseKind.ELIMINATION:
        return (
            "风险消除（" + ("自然消除" if prop.get("method") == "natural" else "帮扶消除") + "），进入渐退期"
        )
    return "风险消除回退：恢复监测"


def case_batch_preview(*, actor, case_ids: list[int], step: str) -> list[BatchPreviewRow]:
    """What completing ``step`` on each case would do, without changing anything."""
    if not case_ids:
        raise DomainError(E_BATCH_EMPTY, "请至少选择一件")
    rows = []
    for cid in case_ids:
        c = access_object(actor, Case, cid, what="办理程序")
        if c.status != CaseStatus.OPEN or c.current_step != step:
            known = {s.code: s.name for s in steps_of(c.kind)}
            where = f"“{known[step]}”环节" if step in known else f"环节“{step}”（该程序没有这个环节）"
            raise DomainError(E_BATCH_STEP, f"户{c.household.household_no}当前不在{where}", field="step")
        rows.append(
            BatchPreviewRow(
                c.pk, c.household_id, c.household.household_no, c.get_kind_display(), step, _effect(c, step)
            )
        )
    return rows


@transaction.atomic
def case_batch_complete(
    *, actor, case_ids: list[int], step: str, on: dt.date, data: dict[str, Any] | None = None
) -> list[Case]:
    """Completes ``step`` on every case or on none (the first refusal rolls the whole batch back)."""
    case_batch_preview(actor=actor, case_ids=case_ids, step=step)
    done = []
    for cid in case_ids:
        c = access_object(actor, Case, cid, what="办理程序")
        try:
            done.append(case_step_complete(actor=actor, case=c, step=step, on=on, data=dict(data or {})))
        except DomainError as e:
            raise DomainError(e.code, f"户{c.household.household_no}：{e.message}", field=e.field) from e
    return done
