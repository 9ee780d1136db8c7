"""The readout's intervals against simulation: over 1,000 simulated experiments, 95% intervals cover the truth
93–97% of the time (delta method for relative lifts and ratio metrics, CUPED), and CUPED narrows them without bias;
always-valid intervals keep their coverage under daily peeking, and the Bayesian view matches integration.

Each test simulates all experiments at once as NumPy arrays and reads them out through the same
:func:`compare_arms` the readout uses, so 1,000 experiments cost one vectorised pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analysis.errors import ParameterError
from analysis.metrics.experiment.readout import ArmSums, Comparison, compare_arms
from analysis.metrics.experiment.sequential import always_valid_interval, chance_to_beat_control, expected_loss

EXPERIMENTS = 1_000
N_CONTROL, N_ARM = 500, 600


def _coverage(comparison: Comparison, difference: float, lift: float) -> tuple[float, float]:
    covers_difference = (comparison.difference_ci_low <= difference) & (difference <= comparison.difference_ci_high)
    covers_lift = (comparison.relative_lift_ci_low <= lift) & (lift <= comparison.relative_lift_ci_high)
    return float(covers_difference.mean()), float(covers_lift.mean())


@pytest.mark.parametrize("lift", [0.0, 0.1])
def test_when_means_are_skewed_then_welch_and_delta_method_intervals_cover_the_truth(lift):
    rng = np.random.default_rng(1)  # over seeds 0-9 the coverage averages 0.949 (difference) and 0.948 (lift)
    control = rng.gamma(2.0, 10.0, (EXPERIMENTS, N_CONTROL, 1))
    arm = rng.gamma(2.0, 10.0, (EXPERIMENTS, N_ARM, 1)) * (1 + lift)
    comparison = compare_arms(ArmSums.of(control), ArmSums.of(arm), test="welch")
    difference_coverage, lift_coverage = _coverage(comparison, 20.0 * lift, lift)
    assert 0.93 <= difference_coverage <= 0.97
    assert 0.93 <= lift_coverage <= 0.97


@pytest.mark.parametrize(("rate_control", "rate_arm"), [(0.1, 0.1), (0.1, 0.12)])
def test_when_a_metric_is_a_proportion_then_wald_and_delta_method_intervals_cover_the_truth(rate_control, rate_arm):
    rng = np.random.default_rng(13)
    control = (rng.random((EXPERIMENTS, N_CONTROL * 4, 1)) < rate_control).astype(float)
    arm = (rng.random((EXPERIMENTS, N_ARM * 4, 1)) < rate_arm).astype(float)
    comparison = compare_arms(ArmSums.of(control), ArmSums.of(arm), test="proportions")
    difference_coverage, lift_coverage = _coverage(comparison, rate_arm - rate_control, rate_arm / rate_control - 1)
    assert 0.93 <= difference_coverage <= 0.97
    assert 0.93 <= lift_coverage <= 0.97


def _sessions_and_purchases(rng: np.random.Generator, units: int, rate: float) -> np.ndarray:
    """Per-unit purchasing sessions and sessions; each user's propensity varies, so sessions are not independent."""
    sessions = rng.poisson(2.0, (EXPERIMENTS, units)) + 1
    propensity = np.clip(rate * rng.gamma(4.0, 0.25, (EXPERIMENTS, units)), 0, 1)
    return np.stack([rng.binomial(sessions, propensity), sessions], axis=-1).astype(float)


@pytest.mark.parametrize(("rate_control", "rate_arm"), [(0.1, 0.1), (0.1, 0.1175)])
def test_when_a_metric_is_a_ratio_then_delta_method_intervals_cover_the_truth(rate_control, rate_arm):
    rng = np.random.default_rng(14)
    control = _sessions_and_purchases(rng, N_CONTROL, rate_control)
    arm = _sessions_and_purchases(rng, N_ARM, rate_arm)
    comparison = compare_arms(ArmSums.of(control), ArmSums.of(arm), metric=(0, 1), test="z")
    difference_coverage, lift_coverage = _coverage(comparison, rate_arm - rate_control, rate_arm / rate_control - 1)
    assert 0.93 <= difference_coverage <= 0.97
    assert 0.93 <= lift_coverage <= 0.97


def _pre_and_post(rng: np.random.Generator, units: int, effect: float) -> np.ndarray:
    """Per-unit (post, pre) revenue correlated through each user's level: correlation about 0.8."""
    level = rng.gamma(2.0, 10.0, (EXPERIMENTS, units))
    pre = level + rng.normal(0, 6.0, level.shape)
    post = level + rng.normal(0, 6.0, level.shape) + effect
    return np.stack([post, pre], axis=-1)


@pytest.mark.parametrize("effect", [0.0, 2.0])
def test_when_a_correlated_covariate_is_given_then_cuped_covers_the_truth_narrower_and_without_bias(effect):
    rng = np.random.default_rng(15)
    control, arm = ArmSums.of(_pre_and_post(rng, N_CONTROL, 0.0)), ArmSums.of(_pre_and_post(rng, N_ARM, effect))
    cuped = compare_arms(control, arm, metric=(0,), covariate=(1,), test="welch")
    raw = compare_arms(control, arm, metric=(0,), test="welch")
    difference_coverage, lift_coverage = _coverage(cuped, effect, effect / 20.0)
    assert 0.93 <= difference_coverage <= 0.97
    assert 0.93 <= lift_coverage <= 0.97
    # unbiased: the mean estimate over 1,000 experiments is within 4 standard errors of the truth
    assert abs(cuped.difference.mean() - effect) < 4 * cuped.difference.std() / np.sqrt(EXPERIMENTS)
    assert abs(cuped.relative_lift.mean() - effect / 20.0) < 4 * cuped.relative_lift.std() / np.sqrt(EXPERIMENTS)
    # narrower: var(level) = 200, noise 36, so ρ = 200/236 and the variance shrinks by ρ² ≈ 0.72
    width = cuped.difference_ci_high - cuped.difference_ci_low
    assert (width < raw.difference_ci_high - raw.difference_ci_low).all()
    assert cuped.variance_reduction.mean() == pytest.approx((200 / 236) ** 2, abs=0.02)
    assert cuped.difference.std() < 0.6 * raw.difference.std()


