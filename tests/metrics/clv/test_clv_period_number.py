"""period_number: the DuckDB fast path equals the portable Ibis expression, and both equal the calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.metrics.clv.rfm import period_number

moments = st.lists(
    st.datetimes(min_value=datetime(1890, 1, 1), max_value=datetime(2150, 12, 31)), min_size=1, max_size=30
)


def calendar_numbers(times: pd.Series, period: str) -> list[int]:
    """The period numbers by pandas' calendar: an oracle independent of the epoch arithmetic."""
    day = times.dt.floor("D").dt.tz_localize(None)
    if period == "M":
        return (day.dt.year * 12 + day.dt.month - 1).tolist()
    monday = pd.Timestamp("1969-12-29")
    if period == "W":
        return ((day - pd.to_timedelta(day.dt.day_of_week, unit="D") - monday).dt.days // 7).tolist()
    return (day - pd.Timestamp("1970-01-01")).dt.days.tolist()


@settings(max_examples=40, deadline=None)
@given(times=moments, period=st.sampled_from(["D", "W", "M"]), aware=st.booleans())
def test_when_times_are_random_then_the_fast_and_portable_period_numbers_equal_the_calendar(times, period, aware):
    column = pd.Series(pd.to_datetime(times), name="when").astype("datetime64[us]")
    if aware:
        column = column.dt.tz_localize("UTC")
    table = ibis.memtable(column.to_frame())

    fast = table.select(n=period_number(table.when, period, fast=True)).to_pandas()["n"].tolist()
    portable = table.select(n=period_number(table.when, period, fast=False)).to_pandas()["n"].tolist()

    assert fast == portable == calendar_numbers(column, period)


@pytest.mark.parametrize(
    ("moment", "period", "expected"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), "D", 0),
        (datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC), "D", -1),
        (datetime(1970, 1, 4, 23, 0, tzinfo=UTC), "W", 0),  # Sunday: still the week of Monday 1969-12-29
        (datetime(1970, 1, 5, tzinfo=UTC), "W", 1),  # Monday
        (datetime(2024, 2, 29, 12, tzinfo=UTC), "M", 2024 * 12 + 1),  # leap day: February
        (datetime(2000, 3, 1, tzinfo=UTC), "M", 2000 * 12 + 2),
    ],
)
def test_when_a_moment_sits_on_a_boundary_then_its_period_number_is_the_hand_computed_one(moment, period, expected):
    table = ibis.memtable(pd.DataFrame({"when": pd.Series([moment]).astype("datetime64[us, UTC]")}))

    assert table.select(n=period_number(table.when, period, fast=True)).to_pandas()["n"].tolist() == [expected]


def test_when_times_are_dates_then_they_count_like_midnight_timestamps():
    days = [datetime(1969, 12, 28).date(), datetime(1970, 1, 5).date(), datetime(2025, 1, 31).date()]
    table = ibis.memtable(pd.DataFrame({"when": days}))

    weeks = table.select(n=period_number(table.when, "W")).to_pandas()["n"].tolist()
    months = table.select(n=period_number(table.when, "M")).to_pandas()["n"].tolist()

    assert weeks == [-1, 1, (20_119 + 3) // 7]  # 2025-01-31 is day 20,119
    assert months == [1969 * 12 + 11, 1970 * 12, 2025 * 12]
