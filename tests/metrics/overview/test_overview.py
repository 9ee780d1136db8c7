"""Headline KPIs of the data-overview notebook, against hand counts on the tiny data set."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from helpers.oracles import wilson
from helpers.tiny_data import tiny_tables, write_tables
from statsmodels.stats.proportion import proportions_ztest

from analysis.errors import ParameterError
from analysis.metrics.overview import (
    Scope,
    analyse_overview,
    conversion_change,
    kpis_over_time,
    table_coverage,
)
from analysis.sources import load_tables


def test_when_kpis_are_computed_per_month_then_they_match_hand_counts(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    kpis = kpis_over_time(tables, Scope.parse("DE", "2025-01-01", "2025-02-28"), "month")

    assert kpis.period.tolist() == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]
    assert kpis.sessions.tolist() == [3, 2]
    assert kpis.converting_sessions.tolist() == [1, 2]
    assert kpis.users.tolist() == [2, 2]
    assert kpis.orders.tolist() == [1, 2]
    assert kpis.revenue.tolist() == [10.0, 50.5]
    assert kpis.currency.tolist() == ["EUR", "EUR"]
    assert kpis.active_sellers.tolist() == [2, 1]
    assert kpis.conversion_rate.tolist() == pytest.approx([1 / 3, 1.0])
    low, high = wilson(1, 3)
    assert (kpis.conversion_ci_low[0], kpis.conversion_ci_high[0]) == pytest.approx((low, high))


def test_when_the_end_date_is_the_last_day_then_its_late_events_are_in_scope(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    # u3's session starts at 23:59 on 28 February: the end date is inclusive
    kpis = kpis_over_time(tables, Scope.parse("DE", "2025-02-01", "2025-02-28"), "month")
    assert kpis.sessions.tolist() == [2]


def test_when_scope_is_all_markets_then_every_market_counts(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    kpis = kpis_over_time(tables, Scope.parse("ALL", "2025-01-01", "2025-01-31"), "month")
    assert kpis.sessions.tolist() == [4]
    assert kpis.active_sellers.tolist() == [2]  # S3 (FR) signs up in March


def test_when_coverage_is_computed_then_rows_dates_and_markets_are_per_table(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    coverage = table_coverage(tables, Scope.parse("DE", "2025-01-01", "2025-01-31")).set_index("table")

    assert coverage.loc["events", "rows"] == 7
    assert coverage.loc["events", "first"] == pd.Timestamp("2025-01-05 10:00")
    assert coverage.loc["orders", "rows"] == 1
    assert coverage.loc["markets", "rows"] == 1
    assert pd.isna(coverage.loc["markets", "first"])


def test_when_conversion_is_compared_then_difference_and_newcombe_interval_are_given():
    kpis = pd.DataFrame({"sessions": [100, 100, 100, 100], "converting_sessions": [10, 10, 20, 20]})
    change = conversion_change(kpis, periods=2)
    assert change["early_rate"] == 0.10
    assert change["late_rate"] == 0.20
    assert change["difference"] == pytest.approx(0.10)
    # Newcombe's hybrid score interval built from the two Wilson intervals (Newcombe 1998, method 10)
    l1, u1 = wilson(40, 200)
    l2, u2 = wilson(20, 200)
    p1, p2 = 0.2, 0.1
    low = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    assert (change["difference_ci_low"], change["difference_ci_high"]) == pytest.approx((low, high))
    z_test = proportions_ztest([40, 20], [200, 200])  # statsmodels' pooled two-proportion z-test
    assert change["p_value"] == pytest.approx(z_test[1])
    assert change["real"] is True


def test_when_there_are_fewer_than_twice_the_periods_then_the_two_ends_do_not_overlap():
    kpis = pd.DataFrame({"sessions": [100, 100, 100], "converting_sessions": [10, 15, 20]})
    change = conversion_change(kpis, periods=3)
    assert (change["early_rate"], change["late_rate"]) == (0.10, 0.20)


def test_when_the_overview_is_analysed_then_it_holds_every_part_and_the_totals_of_the_kpis(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    scope = Scope.parse("DE", "2025-01-01", "2025-02-28")
    analysis = analyse_overview(tables, scope, freq="month")
    pd.testing.assert_frame_equal(analysis.kpis, kpis_over_time(tables, scope, "month"))
    pd.testing.assert_frame_equal(analysis.coverage, table_coverage(tables, scope))
    assert analysis.conversion_change == conversion_change(analysis.kpis)
    # hand counts of the tiny data in DE, Jan-Feb: 5 sessions, 3 with a purchase; 3 orders, EUR 10 + 50.5
    assert analysis.totals["sessions"] == 5
    assert analysis.totals["converting_sessions"] == 3
    assert analysis.totals["conversion_rate"] == pytest.approx(3 / 5)
    assert analysis.totals["orders"] == 3
    assert analysis.totals["revenue"] == pytest.approx(60.5)
    assert analysis.totals["currency"] == "EUR"
    assert analysis.validation is None
    with pytest.raises(AttributeError):
        analysis.freq = "week"


def test_when_the_overview_market_is_unknown_or_freq_is_bad_then_a_parameter_error_says_so(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)
    with pytest.raises(ParameterError, match="market 'JP' is not in the markets table"):
        analyse_overview(tables, Scope.parse("JP", "2025-01-01", "2025-02-28"))
    with pytest.raises(ParameterError, match=r"freq 'day' is not one of \['month', 'quarter', 'week'\]") as caught:
        analyse_overview(tables, Scope.parse("DE", "2025-01-01", "2025-02-28"), freq="day")
    assert caught.value.parameter == "freq"


def test_when_initiatives_are_listed_then_only_the_scope_market_is_kept_and_launches_come_first(tiny_data_dir: Path):
    from analysis.metrics.overview import initiatives_in_scope
    from analysis.present.overview import initiative_sentences

    initiatives = pd.DataFrame(
        {
            "initiative_id": ["INI-1", "INI-1", "INI-1"],
            "name": ["Personalised journeys"] * 3,
            "market": ["DE", "FR", "JP"],
            "launch_date": ["2026-01-15", "2026-04-01", ""],
            "target_kpi": ["conversion_rate"] * 3,
            "target_low": [0.15] * 3,
            "target_high": [0.20] * 3,
        }
    )
    initiatives.to_csv(tiny_data_dir / "initiatives.csv", index=False)
    tables = load_tables(tiny_data_dir)

    all_markets = initiatives_in_scope(tables, Scope.parse("ALL", "2025-01-01", "2026-06-30"))
    assert all_markets.market.tolist() == ["DE", "FR", "JP"]
    assert pd.isna(all_markets.launch_date.iloc[-1])

    germany = initiatives_in_scope(tables, Scope.parse("DE", "2025-01-01", "2026-06-30"))
    assert initiative_sentences(germany, "2026-06-30") == [
        "Initiative 'Personalised journeys' (target conversion_rate +15% to +20%) went live in DE 15 Jan 2026; "
        "a change after launch mixes its effect with the trend, so compare with untreated markets before crediting "
        "it."
    ]
    japan = initiatives_in_scope(tables, Scope.parse("JP", "2025-01-01", "2026-06-30"))
    assert initiative_sentences(japan, "2026-06-30") == [
        "Initiative 'Personalised journeys' (target conversion_rate +15% to +20%) had not launched here by the end "
        "of the period."
    ]


def tables_with_an_empty_market(folder: Path) -> dict:
    """The tiny data plus IT, a market of the markets table without a single row elsewhere."""
    tables = tiny_tables()
    italy = pd.DataFrame({"market": ["IT"], "name": ["Italy"], "region": ["Europe"], "currency": ["EUR"]})
    tables["markets"] = pd.concat([tables["markets"], italy], ignore_index=True)
    return load_tables(write_tables(folder, tables))


def test_when_the_period_holds_no_events_of_the_market_then_the_analysis_is_empty_not_an_error(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)

    analysis = analyse_overview(tables, Scope.parse("DE", "2024-01-01", "2024-06-30"))

    assert analysis.empty
    assert analysis.kpis.empty
    assert {"period", "sessions", "conversion_rate", "conversion_ci_low", "orders", "active_sellers"} <= set(
        analysis.kpis.columns
    )
    assert (analysis.totals["events"], analysis.totals["sessions"], analysis.totals["orders"]) == (0, 0, 0)
    assert math.isnan(analysis.totals["conversion_rate"]) and analysis.totals["currency"] is None
    change = analysis.conversion_change
    assert all(math.isnan(value) for key, value in change.items() if key != "real") and change["real"] is False
    # DE holds 11 events and 3 orders, all in Jan-Feb 2025: every one of them is outside the period
    assert analysis.events_outside_period == 11
    assert analysis.coverage.set_index("table").loc["orders", "outside_period"] == 3


def test_when_a_market_of_the_markets_table_has_no_rows_then_the_analysis_is_empty(tmp_path: Path):
    tables = tables_with_an_empty_market(tmp_path)

    analysis = analyse_overview(tables, Scope.parse("IT", "2025-01-01", "2026-06-30"))

    assert analysis.empty
    assert analysis.events_outside_period == 0
    assert analysis.coverage.set_index("table").loc["markets", "rows"] == 1


def test_when_no_market_has_events_in_the_period_then_all_markets_is_empty_too(tiny_data_dir: Path):
    analysis = analyse_overview(load_tables(tiny_data_dir), Scope.parse("ALL", "2026-01-01", "2026-06-30"))

    assert analysis.empty
    assert analysis.events_outside_period == 12  # DE's 11 and FR's 1


def test_when_the_period_cuts_the_data_then_coverage_counts_the_rows_left_out(tiny_data_dir: Path):
    coverage = table_coverage(load_tables(tiny_data_dir), Scope.parse("DE", "2025-01-01", "2025-01-31"))
    coverage = coverage.set_index("table")

    # DE in February: u1-2 (2 events, order o2) and u3-1 (2 events, order o3); FR's event is another market
    assert coverage.loc["events", "outside_period"] == 4
    assert coverage.loc["orders", "outside_period"] == 2
    assert pd.isna(coverage.loc["sellers", "outside_period"])  # sellers are in scope while active, not by date
    assert pd.isna(coverage.loc["markets", "outside_period"])
    assert coverage.loc["events", "rows"] + coverage.loc["events", "outside_period"] == 11
