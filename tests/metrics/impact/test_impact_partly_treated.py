"""The partly treated launch period is left out alike by Callaway & Sant'Anna, the TWFE beside it and the
single-market interrupted time series, so their effects estimate the same thing: on hand-built panels whose partly
treated cell carries a value that would move every estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.errors import DataError
from analysis.metrics.impact.estimation import KpiPanel, did_estimate, interrupted_rows, twfe_frame, twfe_row
from analysis.metrics.impact.interrupted import interrupted_time_series, structural_counterfactual

MARKETS = ["A", "B", "C", "D"]
FIRST = [3, 0, 0, 5]  # A launched inside period 3 (partly treated), D on the first day of period 5
PERIODS = list(pd.date_range("2025-01-01", periods=7, freq="MS"))
EFFECT = 0.05
OUTLIER = 0.90  # A's partly treated period 3


def rates(partly_value: float = OUTLIER, noise: float = 0.0) -> np.ndarray:
    """Market level + period level + EFFECT when fully treated; A's period 3 set to ``partly_value``."""
    rng = np.random.default_rng(3)
    market = np.array([0.10, 0.12, 0.08, 0.11])[:, None]
    period = np.array([0.00, 0.01, 0.03, 0.02, 0.04, 0.05, 0.03])[None, :]
    time = np.arange(1, 8)[None, :]
    first = np.array(FIRST)[:, None]
    values = market + period + EFFECT * ((first > 0) & (time >= first)) + noise * rng.normal(size=(4, 7))
    values[0, 2] = partly_value
    return values


def panel(values: np.ndarray, partly: set[str] | None = None) -> KpiPanel:
    draws = values[None] + np.random.default_rng(5).normal(scale=0.002, size=(60, *values.shape))
    return KpiPanel(MARKETS, PERIODS, values, draws, np.array(FIRST), {"A"} if partly is None else partly)


def ols_did(frame: pd.DataFrame) -> float:
    """The TWFE coefficient by statsmodels OLS with market and period dummies (the independent oracle)."""
    dummies = [pd.get_dummies(frame[c], prefix=c, drop_first=True, dtype=float) for c in ("market", "time")]
    design = sm.add_constant(pd.concat([frame[["treated"]].astype(float), *dummies], axis=1))
    return float(sm.OLS(frame["value"].to_numpy(float), design).fit().params["treated"])


def long_frame(values: np.ndarray) -> pd.DataFrame:
    time = np.tile(np.arange(1, 8), 4)
    first = np.repeat(FIRST, 7)
    return pd.DataFrame(
        {
            "market": np.repeat(MARKETS, 7),
            "time": time,
            "value": values.ravel(),
            "treated": ((first > 0) & (time >= first)).astype(int),
        }
    )


def test_when_a_cohort_first_period_is_partly_treated_then_the_twfe_frame_drops_only_that_market_period():
    frame = twfe_frame(panel(rates()), {3})
    assert len(frame) == 27
    assert not ((frame["market"] == "A") & (frame["time"] == 3)).any()
    assert frame["treated"].sum() == 4 + 3  # A in periods 4–7, D in 5–7
    assert len(twfe_frame(panel(rates()), set())) == 28


def test_when_the_partly_treated_row_is_dropped_then_twfe_equals_ols_on_the_panel_without_that_row():
    values = rates(noise=0.004)
    row = twfe_row("conversion_rate", did_estimate(panel(values), alpha=0.05), None, seed=1)
    full = long_frame(values)
    without = full[~((full["market"] == "A") & (full["time"] == 3))]
    assert row["twfe_effect"] == pytest.approx(ols_did(without), abs=1e-10)
    # the row would have moved it: counted as treated, the outlier pulls the TWFE far off
    assert abs(ols_did(full) - row["twfe_effect"]) > 0.05
    moved = twfe_row("conversion_rate", did_estimate(panel(rates(0.0, noise=0.004)), alpha=0.05), None, seed=1)
    assert moved["twfe_effect"] == pytest.approx(row["twfe_effect"], abs=1e-10)


def test_when_effects_are_additive_then_twfe_and_callaway_santanna_both_recover_the_effect_despite_the_outlier():
    estimate = did_estimate(panel(rates()), alpha=0.05)
    row = twfe_row("conversion_rate", estimate, None, seed=1)
    assert estimate.effect.effect == pytest.approx(EFFECT, abs=1e-12)
    assert row["twfe_effect"] == pytest.approx(EFFECT, abs=1e-9)
    assert row["did_effect"] == pytest.approx(EFFECT, abs=1e-12)
    assert not row["disagree"]


