"""The mean spend per repeat purchase: Gamma–Gamma's limit when customers do not differ in spend.

Gamma–Gamma lets each customer's transaction values be Gamma(p, ν) with ν ~ Gamma(q, γ). As ``q → ∞`` with
``γ / (q − 1)`` fixed, ν is the same for everyone, the population mean ``p γ / (q − 1)`` stays fixed and each
customer's expected spend ``p (γ + x m_x) / (p x + q − 1)`` tends to it: every customer is expected to spend the
population mean. When a Gamma–Gamma fit runs up that boundary
(:class:`~analysis.metrics.clv.fitting.NoSpendSpreadError`) the data show no between-customer spread of spend, and
the estimate of that common mean is the mean value of all repeat purchases, ``Σ x m_x / Σ x`` (with one ν the
maximum-likelihood mean of iid gamma values is their sample mean), with a delta-method standard error of that ratio
with customers as the independent units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.metrics.clv.fitting import ModelFitError, repeat_buyers

MODEL = "mean spend (no between-customer spread)"


@dataclass(frozen=True)
class MeanSpendFit:
    """The mean value of a repeat purchase, used as every customer's expected spend per purchase.

    Attributes
    ----------
    mean
        ``Σ x m_x / Σ x`` over the repeat buyers (weighted): the mean value of a repeat purchase.
    se
        Its standard error: ``sqrt(Σ w (y − mean·x)² / (n (n − 1))) / x̄`` with ``y = x m_x``, ``n = Σ w`` and
        ``x̄ = Σ w x / n`` (the delta method for a ratio of means, customers as units).
    n_customers
        Repeat buyers it rests on (the sum of their weights).
    """

    mean: float
    se: float
    n_customers: float

    @property
    def model(self) -> str:
        """The model's name as the CLV tables state it."""
        return MODEL


def fit_mean_spend(frequency, monetary_value, weights=None) -> MeanSpendFit:
    """The mean value of a repeat purchase over the customers with a repeat purchase, with its standard error.

    Parameters
    ----------
    frequency, monetary_value
        Per customer: repeat purchases and the mean value of those repeat purchases (``rfm_summary``'s columns).
        Customers with ``frequency == 0`` are left out.
    weights
        Optional number of customers each row stands for (default 1 each).

    Returns
    -------
    MeanSpendFit

    Raises
    ------
    ModelFitError
        With fewer than two repeat buyers (no standard error).
    DataError
        When a repeat buyer's mean value is not positive.
    """
    x, value, row_weights = repeat_buyers(
        frequency, monetary_value, weights, needs="a mean spend with a standard error needs at least two"
    )
    n = float(row_weights.sum())
    if n < 2:
        raise ModelFitError(
            f"the {len(x)} repeat buyers' weights sum to {n:g}; a mean spend with a standard error needs at least two "
            "customers",
            column="weights",
            value=n,
            valid="weights of the repeat buyers summing to at least 2",
        )
    spent = x * value
    mean_x = float(np.dot(row_weights, x)) / n
    mean = float(np.dot(row_weights, spent)) / float(np.dot(row_weights, x))
    residual = float(np.dot(row_weights, (spent - mean * x) ** 2))
    se = float(np.sqrt(residual / (n * (n - 1)))) / mean_x
    return MeanSpendFit(mean=mean, se=se, n_customers=n)
