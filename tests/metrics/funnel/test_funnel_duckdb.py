"""The DuckDB list path of the ordered funnel against the portable window-function path, unit by unit."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import ibis
import pandas as pd
import pytest
from helpers.funnel_reference import T0
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.metrics.funnel import as_events_table, duckdb_path
from analysis.metrics.funnel.chains import unit_chains

STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]

# microsecond offsets: many ties, events exactly at the window's edge, out-of-order rows, null breakdown values
rows = st.lists(
    st.tuples(
        st.sampled_from(["u1", "u2", "u3", "u4"]),
        st.sampled_from(["s1", "s2"]),
        st.integers(min_value=0, max_value=40),
        st.sampled_from([*STEPS, "page_view"]),
        st.sampled_from(["desktop", "mobile", None]),
        st.sampled_from(["email", "search"]),
        st.sampled_from([1, 2, None]),
    ),
    max_size=40,
)


def frame(data: list[tuple]) -> pd.DataFrame:
    columns = ["user_id", "session_id", "offset", "event_name", "device", "channel", "tier"]
    table = pd.DataFrame(data, columns=columns)
    table["event_time"] = T0 + pd.to_timedelta(table.pop("offset") * 250_000, unit="us")
    return table.astype({"user_id": "string", "session_id": "string", "event_name": "string"}).astype(
        {"device": "string", "channel": "string", "tier": "Int64"}
    )


def depths(events: pd.DataFrame, steps, window, by, unit, portable: bool) -> pd.DataFrame:
    table = as_events_table(events)
    with unit_chains(table, steps, window, by, unit=unit, portable=portable) as result:
        out = result.to_pandas()
    keys = ["user_id"] if unit == "user" else ["user_id", "session_id"]
    return out.sort_values(keys).reset_index(drop=True)


def agreed_depths(events: pd.DataFrame, steps, window, by, unit: str = "user") -> pd.DataFrame:
    """The DuckDB path's depths, after checking that the portable path gives the same frame."""
    fast = depths(events, steps, window, by, unit, portable=False)
    portable = depths(events, steps, window, by, unit, portable=True)
    pd.testing.assert_frame_equal(fast, portable, check_dtype=False)
    return fast


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=rows,
    window_steps=st.integers(min_value=1, max_value=12),
    k=st.integers(min_value=1, max_value=5),
    unit=st.sampled_from(["user", "session"]),
    by=st.sampled_from([[], ["device"], ["device", "channel"], ["tier"], ["channel", "tier"]]),
    coded=st.booleans(),
)
def test_when_random_event_logs_then_the_duckdb_path_equals_the_portable_path(data, window_steps, k, unit, by, coded):
    events = frame(data)
    window = timedelta(microseconds=250_000 * window_steps)
    # coded: the first touch as an integer minimum of value codes; otherwise as the minimum of a struct
    with mock.patch.object(duckdb_path, "MAX_CODED_VALUES", duckdb_path.MAX_CODED_VALUES if coded else 0):
        fast = depths(events, STEPS[:k], window, by, unit, portable=False)
    portable = depths(events, STEPS[:k], window, by, unit, portable=True)
    pd.testing.assert_frame_equal(fast, portable, check_dtype=False)


def test_when_a_start_ties_then_each_breakdown_column_takes_its_own_smallest_value():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 0, "session_start", "desktop", "search", 1),
            ("u1", "s1", 0, "session_start", None, "email", 1),
            ("u1", "s1", 1, "view_item", "mobile", "search", 1),
        ]
    )
    # desktop is the smallest device and email the smallest channel, though no start has both
    result = agreed_depths(events, STEPS, timedelta(seconds=1), ["device", "channel"])
    assert result[["device", "channel", "depth"]].values.tolist() == [["desktop", "email", 2]]


def test_when_there_are_too_many_steps_or_nanosecond_times_then_the_portable_path_is_used():
    events = ibis.memtable(frame([("u1", "s1", 0, "session_start", "mobile", "search", 1)]))
    assert duckdb_path.supports(events, STEPS)
    assert not duckdb_path.supports(events, [f"step_{i}" for i in range(17)])
    nanoseconds = events.mutate(event_time=events.event_time.cast("timestamp(9)"))
    assert not duckdb_path.supports(nanoseconds, STEPS)


@pytest.mark.parametrize("unit", ["user", "session"])
def test_when_the_funnel_ends_then_no_temporary_view_is_left_behind(unit):
    con = ibis.duckdb.connect()
    events = con.create_table("events", frame([("u1", "s1", 0, "session_start", "mobile", "search", 1)]))
    with unit_chains(events, STEPS, timedelta(seconds=1), ["device"], unit=unit) as result:
        assert result.count().execute() == 1
    views = con.raw_sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    assert views == []


