"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005): fit, probability alive, expected purchases.

While alive a customer buys at rate λ ~ Gamma(r, α); after each purchase they drop out with probability
p ~ Beta(a, b). A customer's data are ``x`` (repeat purchases, the summary's ``frequency``), ``t_x`` (``recency``)
and ``T`` (age), in the units of :func:`~analysis.metrics.clv.rfm.rfm_summary`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from analysis.metrics.clv.fitting import (
    LogParameterFit,
    ModelFitError,
    NoDropoutError,
    as_array,
    checked_customers,
    group_identical,
    maximise,
    require_repeat_purchases,
)

PARAMS = ("r", "alpha", "a", "b")
MODEL = "BG/NBD"
NO_DROPOUT = 1e-4  # a fit stopping below this mean dropout probability ran up the no-dropout boundary


@dataclass(frozen=True)
class BgNbdFit(LogParameterFit):
    """A fitted BG/NBD model: ``params`` are ``r``, ``alpha`` (purchase-rate gamma shape and scale), ``a``, ``b``
    (dropout beta); ``model`` is its name as the CLV tables state it.

    The attributes are those of :class:`~analysis.metrics.clv.fitting.LogParameterFit`.
    """

    model: ClassVar[str] = MODEL


def fit_bg_nbd(frequency, recency, T, weights=None) -> BgNbdFit:
    """Fit the BG/NBD model by maximum likelihood on customers' (x, t_x, T).

    Identical (x, t_x, T) rows are grouped and weighted, so the likelihood is evaluated once per distinct row: a
    million customers summarised in whole periods fit in about a second.

    Parameters
    ----------
    frequency, recency, T
        Per customer (array-likes of equal length): repeat purchases, time of the last purchase and age, as from
        :func:`~analysis.metrics.clv.rfm.rfm_summary`.
    weights
        Optional number of customers each row stands for (default 1 each).

    Returns
    -------
    BgNbdFit

    Raises
    ------
    NoDropoutError
        When the fit runs towards no dropout (``a / (a + b)`` below :data:`NO_DROPOUT` without a maximum): the
        dropout process is not identified; :func:`~analysis.metrics.clv.nbd.fit_nbd` fits the nested limit.
    ModelFitError
        When nobody repeats (the dropout process is then not identified) or the optimiser does not converge.
    """
    x, t_x, age = checked_customers(frequency, T, recency=recency)
    row_weights = None if weights is None else as_array(weights, "weights")
    require_repeat_purchases(x, "BG/NBD cannot tell buying from dropping out")
    (x, t_x, age), counts = group_identical([x, t_x, age], row_weights)
    likelihood = _GroupedLikelihood(x, t_x, age, counts)

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        return likelihood.negative_and_gradient(log_params)[0]

    optimum = maximise(negative_log_likelihood, np.zeros(4), value_and_gradient=likelihood.negative_and_gradient)
    r, alpha, a, b = np.exp(optimum.log_params)
    if not optimum.converged and a / (a + b) < NO_DROPOUT:
        raise NoDropoutError(
            f"the BG/NBD fit runs towards no dropout at all (the mean dropout probability a / (a + b) fell to "
            f"{a / (a + b):.1g} without a maximum): these customers show no sign of leaving within the window, so "
            "the dropout process is not identified and BG/NBD gives no CLV; a longer observation window may show it",
            parameter="a",
            value=optimum.named(PARAMS, digits=6),
            valid=f"a / (a + b) >= {NO_DROPOUT:g} at an interior maximum",
        )
    if not optimum.converged:
        raise ModelFitError(
            f"the BG/NBD fit did not converge ({optimum.message}); check that recency <= T, that the periods are "
            "not too coarse for the purchase rate, and that enough customers repeat",
            value=optimum.named(PARAMS),
        )
    return BgNbdFit.at_optimum(optimum, PARAMS, counts.sum())


