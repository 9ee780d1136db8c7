"""Market-entry scoring: criteria and weights, AHP, normalisation, weighted sum, TOPSIS and cultural distance.

Conventions
-----------
* A *decision matrix* is a DataFrame with one row per market (the index) and one column per criterion.
* ``benefit`` maps each criterion to ``True`` (more is better) or ``False`` (a cost: less is better).
* Weights are validated by :func:`validate_weights` and always used normalised to sum to 1.

Missing values (the stated rule)
--------------------------------
A market with no value for a criterion is scored on the criteria it has, with their weights re-normalised to sum
to 1 for that market ("exclude and re-weight"). Every score states ``criteria_used`` and ``weight_coverage``
(the share of the total weight that had data); markets with ``weight_coverage`` below ``min_coverage`` get no
score (NaN, ``rank`` NaN) rather than a score built on too little. A criterion with no value for any market is
an error: drop it from the weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Saaty's random consistency index by matrix size (Saaty 1980, The Analytic Hierarchy Process, table 1.7).
SAATY_RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
}
NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore")


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion: a column of the decision matrix, its direction and its (raw) weight."""

    name: str
    direction: str  # "benefit" (more is better) or "cost" (less is better)
    weight: float

    def __post_init__(self) -> None:
        if self.direction not in ("benefit", "cost"):
            raise ValueError(f"criterion {self.name!r}: direction {self.direction!r} must be 'benefit' or 'cost'")


def criteria_from_mapping(spec: Mapping[str, tuple[str, float]]) -> tuple[pd.Series, dict[str, bool]]:
    """``{"lpi_score": ("benefit", 0.3), ...}`` -> (normalised weights, benefit flags)."""
    criteria = [Criterion(name, direction, float(weight)) for name, (direction, weight) in spec.items()]
    weights = validate_weights({c.name: c.weight for c in criteria})
    return weights, {c.name: c.direction == "benefit" for c in criteria}


def validate_weights(weights: Mapping[str, float] | pd.Series, criteria: list[str] | None = None) -> pd.Series:
    """Check weights and return them normalised to sum to 1, indexed by criterion name.

    Raises ``ValueError`` naming the offending criteria when a weight is missing, negative or not a finite number,
    when all weights are zero, or (if ``criteria`` is given) when weights and criteria do not match one to one.
    """
    series = pd.Series(dict(weights), dtype=float) if not isinstance(weights, pd.Series) else weights.astype(float)
    if series.empty:
        raise ValueError("weights: none given; give one non-negative weight per criterion")
    unnamed = [name for name in series.index if not isinstance(name, str) or not name]
    if unnamed:
        raise ValueError(f"weights: every weight needs a criterion name; got {unnamed}")
    bad = series[~np.isfinite(series.to_numpy())]
    if not bad.empty:
        raise ValueError(f"weights: not finite numbers for {bad.to_dict()}; give a number >= 0 for each criterion")
    negative = series[series < 0]
    if not negative.empty:
        raise ValueError(f"weights: negative values {negative.to_dict()}; weights must be >= 0")
    if series.sum() == 0:
        raise ValueError(f"weights: all zero ({series.to_dict()}); at least one criterion needs a positive weight")
    if criteria is not None:
        extra, absent = sorted(set(series.index) - set(criteria)), sorted(set(criteria) - set(series.index))
        if extra or absent:
            raise ValueError(f"weights: no such criteria {extra}; criteria without a weight {absent}")
    return series / series.sum()


@dataclass(frozen=True)
class AhpResult:
    """Weights from a pairwise-comparison matrix and how consistent the judgements were."""

    weights: pd.Series
    lambda_max: float
    consistency_index: float
    consistency_ratio: float

    @property
    def is_consistent(self) -> bool:
        return self.consistency_ratio <= 0.10


