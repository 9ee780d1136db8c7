"""The one set of formats: rates, intervals, money, counts and durations as a reviewer reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from analysis.present import formatting as fmt
from analysis.present.labels import step_label


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(45, "45 s"), (59.6, "60 s"), (60, "1.0 min"), (210, "3.5 min"), (7560, "2.1 h"), (129600, "1.5 days")],
)
def test_when_a_duration_is_read_then_it_takes_the_largest_unit_it_reaches(seconds, shown):
    assert fmt.duration(seconds) == shown


@pytest.mark.parametrize(
    ("length", "shown"),
    [(timedelta(days=1), "1 day"), (timedelta(days=7), "7 days"), (timedelta(hours=12), "12 hours")],
)
def test_when_a_window_is_named_then_days_are_counted_and_shorter_ones_are_hours(length, shown):
    assert fmt.window(length) == shown


def test_when_a_histogram_bin_is_labelled_then_round_durations_take_short_codes():
    assert fmt.duration_range(0, 300) == "0s–5min"
    assert fmt.duration_range(900, 3600) == "15min–1h"
    assert fmt.duration_range(86400, 90) == "1D–90s"


def test_when_rates_and_intervals_are_formatted_then_they_are_percentages_and_points():
    assert fmt.percent(0.1734) == "17.3%"
    assert fmt.percent(float("nan")) == "–"
    assert fmt.points(0.012) == "+1.2 pts"
    assert fmt.interval(0.029, 0.034) == "95% CI 2.9–3.4%"
    assert fmt.points_interval(-0.002, 0.014) == "95% CI -0.2 to +1.4 pts"
    assert fmt.money(12345.6, "EUR") == "EUR 12,346"
    assert fmt.money(1.0, "mixed") == "–"
    assert fmt.count(12345) == "12,345"


def test_when_a_step_has_a_label_then_the_reader_sees_it_and_unknown_steps_keep_their_name():
    assert step_label("add_to_cart") == "Cart"
    assert step_label("wishlist") == "wishlist"


def test_when_a_p_value_is_tiny_or_zero_then_it_prints_as_below_the_floor_never_as_zero_or_an_exponent():
    assert fmt.p_value(0.0) == "< 0.001"
    assert fmt.p_value(1e-131) == "< 0.001"
    assert fmt.p_value(0.00099) == "< 0.001"
    assert fmt.p_value(0.001) == "0.001"
    assert fmt.p_value(0.01234) == "0.012"
    assert fmt.p_value(float("nan")) == "–"
    assert fmt.p_text(0.0) == "p < 0.001"
    assert fmt.p_text(0.5) == "p = 0.5"
    assert fmt.p_text(None) == "p unavailable"
