"""Training and scoring (writes). Both take an explicit actor and the business date they act on.

The score is advice: these services write ``RiskModel``/``RiskScore`` rows and nothing else — no
lead, monitoring object, case or household is created or changed (a test holds this)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import polars as pl
from django.db import transaction
from django.utils import timezone

from fangpin.accounts.roles import Cap
from fangpin.accounts.scope import require
from fangpin.audit.record import audit_record
from fangpin.core.errors import DomainError
from fangpin.policy.params import param_get

from .facts import RiskFacts, _read, facts_from_db
from .features import FEATURES, features_at
from .model import TrainedModel, train
from .models import RiskModel, RiskScore, RiskScoreJob, ScoreJobStatus
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


BATCH = 5_000  # scores written per transaction

Progress = Callable[[str, int], None]


def risk_score(
    *,
    actor,
    county: str,
    month: dt.date,
    model: RiskModel | None = None,
    facts: RiskFacts | None = None,
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    job: RiskScoreJob | None = None,
) -> int:
    """Score every household at risk in ``county`` at ``month`` (replacing that model's scores of
    the month); returns the number of households scored.

    The facts are read set-based (``facts.facts_from_db``), the features and scores computed in
    Polars/LightGBM (``scoring.score_frame``), and the scores written in batches of ``BATCH``, each
    batch one transaction that upserts its households' scores (a reader sees every household with one
    score of the month throughout: the previous one or the new one); the model's scores of the month
    left from before (households no longer at risk) go with the audit event, one per job, in the last
    transaction. ``progress(note, percent)`` is told each step; ``timings`` gets each step's seconds."""
    require(actor, Cap.SCREEN_RUN)
    month = month.replace(day=1)
    rm = model or latest_model(county, on=month)
    if rm is None:
        raise DomainError("risk_no_model", "尚未训练风险模型：请先运行 fangpin risk_train")
    say = progress or (lambda note, pct: None)
    spent = timings if timings is not None else {}
    clock_ = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock_
        now = time.perf_counter()
        spent[step] = round(now - clock_, 3)
        clock_ = now

    tm = TrainedModel.from_text(rm.booster, through=rm.trained_through, horizon=rm.horizon_months)
    tm.features = tuple(rm.features)
    say("读取全县户、人口、收入、部门事件与线索", 5)
    facts = facts or _facts(county, month)
    lap("facts")
    say("计算特征", 30)
    feats = features_at(facts, month)
    del facts
    lap("features")
    say(f"计算 {feats.height} 户的风险概率与原因", 40)
    scored = score_frame(
        tm, feats, share=capacity_share(county, month.year), reasons_share=reasons_share(county, month.year)
    )
    del feats
    lap("score")
    n = _store(actor, rm, county, month, scored, say, job)
    lap("store")
    return n


def _store(
    actor, rm: RiskModel, county: str, month: dt.date, scored: pl.DataFrame, say: Progress, job
) -> int:
    from fangpin.registry.models import Household

    ids = _read(  # the county's households (no IN list of every household number: a county has 400,000)
        Household.objects.filter(village__code__startswith=county).order_by(),
        ("household_no", "id"),
        {"household_no": pl.Utf8, "household_id": pl.Int64},
    )
    rows = scored.join(ids, on="household_no", how="inner", maintain_order="left").select(
        "household_id", "score", "rank", "in_capacity", "reasons"
    )
    n, k = rows.height, int(rows["in_capacity"].sum())
    started = timezone.now()
    say(f"保存评分 0/{n}", 70)
    for lo in range(0, n, BATCH):
        objs = [
            RiskScore(
                model=rm,
                household_id=hid,
                month=month,
                score=score,
                rank=rank,
                in_capacity=top,
                reasons=reasons,
            )
            for hid, score, rank, top, reasons in rows.slice(lo, BATCH).iter_rows()
        ]
        with transaction.atomic():
            RiskScore.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=["household", "month", "model"],
                update_fields=["score", "rank", "in_capacity", "reasons", "created_at"],
            )
        done = min(lo + BATCH, n)
        say(f"保存评分 {done}/{n}", 70 + 29 * done // max(n, 1))
    with transaction.atomic():
        stale, _ = RiskScore.objects.filter(model=rm, month=month, created_at__lt=started).delete()
        audit_record(
            actor=actor,
            event_type="risk.scored",
            obj=rm,
            region_code=_region(county),
            data={
                "month": month,
                "households": n,
                "capacity": k,
                "batches": -(-n // BATCH),
                "removed": stale,
                "job": getattr(job, "pk", None),
                "started_by": getattr(job, "started_by", getattr(actor, "username", str(actor))),
            },
        )
    return n


def risk_score_enqueue(*, actor, county: str, month: dt.date, model: RiskModel | None = None) -> RiskScoreJob:
    """A scoring job for Huey (``tasks.risk_score_task``); its row shows the progress."""
    require(actor, Cap.SCREEN_RUN)
    from .tasks import risk_score_task

    job = RiskScoreJob.objects.create(
        county_code=county,
        month=month.replace(day=1),
        model=model,
        started_by=getattr(actor, "username", str(actor)),
        progress_note="排队中",
    )
    transaction.on_commit(lambda: risk_score_task(job.pk))
    return job


def risk_score_job_run(job_id: int) -> RiskScoreJob:
    """Run a queued job (the Huey task's body) as the system actor, its progress on its row."""
    from fangpin.accounts.actors import system_actor

    job = RiskScoreJob.objects.get(pk=job_id)
    RiskScoreJob.objects.filter(pk=job.pk).update(status=ScoreJobStatus.RUNNING, started_at=timezone.now())

    def say(note: str, pct: int) -> None:
        RiskScoreJob.objects.filter(pk=job.pk).update(progress=pct, progress_note=note[:200])

    timings: dict[str, float] = {}
    try:
        n = risk_score(
            actor=system_actor("risk_score_task"),
            county=job.county_code,
            month=job.month,
            model=job.model,
            progress=say,
            timings=timings,
            job=job,
        )
    except Exception as exc:
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        RiskScoreJob.objects.filter(pk=job.pk).update(
            status=ScoreJobStatus.FAILED, error=message, timings=timings, finished_at=timezone.now()
        )
        raise
    RiskScoreJob.objects.filter(pk=job.pk).update(
        status=ScoreJobStatus.DONE,
        progress=100,
        progress_note="完成",
        households=n,
        timings=timings,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job
