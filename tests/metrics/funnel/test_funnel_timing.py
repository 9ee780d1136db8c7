"""Time to convert: hand-computed examples and the brute-force reference chain (hypothesis)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from helpers.funnel_reference import JOURNEYS, STEPS, event_rows, events_frame, reference_durations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import ParameterError
from analysis.metrics.funnel import FunnelError
from analysis.metrics.funnel.timing import time_to_convert

MINUTE = 60


def test_when_units_convert_then_quartiles_are_those_of_their_chains():
    result = time_to_convert(JOURNEYS, STEPS, "60min")
    summary = result.summary.set_index("to_step")
    # chains: u1 0 → 10 → 20 → 60 min; u2 (second attempt) 1440 → 1450 → 1460; u3 0 → 1 → 2 (purchase too late)
    # session_start → view_item: [10, 10, 1] min -> quartiles (interpolated) 5.5, 10, 10
    assert summary.loc["view_item", ["units", "q1_seconds", "median_seconds", "q3_seconds"]].tolist() == [
        3,
        5.5 * MINUTE,
        10 * MINUTE,
        10 * MINUTE,
    ]
    assert summary.loc["purchase", ["units", "median_seconds"]].tolist() == [1, 40 * MINUTE]
    # overall, step 1 to the deepest step: [60, 20, 2] min
    assert summary.loc["overall", ["units", "q1_seconds", "median_seconds", "q3_seconds"]].tolist() == [
        3,
        11 * MINUTE,
        20 * MINUTE,
        40 * MINUTE,
    ]


def test_when_several_starts_and_views_precede_the_cart_then_the_latest_ones_form_the_chain():
    events = events_frame(
        [
            ("u1", "s1", 0, "session_start", "mobile"),
            ("u1", "s1", 30, "session_start", "mobile"),
            ("u1", "s1", 35, "view_item", "mobile"),
            ("u1", "s1", 50, "view_item", "mobile"),
            ("u1", "s1", 55, "add_to_cart", "mobile"),
        ]
    )
    summary = time_to_convert(events, STEPS[:3], "60min").summary.set_index("to_step")
    # chain 30 → 50 → 55: start → view 20 min, view → cart 5 min, overall 25 min
    assert summary["median_seconds"].tolist() == [20 * MINUTE, 5 * MINUTE, 25 * MINUTE]


def test_when_bins_are_given_then_histogram_counts_durations_per_bin():
    histogram = time_to_convert(JOURNEYS, STEPS, "60min", bins=["0s", "5min", "15min", "60min"]).histogram
    first = histogram[histogram["transition_index"] == 1]
    assert first["bin_start_seconds"].tolist() == [0, 5 * MINUTE, 15 * MINUTE]
    assert first["bin_end_seconds"].tolist() == [5 * MINUTE, 15 * MINUTE, 60 * MINUTE]
    assert first["units"].tolist() == [1, 2, 0]  # 1, 10, 10 min
    overall = histogram[histogram["to_step"] == "overall"]
    assert overall["units"].tolist() == [1, 0, 2]  # 2, 20, 60 min (60 is the window: the last bin holds it)


def test_when_broken_down_then_each_group_has_its_own_rows():
    summary = time_to_convert(JOURNEYS, STEPS, "60min", by="device").summary
    desktop = summary[summary["device"] == "desktop"].set_index("to_step")
    # desktop by first touch: u2 (1440 → 1450 → 1460) and u3 (0 → 1 → 2)
    assert desktop.loc["view_item", ["units", "median_seconds"]].tolist() == [2, 5.5 * MINUTE]
    assert desktop.loc["overall", ["units", "median_seconds"]].tolist() == [2, 11 * MINUTE]


def test_when_mode_is_any_order_or_bins_are_invalid_then_the_error_says_so():
    with pytest.raises(FunnelError, match="any_order") as caught:
        time_to_convert(JOURNEYS, STEPS, "60min", mode="any_order")
    assert (caught.value.parameter, caught.value.value) == ("mode", "any_order")
    with pytest.raises(FunnelError, match="from 0 up to") as caught:
        time_to_convert(JOURNEYS, STEPS, "60min", bins=["0s", "10min"])
    assert caught.value.parameter == "bins"
    assert isinstance(caught.value, ParameterError) and caught.value.exit_code == 2


@pytest.mark.parametrize("mode", ["ordered", "strict_order"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=event_rows, window=st.integers(min_value=0, max_value=6), unit=st.sampled_from(["user", "session"]))
def test_when_random_event_logs_then_time_to_convert_matches_the_reference_chains(mode, rows, window, unit):
    window_td = timedelta(minutes=window) if window else timedelta(seconds=1)
    expected = reference_durations(rows, STEPS, window, mode, unit)
    result = time_to_convert(events_frame(rows), STEPS, window_td, unit=unit, mode=mode, bins=3)
    summary = result.summary.set_index("transition_index")
    assert sorted(summary.index) == sorted(expected)
    for index, minutes in expected.items():
        seconds = np.array(minutes) * MINUTE
        row = summary.loc[index]
        assert row["units"] == len(minutes)
        assert [row["q1_seconds"], row["median_seconds"], row["q3_seconds"]] == pytest.approx(
            np.quantile(seconds, [0.25, 0.5, 0.75]).tolist()
        )
        edges = result.histogram.loc[result.histogram["transition_index"] == index]
        expected_counts = np.histogram(seconds, bins=[*edges["bin_start_seconds"], edges["bin_end_seconds"].iloc[-1]])
        assert edges["units"].tolist() == expected_counts[0].tolist()
