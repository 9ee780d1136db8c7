"""Two-way fixed-effects difference-in-differences and its event study, estimated through pyfixest.

:func:`twfe_did` regresses an outcome on a 0/1 ``treated`` indicator with unit and period fixed effects
(``outcome ~ treated | unit + time``) and clusters the standard error by unit (or by ``cluster``);
:func:`event_study` replaces the one indicator by one per period relative to the launch (event time), the reference
period left out. Both are the regressions ``fixest`` users know, computed by pyfixest with fixest's small-sample
convention, which :func:`twfe_did` documents. With staggered launches the one TWFE coefficient mixes comparisons of
already-treated units (the "forbidden comparisons"); read it beside Callaway & Sant'Anna
(:mod:`analysis.metrics.impact.staggered`), and with few clusters beside the bootstrap and randomisation p-values of
:mod:`analysis.metrics.impact.inference`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import DataError, ParameterError
from analysis.metrics.stats import SIGNIFICANCE_LEVEL


@dataclass(frozen=True)
class TwfeResult:
    """The TWFE difference-in-differences coefficient with its cluster-robust inference.

    Attributes
    ----------
    estimate
        The coefficient of ``treated``: the average effect, in the outcome's units, as TWFE weights it.
    se
        Its CRV1 standard error with fixest's small-sample factor (see :func:`twfe_did`).
    ci_low, ci_high
        The ``1 - alpha`` interval, ``estimate ± t(df)·se``.
    p_value
        Two-sided p-value of no effect from Student's t with ``df`` degrees of freedom.
    t_statistic
        ``estimate / se``.
    df
        The degrees of freedom of the t reference: ``n_clusters - 1``.
    n_obs
        Rows used (after dropping rows with a missing value and singleton fixed effects).
    n_clusters
        Distinct clusters.
    cluster
        The column the standard error is clustered by.
    alpha
        The significance level of the interval.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    t_statistic: float
    df: float
    n_obs: int
    n_clusters: int
    cluster: str
    alpha: float


def require_columns(panel: pd.DataFrame, columns: Sequence[str | None]) -> None:
    """Raise :class:`~analysis.errors.ParameterError` naming any of ``columns`` the panel lacks."""
    missing = [column for column in columns if column is not None and column not in panel.columns]
    if missing:
        raise ParameterError(
            f"the panel has no column {', '.join(map(repr, missing))}; it has {', '.join(map(repr, panel.columns))}",
            column=missing[0],
            value=missing,
            valid=list(panel.columns),
        )


def check_alpha(alpha: float) -> None:
    """Raise :class:`~analysis.errors.ParameterError` unless ``0 < alpha < 1``."""
    if not 0 < alpha < 1:
        raise ParameterError(
            f"alpha={alpha!r} must lie strictly between 0 and 1", parameter="alpha", value=alpha, valid="(0, 1)"
        )


def fit_fixed_effects(
    frame: pd.DataFrame, outcome: str, regressors: Sequence[str], fixed_effects: Sequence[str], cluster: str, weights
):
    """pyfixest's ``feols`` with CRV1 errors and its default small-sample correction; the fitted model."""
    # Imported here: pyfixest takes seconds to import and only these estimators need it.
    import pyfixest

    formula = f"{outcome} ~ {' + '.join(regressors)} | {' + '.join(fixed_effects)}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyfixest warns on every dropped singleton; n_obs reports it instead
        return pyfixest.feols(
            formula,
            data=frame,
            vcov={"CRV1": cluster},
            weights=weights,
            ssc=pyfixest.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min"),
        )


def model_frame(panel: pd.DataFrame, columns: Sequence[str | None]) -> pd.DataFrame:
    """The panel's ``columns`` (``None`` skipped), rows with a missing value dropped."""
    named = [column for column in columns if column is not None]
    frame = panel[list(dict.fromkeys(named))].dropna()
    if frame.empty:
        raise DataError("the panel has no complete row to estimate from", value=list(named))
    return frame


