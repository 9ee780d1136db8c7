"""The sBG fit reproduces Fader & Hardie (2007), a hand example and its own identities; its intervals cover."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln

from analysis.metrics.retention import SbgFitError, fit_shifted_beta_geometric, sbg_log_likelihood

# Fader & Hardie (2007), Table 1 and section 4: the "regular" segment is the one losing 37% after one year.
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


def brute_force_log_likelihood(alpha: float, beta: float, counts: list[int]) -> float:
    """The likelihood written out from the probabilities, P(T = t) recursively as in FH 2007 equation (3)."""
    p = [None, alpha / (alpha + beta)]
    for t in range(2, len(counts)):
        p.append(p[-1] * (beta + t - 2) / (alpha + beta + t - 1))
    survival = 1 - sum(p[1:])
    lost = sum((counts[t - 1] - counts[t]) * np.log(p[t]) for t in range(1, len(counts)))
    return lost + counts[-1] * np.log(survival)


def test_when_the_high_end_segment_is_fitted_then_fader_hardie_2007_is_reproduced():
    fit = fit_shifted_beta_geometric(HIGH_END)
    assert fit.params["alpha"] == pytest.approx(0.668, abs=5e-4)
    assert fit.params["beta"] == pytest.approx(3.806, abs=5e-4)
    assert fit.log_likelihood == pytest.approx(-1611.2, abs=0.05)
    assert fit.log_likelihood == pytest.approx(brute_force_log_likelihood(0.668, 3.806, HIGH_END), abs=0.05)


def test_when_the_regular_segment_is_fitted_then_fader_hardie_2007_is_reproduced():
    fit = fit_shifted_beta_geometric(REGULAR)
    assert fit.params["alpha"] == pytest.approx(0.704, abs=5e-4)
    assert fit.params["beta"] == pytest.approx(1.182, abs=5e-4)
    best = brute_force_log_likelihood(fit.params["alpha"], fit.params["beta"], REGULAR)
    assert fit.log_likelihood == pytest.approx(best, abs=1e-6)
    assert fit.log_likelihood == pytest.approx(-1680.3, abs=0.05)


def test_when_the_likelihood_is_evaluated_then_it_equals_the_brute_force_sum():
    assert sbg_log_likelihood(0.5, 2.0, REGULAR) == pytest.approx(brute_force_log_likelihood(0.5, 2.0, REGULAR))


def test_when_a_grid_of_parameters_is_searched_then_no_point_beats_the_fit():
    fit = fit_shifted_beta_geometric(HIGH_END)
    grid = [(a, b) for a in np.linspace(0.5, 0.85, 36) for b in np.linspace(2.5, 5.5, 61)]
    assert max(brute_force_log_likelihood(a, b, HIGH_END) for a, b in grid) <= fit.log_likelihood + 1e-9


def test_when_two_periods_are_fitted_by_hand_then_survival_is_the_product_of_retention_rates():
    # 100 -> 60 -> 40: P(T=1) = a/(a+b), r(2) = (b+1)/(a+b+1); the MLE makes them 0.4 and 40/60 exactly.
    fit = fit_shifted_beta_geometric([100, 60, 40])
    alpha, beta = fit.params["alpha"], fit.params["beta"]
    assert alpha / (alpha + beta) == pytest.approx(0.4, abs=1e-5)
    assert (beta + 1) / (alpha + beta + 1) == pytest.approx(40 / 60, abs=1e-5)
    # hand solution: b/(a+b) = 0.6 and (b+1)/(a+b+1) = 2/3 give a = 2, b = 3
    assert (alpha, beta) == pytest.approx((2.0, 3.0), abs=1e-3)
    t = np.arange(1, 13)
    assert fit.survival(t) == pytest.approx(np.cumprod(fit.retention(t)))
    assert fit.survival(0) == pytest.approx(1.0)
    assert fit.survival(3) == pytest.approx(np.exp(betaln(2, 6) - betaln(2, 3)), rel=1e-3)


def test_when_several_cohorts_are_fitted_then_a_doubled_weight_equals_the_cohort_given_twice():
    weighted = fit_shifted_beta_geometric([HIGH_END, [500, 420, 370]], weights=[2.0, 1.0])
    repeated = fit_shifted_beta_geometric([HIGH_END, HIGH_END, [500, 420, 370]])
    assert weighted.params == pytest.approx(repeated.params, rel=1e-5)
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-9)
    assert weighted.cohorts == 2 and weighted.periods == 7


def test_when_a_fit_is_made_then_standard_errors_come_from_the_inverse_hessian():
    fit = fit_shifted_beta_geometric(HIGH_END)
    step, (la, lb) = 1e-4, fit.log_params

    def ll(x, y):
        return sbg_log_likelihood(np.exp(x), np.exp(y), HIGH_END)

    h = np.array(
        [
            [(ll(la + step, lb) - 2 * ll(la, lb) + ll(la - step, lb)) / step**2, 0.0],
            [0.0, (ll(la, lb + step) - 2 * ll(la, lb) + ll(la, lb - step)) / step**2],
        ]
    )
    h[0, 1] = h[1, 0] = (
        ll(la + step, lb + step) - ll(la + step, lb - step) - ll(la - step, lb + step) + ll(la - step, lb - step)
    ) / (4 * step**2)
    covariance = np.diag(np.exp(fit.log_params)) @ np.linalg.inv(-h) @ np.diag(np.exp(fit.log_params))
    assert fit.se["alpha"] == pytest.approx(np.sqrt(covariance[0, 0]), rel=1e-3)
    assert fit.se["beta"] == pytest.approx(np.sqrt(covariance[1, 1]), rel=1e-3)
    assert fit.covariance.loc["alpha", "beta"] == pytest.approx(covariance[0, 1], rel=1e-3)


def test_when_cohorts_are_drawn_from_a_known_sbg_then_projected_survival_intervals_cover_the_truth():
    rng = np.random.default_rng(7)
    alpha, beta, size, periods, horizon = 0.668, 3.806, 1000, 7, 12
    truth = np.exp(betaln(alpha, beta + horizon) - betaln(alpha, beta))
    lifetimes_truth = None
    covered = remaining_covered = 0
    draws = 120
    for _ in range(draws):
        churn = rng.beta(alpha, beta, size)
        lifetime = rng.geometric(churn)  # periods until lost, >= 1
        counts = [int((lifetime > t).sum()) for t in range(periods + 1)]
        fit = fit_shifted_beta_geometric(counts)
        row = fit.projected_survival([horizon]).iloc[0]
        covered += row["survival_ci_low"] <= truth <= row["survival_ci_high"]
        remaining = fit.expected_remaining_periods(tenure=periods, horizon=12)
        if lifetimes_truth is None:
            s = np.exp(betaln(alpha, beta + np.arange(periods, periods + 13)) - betaln(alpha, beta))
            lifetimes_truth = float(np.sum(s[1:] / s[0]))
        remaining_covered += remaining["periods_ci_low"] <= lifetimes_truth <= remaining["periods_ci_high"]
    assert 0.90 <= covered / draws <= 0.99
    assert 0.90 <= remaining_covered / draws <= 0.99


def test_when_remaining_periods_are_asked_then_they_sum_conditional_survival():
    fit = fit_shifted_beta_geometric(HIGH_END)
    remaining = fit.expected_remaining_periods(tenure=7, horizon=3, discount_rate=0.1)
    s = fit.survival(np.arange(7, 11))
    expected = sum(s[t] / s[0] / 1.1**t for t in (1, 2, 3))
    assert remaining["periods"] == pytest.approx(expected)
    assert remaining["periods_ci_low"] < expected < remaining["periods_ci_high"]


@pytest.mark.parametrize(
    "survivors, fragment",
    [
        ([100], "at least two periods"),
        ([100, 120, 80], "rise"),
        ([0, 0], "start above 0"),
        ([100, 100, 100], "no member"),
        ([[100, 80], [50]], "cohort 1"),
    ],
)
def test_when_counts_cannot_be_fitted_then_a_named_error_gives_advice(survivors, fragment):
    with pytest.raises(SbgFitError, match=fragment) as caught:
        fit_shifted_beta_geometric(survivors)
    assert caught.value.parameter == "survivors"


def test_when_retention_does_not_change_with_tenure_then_the_fit_reports_no_convergence():
    # exactly geometric: 1000 * 0.8**t, beta/alpha -> infinity with their ratio fixed
    with pytest.raises(SbgFitError, match="did not converge|flat|not at a maximum"):
        fit_shifted_beta_geometric([1000 * 0.8**t for t in range(12)])
