"""Sample-ratio mismatch: did the arms receive the units the design promised?

A chi-square goodness-of-fit test of the units per arm against the planned shares. GrowthBook flags a test at
p < 0.001 (a strict threshold, because the check runs on every experiment at every look); a flagged experiment's
results cannot be trusted, whatever their p-values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis.errors import ParameterError

SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class SampleRatioCheck:
    """The sample-ratio-mismatch test of one experiment.

    Attributes
    ----------
    statistic
        Pearson's chi-square, Σ (observed − expected)² / expected, with (arms − 1) degrees of freedom.
    p_value
        Its upper tail.
    flagged
        ``p_value`` below :data:`SRM_THRESHOLD` (0.001): the split is not the planned one.
    """

    statistic: float
    p_value: float
    flagged: bool


def sample_ratio_mismatch(
    counts: Mapping[str, float] | Sequence[float], expected_shares: Mapping[str, float] | Sequence[float]
) -> SampleRatioCheck:
    """Chi-square test of the units per arm against the planned shares.

    Parameters
    ----------
    counts
        Units per arm, as ``{arm: units}`` or a sequence.
    expected_shares
        The planned share of each arm, in the same form (``{"control": 0.5, "treatment": 0.5}``); they must be
        positive and sum to 1. With mappings the arms must be the same.

    Returns
    -------
    SampleRatioCheck
        Matches ``scipy.stats.chisquare(counts, total * shares)``.
    """
    if isinstance(counts, Mapping) != isinstance(expected_shares, Mapping):
        raise ParameterError(
            "counts and expected_shares must both be mappings of arm to value, or both sequences",
            parameter="expected_shares",
            value=expected_shares,
        )
    if isinstance(counts, Mapping):
        if set(counts) != set(expected_shares):
            raise ParameterError(
                f"expected_shares names the arms {sorted(expected_shares)}, the counts {sorted(counts)}",
                parameter="expected_shares",
                value=sorted(expected_shares),
                valid=sorted(counts),
            )
        arms = list(counts)
        observed = np.array([counts[a] for a in arms], dtype=float)
        shares = np.array([expected_shares[a] for a in arms], dtype=float)
    else:
        observed, shares = np.asarray(counts, dtype=float), np.asarray(expected_shares, dtype=float)
    if observed.shape != shares.shape or observed.size < 2:
        raise ParameterError(
            f"need one expected share per arm and at least two arms; got {observed.size} counts, {shares.size} shares",
            parameter="expected_shares",
            value=list(shares),
        )
    if (shares <= 0).any() or not np.isclose(shares.sum(), 1.0) or (observed < 0).any():
        raise ParameterError(
            f"expected_shares {list(shares)} must be positive and sum to 1, and counts not negative",
            parameter="expected_shares",
            value=list(shares),
            valid="positive shares summing to 1",
        )
    expected = observed.sum() * shares
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = float(((observed - expected) ** 2 / expected).sum())
    p_value = float(special.chdtrc(observed.size - 1, statistic))
    return SampleRatioCheck(statistic=statistic, p_value=p_value, flagged=bool(p_value < SRM_THRESHOLD))
