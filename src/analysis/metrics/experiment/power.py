"""Power: the smallest effect a test of a given size can see, and the size a test needs to see a given effect.

Both use the normal approximation of a two-sided test at level ``alpha`` with power ``power``:

* :func:`minimum_detectable_effect`: ``(z₁₋α/₂ + z_power) · sqrt(variance · (1/n_control + 1/n_arm))``, the
  difference a two-sample test detects with probability ``power`` (statsmodels' ``NormalIndPower`` solved for the
  effect size, times the standard deviation);
* :func:`sample_size` for a proportion: the classic formula with the pooled variance under the null and the
  unpooled one under the alternative (Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*, 3rd ed.,
  2003, eq. 4.14 without continuity correction; statsmodels' ``samplesize_proportions_2indep_onetail``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from analysis.errors import ParameterError


def _check_probability(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ParameterError(
            f"{name}={value!r} must be between 0 and 1 (exclusive)",
            parameter=name,
            value=value,
            valid="a number between 0 and 1",
        )


def _z(alpha: float, power: float) -> float:
    """z₁₋α/₂ + z_power: how many standard errors the effect must span."""
    _check_probability("alpha", alpha)
    _check_probability("power", power)
    return float(special.ndtri(1 - alpha / 2) + special.ndtri(power))


def minimum_detectable_effect(
    n_control: float | np.ndarray,
    n_arm: float | np.ndarray,
    variance: float | np.ndarray,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> float | np.ndarray:
    """The smallest absolute difference of means a two-sided test of these sizes detects with ``power``.

    Parameters
    ----------
    n_control, n_arm
        Units in each arm.
    variance
        The per-unit variance of the metric (``p·(1 − p)`` for a proportion ``p``; for a ratio metric, ``n`` times
        the delta-method variance of the ratio). Divide the result by the control mean for a relative effect.
    alpha, power
        The test's level (two-sided) and the probability of detecting the effect.

    Returns
    -------
    float or numpy.ndarray
        The effect in the metric's units (a fraction for a proportion).
    """
    n_c, n_a, v = (np.asarray(x, dtype=float) for x in (n_control, n_arm, variance))
    if (n_c <= 0).any() or (n_a <= 0).any() or (v < 0).any():
        raise ParameterError(
            "n_control and n_arm must be positive and variance not negative",
            parameter="variance" if (v < 0).any() else "n_control",
            value={"n_control": n_control, "n_arm": n_arm, "variance": variance},
        )
    effect = _z(alpha, power) * np.sqrt(v * (1 / n_c + 1 / n_a))
    return float(effect) if effect.ndim == 0 else effect


def sample_size(
    baseline: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
    relative: bool = True,
) -> int:
    """Units the control arm needs for a test of two proportions to detect ``mde`` with ``power``.

    Parameters
    ----------
    baseline
        The control arm's rate (a fraction, e.g. 0.032 for 3.2% conversion).
    mde
        The effect to detect: relative to ``baseline`` (0.175 for +17.5%) when ``relative``, else absolute (0.005
        for +0.5 points). Negative effects are allowed.
    alpha, power
        The test's level (two-sided) and the probability of detecting the effect.
    ratio
        Units in the other arm per unit of control (1 for a 50/50 split).
    relative
        Whether ``mde`` is relative to ``baseline``.

    Returns
    -------
    int
        Units in the control arm, rounded up; the other arm needs ``ceil(ratio × that)`` (the same when
        ``ratio`` is 1). Divide the total by the units entering per day for the test's duration.
    """
    _check_probability("baseline", baseline)
    target = baseline * (1 + mde) if relative else baseline + mde
    if mde == 0 or not 0 < target < 1:
        raise ParameterError(
            f"mde={mde!r} must be non-zero and keep the rate between 0 and 1"
            f" (baseline {baseline!r} becomes {target!r})",
            parameter="mde",
            value=mde,
            valid="a non-zero effect with a target rate between 0 and 1",
        )
    if not ratio > 0:
        raise ParameterError(f"ratio={ratio!r} must be positive", parameter="ratio", value=ratio, valid="> 0")
    z_alpha = float(special.ndtri(1 - alpha / 2))
    z_power = _z(alpha, power) - z_alpha
    pooled = (baseline + ratio * target) / (1 + ratio)
    sd_null = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    sd_alternative = math.sqrt(baseline * (1 - baseline) + target * (1 - target) / ratio)
    units = ((z_alpha * sd_null + z_power * sd_alternative) / (target - baseline)) ** 2
    return math.ceil(units - 1e-9)  # a whole unit more only when the formula asks for more than float noise
