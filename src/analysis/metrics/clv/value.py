"""Customer lifetime value from a BG/NBD purchase model and a Gamma–Gamma spend model, with parameter intervals.

CLV is ``lifetimes``' ``customer_lifetime_value``: over months m = 1..M, the expected purchases in month m (the
increment of the conditional expected purchases) × the expected value per purchase × the margin, discounted by
``(1 + d)^m``. A month is 30 days, 4.345 weeks or 1 month of the summary's period, as in ``lifetimes``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.clv.bg_nbd import PARAMS as BG_NBD_PARAMS
from analysis.metrics.clv.bg_nbd import BgNbdFit, expected_purchases
from analysis.metrics.clv.fitting import as_array
from analysis.metrics.clv.gamma_gamma import PARAMS as GAMMA_GAMMA_PARAMS
from analysis.metrics.clv.gamma_gamma import GammaGammaFit, expected_average_value

PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}


def customer_lifetime_value(
    bg_nbd: BgNbdFit | pd.Series,
    gamma_gamma: GammaGammaFit | pd.Series,
    frequency,
    recency,
    T,
    monetary_value,
    *,
    months: int = 12,
    margin: float = 1.0,
    discount_rate: float = 0.01,
    period: str = "W",
) -> np.ndarray:
    """Expected discounted margin of each customer over the next ``months`` months.

    Parameters
    ----------
    bg_nbd, gamma_gamma
        The fitted models (or their ``params``).
    frequency, recency, T, monetary_value
        Per customer, as from :func:`~analysis.metrics.clv.rfm.rfm_summary` (in units of ``period``).
    months
        The horizon in months (whole, 1 or more).
    margin
        The share of a purchase's value that is profit (1: CLV in revenue).
    discount_rate
        The monthly discount rate ``d``.
    period
        The summary's time unit: ``"D"``, ``"W"`` or ``"M"`` (30, 4.345 or 1 per month).

    Returns
    -------
    numpy.ndarray
        CLV per customer, in the currency of ``monetary_value``.
    """
    per_month = _checked_options(months, margin, discount_rate, period)
    x, t_x, age = (as_array(v, n) for v, n in ((frequency, "frequency"), (recency, "recency"), (T, "T")))
    (unique_x, unique_t_x, unique_age), inverse = _distinct(x, t_x, age)
    purchases = _discounted_purchases(bg_nbd, unique_x, unique_t_x, unique_age, months, discount_rate, per_month)
    return purchases[inverse] * expected_average_value(gamma_gamma, x, monetary_value) * margin


def clv_by_group(
    summary: pd.DataFrame,
    bg_nbd: BgNbdFit,
    gamma_gamma: GammaGammaFit,
    *,
    by: str | Sequence[str] = (),
    months: int = 12,
    margin: float = 1.0,
    discount_rate: float = 0.01,
    period: str = "W",
    draws: int = 200,
    level: float = 0.95,
    seed: int = 20240101,
) -> pd.DataFrame:
    """Mean CLV per group of customers, with an interval for the models' parameter uncertainty.

    The interval covers the uncertainty of the two models' fitted parameters only: ``draws`` parameter vectors are
    drawn (seeded) from the normal approximations of both fits' maximum-likelihood estimates on the log scale
    (``log_covariance``), each draw's group mean CLV is computed for the same observed customers, and the interval is
    the central ``level`` share of those means. It does not cover the randomness of the customers' future purchases
    (the point estimate is already an expectation), nor whether the models fit, nor which customers were sampled; it
    narrows as the fits rest on more customers.

    Parameters
    ----------
    summary
        ``rfm_summary`` output with ``frequency``, ``recency``, ``T``, ``monetary_value`` and the ``by`` columns.
    bg_nbd, gamma_gamma
        The fitted models.
    by
        Column(s) of ``summary`` to group by (e.g. ``"segment"``); empty: one row for all customers.
    months, margin, discount_rate, period
        As for :func:`customer_lifetime_value`.
    draws
        Parametric draws for the interval.
    level
        Coverage of the interval (0.95: the 2.5th to 97.5th percentile of the draws).
    seed
        Seed of the draws.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by group). Columns:

        - one column per ``by`` column: the group;
        - ``customers``: customers in the group;
        - ``mean_clv``: their mean CLV at the fitted parameters (currency of ``monetary_value``);
        - ``mean_clv_ci_low``, ``mean_clv_ci_high``: its interval for parameter uncertainty (see above);
        - ``total_clv``: the group's summed CLV at the fitted parameters.
    """
    keys = [by] if isinstance(by, str) else list(by)
    per_month = _checked_options(months, margin, discount_rate, period)
    if not 0 < level < 1 or draws < 2:
        raise ParameterError(
            f"level {level!r} must be between 0 and 1 and draws {draws!r} at least 2",
            parameter="level" if not 0 < level < 1 else "draws",
            value=level if not 0 < level < 1 else draws,
            valid="0 < level < 1; draws >= 2",
        )
    x, t_x, age, value = (as_array(summary[name], name) for name in ("frequency", "recency", "T", "monetary_value"))
    (unique_x, unique_t_x, unique_age), inverse = _distinct(x, t_x, age)
    codes, groups = _group_codes(summary, keys)
    sizes = np.bincount(codes, minlength=len(groups))

    def group_means(bg_params: pd.Series, gg_params: pd.Series) -> np.ndarray:
        purchases = _discounted_purchases(bg_params, unique_x, unique_t_x, unique_age, months, discount_rate, per_month)
        clv = purchases[inverse] * expected_average_value(gg_params, x, value) * margin
        return np.bincount(codes, weights=clv, minlength=len(groups)) / sizes

    point = group_means(bg_nbd.params, gamma_gamma.params)
    generator = np.random.default_rng(seed)
    bg_draws = _draw(generator, bg_nbd, BG_NBD_PARAMS, draws)
    gg_draws = _draw(generator, gamma_gamma, GAMMA_GAMMA_PARAMS, draws)
    simulated = np.vstack([group_means(bg, gg) for bg, gg in zip(bg_draws, gg_draws, strict=True)])
    tail = (1 - level) / 2 * 100
    result = groups.copy()
    result["customers"] = sizes
    result["mean_clv"] = point
    result["mean_clv_ci_low"] = np.nanpercentile(simulated, tail, axis=0)
    result["mean_clv_ci_high"] = np.nanpercentile(simulated, 100 - tail, axis=0)
    result["total_clv"] = point * sizes
    return result


def _discounted_purchases(bg_nbd, x, t_x, age, months: int, discount_rate: float, per_month: float) -> np.ndarray:
    """Sum over months of the month's expected purchases, discounted: CLV per unit of value and margin."""
    total = np.zeros_like(x)
    before = np.zeros_like(x)
    for month in range(1, months + 1):
        cumulative = expected_purchases(bg_nbd, month * per_month, x, t_x, age)
        total += (cumulative - before) / (1 + discount_rate) ** month
        before = cumulative
    return total


