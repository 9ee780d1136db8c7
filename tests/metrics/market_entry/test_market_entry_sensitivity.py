"""Robustness of a ranking: weight draws, one-at-a-time swings and agreement between methods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.metrics.market_entry import topsis, weighted_sum
from analysis.metrics.market_entry.sensitivity import (
    method_agreement,
    scores_for_weight_draws,
    swing_weights,
    top_k_probability,
    weight_swings,
)

MATRIX = pd.DataFrame(
    {"size": [10.0, 20.0, 30.0], "cost": [5.0, 1.0, 3.0]}, index=pd.Index(["A", "B", "C"], name="market")
)
BENEFIT = {"size": True, "cost": False}


def test_when_vectorised_draws_are_scored_then_they_equal_the_one_at_a_time_scores():
    matrix = MATRIX.assign(extra=[1.0, np.nan, 2.0])
    benefit = {**BENEFIT, "extra": True}
    draws = pd.DataFrame([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]], columns=["size", "cost", "extra"])
    for method, scorer in (("weighted_sum", weighted_sum), ("topsis", topsis)):
        vectorised = scores_for_weight_draws(matrix, draws, benefit, method)
        for i, draw in draws.iterrows():
            single = scorer(matrix, draw, benefit, min_coverage=0.0)["score"]
            assert vectorised.loc[i].tolist() == pytest.approx(single.tolist())


def test_when_one_market_dominates_then_it_is_in_the_top_one_in_every_draw():
    matrix = pd.DataFrame({"a": [9.0, 1.0, 2.0], "b": [9.0, 2.0, 1.0]}, index=["BEST", "M", "N"])
    result = top_k_probability(matrix, {"a": 0.5, "b": 0.5}, {"a": True, "b": True}, top_k=1, n_simulations=200)
    assert result.loc["BEST", "p_top_k"] == 1.0
    assert result.loc[["M", "N"], "p_top_k"].sum() == 0.0


def test_when_swinging_a_weight_then_others_keep_their_proportions():
    swung = swing_weights(pd.Series({"a": 0.5, "b": 0.3, "c": 0.2}), "a", 0.1)
    assert swung.to_dict() == pytest.approx({"a": 0.6, "b": 0.24, "c": 0.16})


def test_when_tornado_swings_are_computed_then_scores_equal_rescoring_with_swung_weights():
    swings = weight_swings(MATRIX, {"size": 0.6, "cost": 0.4}, BENEFIT, swing=0.1)
    row = swings.set_index(["criterion", "market"]).loc[("size", "C")]
    # size weight 0.7/0.5: C = 0.7*1 + 0.3*0.5 = 0.85 and 0.5*1 + 0.5*0.5 = 0.75; base 0.8
    assert (row["score_low"], row["score_base"], row["score_high"]) == pytest.approx((0.75, 0.8, 0.85))
    assert row["score_range"] == pytest.approx(0.1)


def test_when_two_rankings_are_compared_then_kendall_tau_matches_hand_count():
    # 4 items, one discordant pair out of 6: tau = (5 - 1) / 6
    result = method_agreement({"x": pd.Series([1, 2, 3, 4]), "y": pd.Series([1, 2, 4, 3])})
    assert result.loc[0, "kendall_tau"] == pytest.approx(4 / 6)
    assert result.loc[0, "markets"] == 4


@pytest.mark.parametrize(
    ("options", "parameter"),
    [({"top_k": 0}, "top_k"), ({"n_simulations": 0}, "n_simulations"), ({"concentration": 0.0}, "concentration")],
)
def test_when_a_robustness_setting_is_out_of_range_then_the_error_names_that_parameter(options, parameter):
    with pytest.raises(ParameterError) as e:
        top_k_probability(MATRIX, {"size": 0.5, "cost": 0.5}, BENEFIT, **options)
    assert e.value.parameter == parameter
    assert e.value.value == options[parameter]
