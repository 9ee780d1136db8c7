"""The shifted-beta-geometric (sBG) model of contractual retention, fitted by maximum likelihood.

Fader & Hardie (2007), "How to project customer retention", *Journal of Interactive Marketing* 21(1): each member of
a cohort renews at the end of every period with their own probability ``1 - θ`` and ``θ ~ Beta(α, β)``. Then

* ``P(T = t) = B(α + 1, β + t − 1) / B(α, β)`` is the chance a member is lost at the end of period ``t`` (t ≥ 1),
* ``S(t) = B(α, β + t) / B(α, β)`` the share still active after ``t`` periods, and
* ``r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1)`` the retention rate of period ``t``, rising with tenure.

The fit maximises the log-likelihood over ``log α, log β`` (scipy, Nelder-Mead then BFGS) from counts still active
at periods 0..n. Standard errors come from the inverse of the numerical Hessian of the log-likelihood (in log space,
carried to α and β by the delta method). Intervals of projections use the delta method on the logit (survival) or
log (remaining lifetime) scale, so they stay inside their range; the tests check their coverage by simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln

from analysis.errors import DataError
from analysis.metrics.stats import CONFIDENCE, normal_quantile

_LARGEST_LOG_PARAMETER = 9.2  # exp(9.2) ≈ 10,000: beyond it the parameters are not told apart (no heterogeneity)


class SbgFitError(DataError):
    """The survivor counts cannot be fitted by the shifted-beta-geometric model (see the message's advice)."""


@dataclass(frozen=True)
class ShiftedBetaGeometricFit:
    """A fitted sBG model.

    Attributes
    ----------
    params
        ``{"alpha": α, "beta": β}``, the maximum-likelihood estimates.
    log_likelihood
        The maximised log-likelihood (natural log; weights applied).
    se
        ``{"alpha": …, "beta": …}``: standard errors from the inverse Hessian (delta method from log space).
    covariance
        2 × 2 covariance of (α, β), a frame indexed and labelled ``alpha``, ``beta``.
    log_params
        ``(log α, log β)``, where the fit and the intervals are computed.
    log_covariance
        2 × 2 covariance of ``(log α, log β)``: the inverse of minus the Hessian.
    periods
        The longest observed cohort's number of periods (counts were given for periods 0..``periods``).
    cohorts
        How many cohorts were fitted.
    """

    params: dict[str, float]
    log_likelihood: float
    se: dict[str, float]
    covariance: pd.DataFrame
    log_params: tuple[float, float]
    log_covariance: np.ndarray
    periods: int
    cohorts: int

    def survival(self, t: float | np.ndarray) -> float | np.ndarray:
        """``S(t)``: the share of a cohort still active after ``t`` periods (``S(0) = 1``); array in, array out."""
        return _survival(np.asarray(self.log_params), t)

    def retention(self, t: float | np.ndarray) -> float | np.ndarray:
        """``r(t) = S(t) / S(t − 1)``: the share of members active after ``t − 1`` periods who renew (t ≥ 1)."""
        alpha, beta = self.params["alpha"], self.params["beta"]
        t = np.asarray(t, dtype=float)
        value = (beta + t - 1) / (alpha + beta + t - 1)
        return float(value) if value.ndim == 0 else value

    def projected_survival(self, horizons: Sequence[int], *, confidence: float = CONFIDENCE) -> pd.DataFrame:
        """Survival at the given horizons with delta-method intervals (on the logit scale).

        Returns
        -------
        pandas.DataFrame
            One row per horizon: ``period`` (periods since the cohort started), ``survival`` (share still active,
            fraction), ``survival_ci_low``, ``survival_ci_high``.
        """
        periods = np.asarray(horizons, dtype=float)
        estimate = np.asarray(self.survival(periods), dtype=float)
        low, high = [], []
        for t, value in zip(periods, estimate, strict=True):
            lo, hi = self._interval(lambda p, t=t: _logit(_survival(p, t)), _logit(value), confidence)
            low.append(_expit(lo))
            high.append(_expit(hi))
        return pd.DataFrame(
            {"period": periods.astype("int64"), "survival": estimate, "survival_ci_low": low, "survival_ci_high": high}
        )

    def expected_remaining_periods(
        self, *, tenure: int, horizon: int, discount_rate: float = 0.0, confidence: float = CONFIDENCE
    ) -> pd.Series:
        """Expected number of the next ``horizon`` periods a member active after ``tenure`` periods renews for.

        ``Σ_{t=1..horizon} S(tenure + t) / S(tenure) / (1 + discount_rate)^t``: finite by construction; with
        ``discount_rate`` > 0 and a long horizon it approaches Fader & Hardie's (2010) discounted expected residual
        lifetime measured from the next renewal. The interval is the delta method on the log scale.

        Returns
        -------
        pandas.Series
            ``periods`` (expected periods, same unit as the fit), ``periods_ci_low``, ``periods_ci_high``,
            ``tenure``, ``horizon``, ``discount_rate``.
        """
        if tenure < 0 or horizon < 1 or discount_rate < 0:
            raise SbgFitError(
                f"expected_remaining_periods needs tenure >= 0, horizon >= 1 and discount_rate >= 0; got tenure="
                f"{tenure!r}, horizon={horizon!r}, discount_rate={discount_rate!r}",
                parameter="horizon",
                value=(tenure, horizon, discount_rate),
                valid="tenure >= 0, horizon >= 1, discount_rate >= 0",
            )
        steps = np.arange(1, horizon + 1, dtype=float)
        discount = (1 + discount_rate) ** -steps

        def remaining(p: np.ndarray) -> float:
            return float(np.sum(_survival(p, tenure + steps) / _survival(p, tenure) * discount))

        value = remaining(np.asarray(self.log_params))
        low, high = self._interval(lambda p: np.log(remaining(p)), np.log(value), confidence)
        return pd.Series(
            {
                "periods": value,
                "periods_ci_low": float(np.exp(low)),
                "periods_ci_high": float(np.exp(high)),
                "tenure": tenure,
                "horizon": horizon,
                "discount_rate": discount_rate,
            }
        )

    def _interval(self, function, value: float, confidence: float) -> tuple[float, float]:
        """Delta-method interval of ``function(log_params)`` around ``value`` (its value at the estimate)."""
        gradient = _gradient(function, np.asarray(self.log_params))
        se = float(np.sqrt(max(gradient @ self.log_covariance @ gradient, 0.0)))
        z = normal_quantile(confidence)
        return value - z * se, value + z * se


def fit_shifted_beta_geometric(
    survivors: Sequence[float] | np.ndarray | Sequence[Sequence[float]],
    weights: Sequence[float] | None = None,
) -> ShiftedBetaGeometricFit:
    """Fit the sBG model to counts still active at periods 0..n of one cohort or several.

    Parameters
    ----------
    survivors
        One cohort: a 1-D sequence ``[n_0, n_1, …, n_T]`` (members active at the start and after each period,
        non-increasing, ``T >= 1``). Several cohorts: a list of such sequences, possibly of different lengths.
    weights
        One weight per cohort multiplying its log-likelihood (default 1 each).

    Returns
    -------
    ShiftedBetaGeometricFit

    Raises
    ------
    SbgFitError
        When a cohort has fewer than two counts, a count rises, is negative or the first is 0, nobody or everybody
        is lost (the parameters are then not identified), or the optimiser does not converge.
    """
    cohorts = _cohorts(survivors)
    cohort_weights = _weights(weights, len(cohorts))
    lost = sum(float(c[0] - c[-1]) for c in cohorts)
    if lost == 0:
        raise SbgFitError(
            "no member of any cohort was lost, so the sBG churn distribution cannot be estimated; wait for more "
            "periods or fit a longer-observed cohort",
            parameter="survivors",
            valid="counts that fall at least once",
        )

    def negative(p: np.ndarray) -> float:
        return -_log_likelihood(p, cohorts, cohort_weights)

    start = minimize(negative, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-6, "fatol": 1e-9})
    result = minimize(negative, start.x, method="BFGS", options={"gtol": 1e-7})
    best = result if result.fun <= start.fun else start
    if not np.all(np.isfinite(best.x)) or np.any(np.abs(best.x) > _LARGEST_LOG_PARAMETER):
        raise SbgFitError(
            f"the sBG fit did not converge (log alpha, log beta = {best.x[0]:.3g}, {best.x[1]:.3g}): the counts are "
            "consistent with a retention rate that does not change with tenure or with no churn at all; use a "
            "constant-rate (geometric) model or observe more periods",
            parameter="survivors",
            value=[list(c) for c in cohorts],
        )
    hessian = _hessian(lambda p: _log_likelihood(p, cohorts, cohort_weights), best.x)
    try:
        log_covariance = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError as error:
        raise SbgFitError(
            "the sBG log-likelihood is flat at its maximum (singular Hessian): the counts do not determine both "
            "parameters; observe more periods or pool more cohorts",
            parameter="survivors",
        ) from error
    if not np.all(np.linalg.eigvalsh(log_covariance) > 0):
        raise SbgFitError(
            "the sBG fit stopped where the log-likelihood is not at a maximum; observe more periods or pool cohorts",
            parameter="survivors",
        )
    alpha, beta = np.exp(best.x)
    jacobian = np.diag([alpha, beta])
    covariance = jacobian @ log_covariance @ jacobian
    names = ["alpha", "beta"]
    return ShiftedBetaGeometricFit(
        params={"alpha": float(alpha), "beta": float(beta)},
        log_likelihood=float(-best.fun),
        se={"alpha": float(np.sqrt(covariance[0, 0])), "beta": float(np.sqrt(covariance[1, 1]))},
        covariance=pd.DataFrame(covariance, index=names, columns=names),
        log_params=(float(best.x[0]), float(best.x[1])),
        log_covariance=log_covariance,
        periods=max(len(c) for c in cohorts) - 1,
        cohorts=len(cohorts),
    )


