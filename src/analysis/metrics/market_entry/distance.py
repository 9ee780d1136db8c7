"""Cultural distance between markets: Kogut and Singh's index over Hofstede's dimensions."""

from __future__ import annotations

import pandas as pd

from analysis.errors import DataError, ParameterError

# A Kogut-Singh distance averaged over fewer of Hofstede's six dimensions than this is not used as a figure: two
# dimensions (Saudi Arabia, South Africa in the 2015 matrix) can make a market look close on what it shares alone.
MIN_DISTANCE_DIMENSIONS = 4


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

    Raises
    ------
    ParameterError
        ``home`` is not a row of ``scores``.
    DataError
        The home market has no score on any dimension.
    """
    if home not in scores.index:
        raise ParameterError(
            f"home market {home!r} is not in the cultural scores; markets there: {list(scores.index)}",
            parameter="home",
            value=home,
            valid=list(scores.index),
        )
    values = scores.astype(float)
    variance = values.var(axis=0, ddof=ddof)
    home_row = values.loc[home]
    if home_row.isna().all():
        raise DataError(f"home market {home!r} has no cultural dimension scores", parameter="home", value=home)
    usable = variance[(variance > 0) & home_row.notna()].index
    squared = (values[usable] - home_row[usable]) ** 2 / variance[usable]
    used = squared.notna().sum(axis=1)
    distance = squared.sum(axis=1) / used.where(used > 0)
    return pd.DataFrame({"distance": distance, "dimensions_used": used.astype(int)}, index=scores.index)
