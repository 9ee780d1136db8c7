"""The experiment presenter: SRM first, verdicts only from the analysis' real columns, markup escaped, no experiment."""

from __future__ import annotations

import dataclasses
import os

import matplotlib.pyplot as plt
import pytest

from analysis.metrics.experiment import analyse_experiment
from analysis.metrics.experiment.srm import SampleRatioCheck
from analysis.present import experiment as show
from analysis.present import formatting as fmt
from analysis.scope import Scope
from analysis.sources import load_tables


@pytest.fixture(scope="module")
def analysis():
    tables = load_tables(os.environ["WORKBOOK_DATA_DIR"])
    return analyse_experiment(tables, Scope.parse("GB", "2025-01-01", "2026-06-30"), min_group_size=20)


def test_when_the_split_is_off_then_the_first_finding_says_the_results_cannot_be_trusted(analysis):
    flagged = dataclasses.replace(analysis, srm=SampleRatioCheck(statistic=40.0, p_value=2.5e-10, flagged=True))
    first = show.findings(flagged)[0]
    assert first.startswith("The results of this test cannot be trusted")
    assert show.findings(analysis)[0].startswith("The split is as planned")


def test_when_a_metric_is_called_real_then_the_readout_says_so(analysis):
    sentences = show.findings(analysis)
    primary = analysis.primary_row
    assert ("a real lift" in sentences[1]) == bool(primary["real"])
    for guardrail in analysis.guardrails:
        real = bool(analysis.readout.set_index("metric").loc[guardrail, "real"])
        sentence = next(s for s in sentences if s.startswith(f"Guardrail {show.metric_label(guardrail)}"))
        assert ("did not move" not in sentence) == real
        adjusted = analysis.readout.set_index("metric").loc[guardrail, "p_value_adjusted"]
        # the p-value that decides, so an uncorrected interval that excludes zero cannot read as a contradiction
        metrics = len(analysis.metrics)
        assert sentence.endswith(f"; {fmt.p_text(adjusted)} after Holm's correction for {metrics} metrics.")


def test_when_flipping_the_real_column_then_the_sentence_follows_it(analysis):
    readout = analysis.readout.copy()
    readout.loc[readout["metric"] == analysis.primary, "real"] = not bool(analysis.primary_row["real"])
    flipped = dataclasses.replace(analysis, readout=readout)
    assert ("a real lift" in show.findings(flipped)[1]) == (not bool(analysis.primary_row["real"]))


def test_when_a_segment_name_holds_markup_then_the_table_escapes_it(analysis):
    segments = analysis.segments.copy()
    segments.loc[0, "group"] = "<script>alert(1)</script>"
    html = show.segment_table(dataclasses.replace(analysis, segments=segments)).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_when_a_market_has_no_experiment_then_every_view_says_so_without_error():
    tables = load_tables(os.environ["WORKBOOK_DATA_DIR"])
    empty = analyse_experiment(tables, Scope.parse("FR", "2025-01-01", "2026-06-30"))
    assert show.findings(empty) == [
        "There is no experiment in FR, 01 Jan 2025 to 30 Jun 2026: no event carries an arm (variant)."
    ]
    for figure in (show.plot_forest(empty), show.plot_cumulative_lift(empty)):
        plt.close(figure)
    show.segment_table(empty), show.readout_table(empty), show.plan_table(empty).to_html()


def test_when_the_charts_are_drawn_then_the_forest_has_one_row_per_metric(analysis):
    figure = show.plot_forest(analysis)
    assert len(figure.axes[0].get_yticklabels()) == len(analysis.readout)
    plt.close(figure)
    plt.close(show.plot_cumulative_lift(analysis))
