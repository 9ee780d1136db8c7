"""The DuckDB list paths of chain times, ``strict_order`` and ``any_order`` against the portable window functions."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_funnel_duckdb import STEPS, frame, rows

from analysis.metrics.funnel import as_events_table, duckdb_chains
from analysis.metrics.funnel.chains import unit_chains
from analysis.metrics.funnel.timing import time_to_convert


def chains(events: pd.DataFrame, steps, window, by, unit, mode, chain_times, portable: bool) -> pd.DataFrame:
    table = as_events_table(events)
    with unit_chains(table, steps, window, by, unit=unit, mode=mode, chain_times=chain_times, portable=portable) as r:
        out = r.to_pandas()
    keys = ["user_id"] if unit == "user" else ["user_id", "session_id"]
    return out.sort_values(keys).reset_index(drop=True)


def agreed(events: pd.DataFrame, steps, window, by, unit: str, mode: str, chain_times: bool) -> pd.DataFrame:
    """The list path's result, after checking that the portable path gives the same frame."""
    fast = chains(events, steps, window, by, unit, mode, chain_times, portable=False)
    portable = chains(events, steps, window, by, unit, mode, chain_times, portable=True)
    pd.testing.assert_frame_equal(fast, portable, check_dtype=False)
    return fast


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=rows,
    window_steps=st.integers(min_value=1, max_value=12),
    k=st.integers(min_value=1, max_value=5),
    unit=st.sampled_from(["user", "session"]),
    by=st.sampled_from([[], ["device"], ["channel", "tier"]]),
    case=st.sampled_from([("ordered", True), ("strict_order", False), ("strict_order", True), ("any_order", False)]),
)
def test_when_random_event_logs_then_every_list_path_equals_the_portable_path(data, window_steps, k, unit, by, case):
    mode, chain_times = case
    agreed(frame(data), STEPS[:k], timedelta(microseconds=250_000 * window_steps), by, unit, mode, chain_times)


def test_when_several_starts_and_views_precede_the_cart_then_the_chain_takes_the_latest_ones():
    # starts at 0 and 2, views at 3 and 5, cart at 6 (quarter seconds): the chain is 2 → 5 → 6
    events = frame(
        [
            ("u1", "s1", offset, name, "mobile", "search", 1)
            for offset, name in [
                (0, "session_start"),
                (2, "session_start"),
                (3, "view_item"),
                (5, "view_item"),
                (6, "add_to_cart"),
            ]  # fmt: skip
        ]
    )
    fast = agreed(events, STEPS, timedelta(seconds=3), [], "user", "ordered", True)
    times = fast[["step_1_time", "step_2_time", "step_3_time"]].iloc[0] - fast["first_step_time"].iloc[0]
    assert times.tolist() == [pd.Timedelta("500ms"), pd.Timedelta("1250ms"), pd.Timedelta("1500ms")]
    assert fast["depth"].tolist() == [3] and fast["step_4_time"].isna().all()


def test_when_another_event_comes_between_steps_then_strict_order_stops_there_and_any_order_does_not():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 1, "view_item", "mobile", "search", 1),
            ("u1", "s1", 2, "page_view", "mobile", "search", 1),
            ("u1", "s1", 3, "add_to_cart", "mobile", "search", 1),
            ("u2", "s1", 3, "add_to_cart", "mobile", "search", 1),  # steps in reverse order, ties at the same time
            ("u2", "s1", 3, "view_item", "mobile", "search", 1),
            ("u2", "s1", 4, "session_start", "mobile", "search", 1),
        ]
    )
    window = timedelta(seconds=1)
    assert agreed(events, STEPS, window, [], "user", "strict_order", True)["depth"].tolist() == [2, 1]
    assert agreed(events, STEPS, window, [], "user", "any_order", False)["depth"].tolist() == [3, 3]
    assert agreed(events, STEPS, window, [], "user", "ordered", True)["depth"].tolist() == [3, 1]


def test_when_times_are_before_1970_or_have_no_time_zone_then_chain_times_are_the_same_on_both_paths():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 1, "view_item", "mobile", "search", 1),
            ("u1", "s1", 2, "add_to_cart", "mobile", "search", 1),
        ]
    )
    old = events.assign(event_time=events["event_time"] - pd.DateOffset(years=60))
    naive = events.assign(event_time=events["event_time"].dt.tz_localize(None))
    for table in (old, naive):
        for mode in ("ordered", "strict_order"):
            assert agreed(table, STEPS, timedelta(seconds=1), ["device"], "user", mode, True)["depth"].tolist() == [3]


def test_when_strict_order_has_sixteen_steps_or_chain_times_any_order_then_the_portable_path_is_used():
    events = ibis.memtable(frame([("u1", "s1", 0, "session_start", "mobile", "search", 1)]))
    sixteen = [f"step_{i}" for i in range(16)]
    assert duckdb_chains.supports_mode(events, sixteen, "ordered", True)
    assert not duckdb_chains.supports_mode(events, sixteen, "strict_order", False)
    assert not duckdb_chains.supports_mode(events, STEPS, "any_order", True)


@pytest.mark.parametrize("mode", ["ordered", "strict_order"])
def test_when_time_to_convert_runs_on_the_list_path_then_it_equals_the_portable_path(mode, monkeypatch):
    events = frame(
        [
            (user, session, offset, name, device, "search", 1)
            for user, session, device in [("u1", "s1", "mobile"), ("u2", "s2", "desktop"), ("u3", "s1", None)]
            for offset, name in [(0, "session_start"), (1, "view_item"), (3, "add_to_cart"), (7, "begin_checkout")]
        ]
    )
    fast = time_to_convert(events, STEPS, "2s", by="device", mode=mode, bins=4)
    monkeypatch.setattr(duckdb_chains, "supports_mode", lambda *args: False)
    portable = time_to_convert(events, STEPS, "2s", by="device", mode=mode, bins=4)
    pd.testing.assert_frame_equal(fast.summary, portable.summary)
    pd.testing.assert_frame_equal(fast.histogram, portable.histogram)
    assert fast.summary["units"].sum() > 0


def test_when_the_chains_end_then_no_temporary_view_is_left_behind():
    con = ibis.duckdb.connect()
    events = con.create_table("events", frame([("u1", "s1", 0, "session_start", "mobile", "search", 1)]))
    for mode in ("ordered", "strict_order", "any_order"):
        with unit_chains(events, STEPS, timedelta(seconds=1), ["device"], mode=mode) as result:
            assert result.count().execute() == 1
    assert con.raw_sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall() == []
