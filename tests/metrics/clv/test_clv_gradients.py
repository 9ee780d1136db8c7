"""The analytic gradients of the BG/NBD and Gamma–Gamma log-likelihoods against central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.metrics.clv.bg_nbd import _GroupedLikelihood
from analysis.metrics.clv.bg_nbd import _log_likelihood as bg_nbd_per_row
from analysis.metrics.clv.gamma_gamma import _log_likelihood as gamma_gamma_per_row
from analysis.metrics.clv.gamma_gamma import _negative_and_gradient as gamma_gamma_negative_and_gradient


@pytest.fixture(scope="module")
def customers() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    generator = np.random.default_rng(5)
    x = generator.poisson(1.5, size=400).astype(float)
    age = generator.uniform(1, 40, size=400)
    t_x = np.where(x > 0, age * generator.uniform(0, 1, size=400), 0.0)
    return x, t_x, age, generator.integers(1, 5, size=400).astype(float)


def central_differences(function, at: np.ndarray, step: float = 1e-6) -> np.ndarray:
    return np.array([(function(at + step * e) - function(at - step * e)) / (2 * step) for e in np.eye(len(at))])


@pytest.mark.parametrize("log_params", [np.zeros(4), np.log([0.243, 4.41, 0.793, 2.43]), np.log([3.0, 0.2, 5.0, 0.4])])
def test_when_the_bg_nbd_gradient_is_taken_then_it_equals_finite_differences_of_the_per_row_likelihood(
    customers, log_params
):
    x, t_x, age, weights = customers
    likelihood = _GroupedLikelihood(x, t_x, age, weights)

    def negative(at: np.ndarray) -> float:
        return -float(np.dot(weights, bg_nbd_per_row(np.exp(at), x, t_x, age)))

    value, gradient = likelihood.negative_and_gradient(log_params)

    assert value == pytest.approx(negative(log_params), rel=1e-12)
    np.testing.assert_allclose(gradient, central_differences(negative, log_params), rtol=1e-6, atol=1e-6)


def test_when_the_gamma_gamma_gradient_is_taken_then_it_equals_finite_differences(customers):
    x, _, _, weights = customers
    repeat = x > 0
    x, weights = x[repeat], weights[repeat]
    value = np.random.default_rng(8).gamma(3.0, 10.0, size=len(x))
    log_params = np.log([6.25, 3.74, 15.4])

    def negative(at: np.ndarray) -> float:
        return -float(np.dot(weights, gamma_gamma_per_row(np.exp(at), x, value)))

    total, gradient = gamma_gamma_negative_and_gradient(log_params, x, value, weights)

    assert total == pytest.approx(negative(log_params), rel=1e-12)
    np.testing.assert_allclose(gradient, central_differences(negative, log_params), rtol=1e-6, atol=1e-6)