def test_when_times_have_no_time_zone_then_the_first_step_time_is_the_same_on_both_paths():
    events = frame(
        [
            ("u1", "s1", 3, "session_start", "mobile", "search", 1),
            ("u1", "s1", 5, "view_item", "mobile", "search", 1),
            ("u2", "s2", 7, "session_start", None, "email", 1),
        ]
    )
    events["event_time"] = events["event_time"].dt.tz_localize(None)
    for by in ([], ["device"]):
        fast = agreed_depths(events, STEPS, timedelta(seconds=1), by)
        expected = [T0.tz_localize(None) + pd.Timedelta(offset) for offset in ("750ms", "1750ms")]
        assert fast["first_step_time"].tolist() == expected


def test_when_breakdown_values_are_few_text_integers_or_booleans_then_they_are_coded():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 2),
            ("u2", "s1", 0, "session_start", "desktop", "search", None),
            ("u3", "s1", 0, "session_start", None, "o'clock", 1),
        ]
    )
    events["paid"] = pd.array([True, False, None], dtype="boolean")
    events["score"] = [0.5, 1.5, 2.5]
    table = as_events_table(events)

    assert duckdb_path._first_touch(table, ["device", "channel", "tier", "paid"]).values is not None
    assert duckdb_path._first_touch(table, ["score"]).values is None  # floats: the struct minimum
    with mock.patch.object(duckdb_path, "MAX_CODED_VALUES", 1):
        assert duckdb_path._first_touch(table, ["device"]).values is None  # too many values: the struct minimum


@pytest.mark.parametrize("coded", [True, False])
def test_when_starts_tie_then_each_column_of_the_first_touch_is_its_smallest_value_on_both_paths(coded):
    # each unit starts two or three times at the same time; each column takes its smallest value, a missing one last
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 2),
            ("u1", "s1", 0, "session_start", "desktop", "o'clock", 1),  # desktop < mobile
            ("u2", "s1", 0, "session_start", None, "search", 1),
            ("u2", "s1", 0, "session_start", "mobile", "search", 1),  # a missing device comes last
            ("u3", "s1", 0, "session_start", "desktop", "search", None),
            ("u3", "s1", 0, "session_start", "desktop", "search", 2),  # a missing tier comes last
            ("u4", "s1", 0, "session_start", "mobile", "o'clock", 1),
            ("u4", "s1", 0, "session_start", "mobile", "o'clock", 1),  # differs only in paid: False < True
            ("u4", "s1", 1, "view_item", "mobile", "o'clock", 1),
            ("u5", "s1", 0, "session_start", "mobile", "search", 1),
            ("u5", "s1", 0, "session_start", "mobile", "email", None),  # email, yet the tier of the search start
            ("u5", "s1", 0, "session_start", "mobile", "email", None),
        ]
    )
    paid = [True, False, True, True, False, False, True, False, True, None, None, True]
    events["paid"] = pd.array(paid, dtype="boolean")
    by = ["device", "channel", "tier", "paid"]

    with mock.patch.object(duckdb_path, "MAX_CODED_VALUES", duckdb_path.MAX_CODED_VALUES if coded else 0):
        fast = agreed_depths(events, STEPS, timedelta(seconds=1), by)

    assert fast[[*by, "depth"]].values.tolist() == [
        ["desktop", "o'clock", 1, False, 1],
        ["mobile", "search", 1, True, 1],
        ["desktop", "search", 2, False, 1],
        ["mobile", "o'clock", 1, False, 2],
        ["mobile", "email", 1, True, 1],
    ]


def test_when_events_arrive_in_time_order_or_reversed_then_the_depths_are_the_same():
    journey = [
        ("u1", "s1", 0, "session_start", "mobile", "search", 1),
        ("u1", "s1", 1, "view_item", "mobile", "search", 1),
        ("u1", "s1", 2, "session_start", "desktop", "search", 1),
        ("u1", "s1", 3, "add_to_cart", "mobile", "search", 1),
        ("u1", "s1", 9, "begin_checkout", "mobile", "search", 1),
        ("u2", "s2", 4, "session_start", "mobile", "email", 2),
        ("u2", "s2", 5, "view_item", "mobile", "email", 2),
    ]
    window = timedelta(seconds=2)
    in_order = depths(frame(journey), STEPS, window, ["device"], "user", portable=False)
    reversed_ = depths(frame(journey[::-1]), STEPS, window, ["device"], "user", portable=False)
    pd.testing.assert_frame_equal(in_order, reversed_)
    assert in_order[["device", "depth"]].values.tolist() == [["mobile", 3], ["mobile", 2]]


def test_when_times_are_before_1970_then_the_coded_first_touch_still_works():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 0, "session_start", "desktop", "search", 2),
            ("u1", "s1", 1, "view_item", "mobile", "search", 1),
        ]
    )
    events["event_time"] = events["event_time"] - pd.DateOffset(years=60)
    fast = agreed_depths(events, STEPS, timedelta(seconds=1), ["device", "tier"])
    # tied starts (mobile, 1) and (desktop, 2): each column its smallest value
    assert fast[["device", "tier", "depth"]].values.tolist() == [["desktop", 1, 2]]
    assert fast["first_step_time"].iloc[0].year < 1970
