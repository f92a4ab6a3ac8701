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
    # seed 7: a sample with illnesses found by an enrolment visit (a trait the snapshot only got later)
    return list(iter_villages(province_plan("410506", seed=7, persons=2500), lambda _c: PARAMS, seed=7))


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


def _one_household(persons: list[dict]) -> RiskFacts:
    """A single 脱贫户 with the given person versions (facts.PERSON_COLUMNS)."""
    base = {
        "household_no": "H1",
        "birth_date": dt.date(1980, 5, 1),
        "entered_on": None,
        "left_on": None,
        "health": "健康",
        "disability_grade": None,
        "disabled_since": None,
        "labour_skill": "普通劳动力",
        "work_status": "县内务工",
        "school_status": "",
        "dibao": False,
        "tekun": False,
        "valid_from": None,
        "known_on": None,
    }
    from fangpin.risk.facts import _frame, _persons_frame

    return RiskFacts(
        households=pl.DataFrame(
            [
                {
                    "household_no": "H1",
                    "village": "V",
                    "household_type": "脱贫户",
                    "exited_year": 2016,
                    "land_mu": 2.0,
                    "house_grade": "A",
                    "house_appraised_on": dt.date(2020, 1, 1),
                    "water_scarce": False,
                    "relocated": False,
                }
            ]
        ),
        persons=_persons_frame([{**base, **p} for p in persons]),
        incomes=_frame([], "incomes"),
        events=_frame([], "events"),
        leads=_frame([], "leads"),
        objects=_frame([], "objects"),
        lines=dict(PARAMS.lines),
    )


def _feature(facts: RiskFacts, month: dt.date, name: str) -> float:
    return features_at(facts, month).row(0, named=True)[name]


def test_a_trait_counts_only_from_the_month_after_it_took_effect_and_was_recorded():
    d = dt.date
    facts = _one_household(
        [
            # A: a chronic illness from 10 May 2025, recorded the same day
            {"person_no": "A"},
            {
                "person_no": "A",
                "health": "长期慢性病",
                "valid_from": d(2025, 5, 10),
                "known_on": d(2025, 5, 10),
            },
            # B: went to work out of the province on 1 March 2025, recorded late (1 August)
            {"person_no": "B"},
            {
                "person_no": "B",
                "work_status": "省外务工",
                "valid_from": d(2025, 3, 1),
                "known_on": d(2025, 8, 1),
            },
            # C: 学籍 in 普通高中 from September 2025, in 初中 before
            {"person_no": "C", "birth_date": d(2010, 3, 1), "school_status": "初中三年级"},
            {
                "person_no": "C",
                "birth_date": d(2010, 3, 1),
                "school_status": "普通高中一年级",
                "valid_from": d(2025, 9, 1),
                "known_on": d(2025, 9, 1),
            },
        ]
    )
    assert _feature(facts, d(2025, 5, 1), "members") == 3  # versions are not members
    assert [_feature(facts, m, "chronic_ill") for m in (d(2025, 5, 1), d(2025, 6, 1))] == [0, 1]
    # in effect since March, but nobody knew before August
    assert [_feature(facts, m, "migrant_workers") for m in (d(2025, 6, 1), d(2025, 8, 1), d(2025, 9, 1))] == [
        0,
        0,
        1,
    ]
    assert [_feature(facts, m, "advanced_students") for m in (d(2025, 9, 1), d(2025, 10, 1))] == [0, 1]


