"""The funnel analysis sums one detailed funnel into each breakdown; it must equal computing each directly."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import scipy.stats
from helpers.oracles import wilson

from analysis.metrics.funnel import cart_abandonment, funnel
from analysis.metrics.funnel.journey import analyse_funnel, contrast_extremes
from analysis.scope import Scope
from analysis.sources.demo import generate_demo_tables

STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_demo_tables(users=400, seed=7)["events"]


@pytest.fixture(scope="module")
def journey(events):
    return analyse_funnel(
        events, None, STEPS, "7D", breakdowns=["segment", "device"], unit="session", min_group_size=50
    )


def test_when_a_breakdown_is_summed_from_the_detailed_funnel_then_it_equals_the_direct_funnel(events, journey):
    direct = funnel(events, STEPS, "7D", by="device", unit="session")
    pd.testing.assert_frame_equal(journey.by_breakdown["device"], direct, check_dtype=False)


def test_when_no_breakdown_is_asked_then_the_overall_funnel_equals_the_direct_one(events, journey):
    pd.testing.assert_frame_equal(journey.overall, funnel(events, STEPS, "7D", unit="session"), check_dtype=False)


def test_when_abandonment_is_broken_down_then_counts_match_the_direct_computation(events, journey):
    direct = cart_abandonment(events, "7D", by="segment", unit="session").set_index("segment")
    summed = journey.abandonment["segment"].set_index("segment")
    assert summed["trials"].to_dict() == direct["units_with_cart"].to_dict()
    assert summed["successes"].to_dict() == direct["abandoned"].to_dict()
    assert summed["rate"].to_dict() == pytest.approx(direct["abandonment_rate"].to_dict())


def test_when_the_overall_abandonment_is_given_then_it_is_one_untested_row(events, journey):
    (direct,) = cart_abandonment(events, "7D", unit="session").itertuples()
    (row,) = journey.abandonment_overall.itertuples()
    assert (row.trials, row.successes) == (direct.units_with_cart, direct.abandoned)
    assert row.too_small  # nothing to compare everyone with


def test_when_groups_are_tested_then_each_breakdown_has_one_row_per_group(events, journey):
    assert sorted(journey.conversion_tests["device"].device) == sorted(events.device.unique())
    assert set(journey.conversion_tests) == {"segment", "device"}


def test_when_extremes_are_contrasted_then_the_newcombe_interval_and_score_test_are_reported():
    tests = pd.DataFrame(
        {
            "device": ["desktop", "mobile", "tablet", "watch"],
            "successes": [62, 71, 65, 3],
            "trials": [100, 100, 100, 5],
            "too_small": [False, False, False, True],
        }
    )
    tests["rate"] = tests.successes / tests.trials
    tests["rate_ci_low"], tests["rate_ci_high"] = tests.rate - 0.1, tests.rate + 0.1

    contrast = contrast_extremes(tests, "device")

    assert (contrast.high_group, contrast.low_group) == ("mobile", "desktop")  # the tiny 'watch' group is ignored
    assert contrast.difference == pytest.approx(0.09)
    # Newcombe's hybrid score interval from the two Wilson intervals (Newcombe 1998, method 10)
    (l1, u1), (l2, u2) = wilson(71, 100), wilson(62, 100)
    low = 0.09 - math.sqrt((0.71 - l1) ** 2 + (u2 - 0.62) ** 2)
    high = 0.09 + math.sqrt((u1 - 0.71) ** 2 + (0.62 - l2) ** 2)
    assert (contrast.difference_ci_low, contrast.difference_ci_high) == pytest.approx((low, high))
    assert (contrast.high_rate_ci_low, contrast.high_rate_ci_high) == pytest.approx((0.61, 0.81))
    # the score test for two proportions equals Pearson's chi-square test without continuity correction
    chi2 = scipy.stats.chi2_contingency([[71, 29], [62, 38]], correction=False)
    assert contrast.p_value == pytest.approx(chi2.pvalue)


def test_when_fewer_than_two_groups_are_large_enough_then_there_is_no_contrast():
    tests = pd.DataFrame({"device": ["a", "b"], "successes": [1, 2], "trials": [5, 500], "too_small": [True, False]})
    tests["rate"] = tests.successes / tests.trials
    assert contrast_extremes(tests, "device") is None


def test_when_the_analysis_is_built_then_each_breakdown_has_its_contrasts_and_it_cannot_be_changed(journey):
    for column in ("segment", "device"):
        assert journey.conversion_contrasts[column] == contrast_extremes(journey.conversion_tests[column], column)
        assert journey.abandonment_contrasts[column] == contrast_extremes(journey.abandonment[column], column)
    with pytest.raises(AttributeError):
        journey.unit = "user"


def test_when_a_scope_is_given_then_only_its_market_and_days_are_analysed(events):
    market = events.market.iloc[0]
    scope = Scope.parse(market, "2025-03-01", "2025-03-31")
    analysis = analyse_funnel(events, scope, STEPS, "7D", unit="session")
    in_scope = events[
        (events.market == market)
        & (events.event_time >= pd.Timestamp("2025-03-01", tz="UTC"))
        & (events.event_time < pd.Timestamp("2025-04-01", tz="UTC"))
    ]
    assert len(in_scope) < len(events)
    expected = funnel(in_scope, STEPS, "7D", unit="session")
    pd.testing.assert_frame_equal(analysis.overall, expected, check_dtype=False)
    assert analysis.scope == scope
