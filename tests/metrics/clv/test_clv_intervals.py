"""CLV intervals: the monthly grid equals month-by-month sums, failed draws are dropped and counted, a parameter the
data do not identify gets no interval, and expected purchases keep 2F1's sign when a + b < 1."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from analysis.metrics.clv import ModelFitError, clv_by_group, expected_purchases, fit_bg_nbd, fit_gamma_gamma
from analysis.metrics.clv.gamma_gamma import expected_average_value

CDNOW = Path(__file__).resolve().parents[2] / "fixtures" / "cdnow"


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    frame = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv").iloc[:800]
    frame = frame.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    return frame.assign(segment=np.where(frame["ID"] % 2 == 0, "even", "odd"))


@pytest.fixture(scope="module")
def fits(summary):
    return (
        fit_bg_nbd(summary.frequency, summary.recency, summary["T"]),
        fit_gamma_gamma(summary.frequency, summary.monetary_value),
    )


def with_q(gamma_gamma, q: float, log_se_q: float):
    """The Gamma–Gamma fit with ``q`` moved and its log-scale standard error set, the other parameters untouched."""
    params = gamma_gamma.params.copy()
    params["q"] = q
    covariance = np.diag(np.diag(gamma_gamma.log_covariance)).astype(float)
    covariance[1, 1] = log_se_q**2
    return dataclasses.replace(gamma_gamma, params=params, log_covariance=covariance)


def test_when_clv_is_computed_on_the_monthly_grid_then_it_equals_the_month_by_month_sum(summary, fits):
    bg_nbd, gamma_gamma = fits
    result = clv_by_group(summary, bg_nbd, gamma_gamma, by="segment", months=6, margin=0.5, discount_rate=0.02)
    columns = (summary.frequency, summary.recency, summary["T"])
    by_month = [expected_purchases(bg_nbd, 4.345 * m, *columns) for m in range(0, 7)]
    purchases = sum((by_month[m] - by_month[m - 1]) / 1.02**m for m in range(1, 7))
    clv = purchases * expected_average_value(gamma_gamma, summary.frequency, summary.monetary_value) * 0.5
    expected = pd.Series(clv).groupby(summary["segment"].to_numpy()).mean()
    np.testing.assert_allclose(result["mean_clv"], expected.to_numpy(), rtol=1e-12)
    assert result["draws_dropped"].tolist() == [0.0, 0.0]


def test_when_a_few_draws_have_q_at_most_1_then_they_are_dropped_counted_and_the_interval_stands(summary, fits):
    bg_nbd, gamma_gamma = fits
    # log q ~ N(log 1.5, 0.2157²): P(q <= 1) = Φ(−log 1.5 / 0.2157) = Φ(−1.88) = 3.0% of the draws
    spread = with_q(gamma_gamma, 1.5, 0.2157)
    result = clv_by_group(summary, bg_nbd, spread, draws=400, seed=5)
    dropped = result["draws_dropped"].item()
    assert 0 < dropped <= 0.05 and dropped * 400 == round(dropped * 400)
    assert result["mean_clv_ci_low"].item() < result["mean_clv"].item() < result["mean_clv_ci_high"].item()


def test_when_too_many_draws_have_q_at_most_1_then_the_interval_is_refused_with_the_share(summary, fits):
    bg_nbd, gamma_gamma = fits
    # P(q <= 1) = Φ(−log 1.2 / 0.3) = Φ(−0.61) = 27% of the draws
    with pytest.raises(ModelFitError, match=r"q <= 1.*more than the 5%") as raised:
        clv_by_group(summary, bg_nbd, with_q(gamma_gamma, 1.2, 0.3), draws=400, seed=5)
    assert 0.2 < raised.value.value < 0.34  # 27% ± 3.5 standard errors of a share of 400 draws


def test_when_the_dropped_share_is_exactly_the_limit_then_the_interval_is_kept(summary, fits):
    bg_nbd, gamma_gamma = fits
    spread = with_q(gamma_gamma, 1.5, 0.2157)
    dropped = clv_by_group(summary, bg_nbd, spread, draws=400, seed=5)["draws_dropped"].item()
    kept = clv_by_group(summary, bg_nbd, spread, draws=400, seed=5, max_dropped_share=dropped)
    assert kept["draws_dropped"].item() == dropped
    with pytest.raises(ModelFitError):
        clv_by_group(summary, bg_nbd, spread, draws=400, seed=5, max_dropped_share=dropped - 1 / 400)


def test_when_bg_nbd_a_runs_towards_0_then_no_interval_is_drawn_and_the_reason_says_not_identified(summary, fits):
    bg_nbd, gamma_gamma = fits
    # GBP on test-small under the earlier, looser optimiser: a = 0.001 with a log-scale standard error of 151.5
    params = bg_nbd.params.copy()
    params["a"], params["b"] = 0.001, 686.6
    covariance = np.diag([0.23**2, 0.25**2, 151.5**2, 135.2**2])
    weak = dataclasses.replace(bg_nbd, params=params, log_covariance=covariance)
    with pytest.raises(ModelFitError, match="BG/NBD parameter a = 0.001 is not identified") as raised:
        clv_by_group(summary, weak, gamma_gamma)
    assert raised.value.parameter == "a" and raised.value.value == pytest.approx(151.5)


@pytest.mark.parametrize(("r", "alpha", "a", "b"), [(0.2464, 5.2116, 0.2868, 0.6594), (0.5, 10.0, 0.3, 0.4)])
def test_when_a_plus_b_is_below_1_then_a_new_customers_expected_purchases_equal_the_integral(r, alpha, a, b):
    # x = 0: λ | T ~ Gamma(r, α + T) and p ~ Beta(a, b), E[X(t) | λ, p] = (1 − e^{−λpt}) / p, so
    # E[X(t)] = ∫ (1 − ((α+T) / (α+T+pt))^r) / p · Beta(p; a, b) dp; here 2F1's c = a + b − 1 < 0 and 2F1 < 0
    age, t = 30.0, 10.0

    def integrand(p: float) -> float:
        return (1 - ((alpha + age) / (alpha + age + p * t)) ** r) / p * stats.beta.pdf(p, a, b)

    exact = integrate.quad(integrand, 0, 1, limit=200)[0]
    params = pd.Series([r, alpha, a, b], index=["r", "alpha", "a", "b"])
    assert expected_purchases(params, t, [0], [0], [age])[0] == pytest.approx(exact, rel=1e-6)


def test_when_customers_never_drop_out_then_the_bg_nbd_fit_says_the_dropout_is_not_identified():
    # Poisson buyers who never leave (λ ~ Gamma(1, 10) per week, 52 weeks): the likelihood rises as a / (a + b) -> 0
    generator = np.random.default_rng(7)
    rate = generator.gamma(1.0, 1 / 10, size=3000)
    purchases = generator.poisson(rate * 52)
    last = np.array([generator.uniform(0, 52, n).max() if n else 0.0 for n in purchases])
    with pytest.raises(ModelFitError, match="no dropout at all") as raised:
        fit_bg_nbd(purchases, last, np.full(3000, 52.0))
    assert raised.value.parameter == "a"
