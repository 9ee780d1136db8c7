"""Repeat-customer rate: of a period's purchasing customers, the share with two or more orders in that period.

The definition of ``data/README.md`` (the demo's planted effect is on quarters). One pass over the orders in the
engine: orders per customer and period, then customers and repeat customers per group and period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.metrics.retention.periods import (
    as_date,
    as_table,
    check_columns,
    check_period,
    day_column,
    period_end,
    period_index,
    period_label,
    period_start,
)
from analysis.metrics.stats import CONFIDENCE, wilson_interval


def repeat_customer_rate(
    orders: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    period: str = "quarter",
    start: date | str | None = None,
    end: date | str | None = None,
    confidence: float = CONFIDENCE,
) -> pd.DataFrame:
    """Share of a period's purchasing customers (``user_id``) with at least two orders in that period.

    Parameters
    ----------
    orders
        The ``orders`` table (Ibis on any backend, or pandas).
    by
        Order columns to group by (``()``: all customers); any order column works (e.g. ``("market", "currency")``).
        A customer ordering in two groups counts in each, with the orders of that group.
    period
        ``"quarter"`` (the definition's) or ``"month"``.
    start, end
        First and last day of orders counted (inclusive; default: every order, observed until the last order day).
    confidence
        Level of the Wilson intervals.

    Returns
    -------
    pandas.DataFrame
        One row per group and period with at least one order, in order:

        - the ``by`` columns;
        - ``period``: label (``2025Q1`` or ``2025-01``); ``period_start``: its first day;
        - ``customers``: customers with at least one order in the period;
        - ``repeat_customers``: of them, those with two or more;
        - ``rate``: ``repeat_customers / customers`` (fraction); NaN when the period is not complete;
        - ``rate_ci_low``, ``rate_ci_high``: Wilson interval (NaN when not complete);
        - ``complete``: False when the period begins before ``start`` or ends after ``end`` (default: the last order
          day seen), so some of its orders are not counted and its rate would be too low.
    """
    months = check_period(period, "period")
    table = as_table(orders)
    by = list(by)
    check_columns(table, [*by, "user_id", "order_time"], "orders")
    days = table.select(*by, "user_id", day=day_column(table.order_time))
    first, last = as_date(start), as_date(end)
    if first is not None:
        days = days.filter(days.day >= ibis.literal(first, "date"))
    if last is not None:
        days = days.filter(days.day <= ibis.literal(last, "date"))
    per_customer = days.group_by([*by, "user_id", period_index(days.day, months).name("period")]).aggregate(
        orders=days.count(), first_day=days.day.min(), last_day=days.day.max()
    )
    counts = per_customer.group_by([*by, "period"]).aggregate(
        customers=per_customer.count(),
        repeat_customers=(per_customer.orders >= 2).cast("int64").sum(),
        first_day=per_customer.first_day.min(),
        last_day=per_customer.last_day.max(),
    )
    frame = counts.execute()
    if frame.empty:
        columns = [*by, "period", "period_start", "customers", "repeat_customers", "rate", "rate_ci_low"]
        return pd.DataFrame({c: pd.Series(dtype="object") for c in [*columns, "rate_ci_high", "complete"]})
    frame = frame.sort_values([*by, "period"], kind="stable").reset_index(drop=True)
    last = last or as_date(frame["last_day"].max())
    index = frame["period"].astype("int64")
    starts, ends = period_start(index, months), period_end(index, months)
    complete = ((starts >= first) if first is not None else True) & (ends <= last)
    complete = np.asarray(complete, dtype=bool)
    customers = frame["customers"].astype("int64")
    repeat = frame["repeat_customers"].astype("int64")
    low, high = wilson_interval(repeat, customers, confidence)
    out = frame[by].copy()
    out["period"] = period_label(index, months)
    out["period_start"] = starts
    out["customers"] = customers
    out["repeat_customers"] = repeat
    out["rate"] = np.where(complete, repeat / customers, np.nan)
    out["rate_ci_low"] = np.where(complete, low, np.nan)
    out["rate_ci_high"] = np.where(complete, high, np.nan)
    out["complete"] = complete
    return out
