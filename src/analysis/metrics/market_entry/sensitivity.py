"""How robust a market-entry ranking is when the weights or the method change.

* :func:`top_k_probability` - Monte-Carlo over weights drawn from a Dirichlet centred on the chosen weights.
* :func:`weight_swings` - one-at-a-time weight swings (the numbers behind a tornado chart).
* :func:`method_agreement` - Kendall's tau between the rankings of different methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.market_entry.scoring import SCORING_METHODS, normalise, score_markets
from analysis.metrics.market_entry.weights import validate_weights


def top_k_probability(
    matrix: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    benefit: Mapping[str, bool],
    *,
    method: str = "weighted_sum",
    top_k: int = 3,
    n_simulations: int = 2000,
    concentration: float = 50.0,
    seed: int = 0,
    **options: object,
) -> pd.DataFrame:
    """Probability that each market ranks in the top ``top_k`` when the weights are uncertain.

    Weights are drawn from Dirichlet(concentration x w) for the criteria with positive weight w (so their mean is
    w; larger ``concentration`` = less spread: with 50 a weight of 0.3 has a standard deviation of about 0.064).
    Zero-weight criteria stay at zero. Markets without a score in the base case are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by market: ``base_rank``, ``p_top_k`` (share of draws in which the market ranked <= top_k),
        ``mean_rank``, ``rank_p05`` and ``rank_p95`` (5th / 95th percentiles of its rank over the draws),
        sorted by ``p_top_k`` descending then ``base_rank``.
    """
    if top_k < 1:
        raise ParameterError(f"top_k={top_k}; must be at least 1", parameter="top_k", value=top_k, valid=">= 1")
    if n_simulations < 1 or concentration <= 0:
        parameter, value = ("n_simulations", n_simulations) if n_simulations < 1 else ("concentration", concentration)
        raise ParameterError(
            f"n_simulations={n_simulations} must be >= 1 and concentration={concentration} > 0",
            parameter=parameter,
            value=value,
            valid=">= 1" if parameter == "n_simulations" else "> 0",
        )
    weights = validate_weights(pd.Series(weights, dtype=float))
    base = score_markets(matrix, weights, benefit, method, **options)
    scored = base.index[base["score"].notna()]
    positive = weights[weights > 0]
    rng = np.random.default_rng(seed)
    draws = rng.dirichlet(concentration * positive.to_numpy(), size=n_simulations)
    full = np.zeros((n_simulations, len(weights)))
    full[:, [weights.index.get_loc(c) for c in positive.index]] = draws
    scores = scores_for_weight_draws(
        matrix.loc[scored], pd.DataFrame(full, columns=weights.index), benefit, method, **options
    )
    ranks = scores.rank(axis=1, ascending=False, method="min").to_numpy()
    summary = pd.DataFrame(
        {
            "base_rank": base.loc[scored, "rank"],
            "p_top_k": (ranks <= top_k).mean(axis=0),
            "mean_rank": ranks.mean(axis=0),
            "rank_p05": np.percentile(ranks, 5, axis=0),
            "rank_p95": np.percentile(ranks, 95, axis=0),
        },
        index=scored,
    )
    return summary.sort_values(["p_top_k", "base_rank"], ascending=[False, True])


def scores_for_weight_draws(
    matrix: pd.DataFrame,
    weight_draws: pd.DataFrame,
    benefit: Mapping[str, bool],
    method: str = "weighted_sum",
    *,
    normalisation: str = "minmax",
    **_: object,
) -> pd.DataFrame:
    """Scores of every market under many weight vectors at once (one row per draw, one column per market).

    Same formulas and missing-value rule as :func:`~analysis.metrics.market_entry.weighted_sum` and
    :func:`~analysis.metrics.market_entry.topsis`, vectorised over draws; every market is scored (no coverage
    cut-off), so the caller decides which markets take part.
    """
    criteria = list(weight_draws.columns)
    x = matrix[criteria].astype(float)
    available = x.notna().to_numpy(dtype=float)
    w = weight_draws.to_numpy(dtype=float)
    coverage = available @ w.T  # markets x draws
    coverage = np.where(coverage > 0, coverage, np.nan)
    if method == "weighted_sum":
        values = normalise(x, benefit, normalisation).fillna(0.0).to_numpy()
        scores = (values * available) @ w.T / coverage
    elif method == "topsis":
        r = (x / np.sqrt((x**2).sum(axis=0))).to_numpy()
        sign = np.array([1.0 if benefit[c] else -1.0 for c in criteria])
        best = np.nanmax(r * sign, axis=0) * sign
        worst = np.nanmin(r * sign, axis=0) * sign
        gap_best = np.nan_to_num((r - best) ** 2)
        gap_worst = np.nan_to_num((r - worst) ** 2)
        d_plus = np.sqrt((gap_best * available) @ (w**2).T) / coverage
        d_minus = np.sqrt((gap_worst * available) @ (w**2).T) / coverage
        total = d_plus + d_minus
        scores = np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 0.5)
    else:
        raise ParameterError(
            f"method {method!r}; use 'weighted_sum' or 'topsis'",
            parameter="method",
            value=method,
            valid=sorted(SCORING_METHODS),
        )
    return pd.DataFrame(scores.T, index=weight_draws.index, columns=matrix.index)


def swing_weights(weights: pd.Series, criterion: str, delta: float) -> pd.Series:
    """Move one criterion's weight by ``delta`` (clipped to [0, 1]); the others share the rest pro rata."""
    weights = validate_weights(weights)
    new = float(np.clip(weights[criterion] + delta, 0.0, 1.0))
    others = weights.drop(criterion)
    if others.sum() == 0:
        rest = pd.Series(1.0 / len(others), index=others.index) * (1 - new) if len(others) else others
    else:
        rest = others / others.sum() * (1 - new)
    return pd.concat([rest, pd.Series({criterion: new})])[weights.index]


