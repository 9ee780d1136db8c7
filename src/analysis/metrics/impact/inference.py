"""Inference for the TWFE coefficient when there are few clusters (eight markets): wild cluster bootstrap and
randomisation inference.

With a handful of clusters the CRV1 standard error of :func:`~analysis.metrics.impact.twfe.twfe_did` is too small
and its t-test rejects a true null too often. :func:`wild_cluster_bootstrap` is the restricted wild cluster bootstrap
(WCR, the null imposed) of its t-statistic, as ``boottest``/``wildboottest`` compute it; :func:`randomisation_inference`
compares the estimate with the ones obtained by re-assigning the launch dates across units. Both partial the unit
and period fixed effects out first (Frisch–Waugh–Lovell), so each draw is a one-regressor regression, and both give a
p-value and an interval by test inversion.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError, one_of
from analysis.metrics.impact.twfe import check_alpha, require_columns
from analysis.metrics.stats import SIGNIFICANCE_LEVEL

WEIGHT_KINDS = ("webb", "rademacher")
WEBB_WEIGHTS = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])
RADEMACHER_WEIGHTS = np.array([-1.0, 1.0])
# A draw as extreme as the observed statistic up to rounding counts as extreme (the identity draw reproduces it).
TIE_TOLERANCE = 1e-10
BRACKET_STEPS = 40
BISECTION_STEPS = 60


@dataclass(frozen=True)
class ResamplingResult:
    """A p-value (and interval) for the TWFE coefficient from resampling rather than from the t distribution.

    Attributes
    ----------
    estimate
        The TWFE coefficient (as :func:`~analysis.metrics.impact.twfe.twfe_did` estimates it).
    statistic
        The statistic compared with its draws: the CRV1 t-statistic (bootstrap) or the estimate (randomisation).
    p_value
        Two-sided, symmetric: the share of draws at least as extreme in absolute value.
    ci_low, ci_high
        The ``1 - alpha`` interval by test inversion: the null values the test does not reject (±inf when every
        value is kept, which happens when the draws are too few to reach ``alpha``).
    draws
        The number of draws (assignments or weight vectors) the p-value is over.
    enumerated
        True when every possible draw was used (the p-value is then exact, not simulated).
    method
        What was done, e.g. ``"wild cluster bootstrap (WCR, webb weights, 7776 enumerated draws)"``.
    alpha
        The significance level of the interval.
    """

    estimate: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    draws: int
    enumerated: bool
    method: str
    alpha: float


def fixed_effects_basis(units: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the unit and period dummies' column space (rows of the panel × rank)."""
    unit_codes = pd.factorize(units)[0]
    period_codes = pd.factorize(periods)[0]
    dummies = np.zeros((len(units), unit_codes.max() + 1 + period_codes.max()))
    dummies[np.arange(len(units)), unit_codes] = 1.0
    has_period = period_codes > 0  # the first period's dummy is the units' sum minus the others: left out
    dummies[np.nonzero(has_period)[0], unit_codes.max() + period_codes[has_period]] = 1.0
    basis, _ = np.linalg.qr(dummies)
    return basis