def test_traits_the_snapshot_only_got_later_are_not_seen_before(villages, facts):
    """The generator records a trait it set after the history (an illness found by the enrolment's
    visit, a 学籍 that began in the window) with its earlier value and date: features of an earlier
    month count the earlier value, not the snapshot at as_of."""
    changed = [(x, k, on) for v in villages for x in v.persons for k, on in (x.get("_since") or {}).items()]
    kinds = {k for _x, k, _on in changed}
    assert {"school_status", "health"} <= kinds, kinds
    checked = 0
    for x, k, on in changed:
        adv = ("普通高中", "中职", "高职高专", "本科")
        if not x["is_member"] or k not in ("health", "school_status"):
            continue
        if x[k] != "长期慢性病" and not x[k].startswith(adv):
            continue  # a planted defect (demo.generator.defects) changed the snapshot since
        month = on.replace(day=1)  # the change took effect during this month: not known before it
        row = features_at(facts, month).filter(pl.col("household_no") == x["household_no"])
        if row.is_empty():
            continue
        members = [
            y
            for v in villages
            for y in v.persons
            if y["household_no"] == x["household_no"]
            and (y["_entered_on"] is None or y["_entered_on"] < month)
            and (y["_left_on"] is None or y["_left_on"] >= month)
        ]

        def then(y: dict, field: str, month: dt.date = month) -> object:
            s = (y.get("_since") or {}).get(field)
            return y["_before"][field] if s is not None and s >= month else y[field]

        if k == "health":
            want = sum(then(y, "health") == "长期慢性病" for y in members)
            assert row["chronic_ill"][0] == want
            assert want < sum(y["health"] == "长期慢性病" for y in members)  # the snapshot would say more
        else:
            want = sum(str(then(y, "school_status")).startswith(adv) for y in members)
            assert row["advanced_students"][0] == want
            assert want < sum(y["school_status"].startswith(adv) for y in members)
        checked += 1
    assert checked > 5


def _with(facts: RiskFacts, **frames: list[dict]) -> RiskFacts:
    """``facts`` with the given rows as its incomes / events / leads / objects."""
    from fangpin.risk.facts import _frame

    return RiskFacts(
        households=facts.households,
        persons=facts.persons,
        incomes=_frame(frames.get("incomes", []), "incomes"),
        events=_frame(frames.get("events", []), "events"),
        leads=_frame(frames.get("leads", []), "leads"),
        objects=_frame(frames.get("objects", []), "objects"),
        lines={y: float(v) for y, v in facts.lines.items()},
    )


def test_the_shock_stock_counts_a_known_cost_relative_to_the_household_and_decays():
    """A hospital stay's 个人自付 counts from its push (not before), as a share of the household's year at
    the line (two members), and decays 15 % a month; a job loss weighs by the labour it takes."""
    from fangpin.demo.generator.history import known_on
    from fangpin.risk.features import SHOCK_DECAY

    d = dt.date
    two = _one_household([{"person_no": "A"}, {"person_no": "B", "labour_skill": "无劳动力"}])
    stay = {
        "household_no": "H1",
        "person_no": "A",
        "kind": "hospital",
        "month": d(2025, 3, 1),
        "amount": 7000.0,
    }
    facts = _with(two, events=[{**stay, "known_on": known_on("hospital", d(2025, 3, 1))}])
    line = facts.lines[2025]
    got = [_feature(facts, m, "shock_stock") for m in (d(2025, 4, 1), d(2025, 5, 1), d(2025, 6, 1))]
    assert got[0] == 0  # pushed on 20 April: unknown at the start of April
    assert got[1] == pytest.approx(2.2 * 7000 / (line * 2) * SHOCK_DECAY)
    assert got[2] == pytest.approx(got[1] * SHOCK_DECAY)
    # the same stay in a household of one weighs twice as much
    alone = _with(_one_household([{"person_no": "A"}]), events=facts.events.to_dicts())
    assert _feature(alone, d(2025, 5, 1), "shock_stock") == pytest.approx(2 * got[1])
    # a job loss of the only full labourer weighs 1.3 (registered: known after its push)
    job = {**stay, "kind": "job_loss", "amount": 0.0, "known_on": known_on("job_loss", d(2025, 3, 1))}
    assert _feature(_with(two, events=[job]), d(2025, 5, 1), "shock_stock") == pytest.approx(
        1.3 * SHOCK_DECAY
    )


def test_the_income_trajectory_uses_every_year_known_before_the_month():
    from fangpin.risk.facts import income_known_on

    d = dt.date
    one = _one_household([{"person_no": "A"}])
    lines = {y: float(v) for y, v in one.lines.items()}
    ratios = {2021: 2.0, 2022: 1.1, 2023: 1.5, 2024: 1.15}
    facts = _with(
        one,
        incomes=[
            {"household_no": "H1", "year": y, "net": r * lines[y], "oop": 0.0, "known_on": income_known_on(y)}
            for y, r in ratios.items()
        ],
    )
    march, april = (
        features_at(facts, d(2025, 3, 1)).row(0, named=True),
        features_at(facts, d(2025, 4, 1)).row(0, named=True),
    )
    assert march["income_ratio_mean"] == pytest.approx((2.0 + 1.1 + 1.5) / 3)  # 2024 known from April
    assert march["income_ratio_min"] == pytest.approx(1.1)
    assert march["income_years_near_line"] == 1
    assert april["income_ratio_mean"] == pytest.approx((2.0 + 1.1 + 1.5 + 1.15) / 4)
    assert april["income_years_near_line"] == 2


