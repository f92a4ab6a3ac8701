"""Huey: scoring the whole county in the background (``fangpin risk_score --background``)."""

from __future__ import annotations

import datetime as dt

from huey.contrib.djhuey import db_task


@db_task()
def risk_score_task(county: str, month: str, model_id: int | None = None) -> int:
    from fangpin.accounts.actors import system_actor

    from .models import RiskModel
    from .services import risk_score

    model = RiskModel.objects.get(pk=model_id) if model_id else None
    return risk_score(
        actor=system_actor("risk_score_task"), county=county, month=dt.date.fromisoformat(month), model=model
    )
