"""Risk scores for the demo county, so that a first-time user finds the early warning at work: the visit
list ordered by score with its reasons, the household file's 风险预警 panel with a two-month trend, and the
unvisited high-risk list. Through the real services, as the demo's county_admin: a model trained on the
months before last month, used for last month and this month. Idempotent: nothing is done when this
month already has scores (a rerun of ``./run demo`` neither retrains nor rescores)."""

from __future__ import annotations

import datetime as dt

from fangpin.core.clock import add_months
from fangpin.core.errors import DomainError


def demo_risk_scores(*, county: str, on: dt.date) -> dict[str, int]:
    """{"months": months scored now, "households": households scored this month} (empty if the county
    already has this month's scores or has no county_admin); a refusal or a county with no history to
    learn from gives {"refused": 1, "reason": …} instead of failing the demo."""
    from fangpin.accounts.models import User
    from fangpin.risk.models import RiskScore
    from fangpin.risk.services import latest_model, risk_score, risk_train

    this = on.replace(day=1)
    last = add_months(this, -1)
    admin = User.objects.filter(username="county_admin", region__code__startswith=county[:6]).first()
    if admin is None:
        return {}
    if RiskScore.objects.filter(model__county_code=county, month=this).exists():
        return {}
    try:
        model = latest_model(county, on=last) or risk_train(actor=admin, county=county, on=last)
        out = {"months": 0, "households": 0}
        for month in (last, this):
            if not RiskScore.objects.filter(model=model, month=month).exists():
                n = risk_score(actor=admin, county=county, month=month, model=model)
                out["months"] += 1
                if month == this:
                    out["households"] = n
        return out
    except (DomainError, ValueError) as e:  # ValueError: no month with a closed outcome window
        return {"refused": 1, "reason": getattr(e, "message", str(e))}
