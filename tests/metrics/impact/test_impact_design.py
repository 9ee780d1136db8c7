"""Launch timing and the design chosen per market, on hand-built panels and calendars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.impact.calendar import treatment_calendar
from analysis.metrics.impact.estimation import KpiPanel, market_effect
from analysis.metrics.impact.staggered import callaway_santanna

MONTHS = pd.date_range("2025-07-01", periods=8, freq="MS")


def initiatives(launches: dict[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "initiative_id": "INI-1",
            "name": "Personalised journeys",
            "market": list(launches),
            "launch_date": pd.to_datetime(list(launches.values())),
        }
    )


def panel(levels: dict[str, float], firsts: dict[str, int], lift: float = 0.03) -> pd.DataFrame:
    rows = []
    for market, level in levels.items():
        for time, start in enumerate(MONTHS, start=1):
            first = firsts.get(market, 0)
            value = level + 0.002 * time + (lift if first and time >= first else 0.0)
            rows.append(
                {"market": market, "period_start": start, "value": value, "denominator": 50_000, "promoters": np.nan,
                 "detractors": np.nan, "first_treated_period": first, "partly_treated": False}
            )  # fmt: skip
    return pd.DataFrame(rows)


def test_when_a_launch_falls_inside_a_month_then_that_month_is_the_first_treated_and_flagged_partly_treated():
    table = initiatives({"DE": "2025-10-15", "US": "2025-10-01", "JP": None})
    calendar = treatment_calendar(table, MONTHS, period="month", first_treated="containing")
    calendar = calendar.set_index(["market", "time"])
    assert calendar.loc[("DE", 1), "first_treated_period"] == 4  # October, not November
    assert calendar.loc[("DE", 4), "partly_treated"] and calendar.loc[("DE", 4), "treated"]
    assert not calendar.loc[("DE", 3), "treated"]
    assert calendar.loc[("US", 1), "first_treated_period"] == 4
    assert not calendar.loc[("US", 4), "partly_treated"]
    assert calendar.loc[("JP", 1), "first_treated_period"] == 0
    assert not calendar.xs("JP", level="market")["treated"].any()


def test_when_a_market_launched_before_the_panel_then_it_has_no_pre_period_and_counts_as_first_period():
    calendar = treatment_calendar(initiatives({"US": "2025-03-01"}), MONTHS, period="month", first_treated="containing")
    assert (calendar["first_treated_period"] == 1).all() and calendar["treated"].all()


def test_when_a_market_ran_an_ab_test_then_its_session_kpi_is_the_experiment_readout():
    readout = pd.DataFrame(
        [{"metric": "session_conversion", "control_mean": 0.12, "difference": 0.021, "difference_ci_low": 0.01,
          "difference_ci_high": 0.032, "relative_lift": 0.175, "relative_lift_ci_low": 0.08,
          "relative_lift_ci_high": 0.27, "p_value": 0.001}]
    )  # fmt: skip
    effect = market_effect("GB", None, "conversion_rate", {"GB"}, {"GB": readout}, pd.Timestamp("2025-11-01"), 0.05)
    assert effect.design == "randomised"
    assert effect.values["relative"] == 0.175 and effect.values["baseline"] == 0.12
    assert effect.inference == "experiment (delta method)"


def test_when_a_market_never_launched_then_it_is_not_launched():
    data = KpiPanel.of(panel({"US": 0.1, "JP": 0.1}, {"US": 4}), "conversion_rate", draws=100, seed=1)
    assert market_effect("JP", data, "conversion_rate", set(), {}, pd.NaT, 0.05).design == "not_launched"


def test_when_a_market_has_no_comparison_then_it_is_an_interrupted_time_series():
    data = KpiPanel.of(panel({"US": 0.1}, {"US": 5}), "conversion_rate", draws=100, seed=1)
    effect = market_effect("US", data, "conversion_rate", set(), {}, pd.Timestamp("2025-11-01"), 0.05)
    assert effect.design == "interrupted_time_series"
    assert effect.values["effect"] == pytest.approx(0.03, abs=1e-9)  # a straight line plus a level step
    assert {row["method"] for row in effect.interrupted} >= {"segmented"}


def test_when_two_markets_share_a_cohort_then_each_market_effect_leaves_the_other_out():
    levels = {"DE": 0.10, "CA": 0.14, "JP": 0.11, "NL": 0.12}
    frame = panel(levels, {"DE": 5, "CA": 5})
    frame.loc[(frame["market"] == "CA") & (frame["period_start"] >= MONTHS[4]), "value"] += 0.05  # CA's own lift
    data = KpiPanel.of(frame, "conversion_rate", draws=200, seed=3)
    effect = market_effect("DE", data, "conversion_rate", set(), {}, pd.Timestamp("2025-11-01"), 0.05)
    without_ca = frame[frame["market"] != "CA"].assign(time=lambda f: f["period_start"].rank(method="dense"))
    expected = callaway_santanna(without_ca, "value", "market", "time", "first_treated_period",
                                 control="not_yet_treated").aggregate("simple").overall_att  # fmt: skip
    assert effect.design == "staggered_did"
    assert effect.values["effect"] == pytest.approx(expected, abs=1e-12)
    assert effect.values["effect"] == pytest.approx(0.03, abs=1e-9)
    assert effect.estimate.treated == ["DE"] and sorted(effect.estimate.comparisons) == ["JP", "NL"]
