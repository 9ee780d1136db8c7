"""The NBD model of repeat buying (Ehrenberg 1959; Morrison & Schmittlein 1988): BG/NBD without dropout.

Every customer buys at a constant Poisson rate λ ~ Gamma(r, α) and never drops out. It is BG/NBD's limit as the
mean dropout probability ``a / (a + b)`` goes to 0 (``a → 0`` with ``b`` fixed), the model to use when a BG/NBD fit
runs up that boundary (:class:`~analysis.metrics.clv.fitting.NoDropoutError`): the customers show no sign of leaving
within the window, so the dropout process is not identified, while the purchase process still is.

A customer's data are ``x`` (repeat purchases) and ``T`` (age), in the units of
:func:`~analysis.metrics.clv.rfm.rfm_summary`; the time of the last purchase carries no information without dropout.
The likelihood is that of the purchase times, as BG/NBD's (Fader, Hardie & Lee 2005, eq. 3 with no dropout)::

    L(r, α | x, T) = Γ(r + x) / Γ(r) · α^r / (α + T)^(r + x)

which differs from the count probability ``P(X(T) = x)`` of the negative binomial distribution only by the factor
``T^x / x!`` that does not involve the parameters. Given a customer's history, λ ~ Gamma(r + x, α + T), so the
expected purchases in the next ``t`` periods are ``(r + x) / (α + T) · t`` (``r / α · t`` for a customer without
history) and P(alive) = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from analysis.metrics.clv.fitting import (
    LOG_SE_LIMIT,
    LogParameterFit,
    ModelFitError,
    as_array,
    checked_customers,
    group_identical,
    maximise,
    require_repeat_purchases,
)

PARAMS = ("r", "alpha")
MODEL = "NBD (no dropout detected)"
NO_SPREAD_R = 100.0  # a fit stopping above this r ran towards one rate for all (rates' CV 1/sqrt(r) below 10%)


@dataclass(frozen=True)
class NbdFit(LogParameterFit):
    """A fitted NBD (Poisson–gamma) purchase model: ``params`` are ``r``, ``alpha`` (shape and rate of the gamma
    distribution of purchase rates); ``log_likelihood`` is that of the purchase times; ``model`` is its name as the
    CLV tables state it.

    The attributes are those of :class:`~analysis.metrics.clv.fitting.LogParameterFit`.
    """

    model: ClassVar[str] = MODEL


def fit_nbd(frequency, T, weights=None) -> NbdFit:
    """Fit the NBD model by maximum likelihood on customers' (x, T).

    Identical (x, T) rows are grouped and weighted; the optimiser uses the analytic gradient
    ``∂r = ψ(r+x) − ψ(r) + log α − log(α+T)``, ``∂α = r/α − (r+x)/(α+T)``.

    Parameters
    ----------
    frequency, T
        Per customer (array-likes of equal length): repeat purchases and age, as from
        :func:`~analysis.metrics.clv.rfm.rfm_summary`.
    weights
        Optional number of customers each row stands for (default 1 each).

    Returns
    -------
    NbdFit

    Raises
    ------
    ModelFitError
        When nobody repeats (the purchase rates are then not identified), when the purchase rates show no spread
        between customers (``r`` above :data:`NO_SPREAD_R` and not identified: the counts are Poisson with one
        rate), or when the optimiser does not converge.
    """
    x, age = checked_customers(frequency, T)
    row_weights = None if weights is None else as_array(weights, "weights")
    require_repeat_purchases(x, "the NBD model cannot estimate purchase rates")
    (x, age), counts = group_identical([x, age], row_weights)

    def negative_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return _negative_and_gradient(log_params, x, age, counts)

    start = np.log([1.0, max(float(np.dot(counts, age) / max(np.dot(counts, x), 1.0)), 1e-3)])
    optimum = maximise(lambda at: negative_and_gradient(at)[0], start, value_and_gradient=negative_and_gradient)
    r, alpha = np.exp(optimum.log_params)
    r_log_se = float(np.sqrt(optimum.log_covariance[0, 0])) if optimum.converged else np.inf
    no_spread = r > NO_SPREAD_R and not r_log_se <= LOG_SE_LIMIT
    if no_spread or not optimum.converged:
        reason = (
            "the purchase rates show no spread between customers (r runs towards infinity, the counts look Poisson "
            "with one rate)"
            if no_spread
            else f"the optimiser stopped without a maximum ({optimum.message})"
        )
        raise ModelFitError(
            f"the NBD fit did not converge: {reason}",
            parameter="r",
            value={"r": round(float(r), 6), "alpha": round(float(alpha), 6)},
            valid="an interior maximum of the likelihood",
        )
    return NbdFit.at_optimum(optimum, PARAMS, counts.sum())


def nbd_log_likelihood(params, frequency, T) -> np.ndarray:
    """Each customer's log-likelihood ``log Γ(r+x) − log Γ(r) + r log α − (r+x) log(α+T)`` at ``(r, alpha)``."""
    r, alpha = (float(v) for v in (params[list(PARAMS)] if isinstance(params, pd.Series) else params))
    x, age = checked_customers(frequency, T)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + age)


def nbd_expected_purchases(fit: NbdFit | pd.Series, t, frequency, T) -> np.ndarray:
    """Expected purchases in the next ``t`` periods given (x, T): ``(r + x) / (α + T) · t``.

    Parameters
    ----------
    fit
        An :class:`NbdFit` or its ``params``.
    t
        The horizon, in the summary's units (scalar or per customer).
    frequency, T
        Per customer, as for :func:`fit_nbd`.

    Returns
    -------
    numpy.ndarray
        Conditional expected number of purchases in (T, T + t] per customer.
    """
    params = fit.params if isinstance(fit, NbdFit) else fit
    x, age = checked_customers(frequency, T)
    return nbd_expected_purchases_at(params[list(PARAMS)].to_numpy(dtype=float), np.asarray(t, dtype=float), x, age)


def nbd_expected_purchases_at(params: np.ndarray, t: np.ndarray, x: np.ndarray, age: np.ndarray) -> np.ndarray:
    """:func:`nbd_expected_purchases` without checks; ``t`` broadcasts against the customers (``t[:, None]``)."""
    r, alpha = params
    return (r + x) / (alpha + age) * t


def _negative_and_gradient(
    log_params: np.ndarray, x: np.ndarray, age: np.ndarray, counts: np.ndarray
) -> tuple[float, np.ndarray]:
    r, alpha = np.exp(log_params)
    log_pooled = np.log(alpha + age)
    value = np.dot(counts, gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * log_pooled)
    d_r = np.dot(counts, digamma(r + x) - digamma(r) + np.log(alpha) - log_pooled)
    d_alpha = np.dot(counts, r / alpha - (r + x) / (alpha + age))
    return -float(value), -np.array([d_r * r, d_alpha * alpha])
