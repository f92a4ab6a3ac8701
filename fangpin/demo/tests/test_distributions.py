"""The generator's documented distributions (docs/parts/demo.md, "How the generator works"), pinned
statistically on a sample of 河南 villages: a rewrite of the generator (new random streams, vectorised
draws) must keep them. Each expected value is the spec's figure (the weights and probabilities the
docs state); the tolerance is several standard errors of the sample, so a test fails only if a
distribution moved, not by the luck of a seed."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import pytest

from fangpin.demo.generator import iter_villages, province_plan
from fangpin.demo.generator.families import age_on
from fangpin.demo.generator.history import MIGRANT, history_months
from fangpin.demo.generator.income import net_of
from fangpin.demo.generator.params import gen_params_from_defaults

AS_OF = dt.date(2026, 11, 23)
PARAMS = gen_params_from_defaults("41", AS_OF)


@pytest.fixture(scope="module")
def sample():
    """~40,000 persons over the rural villages of 河南 (a few per county), seed 5."""
    return list(iter_villages(province_plan("41", seed=5, persons=40_000), lambda _c: PARAMS, seed=5))


def _within(observed: float, expected: float, n: int, k: float = 5.0) -> bool:
    """``observed`` share within k standard errors of a binomial share ``expected`` over ``n``."""
    return abs(observed - expected) <= k * math.sqrt(expected * (1 - expected) / n)


def _current(vs):
    return [x for v in vs for x in v.persons if x["is_member"]]


def test_household_size_and_family_kinds(sample):
    """Mean ~2.5 members (龙安区's 4,226 户 / 10,588 人); ~20 % single elders living alone."""
    households = [h for v in sample for h in v.households]
    size = Counter(x["household_no"] for x in _current(sample))
    mean = sum(size.values()) / len(households)
    assert 2.4 <= mean <= 2.6, mean
    alone_elder = sum(
        1
        for v in sample
        for h in v.households
        if size[h["household_no"]] == 1
        and age_on(next(x for x in v.persons if x["household_no"] == h["household_no"])["birth_date"], AS_OF)
        >= 62
    )
    assert 0.17 <= alone_elder / len(households) <= 0.25, alone_elder / len(households)


@pytest.mark.parametrize(
    "band,chronic,serious,disabled",
    [((3, 39), 0.03, 0.01, 0.02), ((40, 59), 0.12, 0.025, 0.05), ((60, 120), 0.30, 0.04, 0.08)],
)
def test_health_by_age_band(sample, band, chronic, serious, disabled):
    people = [x for x in _current(sample) if band[0] <= age_on(x["birth_date"], AS_OF) <= band[1]]
    n = len(people)
    share = Counter(x["health"] for x in people)
    # an illness found by an enrolment visit adds a few 长期慢性病 (``_risk_types``): + 0.5 % at most
    assert _within(share["长期慢性病"] / n, chronic, n) or chronic < share["长期慢性病"] / n < chronic + 0.005
    assert _within(share["患有大病"] / n, serious, n)
    assert _within(share["残疾"] / n, disabled, n)


def test_school_stage_of_15_to_17_year_olds(sample):
    """62 % 普通高中, 28 % 中职, 10 % out of school."""
    teens = [x for x in _current(sample) if 15 <= age_on(x["birth_date"], AS_OF) <= 17]
    n = len(teens)
    high = sum(x["school_status"].startswith("普通高中") for x in teens) / n
    voc = sum(x["school_status"].startswith("中职") for x in teens) / n
    # planted defects (P-AGE-SCHOOL, 1.5 % of pupils) move a few: one more standard error
    assert _within(high, 0.62, n, 6) and _within(voc, 0.28, n, 6), (high, voc)


def test_migrant_work_of_full_labour(sample):
    """Of the full labourers up to 64: 28 % 省外务工, 15 % 省内县外务工."""
    full = [
        x
        for x in _current(sample)
        if x["labour_skill"] in ("技能劳动力", "普通劳动力") and age_on(x["birth_date"], AS_OF) <= 64
    ]
    n = len(full)
    out = sum(x["work_status"] == "省外务工" for x in full) / n
    inside = sum(x["work_status"] == "省内县外务工" for x in full) / n
    assert _within(out, 0.28, n, 6) and _within(inside, 0.15, n, 6), (out, inside)


def test_minority_households_in_henan(sample):
    """河南: 1.5 % of households 回族 (demo/data/ethnicity.json)."""
    heads = [x for x in _current(sample) if x["relation"] == "户主"]
    n = len(heads)
    hui = sum(x["ethnicity"] == "回族" for x in heads) / n
    assert _within(hui, 0.015, n) and all(x["ethnicity"] in ("汉族", "回族") for x in heads), hui


def test_income_level_and_monitoring_share(sample):
    """Median per-capita net income ~1.9× the line; ~2.5 % of 脱贫户 and every 一般农户 enter monitoring;
    ~45 % of the objects with labour identified long enough ago are eliminated."""
    last = AS_OF.year - 1
    line = float(PARAMS.line(last))
    size = Counter(x["household_no"] for x in _current(sample))
    ratios = sorted(
        float(net_of(r)) / size[r["household_no"]] / line
        for v in sample
        for r in v.incomes
        if r["period_start"].year == last
    )
    assert 1.75 <= ratios[len(ratios) // 2] <= 2.05, ratios[len(ratios) // 2]
    monitored = {m["household_no"]: m for v in sample for m in v.monitoring}
    exited = [h for v in sample for h in v.households if h["household_type"] == "脱贫户"]
    ordinary = [h for v in sample for h in v.households if h["household_type"] == "一般农户"]
    assert ordinary and all(h["household_no"] in monitored for h in ordinary)
    share = sum(h["household_no"] in monitored for h in exited) / len(exited)
    assert 0.015 <= share <= 0.045, share
    able = {
        x["household_no"]
        for x in _current(sample)
        if x["labour_skill"] in ("技能劳动力", "普通劳动力", "弱劳动力或半劳动力")
    }
    old = [
        m
        for m in monitored.values()
        if m["household_no"] in able and m["identified_on"] <= dt.date(AS_OF.year - 2, AS_OF.month, 1)
    ]
    eliminated = sum(m["eliminated_on"] is not None for m in old) / len(old)
    assert 0.3 <= eliminated <= 0.6, (eliminated, len(old))


def test_history_cause_rates_follow_the_monthly_probabilities(sample):
    """Hospital stays: 0.15 % a month + 0.4 % per chronically ill member + 1.2 % per seriously ill +
    0.15 % per elder + 0.3 % per disabled; job losses: 0.5 % a month per migrant (twice in 2022), half
    of them registered with 人社; ends of migrant work in the 务工月监测: three quarters of the job losses
    and 1 % a month per migrant (2 % in January and February) that are no loss. The observed counts are within a few Poisson errors of the sums."""
    months = history_months(PARAMS)
    n_2022 = sum(m.year == 2022 for m in months)
    members: dict[str, list[dict]] = {}
    for x in _current(sample):
        members.setdefault(x["household_no"], []).append(x)
    hosp = job = 0.0
    for c in members.values():
        health = Counter(x["health"] for x in c)
        elders = sum(age_on(x["birth_date"], AS_OF) >= 60 for x in c)
        rate = 0.0015 + 0.004 * health["长期慢性病"] + 0.012 * health["患有大病"] + 0.0015 * elders
        hosp += (rate + 0.003 * health["残疾"]) * len(months)
        job += 0.005 * sum(x["work_status"] in MIGRANT for x in c) * (len(months) + n_2022) * 0.5
    # 务工月监测: 75 % of all job losses (registered or not) + 1 % a month per migrant, twice in Jan/Feb
    new_year = sum(m.month <= 2 for m in months)
    migrants = sum(x["work_status"] in MIGRANT for x in _current(sample))
    work_end = 0.75 * 2 * job + 0.01 * migrants * (len(months) + new_year)
    kinds = Counter(e["kind"] for v in sample for e in v.history.events)
    for kind, expected in (("hospital", hosp), ("job_loss", job), ("work_end", work_end)):
        # the enrolment visit's illnesses and the planted defects move the traits a little: 8 %
        assert abs(kinds[kind] - expected) <= 5 * math.sqrt(expected) + 0.08 * expected, (
            kind,
            kinds,
            expected,
        )