def test_a_child_entering_high_school_is_known_from_the_birth_date_before_september():
    d = dt.date
    facts = _one_household(
        [
            {"person_no": "A"},
            {
                "person_no": "K",
                "birth_date": d(2010, 8, 31),
                "school_status": "九年级",
            },  # 高中 from Sept 2025
            {"person_no": "L", "birth_date": d(2010, 9, 1), "school_status": "八年级"},  # a year later
        ]
    )
    got = [
        (_feature(facts, m, "entering_high_school"), _feature(facts, m, "months_to_september"))
        for m in (d(2025, 3, 1), d(2025, 9, 1), d(2025, 10, 1))
    ]
    assert got == [(1, 6), (1, 0), (1, 11)]  # October 2025: L starts in September 2026
    assert _feature(facts, d(2026, 10, 1), "entering_high_school") == 0


def test_rejected_leads_count_from_their_close_and_a_confirmed_lead_takes_the_household_out():
    d = dt.date
    one = _one_household([{"person_no": "A"}])
    rej = {
        "household_no": "H1",
        "opened_on": d(2023, 2, 10),
        "outcome": "rejected",
        "closed_on": d(2023, 3, 2),
    }
    facts = _with(one, leads=[rej])
    assert _feature(facts, d(2023, 2, 1), "leads_rejected_ever") == 0
    assert features_at(facts, d(2023, 3, 1)).height == 0  # under verification on 1 March
    assert [_feature(facts, m, "leads_rejected_ever") for m in (d(2023, 4, 1), d(2026, 4, 1))] == [1, 1]
    assert _feature(facts, d(2026, 4, 1), "leads_rejected_24m") == 0  # older than two years
    assert _feature(facts, d(2026, 4, 1), "months_since_lead") == 38
    # confirmed on 25 May, enrolled in June: at 1 June nothing is left to forecast
    conf = {
        "household_no": "H1",
        "opened_on": d(2025, 5, 5),
        "outcome": "confirmed",
        "closed_on": d(2025, 5, 25),
    }
    facts = _with(one, leads=[conf], objects=[{"household_no": "H1", "identified_on": d(2025, 6, 10)}])
    assert features_at(facts, d(2025, 5, 1)).height == 1
    assert features_at(facts, d(2025, 6, 1)).height == 0
    assert labels_at(facts, d(2025, 5, 1), 6)["household_no"].to_list() == ["H1"]


def test_every_feature_has_a_chinese_reason():
    """Each input the model may cite is said in Chinese at a value that raises risk."""
    from fangpin.risk.reasons import PHRASES

    risky = dict.fromkeys(FEATURES, 3.0)
    risky.update(members=5.0, labour_share=0.2, full_labour=0.0, income_change=-0.3, months_to_september=2.0)
    risky.update(income_ratio=1.2, income_ratio_prev=0.9, income_ratio_mean=1.3, income_ratio_min=1.1)
    for f in FEATURES:
        phrase = PHRASES[f](risky)
        assert phrase and any("\u4e00" <= ch <= "\u9fff" for ch in phrase), f


def test_no_reason_is_said_of_a_missing_value():
    """A household never in hospital has no months_since_hospital (None in a Polars row): even if the
    model's contribution for it is positive, no phrase is made of it (and nothing fails)."""
    row = dict.fromkeys(FEATURES, 0.0)
    row.update(months_since_hospital=None, months_since_lead=None, income_ratio=None, selfpay_12m=8600.0)
    contrib = np.zeros(len(FEATURES) + 1)
    for f in ("months_since_hospital", "months_since_lead", "income_ratio"):
        contrib[FEATURES.index(f)] = 2.0
    contrib[FEATURES.index("selfpay_12m")] = 1.0
    assert reasons_for(row, contrib, FEATURES) == ["近12个月住院自付累计8,600元"]


