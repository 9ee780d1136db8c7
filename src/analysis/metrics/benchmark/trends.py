"""How each company's KPIs move over the quarters, and whether the client's gaps to the leader and the median close.

Every value is read as in :mod:`analysis.metrics.benchmark.scorecard` (markets combined by their mean for ALL,
ratios measured from the floor of the KPI's scale). A gap trend is the OLS slope of the client's gap per quarter
(statsmodels, with its 95% interval); it is called closing or widening only when
:func:`analysis.metrics.stats.is_real` accepts its p-value after Holm's correction over every slope of the call
(every KPI x {leader, median}), otherwise "no clear trend".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS

from analysis.errors import ParameterError
from analysis.metrics.benchmark.scorecard import score_companies
from analysis.metrics.benchmark.table import (
    check_period,
    company_kpi_values,
    comparison,
    quarter_ordinal,
    scale_floors,
)
from analysis.metrics.stats import CONFIDENCE, holm_adjust, is_real

CLOSING, WIDENING, NO_CLEAR_TREND = "closing", "widening", "no clear trend"
REFERENCES = ("leader", "median")


@dataclass(frozen=True)
class BenchmarkTrends:
    """The KPIs over the window and the client's gaps per quarter.

    Attributes
    ----------
    series
        One row per company x KPI x quarter with a value: ``company``, ``is_client``, ``kpi``, ``period``,
        ``value``, ``markets``, ``unit``, ``direction``; ``base_period`` (the company's first quarter of the window
        with a value) and ``indexed`` (value relative to it, base = 100, measured from the scale floor);
        ``qoq_change`` / ``yoy_change`` (KPI units, against the quarter before / four quarters before; NaN when that
        quarter has no value) and ``qoq_change_pct`` / ``yoy_change_pct`` (the same as fractions).
    growth
        One row per company x KPI: ``company``, ``is_client``, ``kpi``, ``first_period``, ``last_period``,
        ``first_value``, ``last_value``, ``change`` (KPI units), ``cagr`` (compound annual growth rate over the
        window, fraction per year, from the scale floor; NaN with fewer than two quarters).
    gaps
        One row per KPI x quarter in which the client has a value: ``kpi``, ``period``, ``client_value``,
        ``leader`` (best company; first by name on a tie), ``best_value``, ``median_value``, ``gap_to_best``,
        ``gap_to_median`` (KPI units, positive = the client is better), ``companies`` (how many have a value).
    gap_trends
        One row per KPI x ``reference`` (``leader`` or ``median``): ``quarters`` (points fitted),
        ``first_period``, ``last_period``, ``mean_gap``, ``latest_gap`` (KPI units, positive = client better),
        ``client_ahead`` (bool, latest gap > 0), ``slope`` (change of the gap per quarter, KPI units) with
        ``slope_ci_low``/``slope_ci_high`` (95%), ``p_value`` (t-test of slope = 0), ``p_value_holm`` and ``trend``
        (``closing``: the gap moves towards zero; ``widening``: away from it; ``no clear trend``: not real by
        :func:`~analysis.metrics.stats.is_real`, or fewer than three quarters).
    quarters
        The quarters of the window, in time order.
    """

    series: pd.DataFrame
    growth: pd.DataFrame
    gaps: pd.DataFrame
    gap_trends: pd.DataFrame
    quarters: tuple[str, ...]


def benchmark_trends(
    benchmarks: ir.Table | pd.DataFrame,
    *,
    client: str,
    market: str | None = None,
    peers: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> BenchmarkTrends:
    """Indexed KPI series, quarter-on-quarter and year-on-year change, CAGR and the client's gap trends.

    Parameters
    ----------
    benchmarks, client, market, peers
        As for :func:`~analysis.metrics.benchmark.benchmark_scorecard`.
    start, end
        First and last quarter of the window (e.g. ``"2025Q1"``); None: the first / latest quarter with rows.

    Returns
    -------
    BenchmarkTrends
        Its frames are documented on the class.
    """
    compared = comparison(benchmarks, client=client, market=market, peers=peers)
    quarters = window_quarters(compared.quarters, start, end)
    values = company_kpi_values(compared.table, quarters, by_period=True)
    values["is_client"] = values["company"] == client
    series = indexed_series(values)
    gaps = client_gaps(values, client)
    return BenchmarkTrends(
        series=series,
        growth=growth(series),
        gaps=gaps,
        gap_trends=gap_trends(gaps),
        quarters=tuple(quarters),
    )


def window_quarters(quarters: Sequence[str], start: str | None, end: str | None) -> list[str]:
    """The quarters from ``start`` to ``end`` (inclusive; each None = the first / last of ``quarters``)."""
    first = check_period(start, quarters) if start else quarters[0]
    last = check_period(end, quarters) if end else quarters[-1]
    if quarter_ordinal(last) < quarter_ordinal(first):
        raise ParameterError(
            f"the window ends ({last}) before it starts ({first})",
            parameter="end",
            value=last,
            valid=f"a quarter from {first} on",
        )
    return [q for q in quarters if quarter_ordinal(first) <= quarter_ordinal(q) <= quarter_ordinal(last)]


def indexed_series(values: pd.DataFrame) -> pd.DataFrame:
    """``values`` (company x KPI x quarter) with the base-100 index and QoQ / YoY changes (:class:`BenchmarkTrends`)."""
    frame = values.assign(ordinal=quarter_ordinal(values["period"]))
    frame = frame.sort_values(["company", "kpi", "ordinal"], ignore_index=True)
    floor = frame["unit"].pipe(scale_floors)
    from_floor = frame["value"] - floor
    keys = [frame["company"], frame["kpi"]]
    frame["base_period"] = frame.groupby(["company", "kpi"])["period"].transform("first")
    base = from_floor.groupby(keys).transform("first")
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["indexed"] = from_floor / base.where(base != 0) * 100
    lookup = frame.set_index(["company", "kpi", "ordinal"])["value"]
    for name, lag in (("qoq", 1), ("yoy", 4)):
        earlier_key = pd.MultiIndex.from_arrays([frame["company"], frame["kpi"], frame["ordinal"] - lag])
        earlier = pd.Series(lookup.reindex(earlier_key).to_numpy(), index=frame.index)
        frame[f"{name}_change"] = frame["value"] - earlier
        earlier_from_floor = earlier - floor
        frame[f"{name}_change_pct"] = frame[f"{name}_change"] / earlier_from_floor.where(earlier_from_floor != 0)
    columns = ["company", "is_client", "kpi", "period", "value", "markets", "unit", "direction", "base_period"]
    rest = ["indexed", "qoq_change", "qoq_change_pct", "yoy_change", "yoy_change_pct"]
    return frame[columns + rest]


def growth(series: pd.DataFrame) -> pd.DataFrame:
    """Change and CAGR of each company x KPI from its first to its last quarter of the window."""
    ordinal = quarter_ordinal(series["period"])
    frame = series.assign(ordinal=ordinal, floor=series["unit"].pipe(scale_floors))
    grouped = frame.sort_values("ordinal").groupby(["company", "is_client", "kpi"], sort=True)
    summary = grouped.agg(
        first_period=("period", "first"),
        last_period=("period", "last"),
        first_value=("value", "first"),
        last_value=("value", "last"),
        first_ordinal=("ordinal", "first"),
        last_ordinal=("ordinal", "last"),
        floor=("floor", "first"),
    ).reset_index()
    summary["change"] = summary["last_value"] - summary["first_value"]
    years = (summary["last_ordinal"] - summary["first_ordinal"]) / 4
    ratio = (summary["last_value"] - summary["floor"]) / (summary["first_value"] - summary["floor"])
    with np.errstate(invalid="ignore", divide="ignore"):
        cagr = np.power(ratio.where(ratio > 0), 1 / years.where(years > 0)) - 1
    summary["cagr"] = cagr
    return summary.drop(columns=["first_ordinal", "last_ordinal", "floor"])


def client_gaps(values: pd.DataFrame, client: str) -> pd.DataFrame:
    """The client's gap to the leader and to the median, per KPI and quarter (see :class:`BenchmarkTrends`)."""
    scored = score_companies(values, ["kpi", "period"])
    scored = scored[scored["value"].notna()]
    leaders = (
        scored[scored["rank"] == 1]
        .sort_values("company")
        .drop_duplicates(["kpi", "period"])
        .set_index(["kpi", "period"])
    )
    counts = scored.groupby(["kpi", "period"])["company"].count()
    median = scored.groupby(["kpi", "period"])["value"].median()
    mine = scored[scored["company"] == client].set_index(["kpi", "period"])
    gaps = pd.DataFrame(
        {
            "client_value": mine["value"],
            "leader": leaders["company"].reindex(mine.index),
            "best_value": leaders["value"].reindex(mine.index),
            "median_value": median.reindex(mine.index),
            "gap_to_best": mine["gap_to_best"],
            "gap_to_median": mine["gap_to_median"],
            "companies": counts.reindex(mine.index).astype(int),
        }
    ).reset_index()
    gaps = gaps.assign(ordinal=quarter_ordinal(gaps["period"])).sort_values(["kpi", "ordinal"], ignore_index=True)
    return gaps.drop(columns="ordinal")


