"""Features use only what was known at the month, never protected attributes; labels and training
months respect the time split; reasons are plain Chinese from the contributions."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from fangpin.core.clock import add_months
from fangpin.demo.generator import iter_villages, province_plan
from fangpin.demo.generator.params import gen_params_from_defaults
from fangpin.risk.facts import PERSON_COLUMNS, PROTECTED, RiskFacts, facts_from_villages
from fangpin.risk.features import FEATURES, features_at, labels_at
from fangpin.risk.model import training_months
from fangpin.risk.reasons import reasons_for

AS_OF = dt.date(2026, 12, 1)
PARAMS = gen_params_from_defaults("410506", AS_OF)


@pytest.fixture(scope="module")
def villages():
    return list(iter_villages(province_plan("410506", seed=1, persons=2500), lambda _c: PARAMS, seed=1))


@pytest.fixture(scope="module")
def facts(villages) -> RiskFacts:
    return facts_from_villages(villages, PARAMS.lines)


def test_protected_attributes_and_names_are_not_model_inputs(villages, facts):
    assert not set(PROTECTED) & set(PERSON_COLUMNS)
    assert not set(PROTECTED) & set(facts.persons.columns)
    assert not any(p in f for f in FEATURES for p in ("ethnic", "gender", "name"))
    month = dt.date(2025, 6, 1)
    before = features_at(facts, month)
    # every person another nationality, the other gender and another name: nothing changes
    for v in villages:
        for x in v.persons:
            x["ethnicity"], x["gender"], x["name"] = "回族", "F" if x["gender"] == "M" else "M", "某某"
    after = features_at(facts_from_villages(villages, PARAMS.lines), month)
    assert after.equals(before)


def _known_before(facts: RiskFacts, month: dt.date) -> RiskFacts:
    """The facts as the system held them on the last day before ``month``."""
    return RiskFacts(
        households=facts.households,
        persons=facts.persons,
        incomes=facts.incomes.filter(pl.col("known_on") < month),
        events=facts.events.filter(pl.col("known_on") < month),
        leads=facts.leads.filter(pl.col("opened_on") < month).with_columns(
            closed_on=pl.when(pl.col("closed_on") < month).then(pl.col("closed_on")),
            outcome=pl.when(pl.col("closed_on") < month).then(pl.col("outcome")).otherwise(pl.lit("open")),
        ),
        objects=facts.objects.filter(pl.col("identified_on") < month).with_columns(
            eliminated_on=pl.when(pl.col("eliminated_on") < month).then(pl.col("eliminated_on"))
        ),
        lines=facts.lines,
    )


def test_features_use_only_what_was_known_before_the_month(facts):
    for month in (dt.date(2023, 2, 1), dt.date(2025, 9, 1)):
        full = features_at(facts, month)
        past = features_at(_known_before(facts, month), month)
        assert full.height > 100
        assert full.equals(past)
    # the history has events after each month, so the check above is not empty
    assert facts.events.filter(pl.col("known_on") >= dt.date(2025, 9, 1)).height > 0


def test_the_income_of_a_year_is_known_only_from_april_of_the_next(facts):
    march = features_at(facts, dt.date(2025, 3, 1))
    april = features_at(facts, dt.date(2025, 4, 1))
    hh = march["household_no"][0]
    last = facts.incomes.filter(pl.col("household_no") == hh).sort("year")
    n = march.filter(pl.col("household_no") == hh)["members"][0]
    line23, line24 = facts.lines[2023], facts.lines[2024]
    net23 = last.filter(pl.col("year") == 2023)["net"][0]
    net24 = last.filter(pl.col("year") == 2024)["net"][0]
    assert march.filter(pl.col("household_no") == hh)["income_ratio"][0] == pytest.approx(net23 / n / line23)
    assert april.filter(pl.col("household_no") == hh)["income_ratio"][0] == pytest.approx(net24 / n / line24)


def test_population_excludes_households_already_monitored_and_labels_are_the_next_months(facts):
    month, horizon = dt.date(2024, 7, 1), 6
    pop = set(features_at(facts, month)["household_no"])
    before = set(facts.objects.filter(pl.col("identified_on") < month)["household_no"])
    assert before and not pop & before
    ordinary = set(facts.households.filter(pl.col("household_type") != "脱贫户")["household_no"])
    assert not pop & ordinary  # 一般农户 are registered only once they entered
    lab = set(labels_at(facts, month, horizon)["household_no"])
    entered = set(
        facts.objects.filter(
            (pl.col("identified_on") >= month) & (pl.col("identified_on") < add_months(month, horizon))
        )["household_no"]
    )
    assert entered and entered <= lab


def test_training_months_have_their_outcome_window_closed_before_the_cut(facts):
    months = training_months(facts, dt.date(2025, 7, 1), 6)
    assert months and max(months) == dt.date(2025, 1, 1)
    assert all(add_months(m, 6) <= dt.date(2025, 7, 1) for m in months)
    # at most ``span`` months, the latest ones
    assert training_months(facts, dt.date(2025, 7, 1), 6, span=4) == [
        dt.date(2024, 10, 1),
        dt.date(2024, 11, 1),
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
    ]


def test_entries_follow_causes_in_the_history(villages):
    """Most entries of 脱贫户 have a department-visible cause in the months before the fall, and the
    households that entered had more hospital stays before than those that did not."""
    exited = {h["household_no"] for v in villages for h in v.households if h["household_type"] == "脱贫户"}
    causes = [
        v.history.households[m["household_no"]].cause
        for v in villages
        for m in v.monitoring
        if m["household_no"] in exited
    ]
    assert causes and sum(1 for c in causes if c) / len(causes) > 0.5
    assert sum(1 for c in causes if not c) >= 1  # and some entries have no visible cause


def test_reasons_are_plain_chinese_from_the_largest_contributions():
    row = dict.fromkeys(FEATURES, 0.0)
    row.update(selfpay_12m=8600.0, full_labour=1.0, income_ratio=1.3, members=3.0, job_loss_6m=1.0)
    contrib = np.zeros(len(FEATURES) + 1)
    contrib[FEATURES.index("selfpay_12m")] = 1.2
    contrib[FEATURES.index("job_loss_6m")] = 0.8
    contrib[FEATURES.index("income_ratio")] = -0.5  # lowers the score: not a reason
    assert reasons_for(row, contrib, FEATURES) == [
        "近12个月住院自付累计8,600元",
        "家庭成员近半年失业登记（务工中断）",
    ]


def test_a_model_can_be_trained_on_a_subset_of_the_features(facts):
    """The bench's ablation (``--drop``): the booster reads only the kept features, and predicts."""
    from fangpin.risk.model import predict, train

    kept = tuple(f for f in FEATURES if f not in ("village_entries_24m", "village_disaster_12m"))
    m = train(facts, dt.date(2025, 7, 1), 6, span=3, features=kept, rounds=5)
    assert m.features == kept and m.booster.feature_name() == list(kept)
    feats = features_at(facts, dt.date(2025, 7, 1))
    assert len(predict(m, feats)) == feats.height