def twfe_did(
    panel: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    *,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
) -> TwfeResult:
    """The two-way fixed-effects DiD coefficient of ``treated``, with CRV1 standard errors, through pyfixest.

    Fits ``outcome ~ treated | unit + time`` by (weighted) least squares and clusters by ``cluster`` (``unit`` when
    not given). The small-sample convention is pyfixest 0.60's default, which is fixest's:
    ``ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")``, i.e. the variance is scaled by
    ``G/(G−1) · (n−1)/(n−k)`` where ``k`` counts the slope and the fixed-effect levels *not nested* in the clusters
    (with units nested in their cluster, ``k = 1 + T``: the slope and the ``T`` period levels), and the reference
    distribution is Student's t with ``G − 1`` degrees of freedom.

    Parameters
    ----------
    panel
        One row per unit and period (a market × week panel), with the columns named below.
    outcome
        The outcome column (a rate, a mean).
    unit, time
        The unit and period columns; each gets a fixed effect.
    treated
        A 0/1 (or boolean) column: 1 once the unit has launched.
    cluster
        The column to cluster by; ``unit`` unless told otherwise. Units must be nested in it.
    weights
        An optional column of analytic weights (e.g. sessions behind a rate).
    alpha
        Significance level of the interval (0.05 gives 95%).

    Returns
    -------
    TwfeResult
    """
    check_alpha(alpha)
    cluster = cluster or unit
    require_columns(panel, [outcome, unit, time, treated, cluster, weights])
    frame = model_frame(panel, [outcome, unit, time, treated, cluster, weights])
    frame = frame.assign(**{treated: frame[treated].astype(float)})
    if frame[treated].nunique() < 2:
        raise DataError(
            f"{treated!r} takes one value only; a difference-in-differences needs treated and untreated rows",
            column=treated,
            value=sorted(frame[treated].unique().tolist()),
            valid="both 0 and 1",
        )
    model = fit_fixed_effects(frame, outcome, [treated], [unit, time], cluster, weights)
    estimate = float(model.coef()[treated])
    se = float(model.se()[treated])
    n_clusters = int(frame[cluster].nunique())
    df = n_clusters - 1
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    t_statistic = estimate / se
    return TwfeResult(
        estimate=estimate,
        se=se,
        ci_low=estimate - critical * se,
        ci_high=estimate + critical * se,
        p_value=float(2 * stats.t.sf(abs(t_statistic), df)),
        t_statistic=t_statistic,
        df=float(df),
        n_obs=len(model.resid()),
        n_clusters=n_clusters,
        cluster=cluster,
        alpha=alpha,
    )


def period_positions(times: pd.Series) -> pd.Series:
    """Each period's position (0, 1, …) among the panel's distinct periods, in order."""
    periods = np.sort(times.dropna().unique())
    return pd.Series(np.searchsorted(periods, times.to_numpy()), index=times.index)


def event_times(panel: pd.DataFrame, time: str, first_treated: str) -> pd.Series:
    """Periods since launch (0 = the first period on or after ``first_treated``); NaN for units never launched.

    Periods count the panel's distinct periods, so dates and integers work alike and a gap in one unit's rows does
    not shift its clock. A launch after the panel's last period counts as never launched.
    """
    periods = np.sort(panel[time].dropna().unique())
    launch = panel[first_treated]
    launched = launch.notna().to_numpy()
    position = np.searchsorted(periods, panel[time].to_numpy())
    launch_position = np.full(len(panel), len(periods))
    launch_position[launched] = np.searchsorted(periods, launch.to_numpy()[launched])  # first period >= launch
    in_sample = launched & (launch_position < len(periods))
    return pd.Series(np.where(in_sample, position - launch_position, np.nan), index=panel.index)


def event_dummy_name(event_time: int) -> str:
    """A formula-safe column name for the indicator of one event time: ``event_m2``, ``event_p0``."""
    return f"event_{'m' if event_time < 0 else 'p'}{abs(event_time)}"


