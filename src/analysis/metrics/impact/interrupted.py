"""One market with no comparison: interrupted time series and a structural time-series counterfactual.

Weaker evidence than a comparison of markets: anything else that changed at the launch is read as the effect.
:func:`interrupted_time_series` fits a segmented regression (level, trend, level change, trend change) with
Newey–West standard errors and extends the pre-period line as the counterfactual; :func:`structural_counterfactual`
fits statsmodels' ``UnobservedComponents`` on the pre-period and forecasts the post-period (CausalImpact-style).
Both return an :class:`InterruptedResult`. A period named in ``leave_out`` (the partly treated launch period, where
sessions before and after the launch mix) stays in the frame but out of the fit and of the average effect, as the
Callaway & Sant'Anna aggregation leaves a partly treated event time 0 out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.relative import relative_effect
from analysis.metrics.stats import CONFIDENCE, normal_quantile

MIN_PERIODS = 3


@dataclass(frozen=True)
class InterruptedResult:
    """A single market's post-period effect against a counterfactual built from its own past.

    Attributes
    ----------
    frame
        One row per period (left-out periods included). Columns: ``period`` (the series' index), ``post`` (bool, on
        or after the launch),
        ``actual`` (the outcome), ``counterfactual`` (the fitted pre-period model, extended over the post-period),
        ``counterfactual_ci_low``, ``counterfactual_ci_high`` (its 95% band: the mean line's confidence band for the
        segmented regression, the forecast's prediction band for the structural model), ``effect`` (actual −
        counterfactual).
    effect, effect_ci_low, effect_ci_high
        The average post-period effect (over the post-periods not left out), in the outcome's units, and its
        interval.
    effect_se
        Its standard error.
    relative_effect, relative_ci_low, relative_ci_high
        The average effect over the average counterfactual level, with its delta-method interval.
    method
        ``"segmented regression (HAC, L lags)"`` or ``"structural time series (...)"``.
    parameters
        Segmented regression: ``level, trend, level_change, trend_change`` with ``se`` (HAC); structural: the
        fitted variances. A frame indexed by parameter.
    """

    frame: pd.DataFrame
    effect: float
    effect_se: float
    effect_ci_low: float
    effect_ci_high: float
    relative_effect: float
    relative_ci_low: float
    relative_ci_high: float
    method: str
    parameters: pd.DataFrame


def split_at_launch(series: pd.Series, launch) -> tuple[pd.Series, np.ndarray]:
    """The series sorted by period without missing values, and a post-period mask (periods on or after ``launch``)."""
    if not isinstance(series, pd.Series):
        raise ParameterError("series must be a pandas Series indexed by period", parameter="series")
    series = series.dropna().sort_index().astype(float)
    post = np.asarray(series.index >= launch)
    if post.sum() < 1 or (~post).sum() < MIN_PERIODS:
        raise DataError(
            f"the series needs at least {MIN_PERIODS} periods before the launch and one on or after it; it has "
            f"{int((~post).sum())} before and {int(post.sum())} after",
            parameter="launch",
            value=launch,
            valid=f"a launch after the series' {MIN_PERIODS}rd period and not after its last",
        )
    return series, post


def left_out_mask(series: pd.Series, post: np.ndarray, leave_out) -> np.ndarray:
    """The periods of ``series`` named in ``leave_out``, checked to leave a post-period in the effect.

    Raises
    ------
    DataError
        when every post-period is left out.
    """
    left = np.asarray(series.index.isin(list(leave_out))) if len(leave_out) else np.zeros(len(series), dtype=bool)
    if not (post & ~left).any():
        raise DataError(
            "every period on or after the launch is left out: no post-period is left for the effect",
            parameter="leave_out",
            value=list(leave_out),
            valid="periods that leave at least one post-period",
        )
    return left


def result_of(series, post, counterfactual, band_low, band_high, effect, effect_se, method, parameters, left=None):
    """The :class:`InterruptedResult` of a counterfactual and an average effect (over ``post`` without ``left``)."""
    z = normal_quantile(CONFIDENCE)
    actual = series.to_numpy()
    counted = post if left is None else post & ~left
    relative = relative_effect(effect, effect_se, float(actual[counted].mean()))
    frame = pd.DataFrame(
        {
            "period": series.index,
            "post": post,
            "actual": actual,
            "counterfactual": counterfactual,
            "counterfactual_ci_low": band_low,
            "counterfactual_ci_high": band_high,
            "effect": actual - counterfactual,
        }
    )
    return InterruptedResult(
        frame=frame,
        effect=effect,
        effect_se=effect_se,
        effect_ci_low=effect - z * effect_se,
        effect_ci_high=effect + z * effect_se,
        relative_effect=relative.estimate,
        relative_ci_low=relative.ci_low,
        relative_ci_high=relative.ci_high,
        method=method,
        parameters=parameters,
    )


def interrupted_time_series(
    series: pd.Series, launch, *, hac_lags: int | None = None, leave_out: Sequence = ()
) -> InterruptedResult:
    """Segmented regression of one market's series around a launch, with Newey–West (HAC) standard errors.

    Fits ``y_t = level + trend·t + level_change·post_t + trend_change·(t − t₀)·post_t`` by OLS over every period,
    ``t`` counting periods from 0 and ``t₀`` the first post-period. The counterfactual is ``level + trend·t`` with
    its 95% confidence band (``x'Vx`` from the HAC covariance). The average post-period effect is
    ``level_change + trend_change·mean(t − t₀)``; because the post-period has its own level and trend, it equals the
    mean of actual − counterfactual over the post-period exactly. Its interval is normal with the HAC variance.

    Periods in ``leave_out`` keep their place in ``t`` (so the trend is not shifted) but leave the fit and the
    average: with the partly treated launch period left out, ``t₀`` is still the launch period and the effect is the
    mean over the later post-periods.

    Parameters
    ----------
    series
        The outcome, indexed by period (dates or integers), one value per period.
    launch
        The first period of the initiative (a period on or after it is post).
    hac_lags
        Newey–West lags; ``floor(4·(n/100)^(2/9))`` when ``None`` (the usual rule of thumb, ``n`` the periods fitted).
    leave_out
        Post-periods left out of the fit and of the average effect (e.g. the partly treated launch period).
    """
    series, post = split_at_launch(series, launch)
    left = left_out_mask(series, post, leave_out)
    n = len(series)
    kept = ~left
    if (post & kept).sum() < 2:
        raise DataError("a segmented regression needs at least two periods after the launch", parameter="launch")
    lags = int(math.floor(4 * (int(kept.sum()) / 100) ** (2 / 9))) if hac_lags is None else int(hac_lags)
    t = np.arange(n, dtype=float)
    since = np.where(post, t - t[post][0], 0.0)
    design = np.column_stack([np.ones(n), t, post.astype(float), since])
    fitted = sm.OLS(series.to_numpy()[kept], design[kept]).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    params, covariance = np.asarray(fitted.params), np.asarray(fitted.cov_params())
    baseline = design[:, :2]
    counterfactual = baseline @ params[:2]
    band_se = np.sqrt(np.einsum("ij,jk,ik->i", baseline, covariance[:2, :2], baseline))
    z = normal_quantile(CONFIDENCE)
    contrast = np.array([0.0, 0.0, 1.0, since[post & kept].mean()])
    effect = float(contrast @ params)
    effect_se = math.sqrt(float(contrast @ covariance @ contrast))
    names = ["level", "trend", "level_change", "trend_change"]
    parameters = pd.DataFrame({"estimate": params, "se": np.asarray(fitted.bse)}, index=pd.Index(names, name="term"))
    return result_of(
        series,
        post,
        counterfactual,
        counterfactual - z * band_se,
        counterfactual + z * band_se,
        effect,
        effect_se,
        f"segmented regression (HAC, {lags} lags)",
        parameters,
        left,
    )


def forecast_covariance(results, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The joint forecast of the next ``horizon`` observations: mean and full covariance (fixed parameters).

    From the state predicted one step past the data, ``a`` with covariance ``P``:
    ``Cov(α_{i}, α_{j}) = Tʲ⁻ⁱ·P_i`` for ``j ≥ i`` with ``P_{i+1} = T·P_i·T' + R·Q·R'``, and
    ``Cov(y_i, y_j) = Z·Cov(α_i, α_j)·Z' + H·[i = j]``.
    """
    filtered = results.filter_results
    design = filtered.design[0, :, -1]
    transition = filtered.transition[:, :, -1]
    selection = filtered.selection[:, :, -1]
    innovation = selection @ filtered.state_cov[:, :, -1] @ selection.T
    noise = float(filtered.obs_cov[0, 0, -1])
    state = filtered.predicted_state[:, -1]
    state_cov = filtered.predicted_state_cov[:, :, -1]
    states, covariances = [], []
    for _ in range(horizon):
        states.append(state)
        covariances.append(state_cov)
        state = transition @ state
        state_cov = transition @ state_cov @ transition.T + innovation
    mean = np.array([float(design @ s) for s in states])
    joint = np.zeros((horizon, horizon))
    for i in range(horizon):
        carried = covariances[i]  # Cov(α_i, α_j) for j = i, i+1, …: Tʲ⁻ⁱ·P_i
        for j in range(i, horizon):
            joint[i, j] = joint[j, i] = float(design @ carried @ design)
            carried = transition @ carried
        joint[i, i] += noise
    return mean, joint


def structural_counterfactual(
    series: pd.Series,
    launch,
    *,
    level: str = "local linear trend",
    seasonal: int | None = None,
    leave_out: Sequence = (),
) -> InterruptedResult:
    """A structural time-series counterfactual: ``UnobservedComponents`` fitted on the pre-period, forecast after.

    The pre-period fit (maximum likelihood) is forecast over the post-period; the counterfactual band is the 95%
    prediction interval of each period. The average effect is mean(actual) − mean(forecast) over the post-period;
    its variance is that of the mean forecast, ``1'Σ1/h²`` with ``Σ`` the joint covariance of the ``h`` forecasts
    (:func:`forecast_covariance`: the forecasts are correlated, so the marginal variances alone would understate it),
    taking the fitted variances as known (CausalImpact also integrates over their posterior, so its bands can be
    wider).

    Parameters
    ----------
    series
        The outcome, indexed by period, one value per period.
    launch
        The first period of the initiative.
    level
        The trend component, as ``UnobservedComponents`` names it: ``"local linear trend"`` (default), ``"local
        level"``, ``"random walk with drift"``, ….
    seasonal
        Periods of a seasonal cycle (e.g. 52 for weekly data over years), or ``None``.
    leave_out
        Post-periods left out of the average effect (still forecast and drawn; the pre-period fit is unchanged).
    """
    series, post = split_at_launch(series, launch)
    left = left_out_mask(series, post, leave_out)
    pre = series.to_numpy()[~post]
    model = sm.tsa.UnobservedComponents(pre, level=level, seasonal=seasonal)
    fitted = model.fit(disp=False)
    horizon = int(post.sum())
    mean, joint = forecast_covariance(fitted, horizon)
    z = normal_quantile(CONFIDENCE)
    in_sample = np.asarray(fitted.fittedvalues)
    counterfactual = np.concatenate([in_sample, mean])
    band = np.concatenate([np.full(len(pre), np.nan), z * np.sqrt(np.diag(joint))])
    counted = ~left[post]  # the forecast periods in the average
    effect = float(series.to_numpy()[post][counted].mean() - mean[counted].mean())
    effect_se = math.sqrt(float(joint[np.ix_(counted, counted)].sum())) / int(counted.sum())
    parameters = pd.DataFrame(
        {"estimate": np.asarray(fitted.params)}, index=pd.Index(list(model.param_names), name="term")
    )
    return result_of(
        series,
        post,
        counterfactual,
        counterfactual - band,
        counterfactual + band,
        effect,
        effect_se,
        f"structural time series ({level}{'' if seasonal is None else f', seasonal {seasonal}'})",
        parameters,
        left,
    )