def partial_out(basis: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (a vector or columns) minus their projection on the fixed effects."""
    return values - basis @ (basis.T @ values)


def inverted_interval(p_value_at, estimate: float, scale: float, alpha: float) -> tuple[float, float]:
    """The null values whose p-value exceeds ``alpha``: bracketed outwards from ``estimate``, then bisected."""
    ends = []
    for sign in (-1.0, 1.0):
        inside, step = estimate, scale
        outside = None
        for _ in range(BRACKET_STEPS):
            candidate = estimate + sign * step
            if p_value_at(candidate) <= alpha:
                outside = candidate
                break
            inside, step = candidate, step * 2
        if outside is None:
            ends.append(sign * math.inf)
            continue
        for _ in range(BISECTION_STEPS):
            middle = (inside + outside) / 2
            inside, outside = (middle, outside) if p_value_at(middle) > alpha else (inside, middle)
        ends.append((inside + outside) / 2)
    return ends[0], ends[1]


def prepared(panel: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The columns the resampling needs, complete rows only."""
    require_columns(panel, columns)
    frame = panel[list(dict.fromkeys(columns))].dropna(subset=list(dict.fromkeys(columns[:3])))
    if frame.empty:
        raise DataError("the panel has no complete row to estimate from", value=list(columns))
    return frame


def weight_vectors(kind: str, clusters: int, draws: int, seed: int) -> tuple[np.ndarray, bool]:
    """Wild weights, one row per draw and one column per cluster; every combination when there are few enough."""
    values = WEBB_WEIGHTS if kind == "webb" else RADEMACHER_WEIGHTS
    if len(values) ** clusters <= draws:
        return np.array(list(itertools.product(values, repeat=clusters))), True
    return np.random.default_rng(seed).choice(values, size=(draws, clusters)), False


def wild_cluster_bootstrap(
    panel: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    *,
    cluster: str | None = None,
    draws: int = 9999,
    weights: Literal["webb", "rademacher"] = "webb",
    seed: int = 20251001,
    alpha: float = SIGNIFICANCE_LEVEL,
) -> ResamplingResult:
    """The restricted wild cluster bootstrap (WCR) p-value and interval of the TWFE coefficient of ``treated``.

    After partialling the unit and period fixed effects out of the outcome ``ỹ`` and of ``treated`` ``x̃``, the null
    ``β = β₀`` is imposed: the restricted residuals are ``u = ỹ − β₀x̃``; each draw multiplies a cluster's residuals by
    one weight ``v_g`` (Webb's six points ±√(3/2), ±1, ±√(1/2), or Rademacher's ±1), ``y* = β₀x̃ + v·u``, refits and
    forms ``t* = (β* − β₀)/se*`` with the same CRV1 standard error as the data's ``t = (β̂ − β₀)/se`` (the
    small-sample factor cancels). The p-value is the share of draws with ``|t*| ≥ |t|``; ties (the identity draw
    reproduces ``t``) count as extreme, so an enumerated p-value is never below ``2/draws`` for Rademacher. When the
    weights have at most ``draws`` combinations (``6^G`` for Webb, ``2^G`` for Rademacher) every one is used and the
    p-value is exact; otherwise ``draws`` seeded draws. The interval collects the ``β₀`` not rejected at ``alpha``,
    with the same weights for every ``β₀``.

    Parameters
    ----------
    panel, outcome, unit, time, treated
        As in :func:`~analysis.metrics.impact.twfe.twfe_did` (a balanced or unbalanced unit × period panel).
    cluster
        The column whose clusters share a weight; ``unit`` when not given.
    draws
        Bootstrap draws when the combinations are more.
    weights
        ``"webb"`` (default; good with as few as 5–10 clusters) or ``"rademacher"``.
    seed
        Seed of the draws (unused when enumerated).
    alpha
        Significance level of the interval.

    Returns
    -------
    ResamplingResult
        ``statistic`` is the data's CRV1 t-statistic.
    """
    check_alpha(alpha)
    if weights not in WEIGHT_KINDS:
        raise ParameterError(
            f"weights={weights!r} is not one of {one_of(WEIGHT_KINDS)}",
            parameter="weights",
            value=weights,
            valid=list(WEIGHT_KINDS),
        )
    cluster = cluster or unit
    frame = prepared(panel, [outcome, unit, time, treated, cluster])
    basis = fixed_effects_basis(frame[unit].to_numpy(), frame[time].to_numpy())
    y = partial_out(basis, frame[outcome].to_numpy(dtype=float))
    x = partial_out(basis, frame[treated].to_numpy(dtype=float))
    denominator = float(x @ x)
    if denominator < TIE_TOLERANCE:
        raise DataError(
            f"{treated!r} does not vary beyond the unit and period fixed effects; there is no effect to test",
            column=treated,
        )
    codes = pd.factorize(frame[cluster])[0]
    n_clusters = int(codes.max()) + 1
    x_squared_by_cluster = np.bincount(codes, weights=x * x, minlength=n_clusters)
    estimate = float(x @ y) / denominator
    residual = y - estimate * x
    score = np.bincount(codes, weights=x * residual, minlength=n_clusters)
    se = math.sqrt(float(score @ score)) / denominator  # without the small-sample factor: it cancels in t* vs t
    v, enumerated = weight_vectors(weights, n_clusters, draws, seed)

    # A draw's residuals v·u are not orthogonal to the fixed effects; refitting projects them out again. Per cluster
    # g the score x̃_g'·M(v·u) = v_g·(x̃_g'u_g) − Σ_h v_h·(Q_g'x̃_g)'(Q_h'u_h): ``coupling`` holds the last factor.
    x_on_basis = np.stack([basis[codes == g].T @ x[codes == g] for g in range(n_clusters)])  # G × K

    def p_value_at(null: float) -> float:
        restricted = y - null * x
        direct = np.bincount(codes, weights=x * restricted, minlength=n_clusters)  # Σ_g x̃·u
        u_on_basis = np.stack([basis[codes == g].T @ restricted[codes == g] for g in range(n_clusters)])
        coupling = x_on_basis @ u_on_basis.T  # G × G
        shift = (v @ direct) / denominator  # β* − β₀ per draw
        scores = v * direct - v @ coupling.T - shift[:, None] * x_squared_by_cluster
        t_draws = shift * denominator / np.sqrt(np.einsum("bg,bg->b", scores, scores))
        observed = abs(estimate - null) / se
        return float(np.mean(np.abs(t_draws) >= observed * (1 - TIE_TOLERANCE)))

    if enumerated and 2 / len(v) > alpha:
        # v and −v reproduce |t| whatever the null: no p-value can fall to alpha, every value stays in the interval.
        low, high = -math.inf, math.inf
    else:
        low, high = inverted_interval(p_value_at, estimate, se, alpha)
    count = len(v)
    return ResamplingResult(
        estimate=estimate,
        statistic=estimate / (se * crv1_small_sample_factor(len(frame), frame[time].nunique(), n_clusters)),
        p_value=p_value_at(0.0),
        ci_low=low,
        ci_high=high,
        draws=count,
        enumerated=enumerated,
        method=f"wild cluster bootstrap (WCR, {weights} weights, {count} {'enumerated' if enumerated else 'random'}"
        " draws)",
        alpha=alpha,
    )


def crv1_small_sample_factor(n_obs: int, n_periods: int, n_clusters: int) -> float:
    """fixest's CRV1 factor on a standard error, ``√(G/(G−1) · (n−1)/(n−k))`` with ``k = 1 + periods``.

    The unit fixed effects are not counted: units are nested in the clusters (as in
    :func:`~analysis.metrics.impact.twfe.twfe_did`).
    """
    return math.sqrt(n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - 1 - n_periods))


