"""Statistics for funnel counts: Wilson intervals, two-proportion z-tests, Holm's correction.

Small, vectorised and dependency-light (NumPy and the standard library; importing SciPy's stats would cost seconds).
The tests check each against statsmodels.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

CONFIDENCE = 0.95


def wilson_interval(
    successes: np.ndarray | pd.Series, trials: np.ndarray | pd.Series, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``successes / trials``; NaN where ``trials`` is 0.

    Matches ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denominator = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half_width = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    low = np.where(n > 0, centre - half_width, np.nan)
    high = np.where(n > 0, centre + half_width, np.nan)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0)


def two_proportion_z_test(
    successes_a: np.ndarray, trials_a: np.ndarray, successes_b: np.ndarray, trials_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided z-test of equal proportions with the pooled standard error.

    Returns ``(z, p_value)``; ``z`` is positive when group a's rate is higher. Matches
    ``statsmodels.stats.proportion.proportions_ztest([xa, xb], [na, nb])``. NaN where the pooled rate is 0 or 1 (no
    variation, nothing to test).
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
