"""Funnel statistics against statsmodels, and the group-vs-rest, cart-abandonment and weekly helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers.funnel_reference import JOURNEYS, STEPS, events_frame
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from analysis.metrics.funnel import (
    cart_abandonment,
    compare_funnel_groups,
    funnel,
    group_vs_rest,
    weekly_conversion,
)
from analysis.metrics.stats import holm_adjust, two_proportion_z_test, wilson_interval


def test_when_wilson_interval_is_computed_then_it_matches_statsmodels():
    successes = np.array([0, 1, 7, 50, 99, 100])
    trials = np.array([10, 3, 20, 100, 100, 100])
    low, high = wilson_interval(successes, trials)
    expected_low, expected_high = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    np.testing.assert_allclose(low, expected_low, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, atol=1e-12)


def test_when_two_proportions_are_tested_then_z_and_p_match_statsmodels():
    for xa, na, xb, nb in [(30, 100, 45, 120), (5, 50, 5, 500), (700, 1000, 620, 1000)]:
        z, p = two_proportion_z_test(np.array([xa]), np.array([na]), np.array([xb]), np.array([nb]))
        expected_z, expected_p = proportions_ztest([xa, xb], [na, nb])
        assert z[0] == pytest.approx(expected_z, rel=1e-12)
        assert p[0] == pytest.approx(expected_p, rel=1e-12)


def test_when_p_values_are_holm_adjusted_then_they_match_statsmodels_and_skip_missing():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2, 0.001])
    present = ~np.isnan(p)
    expected = multipletests(p[present], method="holm")[1]
    adjusted = holm_adjust(p)
    np.testing.assert_allclose(adjusted[present], expected, rtol=1e-12)
    assert np.isnan(adjusted[2])


def test_when_a_group_is_below_the_minimum_size_then_it_is_flagged_not_tested():
    frame = pd.DataFrame({"device": ["desktop", "mobile", "tablet"], "n": [400, 600, 20], "x": [120, 120, 4]})
    result = group_vs_rest(frame, ["device"], "x", "n", min_group_size=100).set_index("device")
    assert result.loc["tablet", "too_small"]
    assert np.isnan(result.loc["tablet", "p_value"])
    # desktop vs rest: 120/400 against (120 + 4)/(600 + 20)
    z, p = proportions_ztest([120, 124], [400, 620])
    assert result.loc["desktop", "z"] == pytest.approx(z)
    assert result.loc["desktop", "rest_rate"] == pytest.approx(124 / 620)
    tested_p = [p, proportions_ztest([120, 124], [600, 420])[1]]
    assert result[["p_value_holm"]].dropna()["p_value_holm"].tolist() == pytest.approx(
        multipletests(tested_p, method="holm")[1].tolist()
    )


def test_when_funnel_groups_are_compared_then_trials_are_step_one_units_and_successes_the_last_step():
    table = funnel(JOURNEYS, STEPS, "60min", by="device")
    result = compare_funnel_groups(table, "device", min_group_size=1).set_index("device")
    assert result.loc["desktop", ["trials", "successes"]].tolist() == [2, 0]
    assert result.loc["mobile", ["trials", "successes", "rest_trials", "rest_successes"]].tolist() == [
        1,
        1,
        2,
        0,
    ]


def test_when_carts_are_not_followed_by_purchase_within_window_then_they_count_as_abandoned():
    result = cart_abandonment(JOURNEYS, "60min", by="device").set_index("device")
    # carts: u1 (mobile, bought 40 min later), u2 (first cart on mobile, never bought), u3 (desktop, bought 59 min
    # after the cart: within the window from the cart), u4 (desktop, never bought)
    assert result.loc["desktop", ["units_with_cart", "abandoned"]].tolist() == [2, 1]
    assert result.loc["mobile", ["units_with_cart", "abandoned"]].tolist() == [2, 1]
    low, high = proportion_confint(1, 2, method="wilson")
    assert result.loc["mobile", "abandonment_rate"] == pytest.approx(0.5)
    assert result.loc["mobile", ["abandonment_rate_ci_low", "abandonment_rate_ci_high"]].tolist() == pytest.approx(
        [low, high]
    )


def test_when_units_start_in_different_weeks_then_trend_counts_them_by_first_step_week():
    events = events_frame(
        [
            ("u1", "s1", 0, "session_start", "mobile"),
            ("u1", "s1", 5, "purchase", "mobile"),
            ("u2", "s1", 10, "session_start", "mobile"),
            ("u3", "s1", 7 * 1440 + 3, "session_start", "desktop"),
            ("u3", "s1", 7 * 1440 + 4, "purchase", "desktop"),
        ]
    )
    trend = weekly_conversion(events, ["session_start", "purchase"], "1h")
    assert trend["week"].dt.strftime("%Y-%m-%d").tolist() == ["2025-03-03", "2025-03-10"]
    assert trend[["units", "converted"]].values.tolist() == [[2, 1], [1, 1]]
    assert trend["conversion"].tolist() == pytest.approx([0.5, 1.0])
