"""Single-market counterfactuals: exact recovery on noiseless series, statsmodels OLS/HAC equality, the structural
forecast band against statsmodels' own, and the coverage of the average effect's interval."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.tsa.statespace.structural import UnobservedComponents

from analysis.errors import DataError
from analysis.metrics.impact.interrupted import interrupted_time_series, structural_counterfactual

Z95 = 1.959963984540054


def test_when_the_series_is_noiseless_then_the_segmented_regression_recovers_level_trend_and_both_changes():
    weeks = pd.date_range("2025-01-06", periods=30, freq="W-MON")
    t = np.arange(30.0)
    post = t >= 20
    series = pd.Series(5 + 0.3 * t + post * (2 + 0.1 * (t - 20)), index=weeks)

    result = interrupted_time_series(series, pd.Timestamp("2025-05-20"))  # a Tuesday: week 20 is the first post

    assert result.parameters["estimate"].to_numpy() == pytest.approx([5, 0.3, 2, 0.1], abs=1e-9)
    assert result.effect == pytest.approx(2 + 0.1 * 4.5, abs=1e-9)  # mean of t − t₀ over 0..9 is 4.5
    assert result.frame["counterfactual"].to_numpy() == pytest.approx(5 + 0.3 * t, abs=1e-9)
    assert result.relative_effect == pytest.approx(2.45 / np.mean(5 + 0.3 * t[post]), abs=1e-9)
    assert result.frame["post"].sum() == 10


def test_when_fitted_then_the_segmented_regression_equals_statsmodels_ols_with_hac():
    rng = np.random.default_rng(2)
    t = np.arange(48.0)
    y = 3 + 0.05 * t + (t >= 30) * 0.8 + rng.normal(scale=0.4, size=48)
    data = pd.DataFrame({"y": y, "t": t, "post": (t >= 30).astype(float), "since": np.where(t >= 30, t - 30, 0.0)})
    reference = smf.ols("y ~ t + post + since", data).fit(cov_type="HAC", cov_kwds={"maxlags": 3})

    result = interrupted_time_series(pd.Series(y, index=t.astype(int)), 30, hac_lags=3)

    assert result.parameters["estimate"].to_numpy() == pytest.approx(reference.params.to_numpy(), abs=1e-10)
    assert result.parameters["se"].to_numpy() == pytest.approx(reference.bse.to_numpy(), abs=1e-10)
    contrast = np.array([0, 0, 1, 8.5])  # post weeks 30..47: mean(t − 30) = 8.5
    assert result.effect_se == pytest.approx(
        np.sqrt(contrast @ reference.cov_params().to_numpy() @ contrast), abs=1e-10
    )
    assert result.effect_ci_high == pytest.approx(result.effect + Z95 * result.effect_se, abs=1e-12)
    assert result.method == "segmented regression (HAC, 3 lags)"


def test_when_the_pre_period_is_a_noiseless_line_then_the_structural_forecast_extends_it():
    t = np.arange(40.0)
    series = pd.Series(10 + 0.5 * t + (t >= 30) * 4.0, index=t.astype(int))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = structural_counterfactual(series, 30)

    post = result.frame[result.frame["post"]]
    assert post["counterfactual"].to_numpy() == pytest.approx(10 + 0.5 * t[30:], abs=1e-4)
    assert result.effect == pytest.approx(4.0, abs=1e-4)


def test_when_forecast_then_the_band_is_statsmodels_forecast_interval_and_the_mean_uses_the_joint_covariance():
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(scale=0.3, size=60)) + rng.normal(scale=0.5, size=60)
    series = pd.Series(y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = structural_counterfactual(series, 45, level="local level")
        reference = UnobservedComponents(y[:45], level="local level").fit(disp=False)
        np.random.seed(1)  # simulate draws from the global generator here
        simulated = reference.simulate(15, repetitions=4000, anchor="end")
    interval = reference.get_forecast(15).conf_int(alpha=0.05)
    post = result.frame[result.frame["post"]]

    assert post["counterfactual_ci_low"].to_numpy() == pytest.approx(interval[:, 0], abs=1e-8)
    assert post["counterfactual_ci_high"].to_numpy() == pytest.approx(interval[:, 1], abs=1e-8)
    # The mean of 15 correlated forecasts: its sd by simulation from the same fitted model, within 5%.
    simulated_sd = np.asarray(simulated).reshape(15, -1).mean(axis=0).std()
    assert result.effect_se == pytest.approx(simulated_sd, rel=0.05)


def test_when_a_step_is_planted_then_the_95_percent_interval_covers_it_about_95_percent_of_the_time():
    rng = np.random.default_rng(9)
    t = np.arange(60.0)
    covered = 0
    for _ in range(200):
        y = 20 + 0.1 * t + (t >= 40) * 1.5 + rng.normal(size=60)
        result = interrupted_time_series(pd.Series(y), 40)
        covered += result.effect_ci_low <= 1.5 <= result.effect_ci_high
    assert 0.88 <= covered / 200 <= 0.99


def test_when_the_launch_leaves_too_few_periods_then_a_data_error_says_so():
    with pytest.raises(DataError, match="at least 3 periods before the launch"):
        interrupted_time_series(pd.Series(np.arange(10.0)), 2)
