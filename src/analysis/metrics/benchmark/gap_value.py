"""What closing part of the client's gap to the peer median would be worth per quarter, from its own tables.

For each KPI the client trails the median on (``gap_to_median`` < 0; positive means the client is better):

* ``conversion_rate``: sessions per quarter × share closed × |gap| × average order value (AOV);
* ``cart_abandonment_rate``: sessions with a cart per quarter × share closed × |gap| × AOV (each cart no longer
  abandoned becomes an order);
* ``repeat_customer_rate``: buyers per quarter × share closed × |gap| × (orders per repeat buyer − 1) × AOV: a buyer
  who becomes a repeat buyer adds the orders beyond the first, since the first order is already counted.

Volumes (sessions, carts, buyer-quarters) are counted in the scope and divided by the number of quarters it spans
(partial quarters count by their share of days). The range comes from the two estimated inputs, each at its 95%
interval: the AOV (normal interval of a mean) and the client's own rate (:func:`client_kpis`, whose interval moves
the gap by the same amounts); both set low gives ``value_per_quarter_low``, both high ``value_per_quarter_high``. This
is interval arithmetic on two independent 95% intervals, so the range covers more than 95%. Orders per repeat buyer
and the peer median are taken as known.

Money is in the orders' currency. A scope whose orders are in several currencies (``ALL`` over markets with
different currencies) is refused rather than summed: run it per market.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError
from analysis.metrics.benchmark.client_kpis import client_kpis
from analysis.metrics.stats import normal_quantile
from analysis.scope import Scope

VALUED_KPIS = ("conversion_rate", "cart_abandonment_rate", "repeat_customer_rate")
COLUMNS = [
    "kpi",
    "gap_to_median",
    "value_per_quarter",
    "value_per_quarter_low",
    "value_per_quarter_high",
    "currency",
]


def cost_of_gap(
    tables: dict[str, ir.Table],
    scope: Scope,
    scorecard: pd.DataFrame,
    *,
    client: str,
    share_closed: float = 0.5,
) -> pd.DataFrame:
    """The value per quarter of closing ``share_closed`` of the client's gap to the peer median, with a range.

    Parameters
    ----------
    tables
        Contract tables (:func:`analysis.sources.load_tables`); ``events`` and ``orders`` are needed.
    scope
        Market (or ``ALL``) and date range whose sessions, carts, buyers and orders are counted.
    scorecard
        Columns ``company, kpi, value, unit, direction, gap_to_median`` (gap in KPI units, positive = better), e.g.
        :func:`analysis.metrics.benchmark.scorecard.benchmark_scorecard`; the client's rows are used.
    client
        The client's name in ``scorecard['company']``.
    share_closed
        Share of the gap closed, in (0, 1]; 0.5 = half the gap.

    Returns
    -------
    pandas.DataFrame
        One row per valued KPI in the client's scorecard rows (order of :data:`VALUED_KPIS`):

        kpi
            ``conversion_rate``, ``cart_abandonment_rate`` or ``repeat_customer_rate``.
        gap_to_median
            From the scorecard (KPI units; positive = the client is better).
        value_per_quarter
            Money per quarter in ``currency`` of closing ``share_closed`` of a negative gap; 0 when the client is at
            or better than the median (nothing to close); NaN when the gap is missing.
        value_per_quarter_low, value_per_quarter_high
            The range from the AOV's and the own rate's 95% intervals (see the module docstring); never below 0.
        currency
            ISO 4217 code of the orders in scope.

    Raises
    ------
    ParameterError
        for ``share_closed`` outside (0, 1], a client without scorecard rows, or orders in several currencies.
    DataError
        when the scope holds no orders (no order value to price a gap with).
    """
    if not 0 < share_closed <= 1:
        raise ParameterError(
            f"share_closed {share_closed!r} must be in (0, 1], e.g. 0.5 for half the gap",
            parameter="share_closed",
            value=share_closed,
            valid="a number greater than 0 and at most 1",
        )
    rows = scorecard.loc[(scorecard["company"] == client) & scorecard["kpi"].isin(VALUED_KPIS)]
    if rows.empty:
        raise ParameterError(
            f"the scorecard has no rows of client {client!r} for {list(VALUED_KPIS)}",
            parameter="client",
            value=client,
            valid=sorted(scorecard["company"].unique()),
        )
    if rows["kpi"].duplicated().any():
        raise ParameterError(
            "the scorecard has several rows per KPI for the client: give one market and period",
            parameter="scorecard",
            value=sorted(rows.loc[rows["kpi"].duplicated(), "kpi"]),
            valid="one row per company and KPI",
        )
    own = client_kpis({name: tables[name] for name in ("events", "orders")}, scope).set_index("kpi")
    money = _order_value(tables["orders"], scope)
    quarters = _quarters_spanned(scope)
    result = []
    for kpi in VALUED_KPIS:
        if kpi not in set(rows["kpi"]):
            continue
        gap = float(rows.loc[rows["kpi"] == kpi, "gap_to_median"].iloc[0])
        volume = own.loc[kpi, "denominator"] / quarters  # sessions, carts or buyer-quarters per quarter
        per_unit = money["aov"], money["aov_low"], money["aov_high"]
        if kpi == "repeat_customer_rate":
            per_unit = tuple(value * (money["orders_per_repeat_buyer"] - 1) for value in per_unit)
        # The own rate's interval moves the gap: how far the client's true rate may sit from its estimate.
        below, above = (
            own.loc[kpi, "value"] - own.loc[kpi, "value_ci_low"],
            own.loc[kpi, "value_ci_high"] - own.loc[kpi, "value"],
        )
        low_spread, high_spread = (above, below) if own.loc[kpi, "direction"] == "higher" else (below, above)
        if np.isnan(gap):
            values = (np.nan, np.nan, np.nan)
        elif gap >= 0:
            values = (0.0, 0.0, 0.0)
        else:
            shortfalls = (-gap, max(-gap - low_spread, 0.0), -gap + high_spread)
            values = tuple(
                share_closed * volume * short * unit for short, unit in zip(shortfalls, per_unit, strict=True)
            )
        result.append((kpi, gap, *values, money["currency"]))
    return pd.DataFrame(result, columns=COLUMNS)


def _order_value(orders: ir.Table, scope: Scope) -> dict[str, float | str]:
    """AOV with its 95% normal interval, orders per repeat buyer-quarter, and the one currency of the scope."""
    orders = scope.apply(orders, "orders")
    currencies = sorted(orders.select("currency").distinct().to_pandas()["currency"])
    if len(currencies) > 1:
        raise ParameterError(
            f"orders in {scope.label} are in several currencies {currencies}: value the gap per market",
            parameter="market",
            value=scope.market,
            valid="a market whose orders share one currency",
        )
    if not currencies:
        raise DataError(f"no orders in {scope.label}: no order value to price a gap with", value=scope.market)
    amount = orders.amount.cast("float64")
    stats = orders.aggregate(orders=orders.count(), mean=amount.mean(), sd=amount.std()).to_pandas().iloc[0]
    half = normal_quantile() * (float(stats["sd"]) / np.sqrt(stats["orders"]) if stats["orders"] > 1 else np.inf)
    per_quarter = orders.group_by(
        [orders.user_id, orders.order_time.year().name("year"), orders.order_time.quarter().name("quarter")]
    ).aggregate(orders=orders.count())
    repeat = per_quarter.filter(per_quarter.orders >= 2)
    per_repeat_buyer = repeat.aggregate(mean=repeat.orders.mean()).to_pandas()["mean"].iloc[0]
    return {
        "aov": float(stats["mean"]),
        "aov_low": max(float(stats["mean"]) - half, 0.0),
        "aov_high": float(stats["mean"]) + half,
        "orders_per_repeat_buyer": 2.0
        if per_repeat_buyer is None or pd.isna(per_repeat_buyer)
        else float(per_repeat_buyer),
        "currency": currencies[0],
    }


def _quarters_spanned(scope: Scope) -> float:
    """How many calendar quarters the scope spans, a partial quarter counting by its share of days."""
    total = 0.0
    for quarter in pd.period_range(pd.Period(scope.start, freq="Q"), pd.Period(scope.end, freq="Q"), freq="Q"):
        first, last = quarter.start_time.date(), quarter.end_time.date()
        covered = (min(last, scope.end) - max(first, scope.start)).days + 1
        total += covered / ((last - first).days + 1)
    return total
