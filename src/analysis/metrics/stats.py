"""Statistics every subject uses, one implementation each: intervals, tests, corrections and the delta method.

* proportions: :func:`wilson_interval` (one rate), :func:`newcombe_interval` (a difference of two rates),
  :func:`two_proportion_z_test` (equal rates; also the score test), :func:`group_vs_rest` (each group against the
  others, Holm-corrected);
* multiple testing: :func:`holm_adjust` (family-wise error) and :func:`benjamini_hochberg_adjust` (false discovery
  rate);
* delta method: :func:`ratio_of_means_variance` and :func:`relative_lift_interval`.

Small, vectorised and dependency-light (NumPy and the standard library; importing SciPy's stats would cost seconds).
The tests check each against statsmodels, SciPy or a hand-computed example. Rates are fractions; intervals are
two-sided at ``confidence`` (95% unless told).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

CONFIDENCE = 0.95
SIGNIFICANCE_LEVEL = 0.05
DEFAULT_MIN_GROUP_SIZE = 100


def normal_quantile(confidence: float = CONFIDENCE) -> float:
    """The two-sided standard-normal critical value: 1.959964 for 95%."""
    if not 0 < confidence < 1:
        raise ParameterError(
            f"confidence {confidence!r} must be between 0 and 1, e.g. 0.95",
            parameter="confidence",
            value=confidence,
            valid="a number between 0 and 1",
        )
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def wilson_interval(
    successes: np.ndarray | pd.Series, trials: np.ndarray | pd.Series, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials``; NaN where ``trials`` is 0 or missing.

    Matches ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = normal_quantile(confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half_width = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = np.where(n > 0, centre - half_width, np.nan)
    high = np.where(n > 0, centre + half_width, np.nan)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def newcombe_interval(
    successes_a: np.ndarray | float,
    trials_a: np.ndarray | float,
    successes_b: np.ndarray | float,
    trials_b: np.ndarray | float,
    confidence: float = CONFIDENCE,
) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for the difference of two rates, ``a − b`` (Newcombe 1998, method 10).

    Built from the two Wilson intervals; matches
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb", compare="diff")``. Returns
    ``(low, high)`` (arrays, or 0-d arrays for scalar counts); NaN where either group has no trials.
    """
    xa, na = np.asarray(successes_a, dtype=float), np.asarray(trials_a, dtype=float)
    xb, nb = np.asarray(successes_b, dtype=float), np.asarray(trials_b, dtype=float)
    low_a, high_a = wilson_interval(xa, na, confidence)
    low_b, high_b = wilson_interval(xb, nb, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        pa, pb = xa / na, xb / nb
        difference = pa - pb
        low = difference - np.sqrt((pa - low_a) ** 2 + (high_b - pb) ** 2)
        high = difference + np.sqrt((pb - low_b) ** 2 + (high_a - pa) ** 2)
    return low, high


def two_proportion_z_test(
    successes_a: np.ndarray, trials_a: np.ndarray, successes_b: np.ndarray, trials_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided z-test of equal proportions with the pooled standard error.

    Returns ``(z, p_value)``; ``z`` is positive when group a's rate is higher. Matches
    ``statsmodels.stats.proportion.proportions_ztest([xa, xb], [na, nb])``. Under the null of equal rates this is also
    the score test (``test_proportions_2indep(method="score", compare="diff", correction=False)``) and Pearson's
    chi-square test without continuity correction, so the workbook uses it for all three. NaN where the pooled rate
    is 0 or 1 (no variation, nothing to test).
    """
    xa, na = np.asarray(successes_a, dtype=float), np.asarray(trials_a, dtype=float)
    xb, nb = np.asarray(successes_b, dtype=float), np.asarray(trials_b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (xa + xb) / (na + nb)
        standard_error = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        z = (xa / na - xb / nb) / standard_error
    z = np.where(standard_error > 0, z, np.nan)
    # two-sided normal tail, 2 * sf(|z|) = erfc(|z| / sqrt 2); NaN stays NaN
    p_value = np.array([math.erfc(abs(value) / math.sqrt(2)) for value in np.ravel(z)]).reshape(np.shape(z))
    return z, p_value


def holm_adjust(p_values: np.ndarray | pd.Series) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1); NaN inputs stay NaN and do not count.

    Matches ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` on the non-missing values.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    if present.size == 0:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    m = order.size
    scaled = (m - np.arange(m)) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def benjamini_hochberg_adjust(p_values: np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate; step-up, monotone, capped at 1).

    NaN inputs stay NaN and do not count. Matches ``multipletests(p, method="fdr_bh")[1]`` on the non-missing values.
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    present = np.flatnonzero(~np.isnan(p))
    if present.size == 0:
        return adjusted
    order = present[np.argsort(p[present], kind="stable")]
    m = order.size
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    return adjusted


def ratio_of_means_variance(
    mean_numerator: float,
    mean_denominator: float,
    var_numerator: float,
    var_denominator: float,
    covariance: float = 0.0,
) -> float:
    """Delta-method variance of ``mean_numerator / mean_denominator``.

    The variances and the covariance are those of the two means (a variance of the observations divided by ``n``),
    e.g. revenue per session when both revenue and sessions vary by user:
    ``Var(X/Y) ≈ Var(X)/Y² − 2·X·Cov(X, Y)/Y³ + X²·Var(Y)/Y⁴``.
    """
    x, y = mean_numerator, mean_denominator
    return var_numerator / y**2 - 2 * x * covariance / y**3 + x**2 * var_denominator / y**4


def relative_lift_interval(
    mean_treatment: float,
    se_treatment: float,
    mean_control: float,
    se_control: float,
    *,
    covariance: float = 0.0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float, float]:
    """Relative lift ``treatment / control − 1`` with its delta-method interval: ``(lift, low, high)``.

    ``se_*`` are the standard errors of the two means; ``covariance`` their covariance (0 for independent groups).
    """
    lift = mean_treatment / mean_control - 1
    variance = ratio_of_means_variance(mean_treatment, mean_control, se_treatment**2, se_control**2, covariance)
    half_width = normal_quantile(confidence) * math.sqrt(variance)
    return lift, lift - half_width, lift + half_width


def is_real(p_value: float | np.ndarray | pd.Series, *, alpha: float = SIGNIFICANCE_LEVEL) -> bool | np.ndarray:
    """Whether a difference is real: its p-value, already corrected for every test it was run with, is below ``alpha``.

    ``alpha`` is the analysis plan's significance level (0.05 unless a plan states another; its intervals must then
    use ``1 - alpha`` too, so that an interval excluding no difference and "real" say the same).

    This is the workbook's one rule for calling a difference real. Every table column and every sentence that says
    "real" (or "within the noise") comes from it, so a finding can never claim more than the table beside it.
    ``p_value`` must be the corrected one (e.g. Holm's) whenever several differences were tested together; a
    missing p-value (an untested group) is never real.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must lie strictly between 0 and 1", parameter="alpha", value=alpha)
    below = np.asarray(p_value, dtype=float) < alpha  # NaN compares False: untested is not real
    return bool(below) if below.ndim == 0 else below


def group_vs_rest(
    frame: pd.DataFrame,
    group_columns: Sequence[str],
    successes: str,
    trials: str,
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Each group's rate against the rest of the groups pooled: two-proportion z-test with Holm's correction.

    Groups with fewer than ``min_group_size`` trials (or whose rest is that small) are flagged ``too_small`` and not
    tested; they do not count in the Holm correction but stay in the rest of the other groups.

    Returns
    -------
    pandas.DataFrame
        One row per group. Columns: the group columns; ``trials``, ``successes``, ``rate`` (fraction) with
        ``rate_ci_low``/``rate_ci_high`` (Wilson 95%); ``rest_trials``, ``rest_successes``, ``rest_rate``;
        ``difference`` (rate - rest_rate); ``z``; ``p_value`` (two-sided); ``p_value_holm``; ``significant``
        (Holm-adjusted p below 0.05); ``too_small`` (bool).
    """
    group_columns = list(group_columns)
    missing = [c for c in [*group_columns, successes, trials] if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"group_vs_rest: frame has no column(s) {missing}; its columns are {list(frame.columns)}",
            parameter="frame",
            value=missing,
            valid=list(frame.columns),
        )
    table = frame.groupby(group_columns, dropna=False, sort=True)[[trials, successes]].sum().reset_index()
    table = table.rename(columns={trials: "trials", successes: "successes"})
    table["rate"] = table["successes"] / table["trials"]
    table["rate_ci_low"], table["rate_ci_high"] = wilson_interval(table["successes"], table["trials"])
    table["rest_trials"] = table["trials"].sum() - table["trials"]
    table["rest_successes"] = table["successes"].sum() - table["successes"]
    table["rest_rate"] = table["rest_successes"] / table["rest_trials"]
    table["difference"] = table["rate"] - table["rest_rate"]
    table["too_small"] = (table["trials"] < min_group_size) | (table["rest_trials"] < min_group_size)
    z, p_value = two_proportion_z_test(
        table["successes"], table["trials"], table["rest_successes"], table["rest_trials"]
    )
    table["z"] = np.where(table["too_small"], np.nan, z)
    table["p_value"] = np.where(table["too_small"], np.nan, p_value)
    table["p_value_holm"] = holm_adjust(table["p_value"])
    table["significant"] = is_real(table["p_value_holm"])
    return table
