"""What the BTYD fits share: the fit error, grouping identical customers, and maximum likelihood on log-parameters.

Both models are fitted by minimising the negative log-likelihood over the logarithms of their (positive) parameters
with L-BFGS-B and its analytic gradient; standard errors come from a numerical Hessian (central differences of that
gradient) of the negative log-likelihood at the optimum, inverted, and carried to the natural scale by the delta
method (``cov = J C J'``, ``J = diag(params)``). Without a gradient the optimiser differentiates numerically and the
Hessian is taken by central differences of the function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from analysis.errors import DataError

STATIONARY = 1e-7  # a gradient below this share of the negative log-likelihood: a stationary point
LOG_SE_LIMIT = 2.0  # a log-scale standard error above this: the parameter is not identified (95% range > ~2,500x)


class ModelFitError(DataError):
    """A BTYD model could not be fitted: the optimiser did not converge or the data cannot identify the model."""


class NoDropoutError(ModelFitError):
    """BG/NBD ran towards no dropout (``a / (a + b) → 0`` without a maximum): the NBD model is its nested limit."""


class NoSpendSpreadError(ModelFitError):
    """Gamma–Gamma ran towards ``q → ∞`` (no between-customer spread of spend): the mean spend is its nested limit."""


@dataclass(frozen=True)
class MaximumLikelihood:
    """The optimum of a fit on log-parameters (internal to the package).

    Attributes
    ----------
    log_params
        The log-parameters at the optimum.
    log_likelihood
        The weighted log-likelihood there.
    log_covariance
        Inverse of the numerical Hessian of the negative log-likelihood on the log scale.
    converged
        True when the optimiser reported success and the Hessian is positive definite.
    message
        The optimiser's message.
    """

    log_params: np.ndarray
    log_likelihood: float
    log_covariance: np.ndarray
    converged: bool
    message: str

    def named(self, names: Sequence[str], digits: int = 4) -> dict[str, float]:
        """The parameters at the optimum (natural scale, rounded to ``digits``) by name, as errors report them."""
        return dict(zip(names, np.exp(self.log_params).round(digits).tolist(), strict=True))


@dataclass(frozen=True)
class LogParameterFit:
    """A model fitted by maximum likelihood on its log-parameters: what the BG/NBD, NBD and Gamma–Gamma fits hold.

    Attributes
    ----------
    params
        The parameters at the estimate, as a Series named as the model's ``PARAMS``.
    log_likelihood
        The (weighted) log-likelihood at the estimate.
    se
        Standard errors of ``params``: the delta method on the inverse numerical Hessian (central differences) of the
        negative log-likelihood in the log-parameters.
    covariance
        Their covariance (DataFrame, rows and columns named as ``params``).
    log_covariance
        Covariance of the log-parameters (the scale the fit and the CLV intervals' parametric draws work on).
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

    @classmethod
    def at_optimum(cls, optimum: MaximumLikelihood, names: Sequence[str], n_customers: float) -> Self:
        """The fit at a converged ``optimum``, its parameters named ``names``, resting on ``n_customers``."""
        names = list(names)
        covariance = natural_covariance(optimum.log_params, optimum.log_covariance)
        return cls(
            params=pd.Series(np.exp(optimum.log_params), index=names),
            log_likelihood=optimum.log_likelihood,
            se=pd.Series(np.sqrt(np.diag(covariance)), index=names),
            covariance=pd.DataFrame(covariance, index=names, columns=names),
            log_covariance=optimum.log_covariance,
            n_customers=float(n_customers),
            converged=True,
        )


def as_array(values, name: str) -> np.ndarray:
    """A 1-D float array of ``values`` (Series, list or array), checked for missing values."""
    array = np.asarray(values, dtype=float).reshape(-1)
    if np.isnan(array).any():
        raise DataError(f"{name} has missing values", column=name, valid="numbers without NaN")
    return array


def checked_customers(frequency, T, recency=None) -> tuple[np.ndarray, ...]:
    """Customers' ``frequency`` (x), ``recency`` (t_x, when given) and ``T`` as float arrays, checked for the
    purchase models' domain, in that order.

    Raises
    ------
    ModelFitError
        When the arrays differ in length, or a value is outside the domain: ``frequency`` a whole number >= 0,
        ``0 <= recency <= T`` (``T >= 0`` without recency).
    """
    named = {"frequency": frequency} | ({} if recency is None else {"recency": recency}) | {"T": T}
    arrays = {name: as_array(values, name) for name, values in named.items()}
    lengths = tuple(len(array) for array in arrays.values())
    if len(set(lengths)) > 1:
        names = list(arrays)
        raise ModelFitError(
            f"{', '.join(names[:-1])} and {names[-1]} have different lengths ({', '.join(map(str, lengths))})",
            value=lengths,
            valid="one value per customer in each",
        )
    x, age = arrays["frequency"], arrays["T"]
    problems = {"frequency": bool(np.any((x < 0) | (x != np.round(x))))}
    if "recency" in arrays:
        problems["recency"] = bool(np.any((arrays["recency"] < 0) | (arrays["recency"] > age + 1e-9)))
    problems["T"] = bool(np.any(age < 0))
    bad = [name for name, wrong in problems.items() if wrong]
    if bad:
        domain = "0 <= recency <= T" if "recency" in arrays else "T >= 0"
        raise ModelFitError(
            f"{bad[0]} has values outside the model's domain (frequency a whole number >= 0, {domain})",
            column=bad[0],
            valid=f"frequency in 0, 1, 2, ...; {domain}",
        )
    return tuple(arrays.values())


def require_repeat_purchases(x: np.ndarray, consequence: str) -> None:
    """Refuse customers of whom nobody repeats: ``consequence`` says what the model then cannot do.

    Raises
    ------
    ModelFitError
        When no ``x`` (repeat purchases) is above 0.
    """
    if not np.any(x > 0):
        raise ModelFitError(
            f"no customer made a repeat purchase, so {consequence}; use a longer observation window or a finer period",
            column="frequency",
            value=0,
            valid="some customers with frequency > 0",
        )


def repeat_buyers(frequency, monetary_value, weights, *, needs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customers with a repeat purchase: their ``frequency``, mean repeat value and weight (1 each by default).

    ``needs`` ends the error for fewer than two repeat buyers: what the caller's model needs them for.

    Raises
    ------
    ModelFitError
        With fewer than two repeat buyers.
    DataError
        When a repeat buyer's mean value is not positive.
    """
    x, value = as_array(frequency, "frequency"), as_array(monetary_value, "monetary_value")
    row_weights = np.ones_like(x) if weights is None else as_array(weights, "weights")
    repeat = x > 0
    x, value, row_weights = x[repeat], value[repeat], row_weights[repeat]
    if len(x) < 2:
        raise ModelFitError(
            f"{len(x)} customer(s) made a repeat purchase; {needs}",
            column="frequency",
            value=len(x),
            valid="at least 2 customers with frequency > 0",
        )
    if np.any(value <= 0):
        raise DataError(
            "monetary_value must be positive for every customer with a repeat purchase (refunds netted to zero or "
            "below cannot be gamma distributed); drop or correct those customers",
            column="monetary_value",
            valid="> 0 where frequency > 0",
        )
    return x, value, row_weights


def group_identical(columns: Sequence[np.ndarray], weights: np.ndarray | None) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` and each one's total weight (the count of customers when no weights)."""
    # A hash group-by: np.unique(axis=0) sorts a structured view and is several times slower on a million rows.
    frame = pd.DataFrame({i: column for i, column in enumerate(columns)})
    frame["weight"] = 1.0 if weights is None else weights
    totals = frame.groupby(list(range(len(columns))), sort=False)["weight"].sum()
    return [totals.index.get_level_values(i).to_numpy(dtype=float) for i in range(len(columns))], totals.to_numpy()


def maximise(
    negative_log_likelihood: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    bound: float = 15.0,
    value_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None,
) -> MaximumLikelihood:
    """Minimise ``negative_log_likelihood`` over log-parameters (each within ±``bound``) from ``start``.

    ``value_and_gradient``, when given, returns the negative log-likelihood and its gradient in the log-parameters
    together: the optimiser then uses the exact gradient (with tolerances tight enough to walk a flat ridge to its
    end) and the Hessian is the central difference of that gradient.
    """
    bounds = [(-bound, bound)] * len(start)
    if value_and_gradient is None:
        result = minimize(negative_log_likelihood, start, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-12})
        optimum = np.asarray(result.x, dtype=float)
        hessian = _hessian(negative_log_likelihood, optimum)
    else:
        options = {"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1_000}
        result = minimize(value_and_gradient, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        optimum = np.asarray(result.x, dtype=float)
        hessian = _hessian_from_gradient(lambda at: value_and_gradient(at)[1], optimum)
        if not result.success and "ABNORMAL" in str(result.message):
            # The line search gives up when rounding hides any further decrease: at a stationary point (a gradient
            # at rounding level) with a positive-definite Hessian that is the optimum, whatever order the data came in.
            value, gradient = value_and_gradient(optimum)
            result.success = bool(np.max(np.abs(gradient)) <= STATIONARY * max(1.0, abs(value)))
    at_bound = bool(np.any(np.abs(optimum) > bound - 1e-3))
    try:
        np.linalg.cholesky(hessian)
        covariance = np.linalg.inv(hessian)
        positive_definite = True
    except np.linalg.LinAlgError:
        covariance = np.full_like(hessian, np.nan)
        positive_definite = False
    converged = bool(result.success) and positive_definite and not at_bound and np.isfinite(result.fun)
    message = str(result.message) + ("; a parameter ran to its bound" if at_bound else "")
    return MaximumLikelihood(optimum, -float(result.fun), covariance, converged, message)


def natural_covariance(log_params: np.ndarray, log_covariance: np.ndarray) -> np.ndarray:
    """The delta-method covariance of ``exp(log_params)``."""
    jacobian = np.diag(np.exp(log_params))
    return jacobian @ log_covariance @ jacobian


def _hessian(function: Callable[[np.ndarray], float], at: np.ndarray) -> np.ndarray:
    size = len(at)
    steps = 1e-4 * np.maximum(1.0, np.abs(at))
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            shift_i, shift_j = np.eye(size)[i] * steps[i], np.eye(size)[j] * steps[j]
            value = (
                function(at + shift_i + shift_j)
                - function(at + shift_i - shift_j)
                - function(at - shift_i + shift_j)
                + function(at - shift_i - shift_j)
            ) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def _hessian_from_gradient(gradient: Callable[[np.ndarray], np.ndarray], at: np.ndarray) -> np.ndarray:
    size = len(at)
    steps = 1e-5 * np.maximum(1.0, np.abs(at))
    columns = [
        (gradient(at + np.eye(size)[i] * steps[i]) - gradient(at - np.eye(size)[i] * steps[i])) / (2 * steps[i])
        for i in range(size)
    ]
    hessian = np.column_stack(columns)
    return (hessian + hessian.T) / 2
