"""Kaplan–Meier survival of sellers: months from signup to stopping, censored at the observation end.

The engine returns one count per group, whole months active and whether the seller stopped
(:func:`~analysis.metrics.retention.cohorts.seller_durations`), so a million sellers cost a few hundred rows;
statsmodels' ``SurvfuncRight`` fits each group on those rows with ``freq_weights``.
"""

from __future__ import annotations

from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.retention.cohorts import seller_durations
from analysis.metrics.retention.periods import check_period, period_label
from analysis.metrics.stats import CONFIDENCE, normal_quantile

COHORT = "cohort"


def survival_curves(
    sellers: ir.Table | pd.DataFrame,
    *,
    group: str | None = "market",
    cohort: str = "quarter",
    observed_until: date | str | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Kaplan–Meier curves of months from signup to stopping, per group, with pointwise intervals.

    A seller who stops is an event at ``months + 1`` (they stop during their ``months + 1``-th month after signup,
    ``months`` being the whole months active); a seller still active at ``observed_until`` is censored at their
    whole months observed. So ``survival`` at ``t`` is the share of sellers still active ``t`` months after signup,
    the same count as :func:`~analysis.metrics.retention.cohorts.seller_cohorts` on complete cells.

    Parameters
    ----------
    sellers
        The ``sellers`` table (Ibis on any backend, or pandas).
    group
        A seller column (e.g. ``"market"``), ``"cohort"`` (signup period, see ``cohort``) or None (all sellers).
    cohort
        ``"quarter"`` or ``"month"``: the signup period when ``group`` is ``"cohort"``.
    observed_until
        The last day the data describe (default: the latest ``last_active_date``).
    confidence
        Level of the pointwise intervals (Greenwood's standard error from statsmodels,
        on the log(-log) scale so the interval stays within 0..1).

    Returns
    -------
    pandas.DataFrame
        One row per group and time (starting with ``months`` 0, survival 1), in order:

        - ``group``: the group's value (``"ALL"`` when ``group`` is None; the cohort label for ``"cohort"``);
        - ``months``: months since signup;
        - ``at_risk``: sellers still observed and active at the start of that month;
        - ``stopped``: sellers who stop at that time;
        - ``survival``: Kaplan–Meier share still active ``months`` after signup (fraction);
        - ``survival_ci_low``, ``survival_ci_high``: pointwise interval (NaN where undefined, e.g. at 0).
    """
    cohort_months = check_period(cohort, "cohort")
    by = [] if group is None or group == COHORT else [group]
    counts, _ = seller_durations(sellers, by=by, cohort_months=cohort_months, observed_until=observed_until)
    if group is None:
        keys = pd.Series("ALL", index=counts.index, dtype="str")
    elif group == COHORT:
        keys = period_label(counts["cohort"], cohort_months)
    else:
        keys = counts[group]
    counts = counts.assign(group=keys, time=counts["months"] + counts["stopped"])
    frames = [_kaplan_meier(key, rows, confidence) for key, rows in counts.groupby("group", sort=True)]
    if not frames:
        columns = ["group", "months", "at_risk", "stopped", "survival", "survival_ci_low", "survival_ci_high"]
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    return pd.concat(frames, ignore_index=True)


def _kaplan_meier(key: object, rows: pd.DataFrame, confidence: float) -> pd.DataFrame:
    if not 0 < confidence < 1:
        raise ParameterError("confidence must be between 0 and 1", parameter="confidence", value=confidence)
    from statsmodels.duration.survfunc import SurvfuncRight  # imports scipy.stats: only a report drawing curves pays

    fit = SurvfuncRight(
        rows["time"].to_numpy(dtype=float),
        rows["stopped"].to_numpy(dtype=float),
        freq_weights=rows["sellers"].to_numpy(dtype=float),
    )
    low, high = _log_log_interval(fit.surv_prob, fit.surv_prob_se, confidence)
    start = pd.DataFrame(
        {
            "group": [key],
            "months": [0.0],
            "at_risk": [float(rows["sellers"].sum())],
            "stopped": [0.0],
            "survival": [1.0],
            "survival_ci_low": [np.nan],
            "survival_ci_high": [np.nan],
        }
    )
    curve = pd.DataFrame(
        {
            "group": key,
            "months": fit.surv_times,
            "at_risk": fit.n_risk,
            "stopped": fit.n_events,
            "survival": fit.surv_prob,
            "survival_ci_low": low,
            "survival_ci_high": high,
        }
    )
    curve = curve[curve["months"] > 0]
    out = pd.concat([start, curve], ignore_index=True)
    return out.astype({"months": "int64", "at_risk": "int64", "stopped": "int64"})


def _log_log_interval(survival: np.ndarray, se: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise ``S ** exp(∓ z · se / (S · |log S|))``: the interval of log(−log S), NaN where S is 0 or 1."""
    z = normal_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(survival)
        spread = z * se / (survival * np.abs(log_s))
        low, high = survival ** np.exp(spread), survival ** np.exp(-spread)
    defined = (survival > 0) & (survival < 1)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)
