"""The BTYD summary of a transaction log: one row per customer with frequency, recency, T and monetary value.

The definitions are those of the buy-till-you-die literature (Fader, Hardie & Lee 2005) exactly as ``lifetimes``'
``summary_data_from_transaction_data`` computes them, so the fits of :mod:`~analysis.metrics.clv.bg_nbd` and
:mod:`~analysis.metrics.clv.gamma_gamma` read the numbers they were published with. The work is one Ibis expression
(collapse purchases to distinct periods, then group by customer) that runs on DuckDB and Spark alike; only the
per-customer result comes back, and the whole-period arithmetic on its first and last periods is done in pandas.
On DuckDB the same numbers come from one aggregation by customer instead (:mod:`~analysis.metrics.clv.rfm_duckdb`,
tested equal to the portable expression), sorted in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError, one_of
from analysis.metrics.clv.rfm_duckdb import customer_periods

# Period codes and the engine's truncation unit for each: a week starts on Monday (DuckDB, Spark and pandas' W-SUN).
PERIODS = {"D": "D", "W": "W", "M": "M"}
SUMMARY_COLUMNS = ("frequency", "recency", "T")
SECONDS_PER_DAY = 86_400


def rfm_summary(
    transactions: ir.Table,
    customer: str = "user_id",
    time: str = "order_time",
    amount: str | None = None,
    *,
    observation_end: date | datetime | str,
    period: str = "W",
    periods_per_unit: int = 1,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Per-customer frequency, recency, age and mean repeat value, in whole periods, computed in the engine.

    How periods are counted: every purchase time is floored to the start of its period (``"D"``: the UTC day;
    ``"W"``: the week starting Monday; ``"M"``: the calendar month), purchases in the same period collapse to one
    (their amounts add up), and durations are differences of those period starts in whole periods (months count
    calendar months). ``observation_end`` is floored the same way; purchases in a later period are ignored, and
    customers whose first purchase falls after it are excluded. This is ``lifetimes``'
    ``summary_data_from_transaction_data(freq=period, freq_multiplier=periods_per_unit)``, with months (which
    ``lifetimes`` cannot measure on pandas 3) counted as calendar months.

    Parameters
    ----------
    transactions
        One row per purchase (Ibis table on any backend, e.g. the contract's ``orders``).
    customer, time
        The customer identifier and the purchase time (timestamp or date) columns.
    amount
        The purchase value column; None leaves ``monetary_value`` out.
    observation_end
        The last day observed (inclusive once floored to its period).
    period
        ``"D"``, ``"W"`` or ``"M"``: the period purchases collapse to and durations are counted in.
    periods_per_unit
        Divide recency and T by this many periods: ``period="D", periods_per_unit=7`` collapses purchases to distinct
        days and measures in weeks to the day (Fader, Hardie & Lee's CDNOW summary).
    by
        Per-customer attributes to carry along (e.g. ``segment``, ``market``): the value on the customer's first
        purchase (among purchases at the same first instant, any one of them).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer`` (kept for joining only; never show it). Columns:

        - ``frequency``: periods with a purchase after the first one (distinct purchase periods − 1), float;
        - ``recency``: periods from the first to the last purchase period, in units of ``periods_per_unit``;
        - ``T``: periods from the first purchase period to the observation end's period, same units;
        - ``monetary_value`` (with ``amount``): mean of the per-period purchase sums after the first period (the
          repeat purchases); 0 when ``frequency`` is 0;
        - ``total_value`` (with ``amount``): the sum of every purchase up to the observation end, first included;
        - one column per ``by`` attribute.

        Rows are sorted by customer.
    """
    if period not in PERIODS:
        raise ParameterError(
            f"period {period!r} is not one of {one_of(PERIODS)}", parameter="period", value=period, valid=list(PERIODS)
        )
    if int(periods_per_unit) != periods_per_unit or periods_per_unit < 1:
        raise ParameterError(
            f"periods_per_unit {periods_per_unit!r} must be a whole number of periods, 1 or more",
            parameter="periods_per_unit",
            value=periods_per_unit,
            valid="an integer >= 1",
        )
    columns = [customer, time, *([amount] if amount else []), *by]
    missing = [name for name in columns if name not in transactions.columns]
    if missing:
        raise DataError(
            f"the transactions have no column {one_of(missing)}; they have {one_of(transactions.columns)}",
            column=missing[0],
            value=missing,
            valid=list(transactions.columns),
        )
    end_period = _floor(pd.Timestamp(observation_end), period)
    after_end = _next_period(end_period, period)
    when = transactions[time]
    is_timestamp = when.type().is_timestamp()
    cutoff = ibis.literal(after_end.to_pydatetime(), type=when.type()) if is_timestamp else after_end.date()
    kept = transactions.filter(when < cutoff)
    on_duckdb = _is_duckdb(transactions)
    starts = period_number(kept[time], period, fast=on_duckdb).name("period_start")
    if on_duckdb:  # one hash aggregation by customer, sorted in the engine (rfm_duckdb)
        kept = kept.mutate(period_start=starts)
        end_number = _python_period_number(end_period, period)
        customers = customer_periods(kept, customer, time, amount, by, end_number).to_pandas().set_index(customer)
    else:
        customers = _portable_customer_periods(kept, starts, customer, time, amount, by)
        customers = customers.sort_values(customer).set_index(customer)
    first, last = (customers[name].astype(float) for name in ("first_period", "last_period"))
    summary = pd.DataFrame(index=customers.index)
    summary["frequency"] = customers["periods"].astype(float) - 1
    summary["recency"] = (last - first) / periods_per_unit
    summary["T"] = (_python_period_number(end_period, period) - first) / periods_per_unit
    if amount:
        repeat_value = customers["total_value"].astype(float) - customers["first_value"].astype(float)
        repeats = summary["frequency"].to_numpy()
        summary["monetary_value"] = np.where(repeats > 0, repeat_value / np.where(repeats > 0, repeats, 1), 0.0)
        summary["total_value"] = customers["total_value"].astype(float)
    for name in by:
        summary[name] = customers[name]
    return summary


