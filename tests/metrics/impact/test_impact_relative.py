"""Relative effects against a hand-computed delta-method example and a coverage simulation; the verdict's branches by
hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.errors import ParameterError
from analysis.metrics.impact.relative import relative_effect, verdict


def test_when_att_and_level_are_correlated_then_the_delta_method_se_is_the_hand_computed_one():
    # att 2 ± 0.5, treated level 12 ± 0.3, Cov = 0.05: C = 10, r = 0.2. Gradient of att / (Y − att):
    # ∂r/∂att = Y / C² = 0.12, ∂r/∂Y = −att / C² = −0.02, so
    # Var r = 0.12²·0.25 + 0.02²·0.09 − 2·0.12·0.02·0.05 = 0.0036 + 0.000036 − 0.00024 = 0.003396.
    result = relative_effect(2.0, 0.5, 12.0, 0.3, 0.05)

    assert result.estimate == pytest.approx(0.2, abs=1e-15)
    assert result.counterfactual_level == 10.0
    assert result.se == pytest.approx(math.sqrt(0.003396), abs=1e-12)
    assert result.ci_low == pytest.approx(0.2 - 1.959963984540054 * math.sqrt(0.003396), abs=1e-12)
    assert result.ci_high == pytest.approx(0.2 + 1.959963984540054 * math.sqrt(0.003396), abs=1e-12)
    assert result.scale == "delta"


def test_when_the_level_is_known_and_scale_is_log_then_the_interval_comes_from_the_log_ratio():
    # Y = 12 known, att 2 ± 0.5: log(Y / C) has se 0.5 / 10 = 0.05 (Var C / C²); the interval maps back by exp − 1.
    result = relative_effect(2.0, 0.5, 12.0, scale="log")

    assert result.se == pytest.approx(0.12 * 0.5, abs=1e-15)
    assert result.ci_low == pytest.approx(math.exp(math.log(1.2) - 1.959963984540054 * 0.05) - 1, abs=1e-12)
    assert result.ci_high == pytest.approx(math.exp(math.log(1.2) + 1.959963984540054 * 0.05) - 1, abs=1e-12)


def test_when_df_is_given_then_the_interval_uses_students_t():
    result = relative_effect(2.0, 0.5, 12.0, df=7)

    assert result.ci_high - result.estimate == pytest.approx(2.364624251592785 * 0.06, abs=1e-12)


@pytest.mark.parametrize("scale", ["delta", "log"])
def test_when_estimates_are_simulated_then_the_95_percent_interval_covers_about_95_percent(scale):
    rng = np.random.default_rng(7)
    att_true, level_true, att_se, level_se = 1.5, 11.5, 0.4, 0.3  # true relative effect 1.5 / 10 = 15%
    truth = att_true / (level_true - att_true)
    covered = 0
    draws = 4000
    for att, level in zip(rng.normal(att_true, att_se, draws), rng.normal(level_true, level_se, draws), strict=True):
        result = relative_effect(att, att_se, level, level_se, scale=scale)
        covered += result.ci_low <= truth <= result.ci_high
    assert 0.935 <= covered / draws <= 0.965


def test_when_the_counterfactual_is_zero_or_the_scale_unknown_then_a_parameter_error_says_so():
    with pytest.raises(ParameterError, match="counterfactual level"):
        relative_effect(5.0, 1.0, 5.0)
    with pytest.raises(ParameterError, match="scale='logit'"):
        relative_effect(1.0, 1.0, 5.0, scale="logit")


@pytest.mark.parametrize(
    ("ci", "estimate", "target", "status", "position"),
    [
        ((0.16, 0.22), 0.19, (0.15, 0.20), "met", "within"),
        ((0.15, 0.22), 0.185, (0.20, 0.15), "met", "within"),  # touches the near end; range given high to low
        ((0.02, 0.149), 0.08, (0.15, 0.20), "missed", "below"),
        ((0.10, 0.30), 0.21, (0.15, 0.20), "inconclusive", "above"),
        ((0.10, 0.15), 0.125, (0.15, 0.20), "inconclusive", "below"),  # touches from below: not missed
        ((-0.33, -0.26), -0.29, (-0.25, -0.30), "met", "within"),
        ((-0.40, -0.25), -0.32, (-0.30, -0.25), "met", "above"),  # touches the near end −0.25
        ((-0.24, -0.10), -0.17, (-0.25, -0.30), "missed", "below"),
        ((-0.25, -0.10), -0.17, (-0.25, -0.30), "inconclusive", "below"),  # ci_low = −0.25 is not > −0.25
        ((-0.35, -0.20), -0.30, (-0.25, -0.30), "inconclusive", "within"),
    ],
)
def test_when_an_interval_meets_a_target_range_then_the_verdict_follows_its_near_end(
    ci, estimate, target, status, position
):
    result = verdict(ci[0], ci[1], estimate, target[0], target[1])

    assert (result.status, result.position) == (status, position)
    assert result.near_end == (min(target) if min(target) > 0 else max(target))


def test_when_the_range_straddles_zero_or_the_interval_is_reversed_then_a_parameter_error_says_so():
    with pytest.raises(ParameterError, match="includes zero"):
        verdict(0.1, 0.2, 0.15, -0.1, 0.2)
    with pytest.raises(ParameterError, match="reversed"):
        verdict(0.3, 0.2, 0.25, 0.1, 0.2)
    with pytest.raises(ParameterError, match="ci_low"):
        verdict(float("nan"), 0.2, 0.25, 0.1, 0.2)
