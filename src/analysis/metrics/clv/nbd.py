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

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from analysis.metrics.clv.fitting import (
    LOG_SE_LIMIT,
    ModelFitError,
    as_array,
    group_identical,
    maximise,
    natural_covariance,
)

PARAMS = ("r", "alpha")
MODEL = "NBD (no dropout detected)"
NO_SPREAD_R = 100.0  # a fit stopping above this r ran towards one rate for all (rates' CV 1/sqrt(r) below 10%)


@dataclass(frozen=True)
class NbdFit:
    """A fitted NBD (Poisson–gamma) purchase model.

    Attributes
    ----------
    params
        ``r``, ``alpha`` (shape and rate of the gamma distribution of purchase rates), as a Series.
    log_likelihood
        The (weighted) log-likelihood of the purchase times at the estimate.
    se
        Standard errors of ``params``: the delta method on the inverse numerical Hessian of the negative
        log-likelihood in the log-parameters.
    covariance
        Their covariance (DataFrame, rows and columns named as ``params``).
    log_covariance
        Covariance of the log-parameters (what the CLV intervals' parametric draws use).
    n_customers
        Customers fitted (the sum of the weights).
    converged
        True when the optimiser converged to an interior optimum with a positive-definite Hessian.
    """

    params: pd.Series
    log_likelihood: float
    se: pd.Series
    covariance: pd.DataFrame
    log_covariance: np.ndarray
    n_customers: float
    converged: bool

    @property
    def model(self) -> str:
        """The model's name as the CLV tables state it."""
        return MODEL


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
    x, age = _checked(frequency, T)
    row_weights = None if weights is None else as_array(weights, "weights")
    if not np.any(x > 0):
        raise ModelFitError(
            "no customer made a repeat purchase, so the NBD model cannot estimate purchase rates; use a longer "
            "observation window or a finer period",
            column="frequency",
            value=0,
            valid="some customers with frequency > 0",
        )
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
    covariance = natural_covariance(optimum.log_params, optimum.log_covariance)
    return NbdFit(
        params=pd.Series(np.exp(optimum.log_params), index=PARAMS),
        log_likelihood=optimum.log_likelihood,
        se=pd.Series(np.sqrt(np.diag(covariance)), index=PARAMS),
        covariance=pd.DataFrame(covariance, index=PARAMS, columns=PARAMS),
        log_covariance=optimum.log_covariance,
        n_customers=float(counts.sum()),
        converged=True,
    )


def nbd_log_likelihood(params, frequency, T) -> np.ndarray:
    """Each customer's log-likelihood ``log Γ(r+x) − log Γ(r) + r log α − (r+x) log(α+T)`` at ``(r, alpha)``."""
    r, alpha = (float(v) for v in (params[list(PARAMS)] if isinstance(params, pd.Series) else params))
    x, age = _checked(frequency, T)
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
    x, age = _checked(frequency, T)
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


def _checked(frequency, T) -> tuple[np.ndarray, np.ndarray]:
    x, age = as_array(frequency, "frequency"), as_array(T, "T")
    if len(x) != len(age):
        raise ModelFitError(
            f"frequency and T have different lengths ({len(x)}, {len(age)})",
            value=(len(x), len(age)),
            valid="one value per customer in each",
        )
    if np.any((x < 0) | (x != np.round(x))) or np.any(age < 0):
        raise ModelFitError(
            "frequency or T has values outside the model's domain (frequency a whole number >= 0, T >= 0)",
            column="frequency" if np.any((x < 0) | (x != np.round(x))) else "T",
            valid="frequency in 0, 1, 2, ...; T >= 0",
        )
    return x, age
