"""Training and scoring on a demo slice in the database: scores per household and month with the
model version and reasons; the score is advice (nothing is enrolled, rejected or eliminated); the
visit list is ordered by it; refusals through the capability check."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest

from fangpin.core.errors import PermissionDenied
from fangpin.demo.services.load import demo_county_generate
from fangpin.monitoring.models import Case, Lead, MonitoringObject, Visit
from fangpin.registry.models import Household
from fangpin.risk.models import RiskScore
from fangpin.risk.selectors import household_risk, unvisited_top, visit_targets_by_risk
from fangpin.risk.services import risk_score, risk_train
from fangpin.testing import factories as f

AS_OF = dt.date(2026, 6, 15)


@pytest.fixture
def slice_(personas):
    demo_county_generate(
        actor=personas["county_admin"],
        county="410506",
        seed=99,  # a slice with a 脱贫户 newly monitored in the training months of these tests
        as_of=AS_OF,
        villages=[f.VILLAGE_A1, f.VILLAGE_A2, f.VILLAGE_B1],
        households_per_village=60,
    )
    return personas


def _state():
    return (
        list(
            MonitoringObject.objects.order_by("pk").values_list("pk", "status", "eliminated_on", "category")
        ),
        Lead.objects.count(),
        Case.objects.count(),
        list(Household.objects.order_by("pk").values_list("pk", "status", "household_type")),
        Visit.objects.count(),
    )


@pytest.mark.django_db
def test_train_score_and_the_score_is_advice_only(slice_):
    admin = slice_["county_admin"]
    before = _state()
    rm = risk_train(actor=admin, county="410506", on=AS_OF)
    assert rm.positives > 0 and rm.rows > rm.positives
    assert max(rm.months) <= "2025-12-01"  # outcome windows closed before 2026-06
    n = risk_score(actor=admin, county="410506", month=AS_OF)
    assert n > 100
    assert _state() == before  # nothing enrolled, rejected, eliminated, visited or changed
    scores = list(RiskScore.objects.filter(model=rm).order_by("rank"))
    assert [s.rank for s in scores] == list(range(1, len(scores) + 1))
    assert all(a.score >= b.score for a, b in zip(scores, scores[1:], strict=False))
    assert sum(s.in_capacity for s in scores) == max(1, round(0.05 * len(scores)))
    assert all(isinstance(r, str) and r for s in scores[:20] for r in s.reasons)
    assert any(s.reasons for s in scores[:20])
    monitored = set(
        MonitoringObject.objects.filter(identified_on__lt=AS_OF.replace(day=1)).values_list(
            "household_id", flat=True
        )
    )
    assert not monitored & {s.household_id for s in scores}  # objects are not scored
    # scoring again replaces the month's scores of that model
    assert risk_score(actor=admin, county="410506", month=AS_OF, model=rm) == n
    assert RiskScore.objects.filter(model=rm).count() == n
    hh = scores[0].household
    trend = household_risk(actor=admin, household=hh, on=AS_OF)
    assert [t.month for t in trend] == [AS_OF.replace(day=1)]


@pytest.mark.django_db
def test_visit_list_is_ordered_by_score_within_the_scope(slice_):
    admin, cadre = slice_["county_admin"], slice_["cadre_a1"]
    risk_train(actor=admin, county="410506", on=AS_OF)
    risk_score(actor=admin, county="410506", month=AS_OF)
    ranked = visit_targets_by_risk(actor=cadre, on=AS_OF)
    scored = [r for r in ranked if r.score is not None]
    assert len(scored) > 10
    # the cadre's village only, through the scope gate
    assert ranked and {r.target.village_id for r in ranked} == {f.VILLAGE_A1}
    not_overdue = [r.score for r in scored if not r.target.overdue]
    assert not_overdue == sorted(not_overdue, reverse=True)
    first_unscored = next(
        (i for i, r in enumerate(ranked) if r.score is None and not r.target.overdue), len(ranked)
    )
    assert all(r.score is None for r in ranked[first_unscored:] if not r.target.overdue)
    # the village view: highest-risk households not visited this month, visited ones drop out
    top = unvisited_top(actor=cadre, on=AS_OF)
    assert top and [s.rank for s in top] == sorted(s.rank for s in top)
    assert {s.household.village_id for s in top} == {f.VILLAGE_A1}
    township = unvisited_top(actor=slice_["township_a"], on=AS_OF, limit=500)
    assert {s.household.village_id for s in township} == {f.VILLAGE_A1, f.VILLAGE_A2}
    only_a2 = unvisited_top(actor=slice_["township_a"], on=AS_OF, region=f.VILLAGE_A2, limit=500)
    assert only_a2 and {s.household.village_id for s in only_a2} == {f.VILLAGE_A2}


@pytest.mark.django_db
def test_a_helper_cannot_train_or_score(slice_):
    helper = slice_["helper_a1"]
    with pytest.raises(PermissionDenied):
        risk_train(actor=helper, county="410506", on=AS_OF)
    with pytest.raises(PermissionDenied):
        risk_score(actor=helper, county="410506", month=AS_OF)


@pytest.mark.django_db
def test_risk_train_command_span_limits_the_training_months(slice_):
    from django.core.management import CommandError, call_command

    from fangpin.risk.models import RiskModel

    call_command("risk_train", "--month", "2026-06", "--span", "4", "--as", "county_admin", stdout=_Sink())
    rm = RiskModel.objects.latest("id")
    # the last four months whose 6-month outcome window closed before 2026-06
    assert [str(m)[:10] for m in rm.months] == ["2025-09-01", "2025-10-01", "2025-11-01", "2025-12-01"]
    with pytest.raises(CommandError, match="--span"):
        call_command(
            "risk_train", "--month", "2026-06", "--span", "0", "--as", "county_admin", stdout=_Sink()
        )


class _Sink:
    def write(self, _s: str) -> None:
        pass

    def flush(self) -> None:
        pass


@pytest.mark.django_db
def test_registry_facts_follow_the_person_history_in_effect_and_recorded_by_the_month(slice_):
    """A change saved through the registry with its effective date (``take_effect``) counts in the
    features only from the month after it took effect *and* was recorded; the generator's own dated
    trait changes (an illness found at enrolment, a 学籍 begun in the window) reach the database as
    versions too."""
    from django.utils import timezone

    from fangpin.core.clock import add_months
    from fangpin.registry.models import Person
    from fangpin.risk.features import features_at
    from fangpin.risk.services import _facts as county_facts

    today = timezone.localdate()
    this = today.replace(day=1)
    before_recorded, after = add_months(this, -2), add_months(this, 1)
    facts0 = county_facts("410506", on=today)
    pop = set(features_at(facts0, before_recorded)["household_no"]) & set(
        features_at(facts0, after)["household_no"]
    )
    healthy = Person.objects.filter(
        household__household_no__in=pop, is_member=True, health="健康", work_status="未务工"
    ).order_by("household__household_no", "person_no")
    a = healthy.first()
    b = healthy.exclude(household=a.household).first()  # another household
    # a: ill since half a year ago, but recorded only today; b: ill from three months ahead
    a.health = b.health = "长期慢性病"
    a.take_effect(add_months(this, -6) + dt.timedelta(days=9))
    a.save()
    b.take_effect(add_months(this, 3) + dt.timedelta(days=4))
    b.save()
    facts1 = county_facts("410506", on=today)

    def ill(facts, month, person):
        row = features_at(facts, month).filter(pl.col("household_no") == person.household.household_no)
        return int(row["chronic_ill"][0])

    assert ill(facts1, before_recorded, a) == ill(facts0, before_recorded, a)  # in effect, not yet known
    assert ill(facts1, after, a) == ill(facts0, after, a) + 1
    assert ill(facts1, after, b) == ill(facts0, after, b)  # known, not yet in effect
    later = add_months(this, 4)
    assert ill(facts1, later, b) == ill(facts0, later, b) + 1
    # the generator's dated changes are versions in the database: none is seen before its day
    changed = facts0.persons.filter(pl.col("valid_from").is_not_null() & pl.col("known_on").is_not_null())
    assert changed.height > 0


@pytest.mark.django_db
def test_the_background_job_scores_in_batches_with_progress_and_one_audit_event(
    slice_, monkeypatch, django_capture_on_commit_callbacks
):
    """``fangpin risk_score --background``: a job row, run by Huey (immediate in tests) as the system
    actor; the scores are written in batches (here of 7), each batch its own transaction, and audited
    once; rescoring the month replaces the scores, and a household no longer at risk loses its old one."""
    from django.core.management import call_command

    from fangpin.audit.models import AuditEvent
    from fangpin.risk import services
    from fangpin.risk.models import RiskScoreJob

    admin = slice_["county_admin"]
    rm = risk_train(actor=admin, county="410506", on=AS_OF)
    n = risk_score(actor=admin, county="410506", month=AS_OF, model=rm)
    first = dict(RiskScore.objects.filter(model=rm).values_list("household_id", "rank"))
    # a household at risk becomes a monitoring object before the month: out of the population
    gone = RiskScore.objects.filter(model=rm).order_by("rank").first().household
    MonitoringObject.objects.create(
        household=gone,
        category="边缘易致贫户",
        identified_on=AS_OF.replace(day=1) - dt.timedelta(days=20),
        origin="procedure",
    )
    monkeypatch.setattr(services, "BATCH", 7)
    notes: list[tuple[str, int]] = []
    real = services.risk_score

    def spy(**kw):
        say = kw["progress"]
        kw["progress"] = lambda note, pct: (notes.append((note, pct)), say(note, pct))
        return real(**kw)

    monkeypatch.setattr(services, "risk_score", spy)
    before = AuditEvent.objects.filter(event_type="risk.scored").count()

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "risk_score", "--county", "410506", "--month", f"{AS_OF:%Y-%m}", "--background",
            "--as", admin.username, stdout=out,
        )  # fmt: skip
    job = RiskScoreJob.objects.get()
    assert f"任务#{job.pk}" in out.getvalue()
    assert (job.status, job.progress, job.households) == ("done", 100, n - 1)
    assert set(job.timings) == {"facts", "features", "score", "store"}
    saves = [pct for note, pct in notes if note.startswith("保存评分")]
    assert len(saves) == 1 + -(-(n - 1) // 7) and saves == sorted(saves)  # one note per batch, increasing
    scores = dict(
        RiskScore.objects.filter(model=rm, month=AS_OF.replace(day=1)).values_list("household_id", "rank")
    )
    assert gone.pk not in scores and len(scores) == n - 1
    assert sorted(scores.values()) == list(range(1, n))
    assert set(scores) == set(first) - {gone.pk}
    ev = AuditEvent.objects.filter(event_type="risk.scored").latest("seq")
    assert AuditEvent.objects.filter(event_type="risk.scored").count() == before + 1
    assert ev.data["households"] == n - 1 and ev.data["removed"] == 1 and ev.data["job"] == job.pk
    assert ev.data["batches"] == -(-(n - 1) // 7)
    out = io.StringIO()
    call_command("risk_score", "--job", str(job.pk), "--as", admin.username, stdout=out)
    assert "完成 100%" in out.getvalue() and f"已评分 {n - 1} 户" in out.getvalue()


@pytest.mark.django_db
def test_a_failed_job_says_why_on_its_row(slice_, django_capture_on_commit_callbacks):
    from fangpin.risk.models import RiskScoreJob
    from fangpin.risk.services import risk_score_enqueue

    with django_capture_on_commit_callbacks(execute=True):  # Huey logs the task's error
        risk_score_enqueue(actor=slice_["county_admin"], county="410506", month=AS_OF)  # no model yet
    job = RiskScoreJob.objects.get()
    assert job.status == "failed" and "尚未训练风险模型" in job.error and job.finished_at
