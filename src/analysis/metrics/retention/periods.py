"""Calendar periods shared by the retention helpers: months and quarters as integer indexes, labels and bounds.

A period is numbered in the engine as an integer (``year * 12 + month - 1`` for months, ``year * 4 + quarter - 1``
for quarters), which every backend computes alike; labels, first and last days are attached in pandas afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from analysis.errors import DataFileError, ParameterError, one_of

PERIODS: dict[str, int] = {"month": 1, "quarter": 3}  # period name -> months it spans


def as_table(table: ir.Table | pd.DataFrame) -> ir.Table:
    """An Ibis table as it is, or a pandas frame wrapped as an in-memory table."""
    return ibis.memtable(table) if isinstance(table, pd.DataFrame) else table


def check_period(period: str, parameter: str) -> int:
    """The months a period spans; a :class:`ParameterError` naming ``parameter`` for anything but month or quarter."""
    if period not in PERIODS:
        raise ParameterError(
            f"{parameter}={period!r} is not a period; use one of {one_of(PERIODS)}",
            parameter=parameter,
            value=period,
            valid=list(PERIODS),
        )
    return PERIODS[period]


def check_columns(table: ir.Table, needed: Sequence[str], table_name: str) -> None:
    """A :class:`DataFileError` naming the first column of ``needed`` that ``table`` lacks."""
    for column in needed:
        if column not in table.columns:
            raise DataFileError(
                f"the {table_name} table has no column {column!r} (it has {', '.join(table.columns)})",
                column=column,
                value=list(table.columns),
                valid=list(needed),
            )


def as_date(value: date | str | pd.Timestamp | None) -> date | None:
    """A calendar day from a date, an ISO string or a timestamp (None stays None)."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def day_column(column: ir.Column) -> ir.DateColumn:
    """A date or timestamp column as calendar days."""
    return column if column.type().is_date() else column.cast("date")


def month_index(day: ir.DateValue) -> ir.IntegerValue:
    """The month a day falls in, numbered ``year * 12 + month - 1`` (portable across engines)."""
    return (day.year() * 12 + day.month() - 1).cast("int64")


def period_index(day: ir.DateValue, months: int) -> ir.IntegerValue:
    """The month (``months`` = 1) or quarter (3) a day falls in, as an integer index."""
    if months == 1:
        return month_index(day)
    return (day.year() * 4 + (day.month() - 1) // 3).cast("int64")


def index_of(day: date, months: int) -> int:
    """The pandas-side twin of :func:`period_index` for one day."""
    return day.year * 12 + day.month - 1 if months == 1 else day.year * 4 + (day.month - 1) // 3


def period_start(index: int | pd.Series, months: int) -> pd.Series | date:
    """First day of the period ``index`` (scalar or Series of indexes)."""
    if isinstance(index, pd.Series):
        return index.map(lambda i: period_start(int(i), months))
    month = index if months == 1 else index * 3
    return date(month // 12, month % 12 + 1, 1)


def period_end(index: int | pd.Series, months: int) -> pd.Series | date:
    """Last day of the period ``index``."""
    if isinstance(index, pd.Series):
        return index.map(lambda i: period_end(int(i), months))
    start = pd.Timestamp(period_start(index, months))
    return (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()


def period_label(index: int | pd.Series, months: int) -> pd.Series | str:
    """``2025Q1`` for a quarter, ``2025-01`` for a month."""
    if isinstance(index, pd.Series):
        return index.map(lambda i: period_label(int(i), months)).astype("str")
    if months == 1:
        return f"{index // 12}-{index % 12 + 1:02d}"
    return f"{index // 4}Q{index % 4 + 1}"


def calendar(first: date, last: date, months: int) -> pd.DataFrame:
    """Every period from the one holding ``first`` to the one holding ``last``: ``index``, ``start``, ``end``."""
    indexes = pd.Series(range(index_of(first, months), index_of(last, months) + 1), dtype="int64")
    return pd.DataFrame({"index": indexes, "start": period_start(indexes, months), "end": period_end(indexes, months)})


def scalar_day(expression: ir.Scalar) -> date | None:
    """Execute a scalar date expression (a min or max) and return it as a calendar day."""
    return as_date(expression.execute())