def sbg_log_likelihood(
    alpha: float, beta: float, survivors: Sequence[float] | np.ndarray, weights: Sequence[float] | None = None
) -> float:
    """The sBG log-likelihood of survivor counts (one cohort or several) at given ``alpha`` and ``beta``."""
    cohorts = _cohorts(survivors)
    return _log_likelihood(np.log([alpha, beta]), cohorts, _weights(weights, len(cohorts)))


def _log_likelihood(log_params: np.ndarray, cohorts: list[np.ndarray], weights: np.ndarray) -> float:
    alpha, beta = np.exp(log_params)
    total = 0.0
    for counts, weight in zip(cohorts, weights, strict=True):
        t = np.arange(1, len(counts))
        lost = counts[:-1] - counts[1:]
        log_p_lost = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)
        log_s_last = betaln(alpha, beta + t[-1]) - betaln(alpha, beta)
        total += weight * (np.sum(lost * log_p_lost) + counts[-1] * log_s_last)
    return float(total)


def _survival(log_params: np.ndarray, t: float | np.ndarray) -> float | np.ndarray:
    alpha, beta = np.exp(log_params)
    t = np.asarray(t, dtype=float)
    value = np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))
    return float(value) if value.ndim == 0 else value


def _cohorts(survivors) -> list[np.ndarray]:
    array = np.asarray(survivors, dtype=object) if not isinstance(survivors, np.ndarray) else survivors
    nested = array.ndim == 2 or (array.ndim == 1 and len(array) and np.ndim(array[0]) == 1)
    raw = list(survivors) if nested else [survivors]
    cohorts = []
    for position, cohort in enumerate(raw):
        counts = np.asarray(cohort, dtype=float)
        where = f"cohort {position}: " if nested else ""
        if counts.ndim != 1 or counts.size < 2:
            raise SbgFitError(
                f"{where}the sBG model needs counts for at least two periods (0 and 1); got {counts.size}",
                parameter="survivors",
                value=counts.tolist(),
                valid="[n_0, n_1, ...] with at least two counts",
            )
        if not np.all(np.isfinite(counts)) or np.any(counts < 0) or counts[0] <= 0:
            raise SbgFitError(
                f"{where}survivor counts must be finite, non-negative and start above 0",
                parameter="survivors",
                value=counts.tolist(),
                valid="non-negative counts with n_0 > 0",
            )
        if np.any(np.diff(counts) > 0):
            raise SbgFitError(
                f"{where}survivor counts rise from one period to the next; they must count members of one cohort "
                "still active (pass counts still active, not new or returning members)",
                parameter="survivors",
                value=counts.tolist(),
                valid="non-increasing counts",
            )
        cohorts.append(counts)
    return cohorts


def _weights(weights: Sequence[float] | None, count: int) -> np.ndarray:
    if weights is None:
        return np.ones(count)
    values = np.asarray(weights, dtype=float)
    if values.shape != (count,) or np.any(values < 0) or not np.all(np.isfinite(values)):
        raise SbgFitError(
            f"weights must be {count} non-negative numbers, one per cohort; got {values.tolist()}",
            parameter="weights",
            value=values.tolist(),
            valid=f"{count} non-negative numbers",
        )
    return values


def _gradient(function, point: np.ndarray, step: float = 1e-5) -> np.ndarray:
    gradient = np.zeros_like(point)
    for i in range(point.size):
        shift = np.zeros_like(point)
        shift[i] = step
        gradient[i] = (function(point + shift) - function(point - shift)) / (2 * step)
    return gradient


def _hessian(function, point: np.ndarray, step: float = 1e-4) -> np.ndarray:
    size = point.size
    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            ei, ej = np.eye(size)[i] * step, np.eye(size)[j] * step
            hessian[i, j] = (
                function(point + ei + ej)
                - function(point + ei - ej)
                - function(point - ei + ej)
                + function(point - ei - ej)
            ) / (4 * step**2)
    return hessian


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def _expit(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))
