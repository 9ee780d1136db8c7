"""The mean spend per repeat purchase (Gamma–Gamma's limit without spread between customers); CLV from the fallbacks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.clv import (
    NoSpendSpreadError,
    clv_by_group,
    customer_lifetime_value,
    expected_average_value,
    fit_gamma_gamma,
    fit_mean_spend,
    fit_nbd,
)
from analysis.metrics.clv.nbd import NbdFit
from analysis.metrics.clv.spend import MeanSpendFit


def test_when_three_customers_repeat_then_the_mean_spend_and_its_standard_error_are_worked_out_by_hand():
    # repeat buyers x = 1, 2, 3 with mean values 10, 20, 30: y = x m = 10, 40, 90; mean = 140 / 6;
    # residuals y − mean·x = −40/3, −20/3, 20: squares 1600/9 + 400/9 + 400 = 5600/9; se = sqrt(5600/9 / 6) / 2
    fit = fit_mean_spend([1, 2, 0, 3], [10.0, 20.0, 99.0, 30.0])
    assert fit.mean == pytest.approx(140 / 6, rel=1e-14)
    assert fit.se == pytest.approx(np.sqrt(5600 / 9 / 6) / 2, rel=1e-14)
    assert fit.n_customers == 3 and fit.model == "mean spend (no between-customer spread)"


def test_when_gamma_gamma_q_grows_with_its_mean_fixed_then_every_customer_expects_the_population_mean():
    x, value = np.array([0.0, 1, 2, 10, 40]), np.array([0.0, 5.0, 80.0, 31.0, 200.0])
    mean, p = 30.0, 4.0
    gaps = []
    for q in (1e2, 1e4, 1e6, 1e12):
        params = pd.Series({"p": p, "q": q, "gamma": mean * (q - 1) / p})
        gaps.append(np.max(np.abs(expected_average_value(params, x, value) - mean)))
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-5


@pytest.fixture(scope="module")
def one_spend_rate() -> pd.DataFrame:
    """5,000 repeat buyers with 1-5 repeat purchases, every purchase Gamma(3, scale 10): one rate, no spread.

    With no spread the maximum lies on the boundary q = ∞ for about half of such samples (the rest find a large
    interior q by chance); seed 1 is one of the former.
    """
    rng = np.random.default_rng(1)
    x = rng.integers(1, 6, size=5_000)
    return pd.DataFrame({"frequency": x, "monetary_value": [rng.gamma(3, 10, size=k).mean() for k in x]})


def test_when_customers_share_one_spend_rate_then_gamma_gamma_says_so_at_the_mean_the_fallback_gives(one_spend_rate):
    with pytest.raises(NoSpendSpreadError, match="no spread of spend between customers") as raised:
        fit_gamma_gamma(one_spend_rate["frequency"], one_spend_rate["monetary_value"])
    p, q, gamma = (raised.value.value[name] for name in ("p", "q", "gamma"))
    fallback = fit_mean_spend(one_spend_rate["frequency"], one_spend_rate["monetary_value"])
    assert p * gamma / (q - 1) == pytest.approx(fallback.mean, rel=1e-4)  # the ridge's mean is the fallback's
    assert abs(fallback.mean - 30.0) < 3 * fallback.se


def test_when_fallbacks_value_customers_then_clv_is_the_limit_of_bg_nbd_and_gamma_gamma():
    frame = pd.DataFrame({"frequency": [0, 1, 3, 12], "recency": [0, 4, 20, 30], "T": [10, 30, 40, 52],
                          "monetary_value": [0.0, 20.0, 35.0, 50.0]})  # fmt: skip
    columns = [frame[c] for c in ("frequency", "recency", "T", "monetary_value")]
    nbd = pd.Series({"r": 0.8, "alpha": 12.0})
    spend = MeanSpendFit(mean=30.0, se=1.0, n_customers=3)
    ours = customer_lifetime_value(nbd, spend, *columns, months=6, margin=0.3, discount_rate=0.02)
    limit = customer_lifetime_value(
        pd.Series({"r": 0.8, "alpha": 12.0, "a": 1e-8, "b": 500.0}),
        pd.Series({"p": 4.0, "q": 1e9, "gamma": 30.0 * (1e9 - 1) / 4.0}),
        *columns,
        months=6,
        margin=0.3,
        discount_rate=0.02,
    )
    np.testing.assert_allclose(ours, limit, rtol=1e-5)
    # by hand: (r + x) / (α + T) purchases a week, 4.345 weeks a month, discounted monthly, 30 a purchase, 30% margin
    discount = sum(1.02**-m for m in range(1, 7))
    expected = (0.8 + frame["frequency"]) / (12.0 + frame["T"]) * 4.345 * discount * 30.0 * 0.3
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_when_clv_by_group_uses_the_fallbacks_then_it_names_them_and_gives_finite_intervals_around_the_estimate():
    rng = np.random.default_rng(5)
    n = 4_000
    age = rng.integers(20, 79, size=n).astype(float)
    group = np.where(np.arange(n) % 2 == 0, "fast", "slow")
    x = rng.poisson(rng.gamma(2.0, 1 / 20.0, size=n) * np.where(group == "fast", 3.0, 1.0) * age)
    summary = pd.DataFrame({"frequency": x, "recency": np.zeros(n), "T": age, "group": group,
                            "monetary_value": np.where(x > 0, rng.gamma(3, 10, size=n), 0.0)})  # fmt: skip
    nbd = fit_nbd(summary["frequency"], summary["T"])
    spend = fit_mean_spend(summary["frequency"], summary["monetary_value"])
    assert isinstance(nbd, NbdFit)
    result = clv_by_group(summary, nbd, spend, by="group", months=12, draws=300, seed=1)
    assert result["purchase_model"].unique().tolist() == ["NBD (no dropout detected)"]
    assert result["spend_model"].unique().tolist() == ["mean spend (no between-customer spread)"]
    assert result["draws_dropped"].tolist() == [0.0, 0.0]
    assert (result["mean_clv_ci_low"] < result["mean_clv"]).all() and (
        result["mean_clv"] < result["mean_clv_ci_high"]
    ).all()
    fast, slow = result.set_index("group").loc["fast"], result.set_index("group").loc["slow"]
    assert fast["mean_clv_ci_low"] > slow["mean_clv_ci_high"]
    per_customer = customer_lifetime_value(nbd, spend, summary["frequency"], summary["recency"], summary["T"],
                                           summary["monetary_value"], months=12)  # fmt: skip
    np.testing.assert_allclose(result["mean_clv"], pd.Series(per_customer).groupby(group).mean().to_numpy())