def gap_trends(gaps: pd.DataFrame) -> pd.DataFrame:
    """OLS slope per quarter of each gap, its 95% interval and the Holm-corrected verdict (:class:`BenchmarkTrends`)."""
    rows = []
    for kpi, per_kpi in gaps.groupby("kpi", sort=True):
        quarter = (quarter_ordinal(per_kpi["period"]) - quarter_ordinal(per_kpi["period"].iloc[0])).to_numpy()
        for reference, column in zip(REFERENCES, ("gap_to_best", "gap_to_median"), strict=True):
            gap = per_kpi[column].to_numpy(dtype=float)
            slope, low, high, p_value = gap_slope(quarter.astype(float), gap)
            rows.append(
                {
                    "kpi": kpi,
                    "reference": reference,
                    "quarters": len(gap),
                    "first_period": per_kpi["period"].iloc[0],
                    "last_period": per_kpi["period"].iloc[-1],
                    "mean_gap": gap.mean(),
                    "latest_gap": gap[-1],
                    "client_ahead": bool(gap[-1] > 0),
                    "slope": slope,
                    "slope_ci_low": low,
                    "slope_ci_high": high,
                    "p_value": p_value,
                }
            )
    columns = [
        "kpi", "reference", "quarters", "first_period", "last_period", "mean_gap", "latest_gap", "client_ahead",
        "slope", "slope_ci_low", "slope_ci_high", "p_value", "p_value_holm", "trend",
    ]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows)
    frame["p_value_holm"] = holm_adjust(frame["p_value"])
    real = is_real(frame["p_value_holm"])
    # closing = moving towards zero: the slope's sign is opposite to the gap's (its mean over the window)
    towards_zero = np.sign(frame["slope"]) == -np.sign(frame["mean_gap"])
    frame["trend"] = np.where(real, np.where(towards_zero, CLOSING, WIDENING), NO_CLEAR_TREND)
    return frame[columns]


def gap_slope(quarter: np.ndarray, gap: np.ndarray) -> tuple[float, float, float, float]:
    """OLS of ``gap`` on ``quarter`` with a constant: ``(slope, ci_low, ci_high, p_value)``; NaN below 3 points.

    A gap that lies exactly on a line has no residual variance: its slope is certain (interval of width 0, p = 0)
    unless it is flat (p NaN: nothing to test).
    """
    if len(gap) < 3 or np.ptp(quarter) == 0:
        return np.nan, np.nan, np.nan, np.nan
    design = np.column_stack([np.ones_like(quarter), quarter])
    fit = OLS(gap, design).fit()
    slope = float(fit.params[1])
    if fit.ssr <= 1e-24 * max(1.0, float(np.sum(gap**2))):
        flat = abs(slope) < 1e-12
        return (0.0 if flat else slope), slope, slope, (np.nan if flat else 0.0)
    low, high = fit.conf_int(alpha=1 - CONFIDENCE)[1]
    return slope, float(low), float(high), float(fit.pvalues[1])