def distinct_permutations(values: Sequence) -> Iterator[tuple]:
    """Every distinct ordering of ``values`` (a multiset), each once."""
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    keys = list(counts)
    current: list = []

    def extend() -> Iterator[tuple]:
        if len(current) == len(values):
            yield tuple(current)
            return
        for key in keys:
            if counts[key]:
                counts[key] -= 1
                current.append(key)
                yield from extend()
                current.pop()
                counts[key] += 1

    return extend()


def distinct_permutation_count(values: Sequence) -> int:
    """How many distinct orderings ``values`` have: ``n! / Π mᵢ!``."""
    total = math.factorial(len(values))
    for multiplicity in pd.Series(list(values)).value_counts():
        total //= math.factorial(int(multiplicity))
    return total


def randomisation_inference(
    panel: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    *,
    draws: int = 9999,
    seed: int = 20251001,
    assignments: Sequence[Mapping] | None = None,
    alpha: float = SIGNIFICANCE_LEVEL,
) -> ResamplingResult:
    """The randomisation-inference p-value and interval of the TWFE coefficient, re-assigning launch dates.

    The statistic is the TWFE estimate of ``treated = [period ≥ first_treated]`` with unit and period fixed effects.
    Its reference distribution re-assigns the units' launch dates (never-launched included) among the units: every
    distinct assignment when there are at most ``draws`` of them (8 markets with 6 dates and 2 "never" give
    8!/2! = 20,160), the observed one among them, and the p-value is the share with ``|β| ≥ |β̂|``; otherwise
    ``draws`` seeded permutations and ``(1 + #extreme)/(1 + draws)``. Or pass ``assignments`` (each a mapping of
    unit → launch, ``None`` or NaN for never), over which, with the observed one added, the p-value is taken. The
    interval inverts the sharp null of a constant effect ``τ`` (``y − τ·treated`` re-estimated under each
    assignment).

    Parameters
    ----------
    panel, outcome, unit, time
        As in :func:`~analysis.metrics.impact.twfe.twfe_did`.
    first_treated
        The unit's launch period (same type as ``time``), missing for never; a unit is treated from the first period
        on or after it.
    draws, seed
        The permutations drawn when enumerating is too much, and their seed.
    assignments
        Explicit alternative assignments, instead of permutations.
    alpha
        Significance level of the interval.

    Returns
    -------
    ResamplingResult
        ``statistic`` is the estimate.
    """
    check_alpha(alpha)
    frame = prepared(panel, [outcome, unit, time, first_treated])
    periods = np.sort(frame[time].unique())
    position = np.searchsorted(periods, frame[time].to_numpy())
    unit_codes, unit_names = pd.factorize(frame[unit])
    launch_by_unit = frame.groupby(unit, sort=False)[first_treated].first().reindex(unit_names)

    def launch_positions(launches: Sequence) -> np.ndarray:
        launches = pd.Series(list(launches), dtype=launch_by_unit.dtype)
        result = np.full(len(launches), len(periods))
        known = launches.notna().to_numpy()
        result[known] = np.searchsorted(periods, launches.to_numpy()[known])
        return result

    observed = launch_positions(launch_by_unit.tolist())
    if assignments is not None:
        for assignment in assignments:
            absent = [name for name in unit_names if name not in assignment]
            if absent:
                raise ParameterError(
                    f"an assignment has no launch for unit {absent[0]!r}",
                    parameter="assignments",
                    value=absent,
                    valid=list(unit_names),
                )
        rows = [observed] + [launch_positions([a[name] for name in unit_names]) for a in assignments]
        table, enumerated = np.array(rows), True
    elif distinct_permutation_count(observed.tolist()) <= draws:
        table, enumerated = np.array(list(distinct_permutations(observed.tolist()))), True
    else:
        # The observed assignment joins the random ones: (1 + #extreme draws) / (1 + draws), a valid p-value.
        rng = np.random.default_rng(seed)
        table, enumerated = np.array([observed] + [rng.permutation(observed) for _ in range(draws)]), False
    basis = fixed_effects_basis(frame[unit].to_numpy(), frame[time].to_numpy())
    y = partial_out(basis, frame[outcome].to_numpy(dtype=float))
    x = partial_out(basis, (position >= observed[unit_codes]).astype(float))
    denominator = float(x @ x)
    if denominator < TIE_TOLERANCE:
        raise DataError(
            "the launches do not vary beyond the unit and period fixed effects; there is no effect to test",
            column=first_treated,
        )
    estimate = float(x @ y) / denominator
    slopes_y, slopes_x = [], []  # each assignment's β(τ) = a − τ·b, a = x̃ᵦ'ỹ/x̃ᵦ'x̃ᵦ, b = x̃ᵦ'x̃/x̃ᵦ'x̃ᵦ
    for chunk in np.array_split(table, max(1, len(table) // 2000)):
        assigned = partial_out(basis, (position[:, None] >= chunk[:, unit_codes].T).astype(float))
        norms = np.einsum("ib,ib->b", assigned, assigned)
        with np.errstate(invalid="ignore", divide="ignore"):
            slopes_y.append(assigned.T @ y / norms)
            slopes_x.append(assigned.T @ x / norms)
    a, b = np.concatenate(slopes_y), np.concatenate(slopes_x)

    def p_value_at(null: float) -> float:
        extreme = np.abs(a - null * b) >= abs(estimate - null) * (1 - TIE_TOLERANCE)
        return float(np.mean(extreme))

    scale = abs(estimate) if estimate else 1.0
    low, high = inverted_interval(p_value_at, estimate, scale / 4, alpha)
    count = len(table)
    return ResamplingResult(
        estimate=estimate,
        statistic=estimate,
        p_value=p_value_at(0.0),
        ci_low=low,
        ci_high=high,
        draws=count,
        enumerated=enumerated,
        method=f"randomisation inference ({count} {'enumerated' if enumerated else 'random'} launch assignments)",
        alpha=alpha,
    )
