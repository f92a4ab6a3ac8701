"""Training and scoring (writes). Both take an explicit actor and the business date they act on.

The score is advice: these services write ``RiskModel``/``RiskScore`` rows and nothing else — no
lead, monitoring object, case or household is created or changed (a test holds this)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.policy.params import param_get

from .facts import RiskFacts, facts_from_db
from .features import FEATURES, features_at
from .model import TrainedModel, train
from .models import RiskModel, RiskScore
from .scoring import score_frame


def _region(county: str) -> str:
    return county.ljust(12, "0")


def county_lines(county: str, until_year: int, *, first_year: int = 2021) -> dict[int, float]:
    out: dict[int, float] = {}
    for y in range(first_year, until_year + 1):
        try:
            out[y] = float(param_get("income.monitoring_line", region_code=_region(county), year=y).value)
        except DomainError:
            continue
    return out


def horizon_months(county: str, year: int) -> int:
    return int(param_get("risk.horizon_months", region_code=_region(county), year=year).value)


def capacity_share(county: str, year: int) -> float:
    return float(param_get("risk.visit_capacity_share", region_code=_region(county), year=year).value)


def reasons_share(county: str, year: int) -> float:
    return float(param_get("risk.reasons_share", region_code=_region(county), year=year).value)


def _facts(county: str, on: dt.date) -> RiskFacts:
    lines = county_lines(county, on.year)
    if not lines:
        raise DomainError("risk_no_line", f"县 {county} 没有监测范围参数，无法计算风险")
    return facts_from_db(county, lines=lines)


def risk_train(
    *, actor, county: str, on: dt.date, facts: RiskFacts | None = None, span: int = 36
) -> RiskModel:
    """Train on the months before ``on`` whose outcome is known (``model.training_months``), at most
    ``span`` of them."""
    require(actor, Cap.SCREEN_RUN)
    horizon = horizon_months(county, on.year)
    facts = facts or _facts(county, on)
    if facts.objects.height == 0:
        raise DomainError("risk_no_history", "尚无监测对象历史，无法训练风险模型")
    try:
        tm = train(facts, on.replace(day=1), horizon, span=span)
    except ValueError as e:
        raise DomainError("risk_no_history", f"{on:%Y-%m} 之前没有已知结果的月份：{e}") from e
    if tm.positives == 0:
        raise DomainError("risk_no_history", f"{on:%Y-%m} 之前的训练月份中没有新纳入监测的农户")
    with transaction.atomic():
        rm = RiskModel.objects.create(
            county_code=county,
            trained_through=on.replace(day=1),
            horizon_months=horizon,
            features=list(FEATURES),
            booster=tm.to_text(),
            rows=tm.rows,
            positives=tm.positives,
            months=[m.isoformat() for m in tm.months],
            created_by=getattr(actor, "username", str(actor)),
        )
        audit_record(
            actor=actor,
            event_type="risk.trained",
            obj=rm,
            region_code=_region(county),
            data={
                "through": on.replace(day=1),
                "horizon": horizon,
                "rows": tm.rows,
                "positives": tm.positives,
            },
        )
    return rm


def latest_model(county: str, *, on: dt.date) -> RiskModel | None:
    return (
        RiskModel.objects.filter(county_code=county, trained_through__lte=on)
        .order_by("-trained_through", "-id")
        .first()
    )


def risk_score(
    *, actor, county: str, month: dt.date, model: RiskModel | None = None, facts: RiskFacts | None = None
) -> int:
    """Score every household at risk in ``county`` at ``month`` (replacing that model's scores of
    the month); returns the number of households scored."""
    require(actor, Cap.SCREEN_RUN)
    month = month.replace(day=1)
    rm = model or latest_model(county, on=month)
    if rm is None:
        raise DomainError("risk_no_model", "尚未训练风险模型：请先运行 fangpin risk_train")
    tm = TrainedModel.from_text(rm.booster, through=rm.trained_through, horizon=rm.horizon_months)
    tm.features = tuple(rm.features)
    facts = facts or _facts(county, month)
    feats = features_at(facts, month)
    from fangpin.registry.models import Household

    ids = dict(  # the county's households (no IN list of every household number: a county has 300,000)
        Household.objects.filter(village__code__startswith=county).values_list("household_no", "id")
    )
    scored = score_frame(
        tm, feats, share=capacity_share(county, month.year), reasons_share=reasons_share(county, month.year)
    )
    k = int(scored["in_capacity"].sum())
    objs = [
        RiskScore(
            model=rm,
            household_id=ids[no],
            month=month,
            score=score,
            rank=rank,
            in_capacity=top,
            reasons=reasons,
        )
        for no, score, rank, top, reasons in scored.iter_rows()
        if no in ids
    ]
    with transaction.atomic():
        RiskScore.objects.filter(model=rm, month=month).delete()
        RiskScore.objects.bulk_create(objs, batch_size=2000)
        audit_record(
            actor=actor,
            event_type="risk.scored",
            obj=rm,
            region_code=_region(county),
            data={"month": month, "households": len(objs), "capacity": k},
        )
    return len(objs)
