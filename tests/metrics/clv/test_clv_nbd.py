"""The NBD model, BG/NBD's no-dropout limit: likelihood by hand and by integration, the limit, recovery, its errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.optimize import approx_fprime
from scipy.special import gammaln
from scipy.stats import gamma as gamma_distribution
from scipy.stats import poisson

from analysis.metrics.clv import (
    ModelFitError,
    NoDropoutError,
    expected_purchases,
    fit_bg_nbd,
    fit_nbd,
    nbd_expected_purchases,
    nbd_log_likelihood,
)
from analysis.metrics.clv.bg_nbd import _log_likelihood as bg_nbd_log_likelihood
from analysis.metrics.clv.nbd import _negative_and_gradient


@pytest.fixture(scope="module")
def poisson_gamma() -> pd.DataFrame:
    """20,000 customers who never drop out: λ ~ Gamma(r = 0.8, α = 10), purchases Poisson(λ) per week, 20-78 weeks."""
    rng = np.random.default_rng(3)
    n = 20_000
    age = rng.integers(20, 79, size=n).astype(float)
    x = rng.poisson(rng.gamma(0.8, 1 / 10.0, size=n) * age)
    last = np.array([np.floor(rng.uniform(0, t, size=k).max()) if k else 0.0 for k, t in zip(x, age, strict=True)])
    return pd.DataFrame({"frequency": x, "recency": last, "T": age})


def test_when_no_customer_drops_out_then_the_nbd_likelihood_is_worked_out_by_hand():
    # x = 0, r = 2, α = 4, T = 4: 2 log(4 / 8)
    # x = 1: log Γ(3) − log Γ(2) + 2 log 4 − 3 log 8 = log 2 + 4 log 2 − 9 log 2
    values = nbd_log_likelihood(np.array([2.0, 4.0]), [0, 1], [4.0, 4.0])
    np.testing.assert_allclose(values, [2 * np.log(0.5), -4 * np.log(2)], rtol=1e-14)


def test_when_the_count_probability_is_integrated_over_the_gamma_rates_then_it_matches_the_likelihood():
    # ∫ Poisson(x; λT) Gamma(λ; r, α) dλ = exp(ℓ) T^x / x!: the likelihood of purchase times differs by that factor
    r, alpha = 0.7, 3.0
    for x, age in ((0, 5.0), (1, 2.0), (4, 10.0), (9, 7.5)):

        def density(rate: float, x: int = x, age: float = age) -> float:
            return poisson.pmf(x, rate * age) * gamma_distribution.pdf(rate, r, scale=1 / alpha)

        integral, _ = quad(density, 0, np.inf)
        ours = nbd_log_likelihood(np.array([r, alpha]), [x], [age])[0] + x * np.log(age) - gammaln(x + 1)
        assert ours == pytest.approx(np.log(integral), rel=1e-8), (x, age)


def test_when_bg_nbd_dropout_goes_to_zero_with_b_fixed_large_then_its_likelihood_becomes_the_nbd_one():
    x, t_x, age = np.array([0.0, 1, 3, 12]), np.array([0.0, 4, 20, 30]), np.array([10.0, 30, 40, 52])
    nbd = nbd_log_likelihood(np.array([0.8, 12.0]), x, age)
    gaps = [np.max(np.abs(bg_nbd_log_likelihood(np.array([0.8, 12.0, a, 500.0]), x, t_x, age) - nbd)) for a in
            (1e-2, 1e-4, 1e-6, 1e-9)]  # fmt: skip
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-8


def test_when_bg_nbd_dropout_goes_to_zero_then_its_expected_purchases_become_the_nbd_ones():
    x, t_x, age = np.array([0.0, 1, 3, 12]), np.array([0.0, 4, 20, 30]), np.array([10.0, 30, 40, 52])
    limit = pd.Series({"r": 0.8, "alpha": 12.0, "a": 1e-8, "b": 500.0})
    ours = nbd_expected_purchases(pd.Series({"r": 0.8, "alpha": 12.0}), 26.0, x, age)
    np.testing.assert_allclose(ours, (0.8 + x) / (12.0 + age) * 26.0, rtol=1e-14)
    np.testing.assert_allclose(expected_purchases(limit, 26.0, x, t_x, age), ours, rtol=1e-6)


def test_when_the_gradient_is_checked_against_finite_differences_then_it_agrees():
    x, age, counts = np.array([0.0, 1, 5]), np.array([10.0, 20, 52]), np.array([3.0, 2.0, 1.0])
    at = np.log([0.6, 7.0])
    numeric = approx_fprime(at, lambda v: _negative_and_gradient(v, x, age, counts)[0], 1e-7)
    np.testing.assert_allclose(_negative_and_gradient(at, x, age, counts)[1], numeric, rtol=1e-5)


def test_when_data_are_simulated_from_known_rates_then_the_fit_recovers_them_within_3_standard_errors(poisson_gamma):
    fit = fit_nbd(poisson_gamma["frequency"], poisson_gamma["T"])
    assert fit.converged and fit.n_customers == 20_000
    for name, truth in (("r", 0.8), ("alpha", 10.0)):
        assert abs(fit.params[name] - truth) < 3 * fit.se[name], (name, fit.params[name], fit.se[name])
    assert fit.se["r"] < 0.05 * fit.params["r"]  # 20,000 customers pin r to a few per cent


def test_when_bg_nbd_is_fitted_on_customers_who_never_drop_out_then_it_says_so_and_the_nbd_fit_succeeds(
    poisson_gamma,
):
    with pytest.raises(NoDropoutError, match="runs towards no dropout") as raised:
        fit_bg_nbd(poisson_gamma["frequency"], poisson_gamma["recency"], poisson_gamma["T"])
    assert isinstance(raised.value, ModelFitError) and raised.value.parameter == "a"
    assert fit_nbd(poisson_gamma["frequency"], poisson_gamma["T"]).converged


def test_when_rows_are_grouped_by_weights_then_the_fit_equals_the_one_on_every_customer():
    x, age = [0, 0, 0, 1, 1, 4, 2, 7], [10, 10, 10, 20, 20, 30, 12, 40]
    grouped = fit_nbd([0, 1, 4, 2, 7], [10, 20, 30, 12, 40], weights=[3, 2, 1, 1, 1])
    every = fit_nbd(x, age)
    np.testing.assert_allclose(grouped.params, every.params, rtol=1e-6)
    assert grouped.log_likelihood == pytest.approx(every.log_likelihood, rel=1e-10)


def test_when_nobody_repeats_then_the_fit_error_says_so():
    with pytest.raises(ModelFitError, match="no customer made a repeat purchase"):
        fit_nbd([0, 0, 0], [5, 6, 7])


def test_when_every_customer_buys_at_one_rate_then_the_fit_error_names_the_missing_spread():
    rng = np.random.default_rng(8)
    age = rng.integers(20, 79, size=5_000).astype(float)
    with pytest.raises(ModelFitError, match="no spread between customers") as raised:
        fit_nbd(rng.poisson(0.1 * age), age)
    assert raised.value.parameter == "r"