def test_an_income_is_a_reason_only_near_the_line_and_a_tiny_contribution_is_none():
    """A comfortable household's income ratio of 2.77 with a small positive contribution is not said as
    a reason for risk ("上年人均纯收入为监测范围的2.77倍" read as nonsense); near or under the line it is,
    in words that say so; a contribution below ``MIN_CONTRIBUTION`` gives no sentence at all."""
    from fangpin.risk.reasons import MIN_CONTRIBUTION

    contrib = np.zeros(len(FEATURES) + 1)
    contrib[FEATURES.index("income_ratio")] = 0.3
    row = dict.fromkeys(FEATURES, 0.0)
    assert reasons_for({**row, "income_ratio": 2.77}, contrib, FEATURES) == []
    assert reasons_for({**row, "income_ratio": 1.2}, contrib, FEATURES) == [
        "上年人均纯收入仅为监测范围的1.20倍（接近监测范围）"
    ]
    assert reasons_for({**row, "income_ratio": 0.8}, contrib, FEATURES) == [
        "上年人均纯收入低于监测范围（为监测范围的0.80倍）"
    ]
    contrib[FEATURES.index("income_ratio")] = MIN_CONTRIBUTION / 2
    assert reasons_for({**row, "income_ratio": 0.8}, contrib, FEATURES) == []
    # one income sentence a household: the largest of the income features, then the next other reason
    contrib[FEATURES.index("income_ratio_mean")] = 0.4
    contrib[FEATURES.index("income_ratio_prev")] = 0.35
    contrib[FEATURES.index("elders")] = 0.1
    near = {**row, "income_ratio_mean": 1.08, "income_ratio_prev": 1.08, "elders": 2.0}
    assert reasons_for(near, contrib, FEATURES) == [
        "近年人均纯收入平均仅为监测范围的1.08倍（接近监测范围）",
        "2名60岁以上老人",
    ]
    # and one of 低保/特困
    contrib = np.zeros(len(FEATURES) + 1)
    contrib[FEATURES.index("tekun")], contrib[FEATURES.index("dibao")] = 0.5, 0.4
    assert reasons_for({**row, "tekun": 1.0, "dibao": 1.0}, contrib, FEATURES) == ["享受特困供养"]
    # no labourer said once; a small income drop is not a reason, a real one is said in words
    contrib = np.zeros(len(FEATURES) + 1)
    for f, c in (("labour_share", 0.5), ("full_labour", 0.4), ("income_change", 0.3), ("elders", 0.2)):
        contrib[FEATURES.index(f)] = c
    lone = {**row, "labour_share": 0.0, "full_labour": 0.0, "elders": 1.0}
    assert reasons_for({**lone, "income_change": -0.01}, contrib, FEATURES) == [
        "家中无劳动力",
        "1名60岁以上老人",
    ]
    assert reasons_for({**lone, "income_change": -0.15}, contrib, FEATURES) == [
        "家中无劳动力",
        "上年人均纯收入比前年减少，减少额约为监测范围的15%",
        "1名60岁以上老人",
    ]


def test_the_three_year_hospital_rate_counts_stays_known_before_the_month_and_no_older():
    """hospital_36m / selfpay_36m_ratio (session 5): every stay pushed before the month within 36
    months; a stay pushed later (or the month's own) is not seen, one 37 months old is dropped."""
    from fangpin.demo.generator.history import known_on

    d = dt.date
    two = _one_household([{"person_no": "A"}, {"person_no": "B", "labour_skill": "无劳动力"}])

    def stay(month: dt.date, amount: float) -> dict:
        return {
            "household_no": "H1",
            "person_no": "A",
            "kind": "hospital",
            "month": month,
            "amount": amount,
            "known_on": known_on("hospital", month),
        }

    facts = _with(
        two, events=[stay(d(2022, 5, 1), 9000.0), stay(d(2024, 6, 1), 3000.0), stay(d(2025, 3, 1), 5000.0)]
    )
    line = facts.lines[2024]
    # at April 2025: March's stay is pushed on 20 April, unknown; the two older ones count
    row = features_at(facts, d(2025, 4, 1)).row(0, named=True)
    assert row["hospital_36m"] == 2
    assert row["selfpay_36m_ratio"] == pytest.approx((9000 + 3000) / 2 / line)
    # in May March's stay is known; in June the May 2022 stay is 37 months old
    assert _feature(facts, d(2025, 5, 1), "hospital_36m") == 3
    row = features_at(facts, d(2025, 6, 1)).row(0, named=True)
    assert row["hospital_36m"] == 2
    assert row["selfpay_36m_ratio"] == pytest.approx((3000 + 5000) / 2 / line)
    # the facts as known on the day before the month give the same features (no later event is read)
    for m in (d(2024, 7, 1), d(2025, 4, 1), d(2025, 6, 1)):
        assert features_at(facts, m).equals(features_at(_known_before(facts, m), m))


