"""The numbers a report records are the very texts its findings and tables print (so the summary says what the report
says), and its headline is one of its findings."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.metrics.benchmark import analyse_benchmark
from analysis.metrics.experiment import analyse_experiment
from analysis.metrics.funnel import analyse_funnel
from analysis.metrics.impact import analyse_impact
from analysis.metrics.overview import analyse_overview
from analysis.metrics.retention import analyse_retention
from analysis.present import benchmark, experiment, funnel, impact, overview, retention
from analysis.present.report_results import (
    benchmark_headline,
    benchmark_kpis,
    experiment_headline,
    experiment_kpis,
    experiment_verdicts,
    funnel_headline,
    funnel_kpis,
    impact_verdicts,
    overview_headline,
    overview_kpis,
    retention_kpis,
    without_scope,
)
from analysis.scope import Scope
from analysis.sources import load_tables

STEPS = ["session_start", "view_item", "add_to_cart", "purchase"]
PERIOD = ("2025-01-01", "2026-06-30")


@pytest.fixture(scope="module")
def tables():
    return load_tables(os.environ["WORKBOOK_DATA_DIR"])


def test_when_the_funnel_records_kpis_then_each_value_and_interval_is_printed_in_its_findings(tables):
    analysis = analyse_funnel(tables["events"], Scope.parse("DE", *PERIOD), STEPS, "7D")
    last, carts = analysis.overall.iloc[-1], analysis.abandonment_overall.iloc[0]

    sentences = funnel.findings(analysis)
    kpis = funnel_kpis(analysis, sentences)

    assert [kpi.name for kpi in kpis] == ["conversion_rate", "cart_abandonment_rate"]
    assert (kpis[0].value, kpis[0].ci_low, kpis[0].ci_high) == (
        last.conversion_from_first,
        last.conversion_from_first_ci_low,
        last.conversion_from_first_ci_high,
    )
    assert kpis[1].value == carts.rate == carts.successes / carts.trials
    assert f"{kpis[0].text} reached Purchase" in sentences[0] and f"({kpis[0].interval})" in sentences[0]
    assert any(s.startswith(f"{kpis[1].text} of users with a cart") and kpis[1].interval in s for s in sentences)


def test_when_the_funnel_records_its_trend_then_it_is_the_weekly_charts_points_and_no_call_is_made(tables):
    analysis = analyse_funnel(tables["events"], Scope.parse("DE", *PERIOD), STEPS, "7D")
    weekly = analysis.weekly

    (conversion, _) = funnel_kpis(analysis)

    assert [label for label, _, _ in conversion.trend] == [f"{week:%Y-%m-%d}" for week in weekly.week]
    assert [value for _, value, _ in conversion.trend] == list(weekly.converted / weekly.units)
    assert sum(weekly.units) == analysis.started  # every unit that started is in exactly one week
    assert (conversion.change, conversion.change_direction) == ("", "")


def test_when_the_funnel_headline_is_recorded_then_it_is_its_first_finding_after_the_scope(tables):
    analysis = analyse_funnel(tables["events"], Scope.parse("DE", *PERIOD), STEPS, "7D")
    sentences = funnel.findings(analysis)

    headline = funnel_headline(analysis, sentences)

    assert sentences[0] == f"Scope: DE, 01 Jan 2025 to 30 Jun 2026. {headline}"
    assert headline.startswith(f"Of {analysis.started:,} users that reached ")


def test_when_the_overview_records_kpis_then_each_is_a_total_its_findings_print(tables):
    analysis = analyse_overview(tables, Scope.parse("DE", *PERIOD))
    totals = analysis.totals

    kpis = {kpi.name: kpi for kpi in overview_kpis(analysis)}
    text = " ".join(overview.findings(analysis))

    assert kpis["orders"].value == totals["orders"] and kpis["sessions"].value == totals["sessions"]
    assert kpis["session_conversion_rate"].value == totals["converting_sessions"] / totals["sessions"]
    assert all(kpi.text in text for kpi in kpis.values())


def test_when_the_overview_records_trends_then_they_are_the_kpi_tables_columns_and_add_up_to_the_totals(tables):
    analysis = analyse_overview(tables, Scope.parse("DE", *PERIOD))
    table = overview.kpi_table(analysis)

    kpis = {kpi.name: kpi for kpi in overview_kpis(analysis)}

    for name, column in [
        ("orders", "orders"),
        ("sessions", "sessions"),
        ("session_conversion_rate", "conversion"),
        ("revenue", "revenue"),
    ]:
        assert [(label, text) for label, _, text in kpis[name].trend] == list(table[column].items()), name
    assert sum(value for _, value, _ in kpis["sessions"].trend) == analysis.totals["sessions"]
    assert sum(value for _, value, _ in kpis["orders"].trend) == analysis.totals["orders"]
    assert kpis["orders"].trend_label == "monthly, as in the KPI table" and len(kpis["orders"].trend) == 18


def test_when_the_overview_states_conversions_change_then_the_kpi_and_headline_carry_that_sentence(tables):
    analysis = analyse_overview(tables, Scope.parse("DE", *PERIOD))
    sentences = overview.findings(analysis)
    change = analysis.conversion_change

    kpis = overview_kpis(analysis, sentences)
    conversion = {kpi.name: kpi for kpi in kpis}["session_conversion_rate"]
    headline = overview_headline(analysis, sentences)

    assert headline in sentences and headline == conversion.change
    # test-small DE: 11.86% of sessions converted in the first three months, 14.29% in the last three, not real
    assert headline.startswith("Conversion moved from 11.86% in the first periods to 14.29% in the last (+2.43 pts")
    assert headline.endswith(", within the noise.") and not change["real"]
    assert conversion.change_direction == "none"
    assert [kpi.name for kpi in kpis if kpi.change] == ["session_conversion_rate"]  # the one change it calls


def test_when_the_initiative_report_records_verdicts_then_they_are_the_effects_table_rows_with_a_target(tables):
    analysis = analyse_impact(tables, Scope.parse("ALL", *PERIOD))
    with_target = analysis.effects[analysis.effects["verdict"] != ""]

    verdicts = impact_verdicts(analysis)
    sentences = impact.findings(analysis)

    assert [(v.kpi, v.verdict) for v in verdicts] == list(zip(with_target["kpi"], with_target["verdict"], strict=True))
    for verdict in verdicts:
        assert any(verdict.estimate in s and verdict.target in s for s in sentences), verdict


def test_when_retention_records_kpis_then_their_texts_are_its_findings_and_its_tables(tables):
    analysis = analyse_retention(tables, Scope.parse("DE", *PERIOD))
    sentences = retention.findings(analysis)
    shown = retention.retention_table(analysis).data.loc["DE"]

    seller, repeat = retention_kpis(analysis, sentences)

    assert (seller.name, repeat.name) == ("seller_retention", "repeat_customer_rate")
    assert sentences[0].startswith(f"Seller retention in DE in {seller.trend[-1][0]} (last complete quarter")
    assert f": {seller.text} ({seller.interval})" in sentences[0] and seller.change == sentences[0]
    assert [(label, text) for label, _, text in seller.trend] == list(shown["retention"].items())
    repeat_sentence = next(s for s in sentences if s.startswith("Repeat-customer rate in DE"))
    assert f", {repeat.text} in {repeat.trend[-1][0]}: " in repeat_sentence and repeat.change == repeat_sentence
    # test-small DE (hand-read from the data): 18 of 18 sellers stayed through 2026Q2; 7 of 37 customers repeated
    assert (seller.value, seller.text, repeat.value) == (1.0, "100.0%", 7 / 37)
    assert (seller.change_direction, repeat.change_direction) == ("none", "none")  # both "within the noise"


def test_when_the_readout_records_the_primary_lift_then_its_text_verdict_and_target_are_the_readouts(tables):
    analysis = analyse_experiment(tables, Scope.parse("GB", *PERIOD))
    sentences = experiment.findings(analysis)
    lifts = experiment.readout_table(analysis).data

    (lift,) = experiment_kpis(analysis, sentences)
    (verdict,) = experiment_verdicts(analysis, sentences)
    headline = experiment_headline(analysis, sentences)

    assert headline == lift.change and headline in sentences and headline.startswith("Session conversion: ")
    assert f"lift of {lift.text} ({lift.interval})" in headline
    assert verdict.estimate in headline and f"the target is {verdict.target}, which the interval overlaps" in headline
    assert (verdict.kpi, verdict.verdict, lift.change_direction) == ("session_conversion", "inconclusive", "none")
    assert lift.text in set(lifts.astype(str).to_numpy().ravel())


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        ("which the whole interval exceeds", "met"),
        ("and the whole interval lies within it", "met"),
        ("which the whole interval falls short of", "missed"),
        ("which the interval overlaps", "inconclusive"),
    ],
)
def test_when_the_readout_states_the_interval_against_the_target_then_the_verdict_is_that_statement(ending, expected):
    row = pd.Series({"relative_lift": 0.2, "relative_lift_ci_low": 0.1, "relative_lift_ci_high": 0.3})
    analysis = SimpleNamespace(has_experiment=True, target_low=0.15, primary="user_conversion", primary_row=row)
    said = f"User conversion: 1.00% in control, 1.20% in B: ...; the target is +15.0% to +20.0%, {ending}."

    (verdict,) = experiment_verdicts(analysis, ["The split is as planned.", said])

    assert (verdict.verdict, verdict.target, verdict.estimate) == (
        expected,
        "+15.0% to +20.0%",
        "+20.0% (95% CI +10.0% to +30.0%)",
    )


def test_when_benchmarking_records_the_conversion_gap_then_it_is_the_gap_its_finding_prints(tables):
    analysis = analyse_benchmark(
        tables["benchmarks"], client="Craftly", market="US", tables=tables, scope=Scope.parse("US", *PERIOD)
    )
    sentences = benchmark.findings(analysis)

    (gap,) = benchmark_kpis(analysis, sentences)

    said = next(s for s in sentences if s.startswith("Craftly trails ") and " on conversion by " in s)
    assert f" on conversion by {gap.text} (" in said and gap.change in said
    # test-small US 2026Q2 benchmarks: Craftly 14.35% against the leader's 16.02%
    assert gap.text == "1.7 pts" and gap.value == pytest.approx(0.1602 - 0.1435)
    assert gap.trend[-1] == ("2026Q2", pytest.approx(0.0167), "1.7 pts") and len(gap.trend) == 6
    assert gap.change.startswith("no clear trend in the gap since 2025Q1") and gap.change_direction == "none"
    assert benchmark_headline(analysis, sentences) == sentences[1] == benchmark.composite_sentence(analysis)


def test_when_any_report_records_a_headline_then_it_does_not_open_with_its_scope_and_is_its_text(tables):
    de = Scope.parse("DE", *PERIOD)
    cases = []
    found = analyse_funnel(tables["events"], de, STEPS, "7D")
    cases.append((funnel_headline(found, sentences := funnel.findings(found)), sentences))
    found = analyse_overview(tables, de)
    cases.append((overview_headline(found, sentences := overview.findings(found)), sentences))
    found = analyse_experiment(tables, Scope.parse("GB", *PERIOD))
    cases.append((experiment_headline(found, sentences := experiment.findings(found)), sentences))

    for headline, sentences in cases:
        assert headline and not headline.startswith("Scope:")
        assert any(sentence.endswith(headline) for sentence in sentences), headline


def test_when_a_finding_opens_with_its_scope_then_only_that_opening_is_removed():
    assert without_scope("Scope: all markets, 01 Jan 2025 to 30 Jun 2026. Of 3 users. Scope: x. y") == (
        "Of 3 users. Scope: x. y"
    )
    assert without_scope("Seller retention in DE.") == "Seller retention in DE."
