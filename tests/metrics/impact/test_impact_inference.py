"""Few-cluster inference: the wild cluster bootstrap and randomisation inference against brute force written out in
the test (every sign vector, every launch assignment, each a full dummy regression), test inversion, and size under
the null with eight clusters beside the CRV1 t-test's."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import ParameterError
from analysis.metrics.impact.inference import randomisation_inference, wild_cluster_bootstrap
from analysis.metrics.impact.twfe import twfe_did


def panel_of(launches: list, periods: int, seed: int, effect: float = 0.0) -> pd.DataFrame:
    """One unit per launch (None = never), ``periods`` periods, AR(1) noise of unit-specific scale."""
    rng = np.random.default_rng(seed)
    rows = []
    for index, launch in enumerate(launches):
        noise = 0.0
        for period in range(periods):
            noise = 0.5 * noise + rng.normal(scale=1.0 + 0.2 * index)
            treated = int(launch is not None and period >= launch)
            rows.append((f"m{index}", period, np.nan if launch is None else launch, treated, effect * treated + noise))
    return pd.DataFrame(rows, columns=["market", "week", "launch", "treated", "y"])


def dummy_design(panel: pd.DataFrame, with_treated: pd.Series | None) -> np.ndarray:
    """Intercept, unit and week dummies, and (optionally) the treated column first."""
    units = pd.get_dummies(panel["market"], drop_first=True, dtype=float).to_numpy()
    weeks = pd.get_dummies(panel["week"], drop_first=True, dtype=float).to_numpy()
    parts = [np.ones((len(panel), 1)), units, weeks]
    if with_treated is not None:
        parts.insert(0, with_treated.to_numpy(dtype=float)[:, None])
    return np.hstack(parts)


def ols_t(design: np.ndarray, y: np.ndarray, clusters: np.ndarray) -> tuple[float, float]:
    """The first coefficient and its cluster-robust t (no small-sample factor: it cancels in comparisons)."""
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ coefficients
    bread = np.linalg.pinv(design.T @ design)
    meat = sum(
        np.outer(s, s) for s in (design[clusters == g].T @ residuals[clusters == g] for g in np.unique(clusters))
    )
    covariance = bread @ meat @ bread
    return coefficients[0], coefficients[0] / np.sqrt(covariance[0, 0])


def brute_force_wild_p(panel: pd.DataFrame, values: np.ndarray) -> float:
    """WCR p-value by brute force: the null fit's residuals flipped per market by every weight vector, refitted."""
    clusters = panel["market"].to_numpy()
    names = list(dict.fromkeys(clusters))
    full = dummy_design(panel, panel["treated"])
    restricted = dummy_design(panel, None)
    y = panel["y"].to_numpy()
    _, t_observed = ols_t(full, y, clusters)
    fitted = restricted @ np.linalg.lstsq(restricted, y, rcond=None)[0]
    residuals = y - fitted
    t_draws = []
    for weights in itertools.product(values, repeat=len(names)):
        per_row = pd.Series(clusters).map(dict(zip(names, weights, strict=True))).to_numpy()
        t_draws.append(ols_t(full, fitted + per_row * residuals, clusters)[1])
    return float(np.mean(np.abs(t_draws) >= abs(t_observed) * (1 - 1e-10)))


@pytest.mark.parametrize(
    ("launches", "weights", "values"),
    [
        ([2, 3, None, None], "rademacher", [-1.0, 1.0]),
        ([2, 4, 3, None, None], "rademacher", [-1.0, 1.0]),
        ([2, 3, None], "webb", [-(1.5**0.5), -1.0, -(0.5**0.5), 0.5**0.5, 1.0, 1.5**0.5]),
    ],
)
def test_when_every_weight_vector_is_enumerated_then_the_p_value_equals_brute_force(launches, weights, values):
    panel = panel_of(launches, periods=6, seed=3, effect=0.8)

    result = wild_cluster_bootstrap(panel, "y", "market", "week", "treated", cluster="market", weights=weights)

    assert result.enumerated and result.draws == len(values) ** len(launches)
    assert result.p_value == brute_force_wild_p(panel, np.array(values))