def _portable_customer_periods(
    kept: ir.Table, starts: ir.IntegerColumn, customer: str, time: str, amount: str | None, by: Sequence[str]
) -> pd.DataFrame:
    # Collapse to one row per customer and period, then one row per customer: two group-bys in one query.
    per_period = kept.group_by([kept[customer], starts]).aggregate(
        **({"value": kept[amount].sum()} if amount else {}),
        **{name: kept[name].argmin(kept[time]) for name in by},
    )
    start = per_period.period_start
    aggregates = {"first_period": start.min(), "last_period": start.max(), "periods": start.count()}
    if amount:
        aggregates |= {"total_value": per_period.value.sum(), "first_value": per_period.value.argmin(start)}
    aggregates |= {name: per_period[name].argmin(start) for name in by}
    return per_period.group_by(customer).aggregate(**aggregates).to_pandas()


def _floor(moment: pd.Timestamp, period: str) -> pd.Timestamp:
    day = pd.Timestamp(moment.date())
    if period == "W":
        return day - timedelta(days=day.weekday())
    if period == "M":
        return day.replace(day=1)
    return day


def _next_period(start: pd.Timestamp, period: str) -> pd.Timestamp:
    if period == "M":
        return (start + pd.offsets.MonthBegin(1)).normalize()
    return start + timedelta(days=7 if period == "W" else 1)


def period_number(when: ir.Column, period: str, *, fast: bool = False) -> ir.IntegerColumn:
    """The whole-period number of each time (UTC): consecutive integers, so differences count periods.

    Days are counted from 1970-01-01 (``"D"``); weeks start on Monday, week 0 being the one starting 1969-12-29
    (``"W"``: ``floor((day + 3) / 7)``, as 1970-01-01 was a Thursday); months are ``year * 12 + month - 1``
    (``"M"``, from the day number by Hinnant's civil-from-days arithmetic). Only integer arithmetic on the epoch, so
    it is portable Ibis and avoids the engine's calendar machinery (``date_trunc`` on a time-zone-aware timestamp
    goes through ICU calendars in DuckDB and is several times slower than the scan).

    Parameters
    ----------
    when
        A timestamp (naive ones read as UTC) or date column.
    period
        ``"D"``, ``"W"`` or ``"M"``.
    fast
        On DuckDB only: read the epoch of a time-zone-aware timestamp directly (``epoch(ts)``) instead of through
        Ibis' portable ``epoch(CAST(ts AS TIMESTAMP))``, whose cast is again an ICU conversion. Same numbers (tested).

    Returns
    -------
    ibis.expr.types.IntegerColumn
        The period number, int64.
    """
    if when.type().is_timestamp():
        seconds = _duckdb_epoch_seconds(when) if fast else when.epoch_seconds()
        days = seconds // SECONDS_PER_DAY
    else:
        days = when.delta(ibis.date(1970, 1, 1), unit="day")
    if period == "D":
        return days.cast("int64")
    if period == "W":
        return ((days + 3) // 7).cast("int64")
    # Months: Hinnant's days_from_civil inverted, on a calendar whose years start in March (leap day last).
    shifted = days + 719_468
    era = shifted // 146_097
    day_of_era = shifted - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    return ((year_of_era + era * 400) * 12 + month_from_march + 2).cast("int64")


def _python_period_number(moment: pd.Timestamp, period: str) -> int:
    if period == "M":
        return moment.year * 12 + moment.month - 1
    days = (pd.Timestamp(moment.date()) - pd.Timestamp("1970-01-01")).days
    return (days + 3) // 7 if period == "W" else days


def _is_duckdb(table: ir.Table) -> bool:
    try:
        return table.get_backend().name == "duckdb"
    except Exception:  # noqa: BLE001 - no backend bound yet: take the portable path
        return False


def _duckdb_epoch_seconds(when: ir.TimestampColumn) -> ir.FloatingColumn:
    if when.type().timezone is None:
        return when.epoch_seconds()  # the cast to TIMESTAMP is a no-op on a naive timestamp
    epoch = ibis.udf.scalar.builtin(lambda moment: None, name="epoch", signature=((when.type(),), dt.float64))
    return epoch(when)
