"""The numbers a report records are the very texts its findings print (so the summary says what the report says)."""

from __future__ import annotations

import os

import pytest

from analysis.metrics.funnel import analyse_funnel
from analysis.metrics.impact import analyse_impact
from analysis.metrics.overview import analyse_overview
from analysis.present import funnel, impact, overview
from analysis.present.results import funnel_kpis, impact_verdicts, overview_kpis
from analysis.scope import Scope
from analysis.sources import load_tables

STEPS = ["session_start", "view_item", "add_to_cart", "purchase"]


@pytest.fixture(scope="module")
def tables():
    return load_tables(os.environ["WORKBOOK_DATA_DIR"])


def test_when_the_funnel_records_kpis_then_each_value_and_interval_is_printed_in_its_findings(tables):
    analysis = analyse_funnel(tables["events"], Scope.parse("DE", "2025-01-01", "2026-06-30"), STEPS, "7D")
    last, carts = analysis.overall.iloc[-1], analysis.abandonment_overall.iloc[0]

    kpis = funnel_kpis(analysis)
    sentences = funnel.findings(analysis)

    assert [kpi.name for kpi in kpis] == ["conversion_rate", "cart_abandonment_rate"]
    assert (kpis[0].value, kpis[0].ci_low, kpis[0].ci_high) == (
        last.conversion_from_first,
        last.conversion_from_first_ci_low,
        last.conversion_from_first_ci_high,
    )
    assert kpis[1].value == carts.rate == carts.successes / carts.trials
    assert f"{kpis[0].text} reached Purchase" in sentences[0] and f"({kpis[0].interval})" in sentences[0]
    assert any(s.startswith(f"{kpis[1].text} of users with a cart") and kpis[1].interval in s for s in sentences)


def test_when_the_overview_records_kpis_then_each_is_a_total_its_findings_print(tables):
    analysis = analyse_overview(tables, Scope.parse("DE", "2025-01-01", "2026-06-30"))
    totals = analysis.totals

    kpis = {kpi.name: kpi for kpi in overview_kpis(analysis)}
    text = " ".join(overview.findings(analysis))

    assert kpis["orders"].value == totals["orders"] and kpis["sessions"].value == totals["sessions"]
    assert kpis["session_conversion_rate"].value == totals["converting_sessions"] / totals["sessions"]
    assert all(kpi.text in text for kpi in kpis.values())


def test_when_the_initiative_report_records_verdicts_then_they_are_the_effects_table_rows_with_a_target(tables):
    analysis = analyse_impact(tables, Scope.parse("ALL", "2025-01-01", "2026-06-30"))
    with_target = analysis.effects[analysis.effects["verdict"] != ""]

    verdicts = impact_verdicts(analysis)
    sentences = impact.findings(analysis)

    assert [(v.kpi, v.verdict) for v in verdicts] == list(zip(with_target["kpi"], with_target["verdict"], strict=True))
    for verdict in verdicts:
        assert any(verdict.estimate in s and verdict.target in s for s in sentences), verdict