def test_no_full_labour_counts_any_age_and_follows_the_recorded_trait():
    d = dt.date
    facts = _one_household(
        [
            # the only full labourer, 66 years old: full_labour (under 65) says none, no_full_labour says one
            {"person_no": "A", "birth_date": d(1958, 1, 1)},
            {"person_no": "B", "labour_skill": "无劳动力"},
            # A loses the ability to work on 10 May 2025, recorded the same day
            {
                "person_no": "A",
                "birth_date": d(1958, 1, 1),
                "labour_skill": "丧失劳动力",
                "valid_from": d(2025, 5, 10),
                "known_on": d(2025, 5, 10),
            },
        ]
    )
    assert _feature(facts, d(2025, 5, 1), "full_labour") == 0
    assert [_feature(facts, m, "no_full_labour") for m in (d(2025, 5, 1), d(2025, 6, 1))] == [0, 1]


def test_continuing_high_school_years_come_from_the_birth_date_alone():
    """high_school_continuing: children in their second or third 高中 year the coming September, from
    the birth date and the 31 August cut-off — never from the 学籍 string (which the generator only
    holds for people still at school at as_of)."""
    d = dt.date
    facts = _one_household(
        [
            {"person_no": "A"},
            {"person_no": "K", "birth_date": d(2009, 8, 31), "school_status": ""},  # 高中 from Sept 2024
            {
                "person_no": "L",
                "birth_date": d(2008, 9, 1),
                "school_status": "普通高中三年级",
            },  # Sept 2024 too
        ]
    )
    got = [
        _feature(facts, m, "high_school_continuing") for m in (d(2024, 3, 1), d(2025, 3, 1), d(2026, 3, 1))
    ]
    assert got == [0, 2, 2]  # second year in Sept 2025, third in Sept 2026
    assert _feature(facts, d(2026, 10, 1), "high_school_continuing") == 0  # both done by Sept 2027


def test_the_rule_reads_a_work_end_of_the_work_monitoring_only_when_asked_and_known():
    """``RuleThresholds(work_end=True)`` (session 6) flags a 务工月监测 end of migrant work known before
    the month as it flags a 失业登记; the default rule (失业登记 only) does not; an end pushed after the
    month is not read either way."""
    from fangpin.demo.generator.history import known_on
    from fangpin.risk.model import RuleThresholds, rule_scores

    d = dt.date
    one = _one_household([{"person_no": "A", "work_status": "省外务工"}])
    end = {
        "household_no": "H1",
        "person_no": "A",
        "kind": "work_end",
        "month": d(2025, 3, 1),
        "amount": 0.0,
        "known_on": known_on("work_end", d(2025, 3, 1)),
    }
    facts = _with(one, events=[end])
    assert RuleThresholds().work_end is False
    # May 2025: March's end (pushed 20 April) is known and recent
    feats = features_at(facts, d(2025, 5, 1))
    flagged = rule_scores(facts, d(2025, 5, 1), feats, RuleThresholds(work_end=True))
    plain = rule_scores(facts, d(2025, 5, 1), feats, RuleThresholds())
    assert flagged[0] - plain[0] == pytest.approx(10.0)
    # April 2025: not yet pushed, no flag; the end adds nothing to the model's features (not a cause)
    feats = features_at(facts, d(2025, 4, 1))
    assert rule_scores(facts, d(2025, 4, 1), feats, RuleThresholds(work_end=True))[0] == pytest.approx(
        rule_scores(facts, d(2025, 4, 1), feats, RuleThresholds())[0]
    )
    assert features_at(facts, d(2025, 5, 1)).equals(features_at(one, d(2025, 5, 1)))


