"""Customer lifetime value from a purchase model and a spend model, with parameter intervals.

CLV is ``lifetimes``' ``customer_lifetime_value``: over months m = 1..M, the expected purchases in month m (the
increment of the conditional expected purchases) × the expected value per purchase × the margin, discounted by
``(1 + d)^m``. A month is 30 days, 4.345 weeks or 1 month of the summary's period, as in ``lifetimes``.

The purchase model is BG/NBD or, where the customers show no dropout, its nested limit the NBD model
(:mod:`~analysis.metrics.clv.nbd`); the spend model is Gamma–Gamma or, where customers show no spread of spend, its
nested limit the mean spend per repeat purchase (:mod:`~analysis.metrics.clv.spend`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError, one_of
from analysis.metrics.clv.bg_nbd import PARAMS as BG_NBD_PARAMS
from analysis.metrics.clv.bg_nbd import BgNbdFit, expected_purchases_at
from analysis.metrics.clv.fitting import LOG_SE_LIMIT, ModelFitError, as_array
from analysis.metrics.clv.gamma_gamma import PARAMS as GAMMA_GAMMA_PARAMS
from analysis.metrics.clv.gamma_gamma import GammaGammaFit, average_value_at, expected_average_value
from analysis.metrics.clv.nbd import PARAMS as NBD_PARAMS
from analysis.metrics.clv.nbd import NbdFit, nbd_expected_purchases_at
from analysis.metrics.clv.spend import MeanSpendFit

PERIODS_PER_MONTH = {"D": 30.0, "W": 4.345, "M": 1.0}
MAX_DROPPED_SHARE = 0.05  # an interval may leave out at most this share of the parameter draws
NEGATIVE_TOLERANCE = 1e-9  # expected purchases below -this are a numerical failure, not rounding

PurchaseModel = BgNbdFit | NbdFit
SpendModel = GammaGammaFit | MeanSpendFit


def customer_lifetime_value(
    bg_nbd: PurchaseModel | pd.Series,
    gamma_gamma: SpendModel | pd.Series,
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
        The fitted purchase model (:class:`BgNbdFit` or :class:`NbdFit`, or their ``params``) and spend model
        (:class:`GammaGammaFit`, its ``params``, or :class:`MeanSpendFit`).
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
    kind, params = _purchase_params(bg_nbd)
    horizons = np.arange(1, months + 1)[:, None] * per_month
    purchases = _discounted_purchases(kind, params, unique_x, unique_t_x, unique_age, horizons, discount_rate)
    if isinstance(gamma_gamma, MeanSpendFit):
        spend = np.full(len(x), gamma_gamma.mean)
    else:
        spend = expected_average_value(gamma_gamma, x, monetary_value)
    return purchases[inverse] * spend * margin


def clv_by_group(
    summary: pd.DataFrame,
    bg_nbd: PurchaseModel,
    gamma_gamma: SpendModel,
    *,
    by: str | Sequence[str] = (),
    months: int = 12,
    margin: float = 1.0,
    discount_rate: float = 0.01,
    period: str = "W",
    draws: int = 200,
    level: float = 0.95,
    seed: int = 20240101,
    max_dropped_share: float = MAX_DROPPED_SHARE,
) -> pd.DataFrame:
    """Mean CLV per group of customers, with an interval for the models' parameter uncertainty.

    The interval covers the uncertainty of the two models' fitted parameters only: ``draws`` parameter vectors are
    drawn (seeded) from the normal approximations of both fits' maximum-likelihood estimates on the log scale
    (``log_covariance``; positive parameters by construction) or, for the mean spend, from the normal approximation
    of that mean (its ``se``), each draw's group mean CLV is computed for the same
    observed customers, and the interval is the central ``level`` share of those means. It does not cover the
    randomness of the customers' future purchases (the point estimate is already an expectation), nor whether the
    models fit, nor which customers were sampled; it narrows as the fits rest on more customers.

    A draw with Gamma–Gamma ``q <= 1`` or a mean spend <= 0 (no finite, positive mean spend) or whose BG/NBD
    expectation is not a finite, non-negative number (the hypergeometric series fails far from the estimate) has no
    CLV: it is dropped and counted (``draws_dropped``). The interval is refused (:class:`ModelFitError`, its
    ``value`` the share dropped) when more than ``max_dropped_share`` of the draws are dropped, and before drawing
    when a parameter is not identified: a log-scale standard error above :data:`LOG_SE_LIMIT` (its 95% range spans
    more than a factor of about 2,500), as when BG/NBD's ``a`` runs towards 0 along a flat ridge; draws there
    describe the ridge, not the uncertainty, and give intervals such as −6e40..1e33.

    Parameters
    ----------
    summary
        ``rfm_summary`` output with ``frequency``, ``recency``, ``T``, ``monetary_value`` and the ``by`` columns.
    bg_nbd, gamma_gamma
        The fitted purchase model (:class:`BgNbdFit`, or :class:`NbdFit` where no dropout was detected) and spend
        model (:class:`GammaGammaFit`, or :class:`MeanSpendFit` where no between-customer spread was detected).
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
    max_dropped_share
        The largest share of draws that may be dropped (see above) for an interval to be given.

    Returns
    -------
    pandas.DataFrame
        One row per group (sorted by group). Columns:

        - one column per ``by`` column: the group;
        - ``customers``: customers in the group;
        - ``mean_clv``: their mean CLV at the fitted parameters (currency of ``monetary_value``);
        - ``mean_clv_ci_low``, ``mean_clv_ci_high``: its interval for parameter uncertainty (see above), over the
          draws kept;
        - ``total_clv``: the group's summed CLV at the fitted parameters;
        - ``draws_dropped``: the share of the parameter draws dropped (the same for every group);
        - ``purchase_model``: ``"BG/NBD"`` or ``"NBD (no dropout detected)"``;
        - ``spend_model``: ``"Gamma–Gamma"`` or ``"mean spend (no between-customer spread)"``.

    Raises
    ------
    ModelFitError
        When a parameter is not identified or more than ``max_dropped_share`` of the draws are dropped.
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
    horizons = np.arange(1, months + 1)[:, None] * per_month

    kind, purchase_params = _purchase_params(bg_nbd)
    mean_spend = isinstance(gamma_gamma, MeanSpendFit)

    def group_means(bg_params: np.ndarray, gg_params: np.ndarray) -> np.ndarray | None:
        """Each group's mean CLV; None when the expected purchases are not a finite, non-negative number."""
        purchases = _discounted_purchases(kind, bg_params, unique_x, unique_t_x, unique_age, horizons, discount_rate)
        if not np.all(np.isfinite(purchases)) or np.any(purchases < -NEGATIVE_TOLERANCE):
            return None
        spend = gg_params[0] if mean_spend else average_value_at(gg_params, x, value)
        clv = purchases[inverse] * spend * margin
        return np.bincount(codes, weights=clv, minlength=len(groups)) / sizes

    _check_identified(bg_nbd, gamma_gamma)
    with np.errstate(all="ignore"):
        spend_params = np.array([gamma_gamma.mean]) if mean_spend else gamma_gamma.params.to_numpy(dtype=float)
        point = group_means(purchase_params, spend_params)
        if point is None:
            raise ModelFitError(f"the {bg_nbd.model} expected purchases at the fitted parameters are not finite")
        generator = np.random.default_rng(seed)
        bg_draws = _draw(generator, bg_nbd, draws)
        if mean_spend:
            gg_draws = generator.normal(gamma_gamma.mean, gamma_gamma.se, size=(draws, 1))
            infinite_spend = gg_draws[:, 0] <= 0
        else:
            gg_draws = _draw(generator, gamma_gamma, draws)
            infinite_spend = gg_draws[:, GAMMA_GAMMA_PARAMS.index("q")] <= 1
        means = [
            None if bad else group_means(bg, gg) for bg, gg, bad in zip(bg_draws, gg_draws, infinite_spend, strict=True)
        ]
    kept = [m for m in means if m is not None]
    dropped_share = (draws - len(kept)) / draws
    if draws - len(kept) > max_dropped_share * draws + 1e-9:  # counts, so 5 of 100 is not read as 5.000001%
        spend, numeric = int(infinite_spend.sum()), draws - len(kept) - int(infinite_spend.sum())
        raise ModelFitError(
            f"{draws - len(kept)} of {draws} parameter draws ({dropped_share:.0%}) have no CLV ({spend} with "
            f"{'a mean spend <= 0' if mean_spend else 'the Gamma–Gamma q <= 1, i.e. infinite mean spend'}; "
            f"{numeric} where the {bg_nbd.model} expectation is not a finite, non-negative number), more than the "
            f"{max_dropped_share:.0%} an interval may leave out",
            parameter="max_dropped_share",
            value=dropped_share,
            valid=f"at most {max_dropped_share:.0%} of the draws dropped",
        )
    simulated = np.vstack(kept)
    tail = (1 - level) / 2 * 100
    result = groups.copy()
    result["customers"] = sizes
    result["mean_clv"] = point
    result["mean_clv_ci_low"] = np.percentile(simulated, tail, axis=0)
    result["mean_clv_ci_high"] = np.percentile(simulated, 100 - tail, axis=0)
    result["total_clv"] = point * sizes
    result["draws_dropped"] = dropped_share
    result["purchase_model"] = bg_nbd.model
    result["spend_model"] = gamma_gamma.model
    return result


