"""Criteria and their weights: validation, and weights from pairwise judgements (Saaty's AHP).

* :func:`criteria_from_mapping` - the notebook's ``{criterion: (direction, weight)}`` into weights and directions.
* :func:`validate_weights` - weights checked and normalised to sum to 1.
* :func:`ahp_weights` / :func:`weights_from_judgements` - weights from a pairwise-comparison matrix, with
  Saaty's consistency ratio.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

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
DIRECTIONS: tuple[str, ...] = ("benefit", "cost")
ON_INCONSISTENT: tuple[str, ...] = ("raise", "warn")


@dataclass(frozen=True)
class Criterion:
    """One scoring criterion: a column of the decision matrix, its direction and its (raw) weight."""

    name: str
    direction: str  # "benefit" (more is better) or "cost" (less is better)
    weight: float

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ParameterError(
                f"criterion {self.name!r}: direction {self.direction!r} must be 'benefit' or 'cost'",
                parameter="criteria",
                value=self.direction,
                valid=DIRECTIONS,
            )


def criteria_from_mapping(spec: Mapping[str, tuple[str, float]]) -> tuple[pd.Series, dict[str, bool]]:
    """``{"lpi_score": ("benefit", 0.3), ...}`` -> (normalised weights, benefit flags)."""
    criteria = [Criterion(name, direction, float(weight)) for name, (direction, weight) in spec.items()]
    weights = validate_weights({c.name: c.weight for c in criteria})
    return weights, {c.name: c.direction == "benefit" for c in criteria}


def validate_weights(weights: Mapping[str, float] | pd.Series, criteria: list[str] | None = None) -> pd.Series:
    """Check weights and return them normalised to sum to 1, indexed by criterion name.

    Raises :class:`~analysis.errors.ParameterError` (``parameter="weights"``) naming the offending criteria when a
    weight is missing, negative or not a finite number, when all weights are zero, or (if ``criteria`` is given)
    when weights and criteria do not match one to one.
    """
    series = pd.Series(dict(weights), dtype=float) if not isinstance(weights, pd.Series) else weights.astype(float)
    valid = "one non-negative finite weight per criterion, at least one positive"
    if series.empty:
        raise ParameterError(
            "weights: none given; give one non-negative weight per criterion", parameter="weights", valid=valid
        )
    unnamed = [name for name in series.index if not isinstance(name, str) or not name]
    if unnamed:
        raise ParameterError(
            f"weights: every weight needs a criterion name; got {unnamed}", parameter="weights", value=unnamed
        )
    bad = series[~np.isfinite(series.to_numpy())]
    if not bad.empty:
        raise ParameterError(
            f"weights: not finite numbers for {bad.to_dict()}; give a number >= 0 for each criterion",
            parameter="weights",
            value=bad.to_dict(),
            valid=valid,
        )
    negative = series[series < 0]
    if not negative.empty:
        raise ParameterError(
            f"weights: negative values {negative.to_dict()}; weights must be >= 0",
            parameter="weights",
            value=negative.to_dict(),
            valid=valid,
        )
    if series.sum() == 0:
        raise ParameterError(
            f"weights: all zero ({series.to_dict()}); at least one criterion needs a positive weight",
            parameter="weights",
            value=series.to_dict(),
            valid=valid,
        )
    if criteria is not None:
        extra, absent = sorted(set(series.index) - set(criteria)), sorted(set(criteria) - set(series.index))
        if extra or absent:
            raise ParameterError(
                f"weights: no such criteria {extra}; criteria without a weight {absent}",
                parameter="weights",
                value=extra or absent,
                valid=list(criteria),
            )
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
        """Whether the consistency ratio is within Saaty's rule of thumb (0.10 or less)."""
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
        ``"raise"`` (default: a :class:`~analysis.errors.ParameterError`) or ``"warn"`` when CR exceeds
        ``max_ratio``.
    """
    if on_inconsistent not in ON_INCONSISTENT:
        raise ParameterError(
            f"on_inconsistent={on_inconsistent!r}; use 'raise' or 'warn'",
            parameter="on_inconsistent",
            value=on_inconsistent,
            valid=ON_INCONSISTENT,
        )
    if list(comparisons.index) != list(comparisons.columns):
        raise ParameterError(
            f"comparisons: rows {list(comparisons.index)} and columns {list(comparisons.columns)} "
            "must be the "
            "same criteria in the same order",
            parameter="comparisons",
            value=list(comparisons.columns),
            valid=list(comparisons.index),
        )
    matrix = comparisons.to_numpy(dtype=float)
    n = matrix.shape[0]
    if n not in SAATY_RANDOM_INDEX:
        raise ParameterError(
            f"comparisons: {n} criteria; Saaty's random index is tabulated for 1 to 10",
            parameter="comparisons",
            value=n,
            valid="1 to 10 criteria",
        )
    if not np.all(np.isfinite(matrix)) or np.any(matrix <= 0):
        raise ParameterError(
            "comparisons: every judgement must be a positive finite number",
            parameter="comparisons",
            valid="positive finite numbers (Saaty's 1-9 scale or reciprocals)",
        )
    if not np.allclose(matrix * matrix.T, 1.0, rtol=1e-6):
        pairs = [
            (comparisons.index[i], comparisons.columns[j])
            for i, j in zip(*np.where(~np.isclose(matrix * matrix.T, 1.0)), strict=True)
        ]
        raise ParameterError(
            f"comparisons: not reciprocal (loc[a, b] must equal 1 / loc[b, a]) for {pairs[: n * 2]}",
            parameter="comparisons",
            value=pairs,
            valid="loc[a, b] == 1 / loc[b, a]",
        )
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
            raise ParameterError(
                message, parameter="comparisons", value=result.consistency_ratio, valid=f"<= {max_ratio}"
            )
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
            raise ParameterError(
                f"judgements: key {pair!r} must name two different criteria as 'a|b'",
                parameter="judgements",
                value=pair,
                valid="'a|b' with a and b two different criteria",
            )
        a, b = parts
        unknown = [c for c in (a, b) if c not in comparisons.index]
        if unknown:
            raise ParameterError(
                f"judgements: {pair!r} names criteria {unknown} that are not among {names}",
                parameter="judgements",
                value=unknown,
                valid=names,
            )
        if frozenset(parts) in judged:
            raise ParameterError(
                f"judgements: the pair {a!r}, {b!r} is judged twice; give each pair once",
                parameter="judgements",
                value=pair,
            )
        if not np.isfinite(value) or value <= 0:
            raise ParameterError(
                f"judgements: {pair!r} = {value!r}; a judgement must be a positive number (1-9)",
                parameter="judgements",
                value=value,
                valid="a positive number (Saaty's 1-9 scale or its reciprocals)",
            )
        judged.add(frozenset(parts))
        comparisons.loc[a, b], comparisons.loc[b, a] = float(value), 1.0 / float(value)
    missing = [f"{a}|{b}" for i, a in enumerate(names) for b in names[i + 1 :] if frozenset((a, b)) not in judged]
    if missing:
        raise ParameterError(
            f"judgements: pairs not judged {missing}; AHP needs every pair of criteria",
            parameter="judgements",
            value=missing,
        )
    result = ahp_weights(comparisons, max_ratio=max_ratio, on_inconsistent=on_inconsistent)
    weighted = {name: (criteria[name][0], float(result.weights[name])) for name in names}
    return weighted, result
