"""Criteria weights: validation, Saaty's AHP and weights from pairwise judgements."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.metrics.market_entry import ahp_weights, validate_weights, weights_from_judgements
from analysis.metrics.market_entry.weights import SAATY_RANDOM_INDEX, criteria_from_mapping


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


def test_when_a_direction_is_neither_benefit_nor_cost_then_the_error_carries_the_valid_directions():
    message = "criterion 'lpi_score': direction 'good' must be 'benefit' or 'cost'"
    with pytest.raises(ParameterError, match=message) as e:
        criteria_from_mapping({"lpi_score": ("good", 1.0)})
    assert (e.value.parameter, e.value.value, e.value.valid) == ("criteria", "good", ("benefit", "cost"))


def test_when_a_weight_is_negative_then_the_error_carries_the_offending_weights():
    with pytest.raises(ParameterError) as e:
        validate_weights({"a": -1.0, "b": 2.0})
    assert (e.value.parameter, e.value.value) == ("weights", {"a": -1.0})
    assert isinstance(e.value, ValueError) and e.value.exit_code == 2


def test_when_a_pair_is_not_judged_then_the_error_carries_the_missing_pairs():
    criteria = {"a": ("benefit", 1.0), "b": ("benefit", 1.0), "c": ("benefit", 1.0)}
    with pytest.raises(ParameterError) as e:
        weights_from_judgements(criteria, {"a|b": 2})
    assert (e.value.parameter, e.value.value) == ("judgements", ["a|c", "b|c"])


def test_when_judgements_are_inconsistent_then_the_error_carries_the_ratio_and_the_limit():
    # The closed-form case above: CR = 0.25 / 0.58.
    comparisons = pd.DataFrame(
        [[1, 1, 8], [1, 1, 1], [1 / 8, 1, 1]], index=list("abc"), columns=list("abc"), dtype=float
    )
    with pytest.raises(ParameterError) as e:
        ahp_weights(comparisons)
    assert e.value.parameter == "comparisons"
    assert e.value.value == pytest.approx(0.25 / 0.58)
    assert e.value.valid == "<= 0.1"