def test_when_a_ratio_metric_has_a_ratio_covariate_then_cuped_covers_the_truth_and_narrows():
    rng = np.random.default_rng(16)

    def units(count: int, rate: float) -> np.ndarray:
        propensity = 0.1 * rng.gamma(1.0, 1.0, (EXPERIMENTS, count))  # users differ: pre-period predicts
        sessions_pre, sessions = (rng.poisson(8.0, (EXPERIMENTS, count)) + 1 for _ in range(2))
        purchases_pre = rng.binomial(sessions_pre, np.clip(propensity, 0, 1))
        purchases = rng.binomial(sessions, np.clip(propensity * rate / 0.1, 0, 1))
        return np.stack([purchases, sessions, purchases_pre, sessions_pre], axis=-1).astype(float)

    control, arm = ArmSums.of(units(N_CONTROL, 0.1)), ArmSums.of(units(N_ARM, 0.1175))
    cuped = compare_arms(control, arm, metric=(0, 1), covariate=(2, 3), test="z")
    raw = compare_arms(control, arm, metric=(0, 1), test="z")
    difference_coverage, lift_coverage = _coverage(cuped, 0.0175, 0.175)
    assert 0.93 <= difference_coverage <= 0.97
    assert 0.93 <= lift_coverage <= 0.97
    assert cuped.variance_reduction.mean() > 0.1
    assert abs(cuped.difference.mean() - 0.0175) < 4 * cuped.difference.std() / np.sqrt(EXPERIMENTS)
    assert cuped.difference.std() < raw.difference.std()


def test_when_n_is_the_tuning_size_then_the_half_width_is_the_hand_computed_one():
    # α = 0.05: ρ² = (5.991465 + log(6.991465)) / 5000 = 7.936113 / 5000; Nρ² = 7.936113
    n_rho = 7.936113
    width = 2 * (n_rho + 1) * math.log(math.sqrt(n_rho + 1) / 0.05) / (5000 * n_rho)
    low, high = always_valid_interval(0.3, 0.1, 5000)
    assert high - 0.3 == pytest.approx(0.1 * math.sqrt(5000 * width), rel=1e-6)
    assert high - 0.3 == pytest.approx(0.1 * 3.0352, rel=1e-4)  # 3.04 standard errors vs 1.96 for one look
    assert 0.3 - low == pytest.approx(high - 0.3)


def test_when_sizes_grow_then_the_interval_is_always_wider_than_the_fixed_horizon_one():
    n = np.array([100, 1_000, 5_000, 50_000, 1_000_000])
    low, high = always_valid_interval(np.zeros(5), 1 / np.sqrt(n), n)
    assert (high * np.sqrt(n) > 1.959964).all()


def test_when_an_a_a_test_is_peeked_at_fifty_times_then_the_always_valid_interval_rarely_excludes_zero():
    rng = np.random.default_rng(21)
    experiments, looks, step = 1_000, 50, 100
    control = rng.normal(0, 1, (experiments, looks * step)).cumsum(axis=1)[:, step - 1 :: step]
    arm_values = rng.normal(0, 1, (experiments, looks * step))
    arm = arm_values.cumsum(axis=1)[:, step - 1 :: step]
    n_each = step * np.arange(1, looks + 1)
    difference = (arm - control) / n_each
    se = np.sqrt(2 / n_each)  # unit variance in both arms
    low, high = always_valid_interval(difference, se, 2 * n_each)
    ever_wrong = ((low > 0) | (high < 0)).any(axis=1).mean()
    naive_ever_wrong = (np.abs(difference / se) > 1.959964).any(axis=1).mean()
    assert ever_wrong <= 0.05
    assert naive_ever_wrong > 0.15  # why the sequential view exists


def test_when_the_posterior_is_normal_then_chance_and_loss_match_numerical_integration():
    mu, sigma = 0.02, 0.015
    assert chance_to_beat_control(mu, sigma) == pytest.approx(stats.norm.sf(0, mu, sigma))
    loss_arm = integrate.quad(lambda x: -x * stats.norm.pdf(x, mu, sigma), -1, 0)[0]
    loss_control = integrate.quad(lambda x: x * stats.norm.pdf(x, mu, sigma), 0, 1)[0]
    assert expected_loss(mu, sigma) == pytest.approx(loss_arm, rel=1e-6)
    assert expected_loss(mu, sigma, choose="control") == pytest.approx(loss_control, rel=1e-6)


def test_when_arguments_are_impossible_then_parameter_errors_name_them():
    with pytest.raises(ParameterError) as error:
        always_valid_interval(0.1, 0.1, 100, alpha=0)
    assert error.value.parameter == "alpha"
    with pytest.raises(ParameterError) as error:
        expected_loss(0.1, 0.1, choose="treatment")
    assert error.value.parameter == "choose"
