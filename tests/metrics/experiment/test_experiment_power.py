"""Power and sample size against the textbook formula, statsmodels and a simulation-free hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize, samplesize_proportions_2indep_onetail

from analysis.errors import ParameterError
from analysis.metrics.experiment.power import minimum_detectable_effect, sample_size


def test_when_the_baseline_is_ten_percent_and_the_lift_twenty_percent_then_3841_units_per_arm():
    # by hand: pooled 0.11; (1.959964·sqrt(0.11·0.89·2) + 0.841621·sqrt(0.1·0.9 + 0.12·0.88))² / 0.02² = 3,840.3
    assert sample_size(0.10, 0.20) == 3841
    assert sample_size(0.10, 0.02, relative=False) == 3841


@pytest.mark.parametrize(
    ("baseline", "mde", "alpha", "power", "ratio"),
    [
        (0.10, 0.20, 0.05, 0.8, 1.0),
        (0.032, 0.175, 0.05, 0.8, 1.0),
        (0.5, -0.05, 0.01, 0.9, 1.0),
        (0.2, 0.1, 0.05, 0.8, 2.0),
    ],
)
def test_when_planning_a_test_then_sample_size_matches_statsmodels(baseline, mde, alpha, power, ratio):
    target = baseline * (1 + mde)
    # statsmodels' sample 1 is control here: p1 = prop2 + diff = baseline, nobs2 = ratio · nobs1
    expected = samplesize_proportions_2indep_onetail(baseline - target, target, power, ratio=ratio, alpha=alpha)
    assert sample_size(baseline, mde, alpha=alpha, power=power, ratio=ratio) == math.ceil(expected)


def test_when_planning_a_test_then_cohens_h_agrees_within_one_percent():
    h = proportion_effectsize(0.032 * 1.175, 0.032)
    cohen = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=1.0)
    assert sample_size(0.032, 0.175) == pytest.approx(cohen, rel=0.01)


@pytest.mark.parametrize(("n_control", "n_arm"), [(1_000, 1_000), (5_000, 2_500), (120, 480)])
def test_when_sizes_and_variance_are_known_then_statsmodels_gives_that_mde_the_asked_power(n_control, n_arm):
    standard_deviation = 12.0
    mde = minimum_detectable_effect(n_control, n_arm, standard_deviation**2)
    # statsmodels' power at that effect is 0.8, plus the far tail of the two-sided test (below 1e-5)
    power = NormalIndPower().power(mde / standard_deviation, n_control, alpha=0.05, ratio=n_arm / n_control)
    assert power == pytest.approx(0.8, abs=1e-5)
    assert power >= 0.8


def test_when_a_proportion_is_tested_then_mde_is_the_hand_computed_difference():
    # p = 0.1, 1,000 per arm: (1.959964 + 0.841621) · sqrt(0.09 · 2 / 1000) = 0.037587
    assert minimum_detectable_effect(1000, 1000, 0.09) == pytest.approx(2.801585 * math.sqrt(0.00018), rel=1e-6)
    both = minimum_detectable_effect(np.array([1000, 4000]), np.array([1000, 4000]), 0.09)
    assert both[1] == pytest.approx(both[0] / 2)


def test_when_the_mde_is_the_one_a_size_can_see_then_sample_size_gives_that_size_back():
    n = sample_size(0.1, 0.2)
    # the MDE at n per arm, with the variance under the alternative, is close to the 0.02 asked for
    assert minimum_detectable_effect(n, n, 0.5 * (0.09 + 0.12 * 0.88)) == pytest.approx(0.02, rel=0.01)


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"baseline": 0.0, "mde": 0.1}, "baseline"),
        ({"baseline": 0.5, "mde": 0.0}, "mde"),
        ({"baseline": 0.9, "mde": 0.2}, "mde"),
        ({"baseline": 0.1, "mde": 0.1, "ratio": 0}, "ratio"),
        ({"baseline": 0.1, "mde": 0.1, "alpha": 1.5}, "alpha"),
        ({"baseline": 0.1, "mde": 0.1, "power": 1.0}, "power"),
    ],
)
def test_when_a_planning_argument_is_impossible_then_a_parameter_error_names_it(arguments, parameter):
    with pytest.raises(ParameterError) as error:
        sample_size(**arguments)
    assert error.value.parameter == parameter
