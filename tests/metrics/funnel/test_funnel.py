"""The funnel against a brute-force reference (hypothesis) and hand-computed examples for every mode and unit."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from helpers.funnel_reference import JOURNEYS, STEPS, event_rows, events_frame, reference_funnel
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.metrics.funnel import FunnelError, funnel


def as_counts(table: pd.DataFrame, by: bool) -> dict:
    return {(row.device if by else None, row.step_index): row.units for row in table.itertuples(index=False)}


@pytest.mark.parametrize("mode", ["ordered", "strict_order", "any_order"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows, window=st.integers(min_value=0, max_value=6), unit=st.sampled_from(["user", "session"]))
def test_when_random_event_logs_then_funnel_matches_the_brute_force_reference(mode, rows, window, unit):
    by = bool(rows) and rows[0][0] != "u3"  # half the examples with a breakdown
    window_td = timedelta(minutes=window) if window else timedelta(seconds=1)
    expected = reference_funnel(rows, STEPS, window, mode, unit, by)
    table = funnel(events_frame(rows), STEPS, window_td, by="device" if by else None, unit=unit, mode=mode)
    got = {key: units for key, units in as_counts(table, by).items() if by or units or key in expected}
    if not by and not expected:
        assert table["units"].sum() == 0
        return
    assert got == expected


# --- hand-computed examples


def units_by_step(table: pd.DataFrame) -> list[int]:
    return table["units"].tolist()


def test_when_steps_are_in_order_with_gaps_then_ordered_mode_counts_deepest_attempt():
    table = funnel(JOURNEYS, STEPS, "60min")
    # u1 reaches 4 (purchase exactly at the edge), u2 reaches 3 in its second attempt, u3 reaches 3, u4 never starts
    assert units_by_step(table) == [3, 3, 3, 1]
    assert table["dropped"].tolist() == [0, 0, 0, 2]
    assert table["conversion_from_first"].tolist() == pytest.approx([1, 1, 1, 1 / 3])
    assert table["conversion_from_previous"].tolist() == pytest.approx([1, 1, 1, 1 / 3])


def test_when_another_event_intervenes_then_strict_order_stops_there():
    table = funnel(JOURNEYS, STEPS, "60min", mode="strict_order")
    # u1: page_view between view and cart stops it at 2; u2: second attempt session_start -> add_to_cart breaks at 1
    # but its first attempt reaches 2; u3: reaches 3, purchase too late
    assert units_by_step(table) == [3, 3, 1, 0]


def test_when_steps_come_in_any_order_then_any_order_mode_counts_them():
    table = funnel(JOURNEYS, STEPS, "60min", mode="any_order")
    # u2's second session has session_start, add_to_cart, view_item within 20 minutes: depth 3; others as ordered
    assert units_by_step(table) == [3, 3, 3, 1]
    events = events_frame(
        [
            ("u1", "s1", 0, "add_to_cart", "mobile"),
            ("u1", "s1", 5, "view_item", "mobile"),
            ("u1", "s1", 9, "session_start", "mobile"),
        ]
    )
    assert units_by_step(funnel(events, STEPS, "10min", mode="any_order")) == [1, 1, 1, 0]
    assert units_by_step(funnel(events, STEPS, "10min", mode="ordered")) == [1, 0, 0, 0]


def test_when_unit_is_session_then_each_session_is_its_own_journey():
    table = funnel(JOURNEYS, STEPS, "60min", unit="session")
    # sessions: u1/s1 -> 4, u2/s1 -> 2, u2/s2 -> 3, u3/s1 -> 3; u4/s1 never starts
    assert units_by_step(table) == [4, 4, 3, 1]


def test_when_broken_down_then_units_count_under_their_first_touch():
    table = funnel(JOURNEYS, STEPS, "60min", by="device")
    desktop = table[table["device"] == "desktop"]
    mobile = table[table["device"] == "mobile"]
    # u2 first touched on desktop although it converted further on mobile
    assert units_by_step(desktop) == [2, 2, 2, 0]
    assert units_by_step(mobile) == [1, 1, 1, 1]


def test_when_events_tie_in_time_then_a_later_step_at_the_same_moment_counts():
    events = events_frame(
        [
            ("u1", "s1", 0, "add_to_cart", "mobile"),
            ("u1", "s1", 0, "view_item", "mobile"),
            ("u1", "s1", 0, "session_start", "mobile"),
            ("u1", "s1", 0, "page_view", "mobile"),
        ]
    )
    assert units_by_step(funnel(events, STEPS, "1min")) == [1, 1, 1, 0]
    # ties are ordered by step, other events last: the page view does not break the strict chain
    assert units_by_step(funnel(events, STEPS, "1min", mode="strict_order")) == [1, 1, 1, 0]


def test_when_window_is_given_as_string_or_timedelta_then_results_agree():
    by_string = funnel(JOURNEYS, STEPS, "1h")
    by_timedelta = funnel(JOURNEYS, STEPS, timedelta(hours=1))
    pd.testing.assert_frame_equal(by_string, by_timedelta)


def test_when_wilson_intervals_are_reported_then_they_match_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    table = funnel(JOURNEYS, STEPS, "60min")
    low, high = proportion_confint(1, 3, alpha=0.05, method="wilson")
    last = table.iloc[-1]
    assert last["conversion_from_first_ci_low"] == pytest.approx(low, abs=1e-12)
    assert last["conversion_from_first_ci_high"] == pytest.approx(high, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": ["view_item", "view_item"]}, "more than once"),
        ({"steps": "purchase"}, "list of event names"),
        ({"window": "soon"}, "not a duration"),
        ({"window": "-1D"}, "positive duration"),
        ({"mode": "loose"}, "not one of"),
        ({"unit": "visit"}, "not one of"),
        ({"by": "browser"}, "no column"),
    ],
)
def test_when_parameters_are_invalid_then_the_error_names_them(kwargs, message):
    arguments = {"steps": STEPS, "window": "1D", **kwargs}
    with pytest.raises(FunnelError, match=message):
        funnel(JOURNEYS, **arguments)