def probability_alive(fit: BgNbdFit | pd.Series, frequency, recency, T) -> np.ndarray:
    """P(alive at T | x, t_x, T): FHL 2005 eq. 11; 1 for customers without a repeat purchase.

    Parameters
    ----------
    fit
        A :class:`BgNbdFit` or its ``params`` (``r, alpha, a, b``).
    frequency, recency, T
        Per customer, as for :func:`fit_bg_nbd`.

    Returns
    -------
    numpy.ndarray
        The probability that each customer is still alive at the end of observation.
    """
    r, alpha, a, b = _params(fit)
    x, t_x, age = checked_customers(frequency, T, recency=recency)
    log_odds_dead = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * np.log((alpha + age) / (alpha + t_x))
    return np.where(x > 0, expit(-log_odds_dead), 1.0)


def expected_purchases(fit: BgNbdFit | pd.Series, t, frequency, recency, T) -> np.ndarray:
    """Expected purchases in the next ``t`` periods given (x, t_x, T): FHL 2005 eq. 10.

    The Gaussian hypergeometric function is evaluated as ``lifetimes`` does: directly, and through Euler's
    transformation ``2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z)`` where the direct value overflows; unlike
    ``lifetimes`` it keeps its sign (it is negative for some ``a + b + x < 1``) instead of taking its logarithm.

    Parameters
    ----------
    fit
        A :class:`BgNbdFit` or its ``params``.
    t
        The horizon, in the summary's units (scalar or per customer).
    frequency, recency, T
        Per customer, as for :func:`fit_bg_nbd`.

    Returns
    -------
    numpy.ndarray
        Conditional expected number of purchases in (T, T + t] per customer.
    """
    x, t_x, age = checked_customers(frequency, T, recency=recency)
    return expected_purchases_at(np.array(_params(fit)), np.asarray(t, dtype=float), x, t_x, age)


def expected_purchases_at(params: np.ndarray, t: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray):
    """:func:`expected_purchases` without its input checks, for callers that checked once and evaluate often.

    ``params`` is ``(r, alpha, a, b)``; ``t`` broadcasts against the customers' arrays, so a column of horizons
    (``t[:, None]``) gives a (horizons × customers) grid in one call.
    """
    r, alpha, a, b = params
    upper, lower, c = r + x, b + x, a + b + x - 1
    z = t / (alpha + age + t)
    upper, lower, c, z = np.broadcast_arrays(upper, lower, c, z)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # 2F1 is negative for some c = a + b + x - 1 < 0 (a + b < 1, x = 0), so it is carried with its sign, never
        # through its logarithm; Euler's transformation only where the direct value overflows.
        shrink = (r + x) * np.log((alpha + age) / (alpha + age + t))
        scaled = hyp2f1(upper, lower, c, z) * np.exp(shrink)
        overflowed = ~np.isfinite(scaled)
        if overflowed.any():
            u, v, w, y = upper[overflowed], lower[overflowed], c[overflowed], z[overflowed]
            euler = (w - u - v) * np.log1p(-y) + np.broadcast_to(shrink, z.shape)[overflowed]
            scaled[overflowed] = hyp2f1(w - u, w - v, w, y) * np.exp(euler)
        numerator = (a + b + x - 1) / (a - 1) * (1 - scaled)
        odds_dead = np.where(x > 0, a / (b + np.maximum(x, 1) - 1) * ((alpha + age) / (alpha + t_x)) ** (r + x), 0.0)
    return numerator / (1 + odds_dead)


def _log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, age: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    stays = betaln(a, b + x) - (r + x) * np.log(alpha + age)
    # Dropped after the last purchase: only possible with a repeat purchase. logaddexp is the two-term logsumexp.
    dropped = betaln(a + 1, b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x)
    return common + np.where(x > 0, np.logaddexp(stays, dropped), stays)


