"""The phased entry plan: candidate markets sorted into waves from attractiveness, robustness and cultural distance.

The plan states facts (wave, rank, distance, whether the market counts as culturally close and against which
threshold); :mod:`analysis.present.market_entry` words the reason for each placement.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PLAN_COLUMNS: tuple[str, ...] = (
    "wave",
    "rank",
    "score",
    "distance",
    "p_top_k",
    "culturally_close",
    "distance_threshold",
)


def phased_entry_plan(
    ranking: pd.DataFrame,
    distance: pd.DataFrame,
    *,
    top_k: int = 3,
    robustness: pd.DataFrame | None = None,
    robust_share: float = 0.5,
    distance_threshold: float | None = None,
) -> pd.DataFrame:
    """Sort candidate markets into entry waves.

    Rules, in order:

    * wave 1 - ranks within ``top_k``, culturally close (distance <= threshold) and, when ``robustness`` is given,
      in the top k in at least ``robust_share`` of the weight draws: enter first;
    * wave 2 - ranks within ``top_k`` but distant or less robust, or within ``2 * top_k`` and culturally close:
      enter once wave 1 has taught the team (local partner, adapted offer);
    * wave 3 - everything else, including markets with no score: watch list.

    ``distance_threshold`` defaults to the median Kogut-Singh distance of the markets in ``ranking``, scored or
    not (markets without a distance left out). A market without a distance counts as distant.

    Parameters
    ----------
    ranking
        :func:`~analysis.metrics.market_entry.score_markets`: ``rank`` and ``score`` per market.
    distance
        :func:`~analysis.metrics.market_entry.kogut_singh_distance` (its ``distance`` column), for the same markets.
    robustness
        :func:`~analysis.metrics.market_entry.sensitivity.top_k_probability` (its ``p_top_k`` column), or ``None``.

    Returns
    -------
    pandas.DataFrame
        Indexed by market, ordered by wave then rank (unscored markets last):

        - ``wave``: 1, 2 or 3;
        - ``rank``, ``score``: from ``ranking`` (NaN when the market has too little data to score);
        - ``distance``: Kogut-Singh distance from the home market (NaN without Hofstede scores);
        - ``p_top_k``: share of weight draws with the market in the top ``top_k`` (NaN without ``robustness``);
        - ``culturally_close``: the distance is known and at or below the threshold;
        - ``distance_threshold``: the threshold used (the same on every row).
    """
    plan = ranking[["rank", "score"]].join(distance[["distance"]], how="left")
    plan["p_top_k"] = robustness["p_top_k"].reindex(plan.index) if robustness is not None else np.nan
    threshold = plan["distance"].median() if distance_threshold is None else distance_threshold
    scored = plan["score"].notna()
    attractive = scored & (plan["rank"] <= top_k)
    close = plan["distance"].notna() & (plan["distance"] <= threshold)
    robust = plan["p_top_k"].notna() & (plan["p_top_k"] >= robust_share) if robustness is not None else True
    plan["wave"] = np.select(
        [attractive & close & robust, attractive | (scored & close & (plan["rank"] <= 2 * top_k))], [1, 2], default=3
    )
    plan["culturally_close"] = close
    plan["distance_threshold"] = threshold
    plan = plan.sort_values(["wave", "rank"], na_position="last")
    return plan[list(PLAN_COLUMNS)]