def _discounted_purchases(
    kind: type,
    params: np.ndarray,
    x: np.ndarray,
    t_x: np.ndarray,
    age: np.ndarray,
    horizons: np.ndarray,
    discount_rate: float,
) -> np.ndarray:
    """Sum over months of the month's expected purchases, discounted: CLV per unit of value and margin.

    ``kind`` is :class:`BgNbdFit` or :class:`NbdFit`; ``horizons`` is the column of month ends in the summary's
    units; the cumulative expectations of every month are one (months × customers) grid, differenced into monthly
    increments.
    """
    if kind is NbdFit:
        cumulative = nbd_expected_purchases_at(params, horizons, x, age)
    else:
        cumulative = expected_purchases_at(params, horizons, x, t_x, age)
    increments = np.diff(cumulative, axis=0, prepend=0.0)
    discount = (1 + discount_rate) ** -np.arange(1, len(horizons) + 1)
    return discount @ increments


def _purchase_params(fit: PurchaseModel | pd.Series) -> tuple[type, np.ndarray]:
    """The purchase model's kind and parameters; a Series with ``a`` is BG/NBD's, one with ``r, alpha`` only NBD's."""
    params = fit.params if isinstance(fit, BgNbdFit | NbdFit) else fit
    kind = NbdFit if isinstance(fit, NbdFit) or "a" not in params.index else BgNbdFit
    names = NBD_PARAMS if kind is NbdFit else BG_NBD_PARAMS
    return kind, np.array([float(params[name]) for name in names])


