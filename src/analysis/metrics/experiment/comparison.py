"""Comparing two arms from their sufficient statistics: means, variances, tests and intervals, vectorised.

:class:`ArmSums` holds one arm's n, Σx, Σx² and Σxy; :func:`compare_arms` turns control and arm sums into a
:class:`Comparison` (difference, relative lift, their intervals, the statistic and p-value) for a mean (Welch's t or
the two-proportion z-test), a ratio of per-unit sums (delta method) and, with a pre-period covariate, CUPED. Every
array may carry leading axes, so one call reads out one experiment or simulates a thousand. The readout
(:mod:`analysis.metrics.experiment.readout`) builds on these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.errors import ParameterError, one_of
from analysis.metrics.stats import ratio_of_means_variance, two_proportion_z_test

TESTS = ("welch", "z", "proportions")


def sum_column(column: str) -> str:
    """The name of Σ``column`` in :func:`sufficient_statistics`' frame."""
    return f"sum__{column}"


def sum_of_products_column(x: str, y: str) -> str:
    """The name of Σ``x``·``y`` (Σ``x``² when ``x == y``) in :func:`sufficient_statistics`' frame; order-free."""
    first, second = sorted((x, y))
    return f"sum__{first}__{second}"


@dataclass(frozen=True)
class ArmSums:
    """Sufficient statistics of one arm over ``k`` per-unit columns; leading axes broadcast (e.g. simulations).

    Attributes
    ----------
    n
        Units, shape ``(...)``.
    sums
        Σx of each column, shape ``(..., k)``.
    products
        Σxᵢxⱼ of each pair of columns (squares on the diagonal), shape ``(..., k, k)``.
    """

    n: np.ndarray
    sums: np.ndarray
    products: np.ndarray

    @classmethod
    def of(cls, values: np.ndarray) -> ArmSums:
        """The sums of per-unit ``values`` of shape ``(..., units, k)``."""
        values = np.asarray(values, dtype=float)
        n = np.full(values.shape[:-2], values.shape[-2], dtype=float)
        return cls(n, values.sum(axis=-2), np.einsum("...ui,...uj->...ij", values, values))

    @classmethod
    def from_statistics(cls, row: Mapping[str, float], columns: Sequence[str]) -> ArmSums:
        """The sums of ``columns`` from one row of :func:`sufficient_statistics`."""
        sums = np.array([row[sum_column(c)] for c in columns], dtype=float)
        products = np.array([[row[sum_of_products_column(x, y)] for y in columns] for x in columns], dtype=float)
        return cls(np.asarray(row["n"], dtype=float), sums, products)

    def __add__(self, other: ArmSums) -> ArmSums:
        return ArmSums(self.n + other.n, self.sums + other.sums, self.products + other.products)

    def means(self) -> np.ndarray:
        """The column means, shape ``(..., k)``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums / self.n[..., None]

    def covariance(self, ddof: int = 1) -> np.ndarray:
        """The per-unit covariance matrix of the columns, shape ``(..., k, k)``."""
        n = self.n[..., None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            centred = self.products - self.sums[..., :, None] * self.sums[..., None, :] / n
            return centred / (n - ddof)


@dataclass(frozen=True)
class Comparison:
    """One metric compared between an arm and control (arrays shaped like the :class:`ArmSums`' ``n``).

    Attributes
    ----------
    n_control, n_arm
        Units per arm.
    control_mean, arm_mean
        The metric in each arm as observed (a mean, or a ratio of sums).
    difference, difference_se, difference_ci_low, difference_ci_high
        ``arm − control`` (CUPED-adjusted when a covariate is given), its standard error and interval.
    relative_lift, relative_lift_ci_low, relative_lift_ci_high
        ``arm / control − 1`` on the (adjusted) means, delta-method interval.
    statistic, p_value
        The test statistic (t, or z) of no difference and its two-sided p-value.
    variance_reduction
        ``1 − var(adjusted difference) / var(raw difference)``; NaN without covariate.
    """

    n_control: np.ndarray
    n_arm: np.ndarray
    control_mean: np.ndarray
    arm_mean: np.ndarray
    difference: np.ndarray
    difference_se: np.ndarray
    difference_ci_low: np.ndarray
    difference_ci_high: np.ndarray
    relative_lift: np.ndarray
    relative_lift_ci_low: np.ndarray
    relative_lift_ci_high: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    variance_reduction: np.ndarray


def _value_and_gradient(means: np.ndarray, indices: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """A mean (one index) or a ratio of means (two) of the columns, and its gradient in the column means."""
    gradient = np.zeros_like(means)
    if len(indices) == 1:
        gradient[..., indices[0]] = 1.0
        return means[..., indices[0]], gradient
    numerator, denominator = means[..., indices[0]], means[..., indices[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        gradient[..., indices[0]] = 1 / denominator
        gradient[..., indices[1]] = -numerator / denominator**2
        return numerator / denominator, gradient


def _quadratic(left: np.ndarray, matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    return np.einsum("...i,...ij,...j->...", left, matrix, right)


def compare_arms(
    control: ArmSums,
    arm: ArmSums,
    *,
    metric: tuple[int, ...] = (0,),
    covariate: tuple[int, ...] | None = None,
    test: str = "welch",
    alpha: float = 0.05,
) -> Comparison:
    """Compare one metric between ``arm`` and ``control`` from their sums (vectorised over leading axes).

    Parameters
    ----------
    control, arm
        The arms' sums over the same columns.
    metric
        ``(i,)``: the mean of column i; ``(i, j)``: the ratio Σcolumn i / Σcolumn j (delta method).
    covariate
        The pre-period covariate, same shape as ``metric`` (CUPED with θ pooled over both arms), or None.
    test
        ``"welch"`` (t with Welch–Satterthwaite df), ``"z"`` (normal), or ``"proportions"`` (a 0/1 mean without
        covariate: pooled two-proportion z-test, Wald interval).
    alpha
        1 − the confidence of the intervals.
    """
    if test not in TESTS:
        raise ParameterError(f"test={test!r} must be {one_of(TESTS)}", parameter="test", value=test, valid=TESTS)
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} must be between 0 and 1, e.g. 0.05", parameter="alpha", value=alpha)
    ddof = 0 if test == "proportions" else 1
    (n_c, mu_c, cov_c), (n_t, mu_t, cov_t) = [(s.n, s.means(), s.covariance(ddof)) for s in (control, arm)]
    f_c, grad_c = _value_and_gradient(mu_c, metric)
    f_t, grad_t = _value_and_gradient(mu_t, metric)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_f_c, var_f_t = _quadratic(grad_c, cov_c, grad_c) / n_c, _quadratic(grad_t, cov_t, grad_t) / n_t
        theta = np.zeros_like(f_c)
        var_h_c = var_h_t = cross_c = cross_t = delta_h = np.zeros_like(f_c)
        if covariate is not None:
            pooled = control + arm
            mu_p, cov_p = pooled.means(), pooled.covariance()
            _, grad_f_p = _value_and_gradient(mu_p, metric)
            _, grad_h_p = _value_and_gradient(mu_p, covariate)
            theta = _quadratic(grad_f_p, cov_p, grad_h_p) / _quadratic(grad_h_p, cov_p, grad_h_p)
            theta = np.where(np.isfinite(theta), theta, 0.0)
            h_c, gh_c = _value_and_gradient(mu_c, covariate)
            h_t, gh_t = _value_and_gradient(mu_t, covariate)
            var_h_c, var_h_t = _quadratic(gh_c, cov_c, gh_c) / n_c, _quadratic(gh_t, cov_t, gh_t) / n_t
            cross_c, cross_t = _quadratic(grad_c, cov_c, gh_c) / n_c, _quadratic(grad_t, cov_t, gh_t) / n_t
            delta_h = h_t - h_c
        # each arm's mean adjusted towards the pooled covariate: their difference is the CUPED estimate
        w_t, w_c = n_t / (n_t + n_c), n_c / (n_t + n_c)
        adjusted_t, adjusted_c = f_t - theta * w_c * delta_h, f_c + theta * w_t * delta_h
        residual_t = var_f_t + theta**2 * var_h_t - 2 * theta * cross_t
        residual_c = var_f_c + theta**2 * var_h_c - 2 * theta * cross_c
        var_h = var_h_t + var_h_c
        var_adjusted_t = var_f_t + (theta * w_c) ** 2 * var_h - 2 * theta * w_c * cross_t
        var_adjusted_c = var_f_c + (theta * w_t) ** 2 * var_h - 2 * theta * w_t * cross_c
        covariance = theta * (w_t * cross_t + w_c * cross_c) - theta**2 * w_t * w_c * var_h
        difference = adjusted_t - adjusted_c
        se = np.sqrt(residual_t + residual_c)
        if test == "welch":
            df = (residual_t + residual_c) ** 2 / (residual_t**2 / (n_t - 1) + residual_c**2 / (n_c - 1))
            quantile = special.stdtrit(df, 1 - alpha / 2)
            statistic = difference / se
            p_value = 2 * special.stdtr(df, -np.abs(statistic))
        else:
            quantile = special.ndtri(1 - alpha / 2)
            statistic = difference / se
            if test == "proportions":
                statistic, _ = two_proportion_z_test(f_t * n_t, n_t, f_c * n_c, n_c)
            p_value = 2 * special.ndtr(-np.abs(statistic))
        lift = adjusted_t / adjusted_c - 1
        lift_se = np.sqrt(ratio_of_means_variance(adjusted_t, adjusted_c, var_adjusted_t, var_adjusted_c, covariance))
        reduction = 1 - (residual_t + residual_c) / (var_f_t + var_f_c) if covariate is not None else np.nan + f_c
    return Comparison(
        n_control=n_c,
        n_arm=n_t,
        control_mean=f_c,
        arm_mean=f_t,
        difference=difference,
        difference_se=se,
        difference_ci_low=difference - quantile * se,
        difference_ci_high=difference + quantile * se,
        relative_lift=lift,
        relative_lift_ci_low=lift - quantile * lift_se,
        relative_lift_ci_high=lift + quantile * lift_se,
        statistic=np.asarray(statistic, dtype=float),
        p_value=np.asarray(p_value, dtype=float),
        variance_reduction=np.asarray(reduction, dtype=float),
    )


def welch_from_sums(
    n_control: float,
    sum_control: float,
    sum_squares_control: float,
    n_arm: float,
    sum_arm: float,
    sum_squares_arm: float,
    *,
    alpha: float = 0.05,
) -> Comparison:
    """Welch's t comparison of two means from each arm's n, Σx and Σx² (arrays broadcast); see :func:`compare_arms`."""
    control = ArmSums(
        np.asarray(n_control, float), np.asarray(sum_control, float)[..., None], _square(sum_squares_control)
    )
    arm = ArmSums(np.asarray(n_arm, float), np.asarray(sum_arm, float)[..., None], _square(sum_squares_arm))
    return compare_arms(control, arm, metric=(0,), test="welch", alpha=alpha)


def proportions_from_sums(
    n_control: float, successes_control: float, n_arm: float, successes_arm: float, *, alpha: float = 0.05
) -> Comparison:
    """Two-proportion z comparison (pooled test, Wald interval) from each arm's units and successes."""
    control = ArmSums(
        np.asarray(n_control, float), np.asarray(successes_control, float)[..., None], _square(successes_control)
    )
    arm = ArmSums(np.asarray(n_arm, float), np.asarray(successes_arm, float)[..., None], _square(successes_arm))
    return compare_arms(control, arm, metric=(0,), test="proportions", alpha=alpha)


def ratio_from_sums(control: ArmSums, arm: ArmSums, *, alpha: float = 0.05) -> Comparison:
    """A ratio metric, Σ column 0 / Σ column 1, compared by the delta method (normal z); see :func:`compare_arms`."""
    return compare_arms(control, arm, metric=(0, 1), test="z", alpha=alpha)


def _square(values: float | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=float)[..., None, None]
