"""Views for readers who look every day: always-valid intervals, and a Bayesian chance to beat control.

* :func:`always_valid_interval`: the normal-mixture confidence sequence (Howard, Ramdas, McAuliffe & Sekhon 2021;
  Waudby-Smith et al. 2023, eq. 9), as GrowthBook's sequential testing computes it: an interval that keeps its
  coverage however often it is looked at, at the price of width. ``tuning`` is the total sample size at which the
  interval is tightest (GrowthBook's "sequential tuning parameter", default 5,000).
* :func:`chance_to_beat_control` and :func:`expected_loss`: with a flat prior, the posterior of an effect is normal
  around its estimate with the estimate's standard error (the normal approximation GrowthBook uses on the lift).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.errors import ParameterError

DEFAULT_TUNING = 5_000


def always_valid_interval(
    estimate: float | np.ndarray,
    standard_error: float | np.ndarray,
    n_total: float | np.ndarray,
    *,
    alpha: float = 0.05,
    tuning: float = DEFAULT_TUNING,
) -> tuple[np.ndarray, np.ndarray]:
    """The always-valid (sequential) interval of an estimate: ``(low, high)``.

    Parameters
    ----------
    estimate, standard_error
        A difference (or relative lift) and its fixed-horizon standard error, e.g. a readout's ``difference`` and
        its ``difference_se``.
    n_total
        Units in both arms so far.
    alpha
        The interval misses the truth at any look with probability at most ``alpha``.
    tuning
        The total units at which the interval is narrowest (GrowthBook's default 5,000).

    Returns
    -------
    tuple of numpy.ndarray
        ``estimate ∓ se·sqrt(N)·sqrt(2(Nρ² + 1)·log(sqrt(Nρ² + 1)/α) / (Nρ)²)`` with
        ``ρ² = (−2 log α + log(1 − 2 log α)) / tuning``; always wider than the fixed-horizon interval.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must be between 0 and 1", parameter="alpha", value=alpha)
    if not tuning > 0:
        raise ParameterError(f"tuning={tuning!r} must be positive", parameter="tuning", value=tuning, valid="> 0")
    estimate, se, n = (np.asarray(x, dtype=float) for x in (estimate, standard_error, n_total))
    rho_squared = (-2 * np.log(alpha) + np.log(1 - 2 * np.log(alpha))) / tuning
    with np.errstate(invalid="ignore", divide="ignore"):
        width = 2 * (n * rho_squared + 1) * np.log(np.sqrt(n * rho_squared + 1) / alpha) / (n**2 * rho_squared)
        half_width = se * np.sqrt(n) * np.sqrt(width)
    return estimate - half_width, estimate + half_width


def chance_to_beat_control(estimate: float | np.ndarray, standard_error: float | np.ndarray) -> np.ndarray:
    """P(effect > 0): the posterior probability that the arm beats control (flat prior, normal approximation)."""
    estimate, se = np.asarray(estimate, dtype=float), np.asarray(standard_error, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return special.ndtr(estimate / se)


def expected_loss(
    estimate: float | np.ndarray, standard_error: float | np.ndarray, *, choose: str = "arm"
) -> np.ndarray:
    """What choosing ``"arm"`` (or ``"control"``) is expected to cost when it is the worse one, in the effect's units.

    With the effect's posterior N(μ, σ²): choosing the arm loses E[max(0, −effect)] = σφ(μ/σ) − μΦ(−μ/σ); choosing
    control loses E[max(0, effect)] = σφ(μ/σ) + μΦ(μ/σ). A decision rule ships the arm when its loss is below a
    threshold of caring (GrowthBook's "risk").
    """
    if choose not in ("arm", "control"):
        raise ParameterError(
            f"choose={choose!r} must be 'arm' or 'control'", parameter="choose", value=choose, valid=["arm", "control"]
        )
    mu, sigma = np.asarray(estimate, dtype=float), np.asarray(standard_error, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = mu / sigma
        density = np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)
        if choose == "arm":
            return sigma * density - mu * special.ndtr(-z)
        return sigma * density + mu * special.ndtr(z)
