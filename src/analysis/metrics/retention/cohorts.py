"""Cohort grids: signup cohort × periods since signup (sellers), first-purchase cohort × periods since (buyers).

Both come out as tidy long frames, one row per group, cohort and ``periods_since``, with a cell not yet fully
observable marked ``complete = False`` and its ``share`` NaN (never 0, so a heatmap shows it blank). The engine
returns one small count per group, cohort and duration; the grid is filled in pandas.
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
    index_of,
    month_index,
    period_end,
    period_index,
    period_label,
    period_start,
)

GRID_COLUMNS = ("cohort", "cohort_start", "periods_since", "cohort_size", "active", "share", "complete")


def seller_durations(
    sellers: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    cohort_months: int = 3,
    observed_until: date | str | None = None,
) -> tuple[pd.DataFrame, date]:
    """Sellers counted per group, signup cohort, whole months active and whether they stopped (engine-side).

    A seller's ``months`` is the number of whole months from ``signup_date`` to ``last_active_date`` (or to
    ``observed_until`` when still selling then): the seller is active ``k`` months after signup when ``months >= k``.
    A month is whole when the day of the month is reached again (signup on the 31st: a month is whole on the 1st of
    the month after next when the next month is shorter).

    Returns
    -------
    (pandas.DataFrame, datetime.date)
        The counts, one row per distinct (``by``…, ``cohort`` index, ``months``, ``stopped``) with ``sellers``
        (their number), and the observation end used.
    """
    table = as_table(sellers)
    by = list(by)
    check_columns(table, [*by, "signup_date", "last_active_date"], "sellers")
    spans = table.select(*by, signup=day_column(table.signup_date), last=day_column(table.last_active_date))
    observed = as_date(observed_until) or as_date(spans.last.max().execute())
    observed_day = ibis.literal(observed, "date")
    spans = spans.filter(spans.signup <= observed_day)
    until = ibis.ifelse(spans.last < observed_day, spans.last, observed_day)
    months = month_index(until) - month_index(spans.signup) - (until.day() < spans.signup.day()).cast("int64")
    rows = spans.select(
        *by,
        cohort=period_index(spans.signup, cohort_months),
        months=months.cast("int64"),
        stopped=(spans.last < observed_day).cast("int64"),
    )
    counts = rows.group_by([*by, "cohort", "months", "stopped"]).aggregate(sellers=rows.count()).execute()
    counts = counts.astype({"cohort": "int64", "months": "int64", "stopped": "int64", "sellers": "int64"})
    return counts.sort_values([*by, "cohort", "months", "stopped"]).reset_index(drop=True), observed


def seller_cohorts(
    sellers: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    cohort: str = "quarter",
    period: str = "month",
    observed_until: date | str | None = None,
) -> pd.DataFrame:
    """Seller retention by signup cohort: the share of a cohort still active ``k`` periods after signing up.

    Parameters
    ----------
    sellers
        The ``sellers`` table (Ibis on any backend, or pandas).
    by
        Seller columns to group by (``()``: all sellers).
    cohort
        ``"quarter"`` or ``"month"`` of signup.
    period
        ``"month"`` or ``"quarter"``: the unit of ``periods_since``, counted from each seller's own signup day.
    observed_until
        The last day the data describe (default: the latest ``last_active_date``).

    Returns
    -------
    pandas.DataFrame
        One row per group, cohort and ``periods_since`` from 0 to the longest observable, in order:

        - the ``by`` columns;
        - ``cohort``: label of the signup period (``2025Q1`` or ``2025-01``); ``cohort_start``: its first day;
        - ``periods_since``: ``k``, whole periods since signup (0 = at signup);
        - ``cohort_size``: sellers who signed up in the cohort;
        - ``active``: of them, sellers still active ``k`` periods after their signup day (NaN when not complete);
        - ``share``: ``active / cohort_size`` (fraction; 1.0 at ``k`` = 0; NaN when not complete);
        - ``complete``: True when every seller of the cohort has been observed for ``k`` periods, i.e. the month
          holding the ``k``-th anniversary of the cohort's last day has ended by ``observed_until``.
    """
    cohort_months, period_months = check_period(cohort, "cohort"), check_period(period, "period")
    counts, observed = seller_durations(sellers, by=by, cohort_months=cohort_months, observed_until=observed_until)
    counts = counts.assign(periods=counts["months"] // period_months)
    by = list(by)
    groups = list(counts.groupby([*by, "cohort"], sort=True, dropna=False))
    # every cohort gets the columns of the oldest one, so later cohorts show their unobservable cells as such
    oldest = min((int(key[-1] if isinstance(key, tuple) else key) for key, _ in groups), default=0)
    last_month = index_of(period_end(oldest, cohort_months), 1)
    horizon = max((index_of(observed, 1) - last_month - _unfinished(observed)) // period_months, 0)
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        durations = group.groupby("periods")["sellers"].sum()
        size = int(durations.sum())
        for k in range(horizon + 1):
            rows.append((*key, k, size, int(durations[durations.index >= k].sum())))
    return _grid(rows, by, cohort_months, period_months, observed, kind="seller")


def buyer_cohorts(
    orders: ir.Table | pd.DataFrame,
    *,
    by: Sequence[str] = ("market",),
    cohort: str = "month",
    period: str = "month",
    observation_end: date | str | None = None,
) -> pd.DataFrame:
    """Returning-buyer retention by first-purchase cohort: the share of a cohort buying again ``k`` periods later.

    A buyer's cohort is the period of their first order within the ``by`` group; ``k`` counts calendar periods
    (``period`` units) from the period of that first order, so ``k`` = 0 is the first purchase's own period (share
    1.0 by definition) and ``k`` = 1 the next period: PostHog's "returning" retention.

    Parameters
    ----------
    orders
        The ``orders`` table (Ibis on any backend, or pandas).
    by
        Order columns to group by (``()``: all buyers). A buyer is counted in each group they ordered in.
    cohort, period
        ``"month"`` or ``"quarter"``.
    observation_end
        The last day the orders describe (default: the day of the latest ``order_time``); later orders are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per group, cohort and ``periods_since`` from 0 to the latest period that has begun, in order:

        - the ``by`` columns;
        - ``cohort``: label of the first-purchase period; ``cohort_start``: its first day;
        - ``periods_since``: ``k``, calendar periods since the first purchase's period;
        - ``cohort_size``: buyers whose first order fell in the cohort;
        - ``active``: of them, buyers with at least one order in period ``k`` after their first (NaN when not
          complete);
        - ``share``: ``active / cohort_size`` (fraction; NaN when not complete);
        - ``complete``: True when period ``k`` after the cohort's last first-purchase period has ended by
          ``observation_end``.
    """
    cohort_months, period_months = check_period(cohort, "cohort"), check_period(period, "period")
    table = as_table(orders)
    by = list(by)
    check_columns(table, [*by, "user_id", "order_time"], "orders")
    days = table.select(*by, "user_id", day=day_column(table.order_time))
    observed = as_date(observation_end) or as_date(days.day.max().execute())
    days = days.filter(days.day <= ibis.literal(observed, "date"))
    first_day = days.day.min().over(group_by=[*by, "user_id"])
    days = days.mutate(first_day=first_day)
    marked = days.select(
        *by,
        "user_id",
        cohort=period_index(days.first_day, cohort_months),
        periods=period_index(days.day, period_months) - period_index(days.first_day, period_months),
    )
    counts = marked.group_by([*by, "cohort", "periods"]).aggregate(active=marked.user_id.nunique()).execute()
    counts = counts.astype({"cohort": "int64", "periods": "int64", "active": "int64"})
    groups = list(counts.groupby([*by, "cohort"], sort=True, dropna=False))
    oldest = min((int(key[-1] if isinstance(key, tuple) else key) for key, _ in groups), default=0)
    horizon = max(index_of(observed, period_months) - index_of(period_end(oldest, cohort_months), period_months), 0)
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        by_periods = group.set_index("periods")["active"]
        size = int(by_periods.get(0, 0))
        for k in range(horizon + 1):
            rows.append((*key, k, size, int(by_periods.get(k, 0))))
    return _grid(rows, by, cohort_months, period_months, observed, kind="buyer")


def _unfinished(observed: date) -> int:
    """1 when ``observed`` is not the last day of its month (that month has not ended), else 0."""
    return int((pd.Timestamp(observed) + pd.Timedelta(days=1)).day != 1)


def _grid(
    rows: list[tuple], by: list[str], cohort_months: int, period_months: int, observed: date, *, kind: str
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*by, "cohort_index", "periods_since", "cohort_size", "active"])
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in [*by, *GRID_COLUMNS]})
    cohort_index = frame.pop("cohort_index")
    if kind == "seller":
        last_month = cohort_index.map(lambda i: index_of(period_end(int(i), cohort_months), 1))
        anniversary_month = last_month + frame["periods_since"] * period_months
        complete = anniversary_month <= index_of(observed, 1) - _unfinished(observed)
    else:
        latest_first = cohort_index.map(lambda i: index_of(period_end(int(i), cohort_months), period_months))
        target = latest_first + frame["periods_since"]
        complete = target.map(lambda i: period_end(int(i), period_months) <= observed)
    complete = complete.astype(bool).to_numpy()
    active = frame["active"].astype("float64").where(complete)
    out = frame[by].copy()
    out["cohort"] = period_label(cohort_index, cohort_months)
    out["cohort_start"] = period_start(cohort_index, cohort_months)
    out["periods_since"] = frame["periods_since"].astype("int64")
    out["cohort_size"] = frame["cohort_size"].astype("int64")
    out["active"] = active
    out["share"] = np.where(complete, active / frame["cohort_size"], np.nan)
    out["complete"] = complete
    return out.reset_index(drop=True)