def event_study(
    panel: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    *,
    reference: int = -1,
    window: tuple[int, int] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
) -> pd.DataFrame:
    """The TWFE event study: one coefficient per period relative to launch, the ``reference`` period left out.

    Fits ``outcome ~ Σ_e 1[event_time = e] | unit + time`` through pyfixest with the conventions of
    :func:`twfe_did` (CRV1 by ``cluster``, fixest's small-sample factor, t with ``G − 1`` degrees of freedom). Units
    never launched (``first_treated`` missing, or after the panel ends) have every indicator 0. With ``window=(low,
    high)`` the ends are binned: event times before ``low`` count as ``low`` and after ``high`` as ``high``, so every
    launched row keeps an indicator. Event times whose indicator is collinear with the fixed effects are dropped.

    Parameters
    ----------
    panel
        One row per unit and period.
    outcome, unit, time
        As in :func:`twfe_did`.
    first_treated
        The unit's launch period (same type as ``time``), missing for units never launched.
    reference
        The event time left out (its coefficient is 0 by construction); −1, the last period before launch, by default.
    window
        ``(low, high)`` to bin the event times beyond them; all event times kept when ``None``.
    cluster, weights, alpha
        As in :func:`twfe_did`.

    Returns
    -------
    pandas.DataFrame
        One row per event time, in order, the reference period included. Columns:

        - ``event_time``: periods since launch (int; 0 = the launch period, negative before it).
        - ``estimate``: the coefficient, in the outcome's units, relative to the reference period (0 for it).
        - ``se``: its CRV1 standard error (NaN for the reference).
        - ``ci_low``, ``ci_high``: the ``1 - alpha`` interval (NaN for the reference).
        - ``p_value``: two-sided, t with ``G − 1`` degrees of freedom (NaN for the reference).
        - ``is_reference``: True for the period left out.
    """
    check_alpha(alpha)
    cluster = cluster or unit
    require_columns(panel, [outcome, unit, time, first_treated, cluster, weights])
    frame = panel[list(dict.fromkeys(c for c in [outcome, unit, time, first_treated, cluster, weights] if c))]
    frame = frame.dropna(subset=[c for c in [outcome, unit, time, cluster, weights] if c])
    relative = event_times(frame, time, first_treated)
    if window is not None:
        low, high = sorted(window)
        if not low <= reference <= high:
            raise ParameterError(
                f"reference={reference} lies outside window={window!r}",
                parameter="reference",
                value=reference,
                valid=f"an event time from {low} to {high}",
            )
        relative = relative.clip(lower=low, upper=high)
    observed = sorted(int(e) for e in relative.dropna().unique())
    if reference not in observed:
        raise DataError(
            f"no launched unit is observed at the reference event time {reference}",
            parameter="reference",
            value=reference,
            valid=observed,
        )
    kept = [e for e in observed if e != reference]
    dummies = {event_dummy_name(e): (relative == e).astype(float) for e in kept}
    frame = frame.assign(**dummies)
    model = fit_fixed_effects(frame, outcome, list(dummies), [unit, time], cluster, weights)
    coefficients, standard_errors = model.coef(), model.se()
    df = int(frame[cluster].nunique()) - 1
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    rows = [{"event_time": reference, "estimate": 0.0, "se": np.nan, "is_reference": True}]
    for e in kept:
        name = event_dummy_name(e)
        if name in coefficients.index:
            rows.append(
                {
                    "event_time": e,
                    "estimate": float(coefficients[name]),
                    "se": float(standard_errors[name]),
                    "is_reference": False,
                }
            )
    result = pd.DataFrame(rows).sort_values("event_time", ignore_index=True)
    result["ci_low"] = result["estimate"] - critical * result["se"]
    result["ci_high"] = result["estimate"] + critical * result["se"]
    result["p_value"] = 2 * stats.t.sf((result["estimate"] / result["se"]).abs(), df)
    return result[["event_time", "estimate", "se", "ci_low", "ci_high", "p_value", "is_reference"]]
