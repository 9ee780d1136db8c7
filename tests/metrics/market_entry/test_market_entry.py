"""Market-entry scoring: weights, AHP, normalisation, weighted sum, TOPSIS, Kogut-Singh, sensitivity, plan."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.metrics.market_entry import (
    ahp_weights,
    kogut_singh_distance,
    normalise,
    topsis,
    validate_weights,
    weighted_sum,
    weights_from_judgements,
)
from analysis.metrics.market_entry.scoring import SAATY_RANDOM_INDEX
from analysis.metrics.market_entry.sensitivity import (
    method_agreement,
    phased_entry_plan,
    scores_for_weight_draws,
    swing_weights,
    top_k_probability,
    weight_swings,
)

MATRIX = pd.DataFrame(
    {"size": [10.0, 20.0, 30.0], "cost": [5.0, 1.0, 3.0]}, index=pd.Index(["A", "B", "C"], name="market")
)
BENEFIT = {"size": True, "cost": False}


def reference_topsis(rows: list[list[float]], weights: list[float], benefit: list[bool]) -> list[float]:
    """Textbook TOPSIS written with plain loops, independent of the vectorised implementation."""
    n, m = len(rows), len(weights)
    norms = [math.sqrt(sum(rows[i][j] ** 2 for i in range(n))) for j in range(m)]
    v = [[weights[j] * rows[i][j] / norms[j] for j in range(m)] for i in range(n)]
    ideal = [max(v[i][j] for i in range(n)) if benefit[j] else min(v[i][j] for i in range(n)) for j in range(m)]
    anti = [min(v[i][j] for i in range(n)) if benefit[j] else max(v[i][j] for i in range(n)) for j in range(m)]
    scores = []
    for i in range(n):
        d_plus = math.sqrt(sum((v[i][j] - ideal[j]) ** 2 for j in range(m)))
        d_minus = math.sqrt(sum((v[i][j] - anti[j]) ** 2 for j in range(m)))
        scores.append(d_minus / (d_plus + d_minus))
    return scores


def test_when_weights_are_valid_then_they_are_normalised_to_one():
    assert validate_weights({"a": 2.0, "b": 6.0}).to_dict() == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a": -1.0, "b": 2.0}, "negative"),
        ({"a": 0.0}, "all zero"),
        ({"a": float("nan")}, "not finite"),
        ({}, "none"),
    ],
)
def test_when_weights_are_invalid_then_error_names_the_problem(weights, message):
    with pytest.raises(ValueError, match=message):
        validate_weights(weights)


def test_when_weights_and_criteria_differ_then_error_lists_both_sides():
    with pytest.raises(ValueError, match=r"no such criteria \['x'\]; criteria without a weight \['b'\]"):
        validate_weights({"a": 1.0, "x": 1.0}, criteria=["a", "b"])


def test_when_ahp_judgements_are_consistent_then_weights_are_exact_and_ratio_is_zero():
    w = np.array([0.5, 0.3, 0.2])
    comparisons = pd.DataFrame(np.outer(w, 1 / w), index=list("abc"), columns=list("abc"))
    result = ahp_weights(comparisons)
    assert result.weights.to_numpy() == pytest.approx(w)
    assert result.lambda_max == pytest.approx(3.0)
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)


def test_when_three_judgements_are_inconsistent_then_lambda_and_ratio_match_the_closed_form():
    # For a 3x3 reciprocal matrix with a12=a, a13=b, a23=c:
    # lambda_max = 1 + (b/ac)^(1/3) + (ac/b)^(1/3) and the
    # principal eigenvector is the row geometric mean. With a=1, b=8, c=1: lambda = 1 + 2 + 0.5 = 3.5,
    # CI = 0.25, CR = 0.25 / 0.58 (Saaty's RI for n=3); weights (2, 1, 0.5) / 3.5.
    comparisons = pd.DataFrame(
        [[1, 1, 8], [1, 1, 1], [1 / 8, 1, 1]], index=list("abc"), columns=list("abc"), dtype=float
    )
    with pytest.warns(UserWarning, match="inconsistent"):
        result = ahp_weights(comparisons, on_inconsistent="warn")
    assert result.lambda_max == pytest.approx(3.5)
    assert result.consistency_index == pytest.approx(0.25)
    assert result.consistency_ratio == pytest.approx(0.25 / 0.58)
    assert result.weights.to_numpy() == pytest.approx([2 / 3.5, 1 / 3.5, 0.5 / 3.5])
    with pytest.raises(ValueError, match="consistency ratio 0.431 > 0.1"):
        ahp_weights(comparisons)


def test_when_saaty_random_index_is_read_then_it_matches_his_published_table():
    assert [SAATY_RANDOM_INDEX[n] for n in range(3, 11)] == [0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49]


def test_when_comparisons_are_not_reciprocal_then_error_says_so():
    comparisons = pd.DataFrame([[1, 3], [3, 1]], index=list("ab"), columns=list("ab"), dtype=float)
    with pytest.raises(ValueError, match="not reciprocal"):
        ahp_weights(comparisons)


def test_when_minmax_normalising_then_costs_are_reversed():
    result = normalise(MATRIX, BENEFIT, "minmax")
    assert result["size"].tolist() == [0.0, 0.5, 1.0]
    assert result["cost"].tolist() == [0.0, 1.0, 0.5]


def test_when_zscore_normalising_then_population_std_is_used_and_costs_negated():
    result = normalise(MATRIX, BENEFIT, "zscore")
    std = math.sqrt(200 / 3)
    assert result["size"].tolist() == pytest.approx([-10 / std, 0.0, 10 / std])
    cost_std = math.sqrt(((5 - 3) ** 2 + (1 - 3) ** 2 + 0) / 3)
    assert result["cost"].tolist() == pytest.approx([-2 / cost_std, 2 / cost_std, 0.0])


def test_when_scoring_by_weighted_sum_then_scores_equal_hand_computation_and_decompose():
    # minmax: size (0, .5, 1), cost reversed (0, 1, .5); weights .6/.4 -> A 0, B .3 + .4 = .7, C .6 + .2 = .8
    result = weighted_sum(MATRIX, {"size": 0.6, "cost": 0.4}, BENEFIT)
    assert result["score"].tolist() == pytest.approx([0.0, 0.7, 0.8])
    assert result["rank"].tolist() == [3.0, 2.0, 1.0]
    assert result["size_contribution"].tolist() == pytest.approx([0.0, 0.3, 0.6])
    parts = result[["size_contribution", "cost_contribution"]].sum(axis=1)
    assert parts.tolist() == pytest.approx(result["score"].tolist())


def test_when_a_value_is_missing_then_weights_are_renormalised_over_available_criteria():
    matrix = MATRIX.copy()
    matrix.loc["C", "cost"] = np.nan
    result = weighted_sum(matrix, {"size": 0.6, "cost": 0.4}, BENEFIT, min_coverage=0.5)
    # cost minmax over A, B only: A 0, B 1. C has only size (=1) with weight 0.6/0.6 = 1.
    assert result.loc["C", "score"] == pytest.approx(1.0)
    assert result.loc["C", "weight_coverage"] == pytest.approx(0.6)
    assert result.loc["C", "criteria_used"] == 1
    unscored = weighted_sum(matrix, {"size": 0.6, "cost": 0.4}, BENEFIT, min_coverage=0.7)
    assert math.isnan(unscored.loc["C", "score"]) and math.isnan(unscored.loc["C", "rank"])


def test_when_a_criterion_has_no_values_then_error_asks_to_drop_it():
    matrix = MATRIX.assign(empty=np.nan)
    with pytest.raises(ValueError, match=r"criteria \['empty'\] have no value"):
        weighted_sum(matrix, {"size": 1.0, "empty": 1.0}, {**BENEFIT, "empty": True})


def test_when_scoring_by_topsis_then_scores_match_an_independent_loop_implementation():
    rows = [
        [250.0, 16.0, 12.0, 5.0],
        [200.0, 16.0, 8.0, 3.0],
        [300.0, 32.0, 16.0, 4.0],
        [275.0, 32.0, 8.0, 4.0],
    ]
    weights, benefit = [0.25, 0.25, 0.25, 0.25], [False, True, True, True]
    matrix = pd.DataFrame(rows, columns=list("wxyz"), index=list("PQRS"))
    result = topsis(matrix, dict(zip("wxyz", weights, strict=True)), dict(zip("wxyz", benefit, strict=True)))
    assert result["score"].tolist() == pytest.approx(reference_topsis(rows, weights, benefit))
    shares = result[[f"{c}_gap_share" for c in "wxyz"]].sum(axis=1)
    assert shares.tolist() == pytest.approx([1.0] * 4)


def test_when_scoring_two_markets_by_topsis_then_closeness_equals_hand_computation():
    # One benefit criterion, values 3 and 4: norm 5, v = 0.6 and 0.8; ideal 0.8, anti 0.6 -> scores 0 and 1.
    result = topsis(pd.DataFrame({"x": [3.0, 4.0]}, index=["A", "B"]), {"x": 1.0}, {"x": True})
    assert result["score"].tolist() == pytest.approx([0.0, 1.0])


def test_when_computing_kogut_singh_then_distance_matches_hand_computation():
    scores = pd.DataFrame({"pdi": [40.0, 60.0, 80.0], "idv": [90.0, 50.0, np.nan]}, index=["HOME", "X", "Y"])
    result = kogut_singh_distance(scores, "HOME")
    # sample variances: pdi 400, idv 800. X: ((20^2/400) + (40^2/800)) / 2 = 1.5;
    # Y uses pdi only: 40^2/400 = 4.
    assert result["distance"].tolist() == pytest.approx([0.0, 1.5, 4.0])
    assert result["dimensions_used"].tolist() == [2, 2, 1]


def test_when_home_market_is_unknown_then_error_lists_markets():
    with pytest.raises(ValueError, match="home market 'ZZ'"):
        kogut_singh_distance(pd.DataFrame({"pdi": [1.0]}, index=["A"]), "ZZ")


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


def test_when_planning_waves_then_attractive_close_robust_markets_go_first_with_reasons():
    ranking = pd.DataFrame({"rank": [1.0, 2.0, 3.0, 4.0], "score": [0.9, 0.8, 0.7, 0.2]}, index=list("ABCD"))
    distance = pd.DataFrame({"distance": [0.5, 3.0, np.nan, 4.0]}, index=list("ABCD"))
    robustness = pd.DataFrame({"p_top_k": [0.95, 0.9, 0.6, 0.0]}, index=list("ABCD"))
    plan = phased_entry_plan(ranking, distance, top_k=2, robustness=robustness, distance_threshold=1.0)
    assert plan["wave"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 3}
    assert "enter first" in plan.loc["A", "reason"] and "95%" in plan.loc["A", "reason"]
    assert "cultural distance is unknown" in plan.loc["C", "reason"]


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
# Whole numbers keep distinct values distinct after scaling and shifting (no float-rounding ties).
whole = st.integers(min_value=-1000, max_value=1000).map(float)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.tuples(whole, whole), min_size=3, max_size=8, unique_by=lambda t: t[0]),
    scale=st.floats(min_value=0.01, max_value=100),
    shift=st.floats(min_value=-1e3, max_value=1e3),
)
def test_when_a_criterion_is_scaled_or_shifted_then_minmax_ranks_do_not_change(values, scale, shift):
    matrix = pd.DataFrame(values, columns=["a", "b"])
    weights, benefit = {"a": 0.5, "b": 0.5}, {"a": True, "b": False}
    base = weighted_sum(matrix, weights, benefit)["score"]
    moved = weighted_sum(matrix.assign(a=matrix["a"] * scale + shift), weights, benefit)["score"]
    assert moved.to_numpy() == pytest.approx(base.to_numpy(), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.tuples(finite, finite), min_size=2, max_size=8),
    bump=st.tuples(st.floats(0.1, 50), st.floats(0.1, 50)),
    weight=st.floats(0.05, 0.95),
    method=st.sampled_from(["weighted_sum", "topsis"]),
)
def test_when_a_market_dominates_another_then_it_never_ranks_below_it(values, bump, weight, method):
    positive = [(abs(a) + 1, abs(b) + 1) for a, b in values]
    dominator = (positive[0][0] + bump[0], positive[0][1] - min(bump[1], positive[0][1] - 0.5))
    matrix = pd.DataFrame([*positive, dominator], columns=["gain", "cost"])
    scorer = weighted_sum if method == "weighted_sum" else topsis
    result = scorer(matrix, {"gain": weight, "cost": 1 - weight}, {"gain": True, "cost": False})
    assert result["score"].iloc[-1] >= result["score"].iloc[0] - 1e-12


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.tuples(finite, finite, finite), min_size=3, max_size=8),
    method=st.sampled_from(["weighted_sum", "topsis"]),
)
def test_when_a_criterion_has_zero_weight_then_it_has_no_influence(values, method):
    positive = pd.DataFrame([(abs(a) + 1, abs(b) + 1, abs(c) + 1) for a, b, c in values], columns=list("abc"))
    scorer = weighted_sum if method == "weighted_sum" else topsis
    with_zero = scorer(positive, {"a": 0.7, "b": 0.3, "c": 0.0}, {"a": True, "b": False, "c": True})["score"]
    without = scorer(positive[["a", "b"]], {"a": 0.7, "b": 0.3}, {"a": True, "b": False})["score"]
    assert with_zero.to_numpy() == pytest.approx(without.to_numpy(), abs=1e-12)


def test_when_every_pair_is_judged_then_weights_come_from_the_reciprocal_matrix():
    # a is 2x b and 4x c, b is 2x c: a consistent matrix, so the weights are (4, 2, 1) / 7 exactly.
    criteria = {"a": ("benefit", 0.0), "b": ("cost", 0.0), "c": ("benefit", 0.0)}
    weighted, result = weights_from_judgements(criteria, {"a|b": 2, "a|c": 4, "c|b": 0.5})
    assert list(weighted) == ["a", "b", "c"]
    assert [direction for direction, _ in weighted.values()] == ["benefit", "cost", "benefit"]
    assert [w for _, w in weighted.values()] == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert result.consistency_ratio == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize(
    ("judgements", "message"),
    [
        ({"a|b": 2}, r"pairs not judged \['a\|c', 'b\|c'\]"),
        ({"a|b": 2, "b|a": 0.5, "a|c": 1, "b|c": 1}, "judged twice"),
        ({"a|x": 2}, r"criteria \['x'\]"),
        ({"a-b": 2}, "'a\\|b'"),
        ({"a|b": 0, "a|c": 1, "b|c": 1}, "positive number"),
    ],
)
def test_when_judgements_are_incomplete_or_malformed_then_error_names_the_pair(judgements, message):
    criteria = {"a": ("benefit", 1.0), "b": ("benefit", 1.0), "c": ("benefit", 1.0)}
    with pytest.raises(ValueError, match=message):
        weights_from_judgements(criteria, judgements)


def test_when_saatys_wealth_of_nations_judgements_are_weighed_then_his_published_priorities_come_out():
    """Saaty's example of the relative wealth of nations (T. L. Saaty, "A scaling method for priorities in
    hierarchical structures", J. Math. Psychology 15 (1977) 234-281; reproduced in *The Analytic Hierarchy
    Process*, 1980): the printed priority vector is (.427, .230, .021, .052, .052, .123, .094) with
    lambda_max = 7.61, i.e. CI = 0.10 and, with the random index 1.32 for n = 7, CR = 0.08 (acceptable)."""
    nations = ["US", "USSR", "China", "France", "UK", "Japan", "W. Germany"]
    rows = [
        [1, 4, 9, 6, 6, 5, 5],
        [1 / 4, 1, 7, 5, 5, 3, 4],
        [1 / 9, 1 / 7, 1, 1 / 5, 1 / 5, 1 / 7, 1 / 5],
        [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
        [1 / 6, 1 / 5, 5, 1, 1, 1 / 3, 1 / 3],
        [1 / 5, 1 / 3, 7, 3, 3, 1, 2],
        [1 / 5, 1 / 4, 5, 3, 3, 1 / 2, 1],
    ]
    result = ahp_weights(pd.DataFrame(rows, index=nations, columns=nations))

    assert result.weights.round(3).tolist() == [0.427, 0.230, 0.021, 0.052, 0.052, 0.123, 0.094]
    assert round(result.lambda_max, 2) == 7.61
    assert round(result.consistency_index, 2) == 0.10
    assert round(result.consistency_ratio, 2) == 0.08
    assert result.is_consistent
