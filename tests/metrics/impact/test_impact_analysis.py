"""analyse_impact on the notebooks' test data (data/test-small): shape, designs per scope, parameters."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from analysis.errors import ParameterError
from analysis.metrics.impact import KPIS, ImpactAnalysis, analyse_impact
from analysis.metrics.impact.analysis import EFFECT_COLUMNS, EVENT_COLUMNS, MARKET_COLUMNS, TWFE_COLUMNS
from analysis.scope import Scope
from analysis.sources import load_tables

TEST_SMALL = Path(__file__).resolve().parents[3] / "data" / "test-small"


@pytest.fixture(scope="module")
def tables():
    return load_tables(TEST_SMALL)


def scope(market: str) -> Scope:
    return Scope.parse(market, "2025-01-01", "2026-06-30")


@pytest.fixture(scope="module")
def everything(tables) -> ImpactAnalysis:
    return analyse_impact(tables, scope("ALL"), draws=200)


def test_when_all_markets_are_read_then_every_kpi_has_one_row_with_the_documented_columns(everything):
    assert list(everything.effects["kpi"]) == list(KPIS)
    assert list(everything.effects.columns) == EFFECT_COLUMNS
    assert list(everything.market_effects.columns) == MARKET_COLUMNS
    assert list(everything.event_study.columns) == EVENT_COLUMNS
    assert list(everything.twfe.columns) == TWFE_COLUMNS
    assert {f.name for f in fields(everything)} >= {"launches", "series", "interrupted", "unestimable"}


def test_when_all_markets_are_read_then_gb_leaves_the_session_did_and_its_readout_is_randomised(everything):
    conversion = everything.effects.set_index("kpi").loc["conversion_rate"]
    assert conversion["design"] == "staggered_did"
    assert conversion["treated_markets"] == 5  # US, DE, CA, AU, FR; GB measured by its A/B test
    assert conversion["comparison_markets"] == 2  # JP, NL
    assert conversion["inference"].startswith("session-sampling bootstrap")
    assert conversion["note"] == "partly_treated_periods"  # DE launched on 15 January
    markets = everything.market_effects.set_index(["kpi", "market"])
    assert markets.loc[("conversion_rate", "GB"), "design"] == "randomised"
    launches = everything.launches.set_index("market")
    assert launches.loc["GB", "randomised"] and not launches.loc["US", "randomised"]


def test_when_a_kpi_without_arms_is_read_for_all_then_gb_is_left_out_of_its_did(everything):
    repeat = everything.effects.set_index("kpi").loc["repeat_customer_rate"]  # test-small's surveys are too sparse
    assert repeat["treated_markets"] == 5  # US, DE, CA, AU, FR
    assert "randomised_market_left_out" in repeat["note"] and "intention_to_treat" not in repeat["note"]
    markets = everything.market_effects.set_index(["kpi", "market"])
    assert markets.loc[("repeat_customer_rate", "GB"), "design"] == "staggered_did"  # its own effect: in the forest


def test_when_the_seller_churn_hazard_is_read_for_all_then_gb_stays_in_as_it_was_treated_market_wide(everything):
    hazard = everything.effects.set_index("kpi").loc["seller_churn_hazard"]
    assert hazard["treated_markets"] == 6
    assert "randomised_market_left_out" not in hazard["note"] and "intention_to_treat" not in hazard["note"]


def test_when_gb_is_read_alone_then_its_kpis_without_arms_are_intention_to_treat(tables):
    britain = analyse_impact(tables, scope("GB"), draws=100).effects.set_index("kpi")
    assert britain.loc["conversion_rate", "design"] == "randomised"
    assert britain.loc["repeat_customer_rate", "design"] == "staggered_did"
    assert "intention_to_treat" in britain.loc["repeat_customer_rate", "note"]
    assert "intention_to_treat" not in britain.loc["seller_churn_hazard", "note"]


def test_when_a_launch_falls_inside_its_first_period_then_event_time_zero_is_flagged_and_kept(everything):
    conversion = everything.event_study[everything.event_study["kpi"] == "conversion_rate"].set_index("event_time")
    assert bool(conversion.loc[0, "partly_treated"])  # DE launched on 15 January
    assert not conversion.loc[conversion.index != 0, "partly_treated"].any()


def test_when_the_verdict_is_given_then_it_comes_from_the_relative_interval_against_the_initiatives_target(everything):
    conversion = everything.effects.set_index("kpi").loc["conversion_rate"]
    assert (conversion["target_low"], conversion["target_high"], conversion["target_source"]) == (
        0.15, 0.20, "initiatives"
    )  # fmt: skip
    expected = (
        "met"
        if conversion["relative_ci_low"] >= 0.15
        else "missed"
        if conversion["relative_ci_high"] < 0.15
        else "inconclusive"
    )
    assert conversion["verdict"] == expected
    assert everything.effects.set_index("kpi").loc["cart_abandonment_rate", "target_source"] == "case study"


def test_when_a_market_never_launched_then_every_kpi_is_not_launched(tables):
    japan = analyse_impact(tables, scope("JP"), draws=100)
    assert set(japan.effects["design"]) == {"not_launched"}
    assert japan.market_effects.empty


def test_when_no_comparison_market_is_allowed_then_a_single_market_is_an_interrupted_time_series(tables):
    alone = analyse_impact(tables, scope("US"), comparison_markets=[], draws=100)
    conversion = alone.effects.set_index("kpi").loc["conversion_rate"]
    assert conversion["design"] == "interrupted_time_series"
    assert "segmented" in set(alone.interrupted["method"])


def test_when_a_target_is_overridden_then_the_override_is_the_target(tables):
    analysis = analyse_impact(tables, scope("US"), targets={"seller_churn_hazard": (-0.4, -0.6)}, draws=100)
    hazard = analysis.effects.set_index("kpi").loc["seller_churn_hazard"]
    assert (hazard["target_low"], hazard["target_high"], hazard["target_source"]) == (-0.4, -0.6, "parameter")


@pytest.mark.parametrize(("option", "value"), [("alpha", 1.5), ("draws", 10), ("targets", {"revenue": (0.1, 0.2)})])
def test_when_a_parameter_is_invalid_then_a_parameter_error_names_it(tables, option, value):
    with pytest.raises(ParameterError) as error:
        analyse_impact(tables, scope("ALL"), **{option: value})
    assert error.value.parameter == option


def test_when_the_markets_table_names_the_markets_then_the_launches_carry_the_names(everything):
    names = everything.launches.set_index("market")["name"]
    assert names["GB"] == "United Kingdom" and names["US"] == "United States"
