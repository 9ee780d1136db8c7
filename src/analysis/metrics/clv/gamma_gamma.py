"""The Gamma–Gamma model of spend per transaction (Fader & Hardie 2013 note; Colombo & Jiang 1999).

A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, independent of their purchase
process; a customer's data are ``x`` (repeat purchases) and ``m_x`` (the mean of their repeat purchases' values).
Only customers with ``x > 0`` inform the fit.
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
    NoSpendSpreadError,
    as_array,
    maximise,
    repeat_buyers,
)

PARAMS = ("p", "q", "gamma")
MODEL = "Gamma–Gamma"
NO_SPREAD_Q = 1e3  # a fit stopping above this q ran towards one spend rate for all (rates' CV 1/sqrt(q) below 3%)


@dataclass(frozen=True)
class GammaGammaFit(LogParameterFit):
    """A fitted Gamma–Gamma spend model: ``params`` are ``p`` (shape of a customer's transaction values), ``q`` and
    ``gamma`` (shape and scale of their rate); ``log_likelihood`` and ``n_customers`` cover the repeat buyers only;
    ``model`` is its name as the CLV tables state it.

    The attributes are those of :class:`~analysis.metrics.clv.fitting.LogParameterFit`.
    """

    model: ClassVar[str] = MODEL


def fit_gamma_gamma(frequency, monetary_value, weights=None) -> GammaGammaFit:
    """Fit the Gamma–Gamma model by maximum likelihood on the customers with a repeat purchase.

    Parameters
    ----------
    frequency, monetary_value
        Per customer: repeat purchases and the mean value of those repeat purchases (``rfm_summary``'s columns).
        Customers with ``frequency == 0`` are left out.
    weights
        Optional number of customers each row stands for (default 1 each).

    Returns
    -------
    GammaGammaFit

    Raises
    ------
    NoSpendSpreadError
        When the fit stops at ``q`` above :data:`NO_SPREAD_Q` without a maximum or with ``log q``'s standard error
        above :data:`~analysis.metrics.clv.fitting.LOG_SE_LIMIT` (on the flat ridge towards ``q = ∞``): it runs
        towards one spend rate for every customer, so the between-customer spread is not identified;
        :func:`~analysis.metrics.clv.spend.fit_mean_spend` estimates the nested limit.
    ModelFitError
        With fewer than two repeat buyers, non-positive repeat values, or when the optimiser does not converge.
    """
    x, value, row_weights = repeat_buyers(
        frequency, monetary_value, weights, needs="the Gamma–Gamma model needs the repeat values of several"
    )

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        return -float(np.dot(row_weights, _log_likelihood(np.exp(log_params), x, value)))

    def negative_and_gradient(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return _negative_and_gradient(log_params, x, value, row_weights)

    optimum = maximise(negative_log_likelihood, np.zeros(3), value_and_gradient=negative_and_gradient)
    p, q, gamma = np.exp(optimum.log_params)
    q_log_se = float(np.sqrt(optimum.log_covariance[1, 1])) if optimum.converged else np.inf
    if q > NO_SPREAD_Q and not q_log_se <= LOG_SE_LIMIT:
        raise NoSpendSpreadError(
            f"the Gamma–Gamma fit runs towards no spread of spend between customers (q rose to {q:.3g} without "
            f"a clear maximum, with the mean spend p γ / (q − 1) = {p * gamma / (q - 1):.4g} fixed): customers' "
            "spend per purchase differs no more than chance would make it, so that spread is not identified",
            parameter="q",
            value=optimum.named(PARAMS),
            valid=f"q <= {NO_SPREAD_Q:g} at an interior maximum",
        )
    if not optimum.converged:
        raise ModelFitError(
            f"the Gamma–Gamma fit did not converge ({optimum.message}); check that spend per transaction varies "
            "between customers and is not dominated by a few extreme values",
            value=optimum.named(PARAMS),
        )
    return GammaGammaFit.at_optimum(optimum, PARAMS, row_weights.sum())


def expected_average_value(fit: GammaGammaFit | pd.Series, frequency, monetary_value) -> np.ndarray:
    """E[value of a transaction | x, m_x]: ``p (γ + x m_x) / (p x + q − 1)`` (Fader & Hardie 2013, eq. 5).

    A weighted mean of the population mean ``p γ / (q − 1)`` and the customer's own mean ``m_x``; customers without a
    repeat purchase get the population mean. Requires ``q > 1`` (a finite population mean).

    Returns
    -------
    numpy.ndarray
        Expected value per future transaction, per customer (the currency of ``monetary_value``).
    """
    params = fit.params if isinstance(fit, GammaGammaFit) else fit
    p, q, gamma = (float(params[name]) for name in PARAMS)
    if q <= 1:
        raise ModelFitError(
            f"q = {q:.3g} <= 1: the Gamma–Gamma population mean spend is infinite, so no expected value exists",
            parameter="q",
            value=q,
            valid="q > 1",
        )
    x, value = as_array(frequency, "frequency"), as_array(monetary_value, "monetary_value")
    return average_value_at(np.array([p, q, gamma]), x, value)


def average_value_at(params: np.ndarray, x: np.ndarray, value: np.ndarray) -> np.ndarray:
    """:func:`expected_average_value` without its checks (``params`` is ``(p, q, gamma)`` with ``q > 1``)."""
    p, q, gamma = params
    return p * (gamma + x * value) / (p * x + q - 1)


def _log_likelihood(params: np.ndarray, x: np.ndarray, value: np.ndarray) -> np.ndarray:
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(value)
        + px * np.log(x)
        - (px + q) * np.log(gamma + x * value)
    )


def _negative_and_gradient(
    log_params: np.ndarray, x: np.ndarray, value: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """The weighted negative log-likelihood and its gradient in the log-parameters.

    ``∂p = x [ψ(px+q) − ψ(px) + log m + log x − log(γ + x m)]``, ``∂q = ψ(px+q) − ψ(q) + log γ − log(γ + x m)``,
    ``∂γ = q/γ − (px+q)/(γ + x m)``; ``∂/∂log θ = θ ∂/∂θ``.
    """
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_pooled = np.log(gamma + x * value)
    psi_sum = digamma(px + q)
    d_p = np.dot(weights, x * (psi_sum - digamma(px) + np.log(value) + np.log(x) - log_pooled))
    d_q = np.dot(weights, psi_sum - digamma(q) + np.log(gamma) - log_pooled)
    d_gamma = np.dot(weights, q / gamma - (px + q) / (gamma + x * value))
    value_sum = np.dot(weights, _log_likelihood(np.array([p, q, gamma]), x, value))
    return -float(value_sum), -np.array([d_p, d_q, d_gamma]) * np.array([p, q, gamma])