class _GroupedLikelihood:
    """The weighted log-likelihood of distinct (x, t_x, T) rows and its gradient in the log-parameters.

    Terms that depend on ``x`` alone (gamma and beta functions, digammas) are evaluated once per distinct ``x`` and
    summed with the rows' weights through ``bincount``; per row only logarithms and the two-term logsumexp remain.
    With ``s`` = stays alive past T and ``d`` = dropped after the last purchase, ``w = exp(d) / (exp(s) + exp(d))``,
    the derivatives are (ψ the digamma function)::

        ∂r = ψ(r+x) − ψ(r) + log α − (1−w) log(α+T) − w log(α+t_x)
        ∂α = r/α − (r+x) [(1−w)/(α+T) + w/(α+t_x)]
        ∂a = ψ(a+b) − ψ(a) + (1−w) [ψ(a) − ψ(a+b+x)] + w [ψ(a+1) − ψ(a+b+x)]
        ∂b = ψ(a+b) − ψ(b) + (1−w) [ψ(b+x) − ψ(a+b+x)] + w [ψ(b+x−1) − ψ(a+b+x)]

    and ``∂/∂log θ = θ ∂/∂θ``.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, age: np.ndarray, counts: np.ndarray) -> None:
        self.levels, self.level_of_row = np.unique(x, return_inverse=True)
        self.x, self.t_x, self.age, self.counts = x, t_x, age, counts
        self.repeats = x > 0
        self.level_counts = np.bincount(self.level_of_row, weights=counts, minlength=len(self.levels))
        self.total = float(counts.sum())

    def negative_and_gradient(self, log_params: np.ndarray) -> tuple[float, np.ndarray]:
        """The negative log-likelihood at ``exp(log_params)`` and its gradient in ``log_params``."""
        r, alpha, a, b = np.exp(log_params)
        levels, x, counts = self.levels, self.x, self.counts
        b_dropped = b + np.maximum(levels, 1) - 1
        log_age, log_last = np.log(alpha + self.age), np.log(alpha + self.t_x)
        stays = betaln(a, b + levels)[self.level_of_row] - (r + x) * log_age
        dropped = betaln(a + 1, b_dropped)[self.level_of_row] - (r + x) * log_last
        both = np.logaddexp(stays, dropped)
        per_row = np.where(self.repeats, both, stays)
        dropped_share = np.where(self.repeats, np.exp(dropped - both), 0.0)
        stays_share = 1.0 - dropped_share

        def by_level(values: np.ndarray) -> np.ndarray:
            return np.bincount(self.level_of_row, weights=counts * values, minlength=len(levels))

        dropped_by_level = by_level(dropped_share)
        stays_by_level = self.level_counts - dropped_by_level
        log_likelihood = (
            np.dot(self.level_counts, gammaln(r + levels))
            + self.total * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
            + np.dot(counts, per_row)
        )
        psi_ab_x = digamma(a + b + levels)
        d_r = (
            np.dot(self.level_counts, digamma(r + levels))
            + self.total * (np.log(alpha) - digamma(r))
            - np.dot(counts, stays_share * log_age + dropped_share * log_last)
        )
        d_alpha = self.total * r / alpha - np.dot(
            counts * (r + x), stays_share / (alpha + self.age) + dropped_share / (alpha + self.t_x)
        )
        d_a = (
            self.total * (digamma(a + b) - digamma(a))
            + np.dot(stays_by_level, digamma(a) - psi_ab_x)
            + np.dot(dropped_by_level, digamma(a + 1) - psi_ab_x)
        )
        d_b = (
            self.total * (digamma(a + b) - digamma(b))
            + np.dot(stays_by_level, digamma(b + levels) - psi_ab_x)
            + np.dot(dropped_by_level, digamma(b_dropped) - psi_ab_x)
        )
        gradient = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
        return -float(log_likelihood), -gradient


def _params(fit: BgNbdFit | pd.Series) -> tuple[float, float, float, float]:
    params = fit.params if isinstance(fit, BgNbdFit) else fit
    return tuple(float(params[name]) for name in PARAMS)  # type: ignore[return-value]
