"""Sample-ratio mismatch on known counts, checked by hand and against SciPy."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from analysis.errors import ParameterError
from analysis.metrics.experiment.srm import sample_ratio_mismatch


def test_when_the_split_is_exactly_as_planned_then_chi_square_is_zero_and_nothing_is_flagged():
    check = sample_ratio_mismatch({"control": 500, "treatment": 500}, {"control": 0.5, "treatment": 0.5})
    assert (check.statistic, check.p_value, check.flagged) == (0.0, 1.0, False)


def test_when_counts_are_known_then_statistic_is_the_hand_computed_chi_square():
    # expected 5,000 each: (5,100 − 5,000)²/5,000 · 2 = 4, one degree of freedom: p = erfc(sqrt(4/2))
    check = sample_ratio_mismatch([5_100, 4_900], [0.5, 0.5])
    assert check.statistic == pytest.approx(4.0)
    assert check.p_value == pytest.approx(math.erfc(math.sqrt(2.0)))
    assert not check.flagged


def test_when_the_split_is_far_off_then_the_test_is_flagged():
    # 10,300 vs 9,700 on a 50/50 design: chi-square 18, p ≈ 2.2e-5 < 0.001
    check = sample_ratio_mismatch({"control": 10_300, "treatment": 9_700}, {"treatment": 0.5, "control": 0.5})
    assert check.statistic == pytest.approx(18.0)
    assert check.flagged


@pytest.mark.parametrize(
    ("counts", "shares"),
    [([1_000, 1_010, 950], [1 / 3, 1 / 3, 1 / 3]), ([820, 180], [0.8, 0.2]), ([40, 61], [0.5, 0.5])],
)
def test_when_counts_vary_then_statistic_and_p_value_match_scipy(counts, shares):
    check = sample_ratio_mismatch(counts, shares)
    expected = stats.chisquare(counts, [sum(counts) * s for s in shares])
    assert (check.statistic, check.p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert check.flagged == (expected.pvalue < 0.001)


@pytest.mark.parametrize(
    ("counts", "shares"),
    [
        ({"control": 5, "treatment": 5}, {"control": 0.5, "b": 0.5}),
        ([5, 5], [0.6, 0.6]),
        ([5, 5], [1.0]),
        ({"control": 5, "treatment": 5}, [0.5, 0.5]),
    ],
)
def test_when_shares_do_not_fit_the_counts_then_a_parameter_error_is_raised(counts, shares):
    with pytest.raises(ParameterError) as error:
        sample_ratio_mismatch(counts, shares)
    assert error.value.parameter == "expected_shares"