def _check_identified(bg_nbd: PurchaseModel, gamma_gamma: SpendModel) -> None:
    """Refuse parametric draws around a parameter the data do not pin down (see :func:`clv_by_group`)."""
    purchase_names = NBD_PARAMS if isinstance(bg_nbd, NbdFit) else BG_NBD_PARAMS
    models = [(bg_nbd.model, bg_nbd, purchase_names)]
    if isinstance(gamma_gamma, GammaGammaFit):
        models.append((gamma_gamma.model, gamma_gamma, GAMMA_GAMMA_PARAMS))
    elif not (np.isfinite(gamma_gamma.se) and gamma_gamma.se >= 0):
        raise ModelFitError(
            f"the mean spend's standard error is {gamma_gamma.se!r}, so parameter draws cannot give a CLV interval",
            parameter="se",
            value=gamma_gamma.se,
            valid="a finite standard error >= 0",
        )
    for model, fit, names in models:
        log_se = np.sqrt(np.diag(np.asarray(fit.log_covariance, dtype=float)))
        loose = [(name, se) for name, se in zip(names, log_se, strict=True) if not se <= LOG_SE_LIMIT]
        if loose:
            name, se = loose[0]
            raise ModelFitError(
                f"the {model} parameter {name} = {float(fit.params[name]):.3g} is not identified by these customers "
                f"(standard error {se:.3g} on the log scale: its 95% range spans a factor of "
                f"{np.exp(2 * 1.96 * se):.2g}), so parameter draws cannot give a CLV interval",
                parameter=name,
                value=float(se),
                valid=f"log-scale standard error <= {LOG_SE_LIMIT}",
            )


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


def _draw(generator: np.random.Generator, fit, draws: int) -> np.ndarray:
    """``draws`` parameter vectors (rows), normal on the log scale: positive by construction."""
    log_params = np.log(fit.params.to_numpy(dtype=float))
    return np.exp(generator.multivariate_normal(log_params, fit.log_covariance, size=draws))


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