def test_the_candidate_rule_flags_count_the_rule_baselines_flags_from_what_was_known(facts):
    """``rule_flags`` (a candidate the bench tries, not a product input) is the number of flags the rule
    baseline raises for the household — exactly ``rule_scores``'s count — and, like every feature, is the
    same on the facts cut at the day before the month; ``selfpay_ytd`` is this year's known self-pay."""
    from fangpin.risk.features import CANDIDATES, RULE_RECENT_MONTHS
    from fangpin.risk.model import RuleThresholds, rule_scores

    assert not set(CANDIDATES) & set(FEATURES)
    assert RuleThresholds().recent_months == RULE_RECENT_MONTHS
    flagged = 0
    for month in (dt.date(2024, 1, 1), dt.date(2025, 3, 1), dt.date(2026, 8, 1)):
        feats = features_at(facts, month)
        score = rule_scores(facts, month, feats, RuleThresholds())
        n = np.ceil(score / 10 - 1e-9).astype(int)  # flags × 10 − the income ratio clipped to [0, 9]
        assert (feats["rule_flags"].to_numpy().astype(int) == n).all()
        flagged += int((n > 0).sum())
        cut = features_at(_known_before(facts, month), month)
        assert cut.select(CANDIDATES).equals(feats.select(CANDIDATES))
        ytd = (
            facts.events.filter(
                (pl.col("kind") == "hospital")
                & (pl.col("known_on") < month)
                & (pl.col("month").dt.year() == (month - dt.timedelta(days=1)).year)
            )
            .group_by("household_no")
            .agg(s=pl.col("amount").sum())
        )
        got = dict(zip(feats["household_no"], feats["selfpay_ytd"], strict=True))
        for h, s in ytd.iter_rows():
            if h in got:
                assert got[h] == s
    assert flagged > 20


def test_training_labels_count_a_confirmed_lead_only_once_its_verification_closed_before_the_cut():
    """A lead opened in a training month's window but confirmed on or after the training cut was not a
    known outcome when the model was trained: not a positive then. The evaluation's truth (no cut) counts
    it by its final outcome, and a confirmed lead with no close date is not known at any cut."""
    d = dt.date
    one = _one_household([{"person_no": "A"}])
    lead = {"household_no": "H1", "opened_on": d(2025, 6, 20), "outcome": "confirmed"}
    late = _with(one, leads=[{**lead, "closed_on": d(2025, 7, 1)}])  # closed on the cut
    early = _with(one, leads=[{**lead, "closed_on": d(2025, 6, 30)}])
    undated = _with(one, leads=[{**lead, "closed_on": None}])
    cut, m = d(2025, 7, 1), d(2025, 1, 1)  # the last month whose 6-month window closes before the cut
    assert labels_at(late, m, 6)["household_no"].to_list() == ["H1"]
    assert labels_at(late, m, 6, known_before=cut).height == 0
    assert labels_at(undated, m, 6, known_before=cut).height == 0
    assert labels_at(early, m, 6, known_before=cut)["household_no"].to_list() == ["H1"]
    # an enrolment in the window is known at the cut whatever its lead's close date
    enrolled = _with(one, leads=[{**lead, "closed_on": d(2025, 7, 1)}],
                     objects=[{"household_no": "H1", "identified_on": d(2025, 6, 28)}])  # fmt: skip
    assert labels_at(enrolled, m, 6, known_before=cut)["household_no"].to_list() == ["H1"]


def test_a_model_trained_at_a_cut_learns_no_lead_confirmed_after_it(facts):
    """``train`` labels every training month as known at its cut: adding a lead that was confirmed after
    the cut leaves the training positives unchanged, one confirmed before the cut adds one; the month
    cache (features only) gives the same labels as no cache."""
    from fangpin.risk.model import train, training_months

    cut = d = dt.date(2025, 7, 1)
    last = training_months(facts, cut, 6, span=3)[-1]
    labelled = set(labels_at(facts, last, 6)["household_no"])
    hh = next(h for h in features_at(facts, last)["household_no"] if h not in labelled)
    lead = {"household_no": hh, "opened_on": d.replace(month=6, day=10), "outcome": "confirmed"}

    def positives(leads: list[dict], cache: dict | None = None) -> int:
        f = RiskFacts(**{**facts.__dict__, "leads": pl.concat([facts.leads, pl.DataFrame(
            leads, schema=facts.leads.schema)]) if leads else facts.leads})  # fmt: skip
        return train(f, cut, 6, span=3, rounds=2, cache=cache).positives

    base = positives([])
    assert positives([{**lead, "closed_on": d.replace(day=3)}]) == base
    assert positives([{**lead, "closed_on": d.replace(month=6, day=30)}]) == base + 1
    cache: dict = {}
    assert (
        positives([], cache) == base
        and positives([], cache) == base
        and set(cache) == set(training_months(facts, cut, 6, span=3))
    )