def _distinct(x: np.ndarray, t_x: np.ndarray, age: np.ndarray):
    stacked = np.column_stack([x, t_x, age])
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    return [unique[:, i] for i in range(3)], inverse.reshape(-1)


def _group_codes(summary: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    if not keys:
        return np.zeros(len(summary), dtype=int), pd.DataFrame(index=[0])
    missing = [key for key in keys if key not in summary.columns]
    if missing:
        raise ParameterError(
            f"by {one_of(missing)} is not a column of the summary",
            parameter="by",
            value=missing,
            valid=list(summary.columns),
        )
    grouped = summary[keys].reset_index(drop=True).groupby(keys, sort=True, dropna=False)
    return grouped.ngroup().to_numpy(), grouped.size().reset_index()[keys]


def _draw(generator: np.random.Generator, fit, names: tuple[str, ...], draws: int) -> list[pd.Series]:
    log_params = np.log(fit.params.to_numpy())
    sampled = generator.multivariate_normal(log_params, fit.log_covariance, size=draws)
    return [pd.Series(np.exp(row), index=names) for row in sampled]


def _checked_options(months: int, margin: float, discount_rate: float, period: str) -> float:
    if period not in PERIODS_PER_MONTH:
        raise ParameterError(
            f"period {period!r} is not one of {one_of(PERIODS_PER_MONTH)}",
            parameter="period",
            value=period,
            valid=list(PERIODS_PER_MONTH),
        )
    checks = {
        "months": (months, int(months) == months and months >= 1, "a whole number of months >= 1"),
        "margin": (margin, 0 < margin <= 1, "a share of value between 0 (excluded) and 1"),
        "discount_rate": (discount_rate, 0 <= discount_rate < 1, "a monthly rate in [0, 1)"),
    }
    for name, (value, valid, expected) in checks.items():
        if not valid:
            raise ParameterError(f"{name} {value!r} must be {expected}", parameter=name, value=value, valid=expected)
    return PERIODS_PER_MONTH[period]