def ahp_weights(comparisons: pd.DataFrame, *, max_ratio: float = 0.10, on_inconsistent: str = "raise") -> AhpResult:
    """Saaty's AHP: weights = principal eigenvector of a reciprocal pairwise-comparison matrix.

    Parameters
    ----------
    comparisons
        Square DataFrame, rows and columns the same criteria; ``comparisons.loc[a, b]`` says how many times more
        important ``a`` is than ``b`` (Saaty's 1-9 scale), with ``loc[b, a] == 1 / loc[a, b]`` and ones on the diagonal.
    max_ratio
        Largest acceptable consistency ratio CR = CI / RI, CI = (lambda_max - n) / (n - 1), RI from
        :data:`SAATY_RANDOM_INDEX`. Saaty's rule of thumb is 0.10.
    on_inconsistent
        ``"raise"`` (default) or ``"warn"`` when CR exceeds ``max_ratio``.
    """
    if on_inconsistent not in ("raise", "warn"):
        raise ValueError(f"on_inconsistent={on_inconsistent!r}; use 'raise' or 'warn'")
    if list(comparisons.index) != list(comparisons.columns):
        raise ValueError(
            f"comparisons: rows {list(comparisons.index)} and columns {list(comparisons.columns)} "
            "must be the "
            "same criteria in the same order"
        )
    matrix = comparisons.to_numpy(dtype=float)
    n = matrix.shape[0]
    if n not in SAATY_RANDOM_INDEX:
        raise ValueError(f"comparisons: {n} criteria; Saaty's random index is tabulated for 1 to 10")
    if not np.all(np.isfinite(matrix)) or np.any(matrix <= 0):
        raise ValueError("comparisons: every judgement must be a positive finite number")
    if not np.allclose(matrix * matrix.T, 1.0, rtol=1e-6):
        pairs = [
            (comparisons.index[i], comparisons.columns[j])
            for i, j in zip(*np.where(~np.isclose(matrix * matrix.T, 1.0)), strict=True)
        ]
        raise ValueError(f"comparisons: not reciprocal (loc[a, b] must equal 1 / loc[b, a]) for {pairs[: n * 2]}")
    eigenvalues, eigenvectors = np.linalg.eig(matrix)
    principal = int(np.argmax(eigenvalues.real))
    vector = np.abs(eigenvectors[:, principal].real)
    weights = pd.Series(vector / vector.sum(), index=comparisons.index, name="weight")
    lambda_max = float(eigenvalues[principal].real)
    ci = (lambda_max - n) / (n - 1) if n > 2 else 0.0
    ri = SAATY_RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    result = AhpResult(weights, lambda_max, max(ci, 0.0), max(cr, 0.0))
    if result.consistency_ratio > max_ratio:
        message = (
            f"AHP judgements are inconsistent: consistency ratio {result.consistency_ratio:.3f} "
            f"> {max_ratio}; "
            "revisit the comparisons (e.g. a > b and b > c but c > a)"
        )
        if on_inconsistent == "raise":
            raise ValueError(message)
        warnings.warn(message, stacklevel=2)
    return result


def weights_from_judgements(
    criteria: Mapping[str, tuple[str, float]],
    judgements: Mapping[str, float],
    *,
    max_ratio: float = 0.10,
    on_inconsistent: str = "raise",
) -> tuple[dict[str, tuple[str, float]], AhpResult]:
    """Replace the weights in ``criteria`` by AHP weights from pairwise judgements.

    Parameters
    ----------
    criteria
        ``{criterion: (direction, weight)}`` as in the notebook's parameters; only the names and directions are
        used, the weights are replaced.
    judgements
        ``{"a|b": v}``: criterion ``a`` is ``v`` times as important as ``b`` (Saaty's 1-9 scale, or its
        reciprocals). Every pair of criteria must be judged exactly once, in either order; the reciprocal
        ``b|a = 1 / v`` is filled in.
    max_ratio, on_inconsistent
        Passed to :func:`ahp_weights`.

    Returns
    -------
    tuple
        ``({criterion: (direction, AHP weight)}, AhpResult)``, criteria in their original order.
    """
    names = list(criteria)
    comparisons = pd.DataFrame(1.0, index=names, columns=names)
    judged: set[frozenset[str]] = set()
    for pair, value in judgements.items():
        parts = pair.split("|")
        if len(parts) != 2 or parts[0] == parts[1]:
            raise ValueError(f"judgements: key {pair!r} must name two different criteria as 'a|b'")
        a, b = parts
        unknown = [c for c in (a, b) if c not in comparisons.index]
        if unknown:
            raise ValueError(f"judgements: {pair!r} names criteria {unknown} that are not among {names}")
        if frozenset(parts) in judged:
            raise ValueError(f"judgements: the pair {a!r}, {b!r} is judged twice; give each pair once")
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"judgements: {pair!r} = {value!r}; a judgement must be a positive number (1-9)")
        judged.add(frozenset(parts))
        comparisons.loc[a, b], comparisons.loc[b, a] = float(value), 1.0 / float(value)
    missing = [f"{a}|{b}" for i, a in enumerate(names) for b in names[i + 1 :] if frozenset((a, b)) not in judged]
    if missing:
        raise ValueError(f"judgements: pairs not judged {missing}; AHP needs every pair of criteria")
    result = ahp_weights(comparisons, max_ratio=max_ratio, on_inconsistent=on_inconsistent)
    weighted = {name: (criteria[name][0], float(result.weights[name])) for name in names}
    return weighted, result


