"""The funnel analysis sums one detailed funnel into each breakdown; it must equal computing each directly."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.metrics.funnel import cart_abandonment, funnel
from analysis.metrics.funnel.journey import analyse_funnel
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


def test_when_the_analysis_is_built_then_it_cannot_be_changed(journey):
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
