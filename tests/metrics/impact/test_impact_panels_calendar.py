"""The treatment calendar of the demo's staggered launch (data/README.md § The world), by week and by month."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

from analysis.errors import DataError, ParameterError
from analysis.metrics.impact.calendar import treatment_calendar

INITIATIVES = Path(__file__).resolve().parents[3] / "data" / "test-small" / "initiatives.csv"
WEEKS = pd.date_range("2025-01-06", "2026-06-29", freq="W-MON")
MONTHS = pd.date_range("2025-01-01", "2026-06-01", freq="MS")


@pytest.fixture(scope="module")
def initiatives() -> pd.DataFrame:
    return pd.read_csv(INITIATIVES, parse_dates=["launch_date"])


def market_row(calendar: pd.DataFrame, market: str) -> pd.Series:
    return calendar[calendar.market == market].iloc[0]


def flagged(calendar: pd.DataFrame, market: str, flag: str) -> list[str]:
    rows = calendar[(calendar.market == market) & calendar[flag]]
    return [f"{day:%Y-%m-%d}" for day in rows.period_start]


def test_when_us_launches_on_a_wednesday_then_its_first_treated_week_is_the_next_monday(initiatives):
    calendar = treatment_calendar(initiatives, WEEKS, period="week")
    us = market_row(calendar, "US")
    assert us.launch_date == pd.Timestamp("2025-10-01") and us.first_treated == pd.Timestamp("2025-10-06")
    assert flagged(calendar, "US", "partly_treated") == ["2025-09-29"]
    assert flagged(calendar, "US", "treated")[0] == "2025-10-06" and len(flagged(calendar, "US", "treated")) == 39
    assert us.first_treated_period == 40  # 2025-10-06 is the 40th Monday from 2025-01-06


@pytest.mark.parametrize(
    ("market", "partly", "first"),
    [
        ("GB", "2025-10-27", "2025-11-03"),  # Saturday 2025-11-01
        ("DE", "2026-01-12", "2026-01-19"),  # Thursday 2026-01-15
        ("CA", "2026-01-26", "2026-02-02"),  # Sunday 2026-02-01
        ("AU", "2026-02-23", "2026-03-02"),  # Sunday 2026-03-01
        ("FR", "2026-03-30", "2026-04-06"),  # Wednesday 2026-04-01
    ],
)
def test_when_a_launch_falls_inside_a_week_then_that_week_is_partly_treated(initiatives, market, partly, first):
    calendar = treatment_calendar(initiatives, WEEKS, period="week")
    assert flagged(calendar, market, "partly_treated") == [partly]
    assert market_row(calendar, market).first_treated == pd.Timestamp(first)
    assert flagged(calendar, market, "treated")[0] == first


@pytest.mark.parametrize("market", ["JP", "NL"])
def test_when_a_market_never_launches_then_it_is_never_treated(initiatives, market):
    calendar = treatment_calendar(initiatives, WEEKS, period="week")
    rows = calendar[calendar.market == market]
    assert len(rows) == len(WEEKS) and rows.first_treated.isna().all() and rows.launch_date.isna().all()
    assert (rows.first_treated_period == 0).all() and not rows.treated.any() and not rows.partly_treated.any()


def test_when_periods_are_months_then_a_launch_on_the_first_treats_that_month(initiatives):
    calendar = treatment_calendar(ibis.memtable(initiatives), MONTHS, period="month")
    firsts = {market: market_row(calendar, market).first_treated for market in ("US", "GB", "DE", "CA", "AU", "FR")}
    assert {market: f"{day:%Y-%m-%d}" for market, day in firsts.items()} == {
        "US": "2025-10-01",
        "GB": "2025-11-01",
        "DE": "2026-02-01",
        "CA": "2026-02-01",
        "AU": "2026-03-01",
        "FR": "2026-04-01",
    }
    partly = calendar[calendar.partly_treated]
    assert list(zip(partly.market, partly.period_start, strict=True)) == [("DE", pd.Timestamp("2026-01-01"))]
    assert market_row(calendar, "US").first_treated_period == 10
    assert market_row(calendar, "DE").first_treated_period == 14
    assert calendar.time.max() == 18


def test_when_the_panel_ends_before_a_launch_or_starts_after_it_then_the_cohort_index_says_so(initiatives):
    calendar = treatment_calendar(initiatives, pd.date_range("2025-12-01", "2026-03-01", freq="MS"), period="month")
    assert market_row(calendar, "FR").first_treated_period == 0  # April 2026 is after the panel: never within it
    assert market_row(calendar, "US").first_treated_period == 1  # treated throughout
    assert market_row(calendar, "DE").first_treated_period == 3


def test_when_quarters_are_asked_then_a_launch_mid_quarter_marks_that_quarter(initiatives):
    quarters = pd.date_range("2025-01-01", "2026-04-01", freq="QS")
    calendar = treatment_calendar(initiatives, quarters, period="quarter")
    assert market_row(calendar, "US").first_treated == pd.Timestamp("2025-10-01")
    assert flagged(calendar, "GB", "partly_treated") == ["2025-10-01"]
    assert market_row(calendar, "GB").first_treated == pd.Timestamp("2026-01-01")


def test_when_a_period_does_not_start_on_a_monday_then_a_parameter_error_names_it(initiatives):
    with pytest.raises(ParameterError, match="2025-01-07") as raised:
        treatment_calendar(initiatives, ["2025-01-06", "2025-01-07"], period="week")
    assert raised.value.parameter == "periods"


def test_when_the_initiative_is_unknown_or_ambiguous_then_the_error_lists_the_known_ones(initiatives):
    with pytest.raises(ParameterError) as unknown:
        treatment_calendar(initiatives, WEEKS, initiative_id="INI-999")
    assert unknown.value.valid == ["INI-001"]
    two = pd.concat([initiatives, initiatives.assign(initiative_id="INI-002")], ignore_index=True)
    with pytest.raises(DataError) as ambiguous:
        treatment_calendar(two, WEEKS)
    assert ambiguous.value.valid == ["INI-001", "INI-002"]
    assert len(treatment_calendar(two, WEEKS, initiative_id="INI-002")) == 8 * len(WEEKS)


def test_when_the_containing_period_is_asked_for_then_a_mid_month_launch_treats_its_month_and_flags_it(initiatives):
    calendar = treatment_calendar(initiatives, MONTHS, period="month", first_treated="containing")
    de = market_row(calendar, "DE")  # launched on 2026-01-15
    assert de.first_treated == pd.Timestamp("2026-01-01") and de.first_treated_period == 13
    assert flagged(calendar, "DE", "partly_treated") == ["2026-01-01"]
    assert flagged(calendar, "DE", "treated")[0] == "2026-01-01"
    first_full = treatment_calendar(initiatives, MONTHS, period="month")
    us = first_full.market == "US"  # launched on the first of October: both rules agree
    pd.testing.assert_frame_equal(calendar[us], first_full[us])


def test_when_the_first_treated_rule_is_unknown_then_a_parameter_error_names_the_valid_ones(initiatives):
    with pytest.raises(ParameterError) as raised:
        treatment_calendar(initiatives, MONTHS, period="month", first_treated="last")
    assert raised.value.parameter == "first_treated" and raised.value.valid == ["first_full", "containing"]
