"""Scoring a decision matrix: normalisation, weighted sum and TOPSIS, with the missing-value rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import DataError, ParameterError
from analysis.metrics.market_entry import normalise, score_markets, topsis, weighted_sum

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


def test_when_the_method_is_unknown_then_the_error_lists_the_methods():
    with pytest.raises(ParameterError, match=r"method 'electre'; use one of \['topsis', 'weighted_sum'\]") as e:
        score_markets(MATRIX, {"size": 1.0, "cost": 1.0}, BENEFIT, "electre")
    assert (e.value.parameter, e.value.value, e.value.valid) == ("method", "electre", ["topsis", "weighted_sum"])


def test_when_the_normalisation_is_unknown_then_the_error_lists_the_normalisations():
    with pytest.raises(ParameterError, match=r"normalisation 'rank'; use one of \('minmax', 'zscore'\)") as e:
        weighted_sum(MATRIX, {"size": 1.0, "cost": 1.0}, BENEFIT, normalisation="rank")
    assert (e.value.parameter, e.value.valid) == ("normalisation", ("minmax", "zscore"))


def test_when_a_market_appears_twice_then_a_data_error_names_it():
    matrix = pd.concat([MATRIX, MATRIX.loc[["A"]]])
    with pytest.raises(DataError, match=r"duplicated markets \['A'\]") as e:
        weighted_sum(matrix, {"size": 1.0, "cost": 1.0}, BENEFIT)
    assert (e.value.column, e.value.value) == ("market", ["A"])


def test_when_a_criterion_is_zero_everywhere_then_topsis_raises_a_data_error_naming_it():
    with pytest.raises(DataError, match=r"TOPSIS: criteria \['cost'\] are zero for every market"):
        topsis(MATRIX.assign(cost=0.0), {"size": 1.0, "cost": 1.0}, BENEFIT)
