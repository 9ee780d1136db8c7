"""Benchmark findings say what the tables say, with their intervals; tables escape data; every chart draws."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from analysis.metrics.benchmark import analyse_benchmark
from analysis.present import benchmark as show
from analysis.sources import load_tables

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def demo():
    benchmarks = load_tables(Path(os.environ["WORKBOOK_DATA_DIR"]), tables=["benchmarks"])["benchmarks"]
    return analyse_benchmark(benchmarks, client="Craftly", market="DE", n_simulations=100)


def test_when_the_client_trails_then_the_sentence_gives_gap_index_rank_and_the_trend_with_its_interval(demo):
    sentence = show.gap_sentence(demo, "conversion_rate")
    row = demo.client_scorecard.loc["conversion_rate"]
    trend = demo.trends.gap_trends.set_index(["kpi", "reference"]).loc[("conversion_rate", "leader")]

    assert sentence.startswith(
        f"Craftly trails GlobalBazaar on conversion by {abs(row.gap_to_best) * 100:.1f} pts "
        f"(index {row.index_to_best:.0f}, {show.ordinal(row['rank'])} of 5;"
    )
    low, high = trend.slope_ci_low * 100, trend.slope_ci_high * 100
    assert f"95% CI {low:+.2f} to {high:+.2f} pts a quarter" in sentence
    verdict = {"closing": "has narrowed", "widening": "has widened", "no clear trend": "no clear trend"}
    assert verdict[trend.trend] in sentence


def test_when_findings_are_made_then_each_trailing_kpi_has_one_sentence_and_leads_are_named(demo):
    sentences = show.findings(demo)
    card = demo.client_scorecard

    trailing = [s for s in sentences if s.startswith("Craftly trails")]
    assert len(trailing) == int((card["rank"] > 1).sum())
    led = ", ".join(show.kpi_label(k) for k in card.index[card["rank"] == 1])
    assert (f"Craftly leads on {led}." in sentences) == bool(led)
    assert any(s.startswith("The value-chain stage where Craftly loses most is") for s in sentences)


def test_when_findings_describe_a_gap_trend_then_they_say_what_the_gap_trend_table_says(demo):
    table = show.gap_trend_table(demo).xs("leader", level="gap to")["trend"]
    card = demo.client_scorecard

    for kpi in card.index[card["rank"] > 1]:
        sentence = show.gap_sentence(demo, kpi)
        trend = table[show.kpi_label(kpi)]
        assert ("no clear trend in the gap" in sentence) == (trend == "no clear trend")
        assert ("has widened" in sentence) == (trend == "widening")
        assert ("has narrowed" in sentence) == (trend == "closing")


def test_when_a_company_name_holds_markup_then_the_tables_show_it_as_text():
    rows = pd.DataFrame(
        {
            "company": ["Client", "<script>alert(1)</script>"] * 3,
            "market": "DE",
            "period": "2026Q2",
            "kpi": ["conversion_rate"] * 2 + ["csat"] * 2 + ["nps"] * 2,
            "value": [0.1, 0.2, 3.0, 4.0, 10.0, 5.0],
            "unit": ["fraction"] * 2 + ["score 1-5"] * 2 + ["score -100..100"] * 2,
            "direction": "higher",
        }
    )
    analysis = analyse_benchmark(rows, client="Client", n_simulations=20)

    for styler in (show.scorecard_table(analysis), show.value_chain_table(analysis), show.composite_table(analysis)):
        html = styler.to_html()
        assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "plot", ["plot_ranked_bars", "plot_radar", "plot_quadrant", "plot_trends", "plot_market_share"]
)
def test_when_a_chart_is_drawn_then_it_has_axes(demo, plot):
    figure = getattr(show, plot)(demo)

    assert figure.axes


def test_when_numbers_are_worded_then_ordinals_and_units_read_naturally():
    assert [show.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 21)] == ["1st", "2nd", "3rd", "4th", "11th", "12th", "21st"]
    assert show.value_text(0.1431, "fraction") == "14.3%"
    assert show.value_text(4.519, "days") == "4.5 days"
    assert show.gap_text(-0.0142, "fraction") == "1.4 pts"


def test_when_kpi_trends_are_drawn_then_every_panel_shares_one_index_scale_holding_every_value(demo):
    figure = show.plot_trends(demo)

    limits = {axis.get_ylim() for axis in figure.axes}
    assert len(limits) == 1  # a 1-point wobble and a 20-point jump are drawn to the same scale
    (low, high), indexed = limits.pop(), demo.trends.series["indexed"]
    assert low < indexed.min() and indexed.max() < high
