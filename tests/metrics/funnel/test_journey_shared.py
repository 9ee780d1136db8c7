"""``analyse_funnel`` walks each unit's chains once; its funnels, weekly trend and timing equal the separate calls."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_funnel_duckdb import STEPS, frame, rows

from analysis.metrics.funnel import analyse_funnel, funnel, time_to_convert, weekly_conversion
from analysis.metrics.funnel.chains import duckdb_chains, duckdb_path


def assert_shared_equals_separate(events: pd.DataFrame, steps, window, by: list[str], unit: str, mode: str) -> None:
    analysis = analyse_funnel(events, None, steps, window, breakdowns=by, unit=unit, mode=mode, min_group_size=1)
    overall = funnel(events, steps, window, unit=unit, mode=mode)
    pd.testing.assert_frame_equal(analysis.overall, overall, check_dtype=False)
    weekly = weekly_conversion(events, steps, window, unit=unit, mode=mode)
    pd.testing.assert_frame_equal(analysis.weekly, weekly, check_dtype=False)
    if not analysis.started:
        assert analysis.timing is None and analysis.by_breakdown == {}
        return
    # the funnel by each column alone: at tied first starts a column's first touch does not depend on the others
    for column in by:
        direct = funnel(events, steps, window, by=column, unit=unit, mode=mode)
        pd.testing.assert_frame_equal(analysis.by_breakdown[column], direct, check_dtype=False)
    if mode == "any_order":
        assert analysis.timing is None
        return
    timing = time_to_convert(events, steps, window, unit=unit, mode=mode)
    pd.testing.assert_frame_equal(analysis.timing.summary, timing.summary, check_dtype=False)
    pd.testing.assert_frame_equal(analysis.timing.histogram, timing.histogram, check_dtype=False)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=rows,
    window_steps=st.integers(min_value=1, max_value=12),
    k=st.integers(min_value=2, max_value=5),
    unit=st.sampled_from(["user", "session"]),
    by=st.sampled_from([[], ["device"], ["channel", "tier"]]),
    mode=st.sampled_from(["ordered", "strict_order", "any_order"]),
)
def test_when_random_event_logs_then_the_shared_unit_pass_equals_the_separate_calls(
    data, window_steps, k, unit, by, mode
):
    window = timedelta(microseconds=250_000 * window_steps)
    assert_shared_equals_separate(frame(data), STEPS[:k], window, by, unit, mode)


@pytest.mark.parametrize("mode", ["ordered", "strict_order"])
def test_when_the_engine_has_no_list_path_then_the_shared_portable_pass_equals_the_separate_calls(monkeypatch, mode):
    # every 0.25 s: two sessions of one user, and a second user whose cart comes after the window
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "mobile", "search", 1),
            ("u1", "s1", 2, "view_item", "mobile", "search", 1),
            ("u1", "s1", 3, "add_to_cart", "mobile", "search", 1),
            ("u1", "s2", 9, "session_start", "desktop", "email", 2),
            ("u1", "s2", 10, "view_item", "desktop", "email", 2),
            ("u2", "s1", 1, "session_start", "desktop", "search", None),
            ("u2", "s1", 4, "view_item", "desktop", "search", None),
            ("u2", "s1", 40, "add_to_cart", "desktop", "search", None),
        ]
    )
    monkeypatch.setattr(duckdb_path, "supports", lambda *args: False)
    monkeypatch.setattr(duckdb_chains, "supports_mode", lambda *args: False)
    assert_shared_equals_separate(events, STEPS[:3], timedelta(seconds=2), ["device"], "session", mode)
    analysis = analyse_funnel(events, None, STEPS[:3], timedelta(seconds=2), unit="session", mode=mode)
    assert analysis.overall["units"].tolist() == [3, 3, 1]
    (overall,) = analysis.timing.summary.query("to_step == 'overall'").itertuples()
    assert (overall.units, overall.median_seconds) == (3, 0.0)


def test_when_a_breakdown_value_is_missing_for_every_unit_then_the_funnel_counts_them_under_missing():
    events = frame(
        [
            ("u1", "s1", 0, "session_start", "desktop", "email", None),
            ("u1", "s1", 1, "view_item", "desktop", "email", None),
            ("u2", "s1", 0, "session_start", "mobile", "email", None),
        ]
    )
    table = funnel(events, STEPS[:2], timedelta(seconds=1), by="tier")
    analysis = analyse_funnel(events, None, STEPS[:2], timedelta(seconds=1), breakdowns=["channel", "tier"])
    pd.testing.assert_frame_equal(analysis.by_breakdown["tier"], table)  # missing the same way, dtype included
    assert table["tier"].isna().all()
    assert table["units"].tolist() == [2, 1]
    assert table["dropped"].tolist() == [0, 1]