def weight_swings(
    matrix: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    benefit: Mapping[str, bool],
    *,
    method: str = "weighted_sum",
    swing: float = 0.10,
    **options: object,
) -> pd.DataFrame:
    """One-at-a-time sensitivity: each criterion's weight moved down and up by ``swing`` (absolute).

    Returns
    -------
    pandas.DataFrame
        One row per criterion and market: ``criterion``, ``market``, ``weight_low``, ``weight_base``,
        ``weight_high``, ``score_low``, ``score_base``, ``score_high``, ``rank_low``, ``rank_base``,
        ``rank_high`` and ``score_range`` (max - min of the three scores, the bar length of a tornado chart).
    """
    weights = validate_weights(pd.Series(weights, dtype=float))
    base = score_markets(matrix, weights, benefit, method, **options)
    rows = []
    for criterion in weights.index:
        low_w, high_w = swing_weights(weights, criterion, -swing), swing_weights(weights, criterion, swing)
        low = score_markets(matrix, low_w, benefit, method, **options)
        high = score_markets(matrix, high_w, benefit, method, **options)
        for market in matrix.index:
            scores = [low.at[market, "score"], base.at[market, "score"], high.at[market, "score"]]
            rows.append(
                {
                    "criterion": criterion,
                    "market": market,
                    "weight_low": low_w[criterion],
                    "weight_base": weights[criterion],
                    "weight_high": high_w[criterion],
                    "score_low": scores[0],
                    "score_base": scores[1],
                    "score_high": scores[2],
                    "rank_low": low.at[market, "rank"],
                    "rank_base": base.at[market, "rank"],
                    "rank_high": high.at[market, "rank"],
                    "score_range": np.nanmax(scores) - np.nanmin(scores) if not np.all(np.isnan(scores)) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def method_agreement(rankings: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Kendall's tau-b (scipy) between every pair of rankings, over the markets both rank.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``method_a``, ``method_b``, ``kendall_tau`` (-1..1, 1 = same order), ``p_value``,
        ``markets`` (how many markets were compared).
    """
    from scipy.stats import kendalltau  # here, not at import: scipy.stats costs every report a second

    rows = []
    for (name_a, a), (name_b, b) in combinations(rankings.items(), 2):
        both = pd.concat([a.rename("a"), b.rename("b")], axis=1).dropna()
        tau, p_value = kendalltau(both["a"], both["b"]) if len(both) > 1 else (np.nan, np.nan)
        rows.append(
            {
                "method_a": name_a,
                "method_b": name_b,
                "kendall_tau": tau,
                "p_value": p_value,
                "markets": len(both),
            }
        )
    return pd.DataFrame(rows, columns=["method_a", "method_b", "kendall_tau", "p_value", "markets"])