def _check_matrix(matrix: pd.DataFrame, weights: pd.Series, benefit: Mapping[str, bool]) -> pd.Series:
    weights = validate_weights(weights)
    absent = [c for c in weights.index if c not in matrix.columns]
    if absent:
        raise ValueError(f"decision matrix has no columns {absent}; it has {list(matrix.columns)}")
    undirected = [c for c in weights.index if c not in benefit]
    if undirected:
        raise ValueError(f"benefit: no direction for criteria {undirected}; map each to True (benefit) or False (cost)")
    empty = [c for c in weights.index if matrix[c].notna().sum() == 0]
    if empty:
        raise ValueError(f"criteria {empty} have no value for any market; drop them from the weights")
    if matrix.index.has_duplicates:
        raise ValueError(f"decision matrix: duplicated markets {sorted(set(matrix.index[matrix.index.duplicated()]))}")
    return weights


def normalise(matrix: pd.DataFrame, benefit: Mapping[str, bool], method: str = "minmax") -> pd.DataFrame:
    """Rescale each criterion so that higher is always better.

    ``minmax``: benefit (x - min) / (max - min), cost (max - x) / (max - min), in [0, 1]; ``zscore``:
    (x - mean) / std (population std), negated for costs. A criterion that does not vary becomes 1.0 (minmax) or
    0.0 (zscore) for every market. Missing values stay missing.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"normalisation {method!r}; use one of {NORMALISATIONS}")
    result = {}
    for column in matrix.columns:
        x = matrix[column].astype(float)
        sign = 1.0 if benefit[column] else -1.0
        if method == "minmax":
            low, high = x.min(), x.max()
            if high == low:
                result[column] = x.where(x.isna(), 1.0)
            else:
                result[column] = (x - low) / (high - low) if sign > 0 else (high - x) / (high - low)
        else:
            std = x.std(ddof=0)
            result[column] = x.where(x.isna(), 0.0) if std == 0 else sign * (x - x.mean()) / std
    return pd.DataFrame(result, index=matrix.index)


def _coverage(matrix: pd.DataFrame, weights: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    available = matrix[weights.index].notna()
    coverage = available.mul(weights, axis=1).sum(axis=1)
    return available, coverage


def _rank(score: pd.Series) -> pd.Series:
    return score.rank(ascending=False, method="min")


def weighted_sum(
    matrix: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    benefit: Mapping[str, bool],
    *,
    normalisation: str = "minmax",
    min_coverage: float = 0.5,
) -> pd.DataFrame:
    """Weighted-sum score (simple additive weighting) with its decomposition by criterion.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``matrix``: ``score`` (sum of contributions; with minmax in [0, 1]), ``rank`` (1 = best,
        ties share the best rank), ``criteria_used``, ``weight_coverage`` (share of total weight with data), and
        one ``<criterion>_contribution`` column per criterion = effective weight x normalised value, so the
        contributions of a market add up to its score (0 where the criterion is missing for that market).
    """
    weights = _check_matrix(matrix, pd.Series(weights, dtype=float), benefit)
    values = normalise(matrix[weights.index], benefit, normalisation)
    available, coverage = _coverage(matrix, weights)
    effective = available.mul(weights, axis=1).div(coverage.where(coverage > 0), axis=0)
    contributions = (values * effective).fillna(0.0)
    scored = coverage >= min_coverage
    result = pd.DataFrame(index=matrix.index)
    result["score"] = contributions.sum(axis=1).where(scored)
    result["rank"] = _rank(result["score"])
    result["criteria_used"] = available.sum(axis=1).astype(int)
    result["weight_coverage"] = coverage
    for criterion in weights.index:
        result[f"{criterion}_contribution"] = contributions[criterion].where(scored)
    return result


def topsis(
    matrix: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    benefit: Mapping[str, bool],
    *,
    min_coverage: float = 0.5,
) -> pd.DataFrame:
    """TOPSIS (Hwang & Yoon 1981): closeness to the ideal market, with vector normalisation.

    r_ij = x_ij / sqrt(sum_i x_ij^2); v_ij = w_j r_ij; the ideal takes each criterion's best v (max for a
    benefit, min for a cost), the anti-ideal its worst; score = d- / (d+ + d-) with d+ and d- the Euclidean
    distances to ideal and anti-ideal. A missing value drops that criterion from both distances for that market,
    with weights re-normalised over its available criteria.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``matrix``: ``score`` (closeness in [0, 1]), ``rank``, ``distance_to_ideal``,
        ``distance_to_anti_ideal``, ``criteria_used``, ``weight_coverage`` and one ``<criterion>_gap_share``
        column per criterion: its share of the squared distance to the ideal (where the market falls short; the
        shares of a market add up to 1, or are all 0 for the ideal market itself).
    """
    weights = _check_matrix(matrix, pd.Series(weights, dtype=float), benefit)
    x = matrix[weights.index].astype(float)
    norms = np.sqrt((x**2).sum(axis=0))
    if (norms == 0).any():
        raise ValueError(f"TOPSIS: criteria {list(norms[norms == 0].index)} are zero for every market")
    available, coverage = _coverage(matrix, weights)
    effective = available.mul(weights, axis=1).div(coverage.where(coverage > 0), axis=0)
    r = x / norms
    v = r * effective
    # The ideal points are built from full-weight values so one market's missing data does not move them.
    v_full = r * weights
    sign = pd.Series({c: 1.0 if benefit[c] else -1.0 for c in weights.index})
    best = (v_full * sign).max() * sign
    worst = (v_full * sign).min() * sign
    best_effective = effective * (best / weights)
    worst_effective = effective * (worst / weights)
    gap_ideal = ((v - best_effective) ** 2).fillna(0.0)
    gap_anti = ((v - worst_effective) ** 2).fillna(0.0)
    d_plus = np.sqrt(gap_ideal.sum(axis=1))
    d_minus = np.sqrt(gap_anti.sum(axis=1))
    total = d_plus + d_minus
    scored = coverage >= min_coverage
    result = pd.DataFrame(index=matrix.index)
    result["score"] = (d_minus / total.where(total > 0)).fillna(0.5).where(scored)
    result["rank"] = _rank(result["score"])
    result["distance_to_ideal"] = d_plus.where(scored)
    result["distance_to_anti_ideal"] = d_minus.where(scored)
    result["criteria_used"] = available.sum(axis=1).astype(int)
    result["weight_coverage"] = coverage
    squared = gap_ideal.sum(axis=1)
    for criterion in weights.index:
        share = (gap_ideal[criterion] / squared.where(squared > 0)).fillna(0.0)
        result[f"{criterion}_gap_share"] = share.where(scored)
    return result


SCORING_METHODS = {"weighted_sum": weighted_sum, "topsis": topsis}


def score_markets(
    matrix: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    benefit: Mapping[str, bool],
    method: str = "weighted_sum",
    **options: object,
) -> pd.DataFrame:
    """Dispatch to :func:`weighted_sum` or :func:`topsis` by name."""
    if method not in SCORING_METHODS:
        raise ValueError(f"method {method!r}; use one of {sorted(SCORING_METHODS)}")
    return SCORING_METHODS[method](matrix, weights, benefit, **options)


def kogut_singh_distance(scores: pd.DataFrame, home: str, *, ddof: int = 1) -> pd.DataFrame:
    """Kogut & Singh (1988) cultural distance of every market from ``home``.

    KS_j = (1 / n_j) * sum_i (I_ij - I_ih)^2 / V_i over the dimensions i measured for both market j and the home
    market; V_i is the variance of dimension i over all rows of ``scores`` (the reference set) with ``ddof``
    (1 = sample variance).

    Parameters
    ----------
    scores
        One row per market (index), one column per cultural dimension (e.g. ``pdi idv mas uai lto ivr``).
    home
        Index label of the home market.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``scores``: ``distance`` (0 for the home market; NaN when no dimension is shared) and
        ``dimensions_used`` (how many dimensions the distance averages over).
    """
    if home not in scores.index:
        raise ValueError(f"home market {home!r} is not in the cultural scores; markets there: {list(scores.index)}")
    values = scores.astype(float)
    variance = values.var(axis=0, ddof=ddof)
    home_row = values.loc[home]
    if home_row.isna().all():
        raise ValueError(f"home market {home!r} has no cultural dimension scores")
    usable = variance[(variance > 0) & home_row.notna()].index
    squared = (values[usable] - home_row[usable]) ** 2 / variance[usable]
    used = squared.notna().sum(axis=1)
    distance = squared.sum(axis=1) / used.where(used > 0)
    return pd.DataFrame({"distance": distance, "dimensions_used": used.astype(int)}, index=scores.index)