def test_when_the_bootstrap_runs_then_its_statistic_is_the_crv1_t_and_its_interval_inverts_the_test():
    panel = panel_of([3, 5, 4, 6, None, None, None, None], periods=10, seed=8, effect=1.5)
    twfe = twfe_did(panel, "y", "market", "week", "treated")

    result = wild_cluster_bootstrap(panel, "y", "market", "week", "treated", draws=999, seed=1)

    assert result.estimate == pytest.approx(twfe.estimate, abs=1e-10)
    assert result.statistic == pytest.approx(twfe.t_statistic, abs=1e-10)
    assert not result.enumerated and result.draws == 999
    assert result.ci_low < result.estimate < result.ci_high
    for end, inside in ((result.ci_low, 1e-6), (result.ci_high, -1e-6)):
        # Testing β = β₀ is testing no effect on y − β₀·treated: rejected just outside the interval, not inside.
        for shift, rejected in ((-inside, True), (inside, False)):
            moved = panel.assign(y=panel["y"] - (end + shift) * panel["treated"])
            p = wild_cluster_bootstrap(moved, "y", "market", "week", "treated", draws=999, seed=1).p_value
            assert (p <= 0.05) == rejected


def test_when_launches_are_few_then_randomisation_enumerates_every_assignment_like_brute_force():
    panel = panel_of([2, 3, None, None], periods=5, seed=4, effect=1.0)
    names = ["m0", "m1", "m2", "m3"]
    y = panel["y"].to_numpy()
    estimates = []
    for order in sorted(set(itertools.permutations([2, 3, -1, -1]))):  # -1: never launched
        launch = panel["market"].map(dict(zip(names, order, strict=True)))
        treated = ((launch >= 0) & (panel["week"] >= launch)).astype(float)
        estimates.append(np.linalg.lstsq(dummy_design(panel, treated), y, rcond=None)[0][0])
    actual = estimates[sorted(set(itertools.permutations([2, 3, -1, -1]))).index((2, 3, -1, -1))]

    result = randomisation_inference(panel, "y", "market", "week", "launch")

    assert len(estimates) == 12 and result.draws == 12 and result.enumerated
    assert result.estimate == pytest.approx(actual, abs=1e-10)
    assert result.p_value == np.mean(np.abs(estimates) >= abs(actual) * (1 - 1e-10))


def test_when_assignments_are_many_then_randomisation_draws_them_and_counts_the_observed_one():
    panel = panel_of([2, 3, 4, 5, 6, 7, None, None], periods=9, seed=5, effect=2.0)

    result = randomisation_inference(panel, "y", "market", "week", "launch", draws=500, seed=2)

    assert not result.enumerated and result.draws == 501
    assert result.p_value >= 1 / 501
    assert result.ci_low < result.estimate < result.ci_high


def test_when_assignments_are_given_then_the_p_value_is_over_them_and_the_observed_one():
    panel = panel_of([2, 3, None], periods=5, seed=6, effect=0.5)
    swapped = [{"m0": 3, "m1": 2, "m2": None}, {"m0": None, "m1": 3, "m2": 2}]

    result = randomisation_inference(panel, "y", "market", "week", "launch", assignments=swapped)

    assert result.draws == 3
    with pytest.raises(ParameterError, match="no launch for unit 'm2'"):
        randomisation_inference(panel, "y", "market", "week", "launch", assignments=[{"m0": 3, "m1": 2}])
    with pytest.raises(ParameterError, match="weights='normal'"):
        wild_cluster_bootstrap(panel, "y", "market", "week", "treated", weights="normal")


def rejection_rates(launches: list, panels: int) -> tuple[float, float]:
    """Share of null panels (no effect) rejected at 5% by the Webb WCR bootstrap and by the CRV1 t(G−1) test."""
    wild = crv1 = 0
    for seed in range(panels):
        panel = panel_of(launches, periods=16, seed=1000 + seed)
        result = wild_cluster_bootstrap(panel, "y", "market", "week", "treated", draws=399, seed=seed)
        wild += result.p_value < 0.05
        crv1 += 2 * stats.t.sf(abs(result.statistic), len(launches) - 1) < 0.05
    return wild / panels, crv1 / panels


@pytest.mark.slow
def test_when_eight_markets_have_no_effect_then_the_wild_bootstrap_keeps_its_size_where_crv1_over_rejects():
    # Three staggered launches among eight markets: the bootstrap rejects about 5% of null panels.
    wild, _ = rejection_rates([None, None, None, None, None, 4, 7, 10], panels=300)
    assert 0.02 <= wild <= 0.09
    # Two launches among eight: the CRV1 t-test rejects a true null several times too often; WCR stays below 5%
    # (conservative, as MacKinnon & Webb find with few treated clusters).
    wild, crv1 = rejection_rates([None, None, None, None, None, None, 4, 8], panels=300)
    assert crv1 > 0.10
    assert wild <= 0.05
