"""Work in progress for the demo accounts, so that a first-time user finds something to do: in the demo
village cadre's village, through the real services and as the demo users, a few leads waiting for 入户核查
(基层干部排查 and a 农户自主申报), a case waiting for its 民主评议, one overdue in 入户核查, and one that has been
publicised and waits for the 乡镇审核 (batchable). Idempotent: marked by the leads' ``source_ref``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from fangpin.core import clock
from fangpin.core.errors import DomainError

MARK = "demo_work:"


def demo_work_in_progress(*, county: str, on: dt.date) -> dict[str, int]:
    from fangpin.accounts.models import User
    from fangpin.monitoring.models import Lead, LeadSource, MonitoringObject
    from fangpin.monitoring.services import cases, identification, leads
    from fangpin.registry.models import Household

    cadre = User.objects.filter(username="village_cadre", region__code__startswith=county).first()
    township = User.objects.filter(username="township_reviewer").first()
    if cadre is None or township is None:
        return {}
    if LeadSource.objects.filter(source_ref__startswith=MARK, lead__village_id=cadre.region_id).exists():
        return {"already": 1}
    busy = set(MonitoringObject.objects.values_list("household_id", flat=True)) | set(
        Lead.objects.values_list("household_id", flat=True)
    )
    pool = [
        h
        for h in Household.objects.filter(village_id=cadre.region_id, status="active").order_by(
            "household_no"
        )
        if h.id not in busy and h.persons.filter(is_member=True, relation="户主").exists()
    ][:5]
    out = {"leads": 0, "cases": 0}

    def lead(hh, channel: str, day: dt.date, note: str, risk: str):
        evidence = {}
        if channel == "self_application":
            evidence = {"consent": {"signed": True, "signed_on": day.isoformat()}, "form": {"reason": note}}
        obj = leads.lead_submit(
            actor=cadre, household=hh, channel=channel, source_ref=f"{MARK}{hh.household_no}",
            evidence=evidence, risk_types=[risk], note=note, on=day,
        )  # fmt: skip
        out["leads"] += 1
        return obj

    def back(n: int) -> dt.date:  # n working days before ``on``
        d = on
        while n > 0:
            d -= dt.timedelta(days=1)
            if clock.is_working_day(d):
                n -= 1
        return d

    # (channel, working days ago, what was found, risk type, case opened?, steps completed)
    plan = [
        ("cadre_visit", 3, "走访发现户主腰伤无法务工，家庭收入骤减", "因务工就业不稳", False, 0),
        ("self_application", 2, "孩子上大学，学费负担重", "因学", False, 0),
        ("cadre_visit", 3, "户主确诊慢性病，长期服药", "因病", True, 2),  # 核查 + 比对 done: 评议 next
        (
            "cadre_visit",
            30,
            "房屋雨季漏雨成危房",
            "因安全住房",
            True,
            0,
        ),  # opened long ago, still 核查: overdue
        ("self_application", 9, "家中老人重病住院，自付费用高", "因病", True, 4),  # publicised: 乡镇审核 next
    ]
    try:
        with transaction.atomic():
            for hh, (channel, days, note, risk, opened, steps) in zip(pool, plan, strict=False):
                start = back(days)
                lead_obj = lead(hh, channel, start, note, risk)
                if not opened:
                    continue
                case = identification.case_open(actor=cadre, lead=lead_obj, on=start)
                out["cases"] += 1
                d = start
                for step in ("verify", "compare", "deliberate", "publicize")[:steps]:
                    d = clock.add_working_days(d, 1) if step != "publicize" else d + dt.timedelta(days=7)
                    data = {
                        "verify": {
                            "risk_types": [risk],
                            "category": "突发严重困难户",
                            "override_reason": f"入户核查：{note}，存在返贫致贫风险",
                            "findings": note,
                        },
                        "deliberate": {"attendance": 13, "votes_for": 12, "votes_against": 0},
                    }.get(step)
                    case = cases.case_step_complete(
                        actor=cadre, case=case, step=step, on=min(d, on), data=data
                    )
    except DomainError as e:  # the demo stays usable without it; say why
        return {"refused": 1, "reason": e.message}  # type: ignore[dict-item]
    return out
