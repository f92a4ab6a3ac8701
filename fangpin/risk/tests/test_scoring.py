"""The one-pass scoring (``risk.scoring``): the same reasons as row by row, ranks and capacity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from fangpin.demo.generator import iter_villages, province_plan
from fangpin.demo.generator.params import gen_params_from_defaults
from fangpin.risk.facts import facts_from_villages
from fangpin.risk.features import FEATURES, features_at
from fangpin.risk.model import contributions, predict, train
from fangpin.risk.reasons import reasons_for
from fangpin.risk.scoring import reasons_all, score_frame

AS_OF = dt.date(2026, 12, 1)
MONTH = dt.date(2025, 7, 1)


@pytest.fixture(scope="module")
def scored():
    params = gen_params_from_defaults("410506", AS_OF)
    villages = list(iter_villages(province_plan("410506", seed=2, persons=2500), lambda _c: params, seed=2))
    facts = facts_from_villages(villages, params.lines)
    model = train(facts, MONTH, 6, span=6, rounds=30)
    feats = features_at(facts, MONTH)
    return model, feats


def test_reasons_in_one_pass_are_the_row_by_row_reasons(scored):
    model, feats = scored
    c = contributions(model, feats)
    old = [reasons_for(r, c[i], model.features) for i, r in enumerate(feats.to_dicts())]
    assert reasons_all(feats, c, model.features) == old
    # enough households with a reason to compare (a 30-round model's contributions are small: most
    # households have none above ``reasons.MIN_CONTRIBUTION``)
    assert sum(1 for r in old if r) > 100


def test_a_household_whose_top_features_have_nothing_to_say_falls_back_to_the_next_ones():
    """Seven positive contributions, the six largest on features that say nothing at their value (0): the
    seventh is still the household's reason, as row by row."""
    names = ("selfpay_12m", "selfpay_3m", "hospital_3m", "hospital_12m", "job_loss_6m", "death_12m", "elders")
    row = dict.fromkeys(FEATURES, 0.0)
    row["elders"] = 2.0
    feats = pl.DataFrame({"household_no": ["h1"], **{f: [row[f]] for f in FEATURES}})
    contrib = np.zeros((1, len(FEATURES) + 1))
    for rank, name in enumerate(names):
        contrib[0, FEATURES.index(name)] = 1.0 - rank * 0.1
    assert (
        reasons_all(feats, contrib, FEATURES)
        == [reasons_for(row, contrib[0], FEATURES)]
        == [["2名60岁以上老人"]]
    )


def test_score_frame_ranks_every_household_once_with_the_top_share_in_capacity(scored):
    model, feats = scored
    out = score_frame(model, feats, share=0.05)
    p = predict(model, feats)
    assert out.height == feats.height and out["rank"].to_list() == list(range(1, feats.height + 1))
    assert out["score"].to_list() == sorted(p.tolist(), reverse=True)
    assert int(out["in_capacity"].sum()) == max(1, round(0.05 * feats.height))
    assert out.filter(pl.col("in_capacity"))["rank"].max() == int(out["in_capacity"].sum())


def test_a_feature_the_household_has_no_value_for_gives_no_reason():
    """No hospital stay (null ``months_since_hospital``) whose missing value still raised the score: no
    sentence about it, and no crash (a row's null came through ``to_dicts`` as None)."""
    row = dict.fromkeys(FEATURES, 0.0)
    row.update(months_since_hospital=None, income_ratio=None, elders=1.0)
    contrib = np.zeros(len(FEATURES) + 1)
    contrib[FEATURES.index("months_since_hospital")] = 0.9
    contrib[FEATURES.index("income_ratio")] = 0.8
    contrib[FEATURES.index("elders")] = 0.1
    assert reasons_for(row, contrib, FEATURES) == ["1名60岁以上老人"]
    feats = pl.DataFrame({"household_no": ["h1"], **{f: [row[f]] for f in FEATURES}})
    assert reasons_all(feats, contrib[None, :], FEATURES) == [["1名60岁以上老人"]]


def test_reasons_can_be_limited_to_the_highest_scores_and_are_the_same_there(scored):
    model, feats = scored
    every = score_frame(model, feats, share=0.05)
    top = score_frame(model, feats, share=0.05, reasons_share=0.1)
    n = round(0.1 * feats.height)
    assert top.drop("reasons").equals(every.drop("reasons"))
    assert top["reasons"].head(n).to_list() == every["reasons"].head(n).to_list()
    assert all(r == [] for r in top["reasons"].tail(feats.height - n).to_list())
    assert any(every["reasons"].tail(feats.height - n).to_list())  # the limit really left some out
