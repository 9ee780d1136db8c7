"""analyse_benchmark on the demo data: one frozen analysis, the trend window from the scope, the own-data check."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from analysis.errors import ParameterError
from analysis.metrics.benchmark import analyse_benchmark
from analysis.scope import Scope
from analysis.sources import load_tables


@pytest.fixture(scope="module")
def tables():
    return load_tables(Path(os.environ["WORKBOOK_DATA_DIR"]))


def analyse(tables, market: str, start="2025-01-01", end="2026-06-30", **options):
    scope = Scope.parse(market, start, end)
    return analyse_benchmark(
        tables["benchmarks"], client="Craftly", market=scope.market, tables=tables, scope=scope, n_simulations=100,
        **options,
    )  # fmt: skip


def test_when_a_market_is_analysed_then_every_part_is_built_once_and_frozen(tables):
    analysis = analyse(tables, "DE")

    assert analysis.period == "2026Q2" and analysis.market == "DE"
    assert analysis.companies == ("Craftly", "Artisania", "GlobalBazaar", "HandHub", "MakerMart")
    assert analysis.trends.quarters == ("2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2")
    assert len(analysis.scorecard) == 40 and len(analysis.composite) == 5
    assert analysis.kpi_weights.sum() == pytest.approx(1.0) and len(analysis.kpi_weights) == 8
    assert analysis.weakest_stage in set(analysis.stages.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.period = "2025Q1"


def test_when_the_client_tables_are_given_then_its_own_kpis_are_checked_against_its_rows(tables):
    analysis = analyse(tables, "DE")

    assert analysis.client_kpis is not None and analysis.consistency is not None
    assert set(analysis.consistency["kpi"]) >= {"conversion_rate", "cart_abandonment_rate", "csat", "nps"}
    assert analysis.cost_of_gap is not None


def test_when_all_markets_are_analysed_then_the_check_and_gap_values_are_left_to_each_market(tables):
    analysis = analyse(tables, "ALL")

    assert analysis.market == "ALL" and (analysis.scorecard["markets"] == 8).all()
    assert analysis.client_kpis is not None
    assert analysis.consistency is None and analysis.cost_of_gap is None


def test_when_a_period_is_given_then_the_scorecard_is_of_that_quarter_and_the_trends_end_there(tables):
    analysis = analyse(tables, "FR", period="2025Q4")

    assert set(analysis.scorecard["period"]) == {"2025Q4"}
    assert analysis.trends.quarters[-1] == "2025Q4" and analysis.trends.quarters[0] == "2025Q1"


def test_when_the_scope_holds_no_benchmark_quarter_then_the_error_names_the_start_date(tables):
    with pytest.raises(ParameterError) as raised:
        analyse(tables, "DE", start="2019-01-01", end="2019-12-31")

    assert raised.value.parameter == "start_date"
