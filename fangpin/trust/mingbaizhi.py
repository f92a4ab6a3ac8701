"""明白纸: a one-page printable explanation for the family — status, why (income against the line, which
guarantee fails), the measures it receives, and what must hold before its risk can be eliminated. Names and
ID numbers are masked as on a public notice. Viewing it (web or CLI) is audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string

from fangpin.accounts.access import access_object
from fangpin.accounts.actors import is_system
from fangpin.audit.record import audit_record
from fangpin.core.masking import mask_id_number, mask_name, mask_text
from fangpin.policy.rules.guarantees import DIMENSION_NAMES, age_on
from fangpin.regions.selectors import region_path_names
from fangpin.registry.choices import LABOUR_ABLE, Relation
from fangpin.registry.models import Household
from fangpin.registry.selectors import members_as_of
from fangpin.registry.services.assessment import household_guarantees_assess, household_income_assess

from .services import integrations
from .services.common import param

INCOME_LABELS = {
    "wage": "工资性收入",
    "production_business": "生产经营性收入",
    "property_income": "财产性收入",
    "transfer": "转移性收入",
    "production_expense": "生产经营性支出（扣除）",
    "insurance_payout": "理赔收入",
    "compliant_out_of_pocket": "合规自付支出（刚性支出）",
}


def _yuan(v: Decimal | float | int) -> str:
    return f"{Decimal(str(v)).quantize(Decimal('0.01')):,}"


def _masked(text: str, members) -> str:
    """Rule messages name the member concerned; on a public-notice page the name is masked."""
    for p in sorted(members, key=lambda p: len(p.name), reverse=True):
        if p.name:
            text = text.replace(p.name, mask_name(p.name))
    return mask_text(text)


def mingbaizhi_context(
    household: Household, *, on: dt.date, known_on: dt.date | None = None
) -> dict[str, Any]:
    """The page for the day ``on``: the members and facts in effect that day (a death recorded late counts
    from its date), as known now — or, for a reprint, as the system knew them on ``known_on``."""
    members = sorted(members_as_of(household.pk, on, known_on=known_on), key=lambda p: p.pk)
    head = next((p for p in members if p.relation == Relation.HEAD), members[0] if members else None)
    inc = household_income_assess(household, month=on, known_on=known_on)
    guarantees, _ = household_guarantees_assess(household, on=on, known_on=known_on)
    monitoring = integrations.household_monitoring_summary(household, on)
    has_labour = any(p.labour_skill in LABOUR_ABLE for p in members)
    rc = household.village_id
    stable = int(param("elimination.income_stable_months", rc, on).value)
    min_months = int(param("elimination.min_months", rc, on).value)
    min_measures = int(param("elimination.min_measures_done", rc, on).value)
    conditions = [
        f"家庭人均纯收入持续稳定高于监测收入线（{_yuan(inc.line)}元），原则上不少于{stable}个月",
        "因病、因学等大额刚性支出已稳定解决",
        "义务教育、基本医疗、住房安全和饮水安全（“三保障”和饮水安全）都有保障",
        f"自纳入监测起不少于{min_months}个月，且至少落实{min_measures}项帮扶措施",
    ]
    if not has_labour or household.no_labour_protected:
        conditions.append("本户无劳动能力，落实兜底保障后持续跟踪帮扶，不标注风险消除")
    totals = inc.result.totals
    return {
        "on": on,
        "known_on": known_on,
        "household_no": household.household_no,
        "place": "".join(region_path_names(household.village_id)[2:]),
        "group_name": household.group_name,
        "head_name": mask_name(head.name) if head else "",
        "household_type": household.household_type,
        "members": [
            {
                "name": mask_name(p.name),
                "id_number": mask_id_number(p.id_number),
                "relation": p.relation,
                "age": age_on(p.birth_date, on) if p.birth_date else "",
            }
            for p in members
        ],
        "monitoring": monitoring,
        "income": {
            "window": f"{inc.result.window_start:%Y年%m月}至{inc.result.window_end:%Y年%m月}",
            "months_covered": inc.result.months_covered,
            "members": inc.result.members,
            "rows": [(INCOME_LABELS[k], _yuan(v)) for k, v in totals.items() if k in INCOME_LABELS],
            "net": _yuan(inc.result.net_income),
            "per_capita": _yuan(inc.result.per_capita),
            "per_capita_after_rigid": _yuan(inc.result.per_capita_after_rigid),
            "line": _yuan(inc.line),
            "missing": inc.missing,
            "verdict": inc.verdict,
            "below": inc.below_line,
            "below_after_rigid": inc.below_line_after_rigid,
            "gap": _yuan(max(inc.line - inc.result.per_capita, Decimal(0))),
        },
        "guarantees": [
            {
                "name": name,
                "ok": not guarantees.failed(dim),
                "reasons": [_masked(f.message, members) for f in guarantees.failures if f.dimension == dim],
            }
            for dim, name in DIMENSION_NAMES.items()
        ],
        "measures": (monitoring or {}).get("measures", []),
        "conditions": conditions,
        "hotline": "12317",
    }


def mingbaizhi_render(
    *,
    actor,
    on: dt.date,
    household_id: int | None = None,
    household_no: str | None = None,
    known_on: dt.date | None = None,
) -> str:
    """HTML of the 明白纸 for the day ``on`` (``known_on``: reprint as known that day), for a user or for the
    CLI operator as ``system_actor("mingbaizhi")`` (full scope); "missing" and "not yours" are the same
    NotFound; audited either way."""
    is_system(actor)  # refuses None
    if household_id is None:
        household_id = (
            Household.objects.filter(household_no=household_no).values_list("pk", flat=True).first()
        )
    hh = access_object(actor, Household, household_id, what="户")
    html = render_to_string("trust/mingbaizhi.html", mingbaizhi_context(hh, on=on, known_on=known_on))
    audit_record(
        actor=actor,
        event_type="trust.mingbaizhi_view",
        obj=hh,
        region_code=hh.village_id,
        household_id=hh.pk,
        data={"on": on, "known_on": known_on, "via": "cli" if is_system(actor) else "app"},
    )
    return html