def test_when_one_market_is_estimated_then_its_twfe_drops_its_own_partly_treated_period():
    values = rates(noise=0.004)
    own = panel(values).subset(["A", "B", "C"])
    row = twfe_row("conversion_rate", did_estimate(own, alpha=0.05, cohort=3), "A", seed=1)
    full = long_frame(values)
    without = full[full["market"].isin(["A", "B", "C"]) & ~((full["market"] == "A") & (full["time"] == 3))]
    assert row["twfe_effect"] == pytest.approx(ols_did(without), abs=1e-10)


def series(partly_value: float) -> pd.Series:
    """Ten months: level 1 + 0.1·t, a step of 2 from month 6 (t = 5) with slope change 0.3; month 6 partly treated."""
    t = np.arange(10, dtype=float)
    wobble = np.array([0.02, -0.01, 0.03, -0.02, 0.01, 0.0, 0.02, -0.03, 0.01, 0.02])
    values = 1 + 0.1 * t + np.where(t >= 5, 2 + 0.3 * (t - 5), 0.0) + wobble
    values[5] = partly_value
    return pd.Series(values, index=pd.date_range("2025-01-01", periods=10, freq="MS"))


def test_when_the_launch_period_is_left_out_then_the_segmented_fit_equals_ols_without_it_keeping_time():
    data = series(9.0)
    launch = data.index[5]
    result = interrupted_time_series(data, launch, hac_lags=1, leave_out=[launch])
    t = np.arange(10, dtype=float)
    post = t >= 5
    design = np.column_stack([np.ones(10), t, post, np.where(post, t - 5, 0.0)])
    kept = np.arange(10) != 5
    oracle = sm.OLS(data.to_numpy()[kept], design[kept]).fit(cov_type="HAC", cov_kwds={"maxlags": 1})
    # the effect is level_change + trend_change · mean(t − 5) over months 7–10 (t − 5 = 1…4)
    contrast = np.array([0, 0, 1, 2.5])
    assert result.effect == pytest.approx(float(contrast @ oracle.params), abs=1e-12)
    assert result.effect_se == pytest.approx(float(np.sqrt(contrast @ oracle.cov_params() @ contrast)), abs=1e-12)
    assert len(result.frame) == 10
    other = interrupted_time_series(series(-5.0), launch, hac_lags=1, leave_out=[launch])
    assert other.effect == pytest.approx(result.effect, abs=1e-12)
    counted = interrupted_time_series(data, launch, hac_lags=1)
    assert abs(counted.effect - result.effect) > 0.5


def test_when_the_launch_period_is_left_out_then_the_structural_effect_averages_the_other_post_periods():
    data = series(9.0)
    launch = data.index[5]
    result = structural_counterfactual(data, launch, level="local level", leave_out=[launch])
    frame = result.frame
    later = frame["post"] & (frame["period"] != launch)
    expected = frame.loc[later, "actual"].mean() - frame.loc[later, "counterfactual"].mean()
    assert result.effect == pytest.approx(expected, abs=1e-10)
    other = structural_counterfactual(series(-5.0), launch, level="local level", leave_out=[launch])
    assert other.effect == pytest.approx(result.effect, abs=1e-10)


def test_when_a_single_market_launched_inside_a_period_then_interrupted_rows_leave_that_period_out():
    values = np.vstack([series(9.0).to_numpy(), np.zeros(10)])
    periods = list(series(9.0).index)
    first = np.array([6, 0])
    draws = values[None].repeat(3, axis=0)
    partly = KpiPanel(["A", "B"], periods, values, draws, first, {"A"})
    effect, rows = interrupted_rows("conversion_rate", partly, "A")
    expected = interrupted_time_series(series(9.0), periods[5], leave_out=[periods[5]])
    assert effect["effect"] == pytest.approx(expected.effect, abs=1e-12)
    assert {r["period_start"] for r in rows if r["method"] == "segmented"} == set(periods)
    whole = KpiPanel(["A", "B"], periods, values, draws, first, set())
    assert abs(interrupted_rows("conversion_rate", whole, "A")[0]["effect"] - effect["effect"]) > 0.5


def test_when_every_post_period_is_left_out_then_a_data_error_says_so():
    data = series(9.0)
    with pytest.raises(DataError, match="no post-period is left"):
        interrupted_time_series(data, data.index[9], leave_out=[data.index[9]])
