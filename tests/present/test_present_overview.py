"""Findings and tables of the data-overview notebook state what the analysis holds, and compute nothing new."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis.metrics.overview import OverviewAnalysis
from analysis.present import overview as show
from analysis.scope import Scope
from analysis.sources import ValidationReport


def analysis_of(change: dict, *, validation=None, currency="EUR") -> OverviewAnalysis:
    kpis = pd.DataFrame(
        {
            "period": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            "sessions": [1000, 1200],
            "converting_sessions": [30, 48],
            "conversion_rate": [0.03, 0.04],
            "conversion_ci_low": [0.021, 0.0301],
            "conversion_ci_high": [0.0426, 0.0529],
            "orders": [31, 50],
            "revenue": [1000.0, 2345.6],
            "currency": [currency, currency],
        }
    )
    coverage = pd.DataFrame(
        {
            "table": ["events", "orders", "markets"],
            "rows": [5400, 81, 1],
            "outside_period": pd.array([0, 0, None], dtype="Int64"),
            "first": pd.to_datetime(["2025-01-01 10:00", "2025-01-02 00:00", None]),
            "last": pd.to_datetime(["2025-02-27", "2025-02-26", None]),
            "markets": [1, 1, float("nan")],
        }
    )
    totals = {
        "events": 5400,
        "orders": 81,
        "sessions": 2200,
        "converting_sessions": 78,
        "conversion_rate": 78 / 2200,
        "revenue": 3345.6,
        "currency": currency,
    }
    initiatives = pd.DataFrame(
        columns=["initiative_id", "name", "market", "launch_date", "target_kpi", "target_low", "target_high"]
    )
    return OverviewAnalysis(
        scope=Scope("DE", date(2025, 1, 1), date(2025, 2, 28)),
        freq="month",
        coverage=coverage,
        kpis=kpis,
        totals=totals,
        conversion_change=change,
        initiatives=initiatives,
        validation=validation,
    )


RISE = {
    "early_rate": 0.03,
    "late_rate": 0.04,
    "difference": 0.01,
    "difference_ci_low": 0.0012,
    "difference_ci_high": 0.0188,
    "p_value": 0.014,
    "real": True,
}


def test_when_findings_are_written_then_they_state_totals_validity_change_and_revenue():
    report = ValidationReport(Path("data"), rows={"events": 5400})
    assert show.findings(analysis_of(RISE, validation=report)) == [
        "Scope: DE, 01 Jan 2025 to 28 Feb 2025. 5,400 events, 2,200 sessions and 81 orders are in scope.",
        "All contract checks passed.",
        "Overall 3.55% of sessions ended in a purchase (78 of 2,200).",
        "Conversion rose from 3.00% in the first periods to 4.00% in the last (+1.00 pts, 95% CI +0.12 to +1.88 pts, "
        "p = 0.014).",
        "Revenue in scope: EUR 3,346.",
    ]


@pytest.mark.parametrize(
    ("difference", "real", "word"),
    [(-0.01, True, "fell"), (-0.01, False, "moved"), (0.01, False, "moved")],
)
def test_when_the_change_is_or_is_not_real_then_the_sentence_says_exactly_what_is_real_says(difference, real, word):
    change = RISE | {"difference": difference, "real": real}
    sentences = show.findings(analysis_of(change, currency=None))
    assert sentences[2].startswith(f"Conversion {word} from 3.00%")
    assert sentences[2].endswith(", within the noise.") == (not real)
    assert not any(sentence.startswith("Revenue") for sentence in sentences)  # no single currency
    assert not any("contract checks" in sentence for sentence in sentences)  # not validated: no claim


def test_when_tables_are_shown_then_counts_dates_and_intervals_are_formatted():
    analysis = analysis_of(RISE)
    coverage = show.coverage_table(analysis)
    assert coverage.loc["events"].tolist() == ["5,400", "0", "2025-01-01", "2025-02-27", "1"]
    assert coverage.loc["markets"].tolist() == ["1", "–", "–", "–", "–"]
    kpis = show.kpi_table(analysis)
    assert kpis.loc["2025-02-01"].tolist() == ["1,200", "4.00%", "3.01–5.29%", "50", "EUR 2,346"]
    assert show.validation_summary(analysis).data == "The data were not validated against the contract."


def empty_analysis(tiny_data_dir: Path, market: str, start: str, end: str, validation=None) -> OverviewAnalysis:
    from analysis.metrics.overview import analyse_overview
    from analysis.sources import load_tables

    return analyse_overview(load_tables(tiny_data_dir), Scope.parse(market, start, end), validation=validation)


def test_when_the_scope_has_no_events_then_one_finding_says_so_and_counts_those_outside(tiny_data_dir: Path):
    analysis = empty_analysis(tiny_data_dir, "DE", "2025-03-01", "2026-06-30")

    assert show.findings(analysis) == [
        "No events for DE between 1 Mar 2025 and 30 Jun 2026. 11 events of DE fall outside this period."
    ]


def test_when_the_market_has_no_events_at_all_then_the_finding_says_so(tiny_data_dir: Path):
    markets = pd.read_csv(tiny_data_dir / "markets.csv")
    italy = pd.DataFrame({"market": ["IT"], "name": ["Italy"], "region": ["Europe"], "currency": ["EUR"]})
    pd.concat([markets, italy]).to_csv(tiny_data_dir / "markets.csv", index=False)
    report = ValidationReport(tiny_data_dir, rows={"events": 12})

    analysis = empty_analysis(tiny_data_dir, "IT", "2025-01-01", "2026-06-30", validation=report)

    assert show.findings(analysis) == [
        "No events for IT between 1 Jan 2025 and 30 Jun 2026. The data hold no events for IT at all.",
        "All contract checks passed.",
    ]


def test_when_the_scope_has_no_events_then_tables_and_chart_show_an_explicit_empty_state(tiny_data_dir: Path):
    analysis = empty_analysis(tiny_data_dir, "ALL", "2026-01-01", "2026-06-30")

    table = show.kpi_table(analysis)
    assert table.data == (
        "No periods to show: No events for any market between 1 Jan 2026 and 30 Jun 2026. 12 events fall outside "
        "this period."
    )
    figure = show.plot_kpis(analysis)
    (axis,) = figure.axes
    assert [text.get_text() for text in axis.texts] == [f"Nothing to plot. {show.no_events_sentence(analysis)}"]
    assert len(axis.lines) == 0 and not axis.axison
    coverage = show.coverage_table(analysis)
    assert coverage.loc["events"].tolist() == ["0", "12", "–", "–", "0"]


def test_when_the_period_leaves_events_out_then_a_finding_counts_them():
    analysis = analysis_of(RISE)
    coverage = analysis.coverage.assign(outside_period=pd.array([1234, 5, None], dtype="Int64"))
    cut = OverviewAnalysis(**{**analysis.__dict__, "coverage": coverage})

    assert show.findings(cut)[1] == "1,234 events of DE fall outside the period and are left out of every figure below."


def test_when_validation_quotes_data_then_the_summary_escapes_it_and_names_files_in_the_folder(tmp_path: Path):
    from analysis.sources import Violation

    folder = tmp_path / "client-extract"
    payload = "<img src=x onerror=alert(1)>"
    report = ValidationReport(
        folder,
        rows={"events": 12},
        violations=[
            Violation(str(folder / "events.parquet"), "device", "has unknown values", "one of …", 1, (payload,))
        ],
        warnings=[
            Violation(str(folder / "markets.csv"), "market", "1 market(s) have no events: IT", "…", 1, unit="markets")
        ],
    )

    text = show.validation_summary(analysis_of(RISE, validation=report)).data

    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert str(tmp_path) not in text
    assert text.startswith("**1 problem(s)** in the data folder client-extract:\n\n- events.parquet, column ")
    assert text.endswith(
        "**1 warning(s)**:\n\n- markets.csv, column &#x27;market&#x27;: 1 market(s) have no events: IT. Valid: …."
    )
    assert show.findings(analysis_of(RISE, validation=report))[1] == (
        "1 data problem(s) were found; read the Validation section before trusting any figure."
    )


def test_when_the_run_validated_the_data_once_then_the_summary_says_when(tmp_path: Path):
    from datetime import UTC, datetime

    stored = ValidationReport(
        tmp_path / "demo", rows={"events": 12}, validated_at=datetime(2026, 11, 30, 9, 5, tzinfo=UTC), cached=True
    )
    fresh = ValidationReport(tmp_path / "demo", rows={"events": 12}, validated_at=datetime(2026, 11, 30, 9, 5))

    assert show.validation_summary(analysis_of(RISE, validation=stored)).data.endswith(
        "\n\nChecked once for the run at 2026-11-30 09:05 UTC; the files have not changed since."
    )
    assert "Checked once" not in show.validation_summary(analysis_of(RISE, validation=fresh)).data


def test_when_an_initiative_launched_inside_the_charted_periods_then_every_panel_marks_it_and_only_it():
    import matplotlib.pyplot as plt

    analysis = analysis_of(RISE)
    initiatives = pd.DataFrame(
        {
            "initiative_id": ["INI-001"] * 3,
            "name": ["Personalised journeys"] * 3,
            "market": ["DE", "FR", "JP"],
            "launch_date": pd.to_datetime(["2025-01-15", "2026-04-01", None]),  # inside, after the chart, never
            "target_kpi": ["conversion_rate"] * 3,
            "target_low": [0.15] * 3,
            "target_high": [0.2] * 3,
        }
    )
    figure = show.plot_kpis(OverviewAnalysis(**{**analysis.__dict__, "initiatives": initiatives}))
    for axis in figure.axes:
        assert [text.get_text() for text in axis.texts] == ["DE launch"]
        marked = [line.get_xdata()[0] for line in axis.lines if line.get_linestyle() == "--"]
        assert len(marked) == 1
    plt.close(figure)
