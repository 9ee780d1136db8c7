"""Market-entry scoring: normalisation, weighted sum and TOPSIS over a decision matrix.

Conventions
-----------
* A *decision matrix* is a DataFrame with one row per market (the index) and one column per criterion.
* ``benefit`` maps each criterion to ``True`` (more is better) or ``False`` (a cost: less is better).
* Weights are validated by :func:`~analysis.metrics.market_entry.weights.validate_weights` and always used
  normalised to sum to 1.

Missing values (the stated rule)
--------------------------------
A market with no value for a criterion is scored on the criteria it has, with their weights re-normalised to sum
to 1 for that market ("exclude and re-weight"). Every score states ``criteria_used`` and ``weight_coverage``
(the share of the total weight that had data); markets with ``weight_coverage`` below ``min_coverage`` get no
score (NaN, ``rank`` NaN) rather than a score built on too little. A criterion with no value for any market is
an error: drop it from the weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError
from analysis.metrics.market_entry.weights import validate_weights

NORMALISATIONS: tuple[str, ...] = ("minmax", "zscore")


def _check_matrix(matrix: pd.DataFrame, weights: pd.Series, benefit: Mapping[str, bool]) -> pd.Series:
    weights = validate_weights(weights)
    absent = [c for c in weights.index if c not in matrix.columns]
    if absent:
        raise ParameterError(
            f"decision matrix has no columns {absent}; it has {list(matrix.columns)}",
            parameter="weights",
            value=absent,
            valid=list(matrix.columns),
        )
    undirected = [c for c in weights.index if c not in benefit]
    if undirected:
        raise ParameterError(
            f"benefit: no direction for criteria {undirected}; map each to True (benefit) or False (cost)",
            parameter="benefit",
            value=undirected,
            valid="True (benefit) or False (cost) for every weighted criterion",
        )
    empty = [c for c in weights.index if matrix[c].notna().sum() == 0]
    if empty:
        raise ParameterError(
            f"criteria {empty} have no value for any market; drop them from the weights",
            parameter="weights",
            value=empty,
            valid=[c for c in weights.index if c not in empty],
        )
    if matrix.index.has_duplicates:
        duplicated = sorted(set(matrix.index[matrix.index.duplicated()]))
        raise DataError(f"decision matrix: duplicated markets {duplicated}", column="market", value=duplicated)
    return weights


def normalise(matrix: pd.DataFrame, benefit: Mapping[str, bool], method: str = "minmax") -> pd.DataFrame:
    """Rescale each criterion so that higher is always better.

    ``minmax``: benefit (x - min) / (max - min), cost (max - x) / (max - min), in [0, 1]; ``zscore``:
    (x - mean) / std (population std), negated for costs. A criterion that does not vary becomes 1.0 (minmax) or
    0.0 (zscore) for every market. Missing values stay missing.
    """
    if method not in NORMALISATIONS:
        raise ParameterError(
            f"normalisation {method!r}; use one of {NORMALISATIONS}",
            parameter="normalisation",
            value=method,
            valid=NORMALISATIONS,
        )
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
        zero = list(norms[norms == 0].index)
        raise DataError(f"TOPSIS: criteria {zero} are zero for every market", value=zero)
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
        raise ParameterError(
            f"method {method!r}; use one of {sorted(SCORING_METHODS)}",
            parameter="method",
            value=method,
            valid=sorted(SCORING_METHODS),
        )
    return SCORING_METHODS[method](matrix, weights, benefit, **options)
