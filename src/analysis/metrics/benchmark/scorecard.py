"""The scorecard: every compared company's value per KPI, its rank, percentile, quartile, index to best and gaps.

Rules (stated once, used by every benchmark view)
-------------------------------------------------
* **Direction.** ``direction`` says whether higher or lower values are better; ranks, gaps and the index all read it,
  so "better" always means better for the business.
* **Ties.** Tied companies share the best of their ranks (1, 1, 3). The percentile rank of a company is the share of
  the *other* compared companies that are strictly worse, plus half the share tied with it (1 = better than every
  rival, 0 = worse than every rival, 0.5 = the middle); ranks and percentiles depend only on the order of values.
* **Quartile.** 1 = top: percentile rank at least 0.75; 2 at least 0.5; 3 at least 0.25; 4 below.
* **Index to best.** Best = 100. Higher is better: (value - floor) / (best - floor) x 100; lower is better:
  (best - floor) / (value - floor) x 100, where floor is the bottom of the KPI's scale (0 for fractions, days and
  money; see :func:`analysis.metrics.benchmark.table.scale_floor`). It reads only the company's value and the best,
  so a weaker rival never moves it.
* **Gaps** are in KPI units and signed so that positive = the company is better: ``gap_to_best`` is 0 for the
  leader and negative for everyone else. The median is that of every compared company with a value (client
  included: the line a chart draws). The gaps in % divide by the reference's distance from the floor (so
  ``gap_to_best_pct`` = index / 100 - 1 when higher is better).
* **Missing.** A KPI a company lacks keeps its row with ``value`` NaN and every measure NaN: it is left out of
  that KPI's ranking, median and best, never read as zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.metrics.benchmark.table import check_period, company_kpi_values, comparison, scale_floors

SCORECARD_COLUMNS = (
    "company",
    "is_client",
    "kpi",
    "market",
    "period",
    "markets",
    "value",
    "unit",
    "direction",
    "rank",
    "percentile_rank",
    "index_to_best",
    "gap_to_median",
    "gap_to_best",
    "gap_to_median_pct",
    "gap_to_best_pct",
    "quartile",
)


def benchmark_scorecard(
    benchmarks: ir.Table | pd.DataFrame,
    *,
    client: str,
    market: str | None = None,
    period: str | None = None,
    peers: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Where each company stands on each KPI in one market (or ALL) and quarter.

    Filters and aggregates in the engine; ranks in pandas on one row per company x KPI.

    Parameters
    ----------
    benchmarks
        The ``benchmarks`` contract table: an Ibis table on any backend, or a pandas frame.
    client
        The company the analysis is for (a ``company`` of the table).
    market
        A market code, or None / ``"ALL"`` for every market (each company's mean over its markets; see
        :mod:`analysis.metrics.benchmark.table`).
    period
        A quarter such as ``"2025Q3"``; None: the latest quarter of the market's rows.
    peers
        The rivals to compare with; None or empty: every other company of the market.

    Returns
    -------
    pandas.DataFrame
        One row per compared company x KPI (every KPI any of them reports in the quarter), sorted by KPI then
        rank (missing last):

        - ``company``, ``is_client`` (bool), ``kpi``, ``market`` (the code or ``ALL``), ``period``;
        - ``markets``: how many markets the value averages (0 when missing);
        - ``value``: in ``unit``; NaN when the company lacks the KPI;
        - ``unit``, ``direction`` (``higher`` or ``lower`` is better);
        - ``rank``: 1 = best, ties share the best rank; NaN when missing;
        - ``percentile_rank``: 0..1, share of the other companies strictly worse plus half of those tied;
        - ``index_to_best``: 0..100, the best = 100;
        - ``gap_to_median``, ``gap_to_best``: KPI units, positive = the company is better;
        - ``gap_to_median_pct``, ``gap_to_best_pct``: the same gaps as fractions of the reference (0.05 = 5%);
        - ``quartile``: 1 (top) to 4.

    Raises
    ------
    ParameterError
        for an unknown client, market, peer or quarter (naming the valid ones).
    DataError
        when a KPI has more than one unit or direction.
    """
    compared = comparison(benchmarks, client=client, market=market, peers=peers)
    period = check_period(period, compared.quarters)
    values = company_kpi_values(compared.table, [period], by_period=False)
    grid = pd.MultiIndex.from_product(
        [list(compared.companies), sorted(values["kpi"].unique())], names=["company", "kpi"]
    ).to_frame(index=False)
    frame = grid.merge(values, on=["company", "kpi"], how="left")
    kinds = values.drop_duplicates("kpi").set_index("kpi")[["unit", "direction"]]
    frame["unit"] = frame["kpi"].map(kinds["unit"])
    frame["direction"] = frame["kpi"].map(kinds["direction"])
    frame["markets"] = frame["markets"].fillna(0).astype(int)
    frame["market"], frame["period"] = compared.market, period
    frame["is_client"] = frame["company"] == client
    scored = score_companies(frame, ["kpi"])
    scored = scored.sort_values(["kpi", "rank", "company"], na_position="last", ignore_index=True)
    return scored[list(SCORECARD_COLUMNS)]


def score_companies(frame: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """Rank, percentile, quartile, index to best and gaps within each group of ``groups`` (see the module rules).

    ``frame`` holds ``company``, ``value``, ``unit``, ``direction`` and the ``groups`` columns (e.g. ``kpi``, or
    ``kpi`` and ``period``); the measure columns of :func:`benchmark_scorecard` are added (NaN where ``value`` is).
    """
    frame = frame.copy()
    groups = list(groups)
    sign = np.where(frame["direction"] == "lower", -1.0, 1.0)
    floor = frame["unit"].pipe(scale_floors)
    signed = frame["value"] * sign
    by_group = signed.groupby([frame[g] for g in groups])
    best_rank = by_group.rank(ascending=False, method="min")
    worst_rank = by_group.rank(ascending=False, method="max")
    compared = by_group.transform("count")
    frame["rank"] = best_rank
    strictly_worse = compared - worst_rank
    tied_others = worst_rank - best_rank
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["percentile_rank"] = ((strictly_worse + 0.5 * tied_others) / (compared - 1)).where(compared > 1)
    best = by_group.transform("max") * sign
    median = frame["value"].groupby([frame[g] for g in groups]).transform("median")
    with np.errstate(invalid="ignore", divide="ignore"):
        higher = (frame["value"] - floor) / (best - floor) * 100
        lower = (best - floor) / (frame["value"] - floor) * 100
    index = pd.Series(np.where(sign > 0, higher, lower), index=frame.index)
    frame["index_to_best"] = index.where(frame["value"] != best, 100.0).where(frame["value"].notna())
    frame["gap_to_median"] = (frame["value"] - median) * sign + 0.0  # + 0.0: no -0.0 for a tie
    frame["gap_to_best"] = (frame["value"] - best) * sign + 0.0
    frame["gap_to_median_pct"] = frame["gap_to_median"] / (median - floor).where(median != floor)
    frame["gap_to_best_pct"] = frame["gap_to_best"] / (best - floor).where(best != floor)
    percentile = frame["percentile_rank"]
    quartile = np.select([percentile >= 0.75, percentile >= 0.5, percentile >= 0.25], [1, 2, 3], 4).astype(float)
    frame["quartile"] = pd.Series(quartile, index=frame.index).where(percentile.notna())
    return frame
