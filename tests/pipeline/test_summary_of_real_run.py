"""The real notebooks through a run: every headline and KPI the summary shows is text of its report."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import run_real_notebooks

from analysis.config import DATA_DIR
from analysis.pipeline.recorded import report_entries
from analysis.pipeline.summary import SUMMARY

pytestmark = pytest.mark.slow

NOTEBOOKS = """\
  - notebook: data_overview
  - notebook: customer_journey_funnel
  - notebook: competitive_benchmarking
  - notebook: experiment_readout
  - notebook: retention_and_value
"""
# KPIs whose every trend point the report prints in a table (the others' series are chart points)
TABULATED_TRENDS = {
    ("data_overview", "orders"),
    ("data_overview", "sessions"),
    ("data_overview", "session_conversion_rate"),
    ("data_overview", "revenue"),
    ("retention_and_value", "seller_retention"),
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    data = Path(os.environ.get("WORKBOOK_DATA_DIR") or DATA_DIR / "test-small")
    project = tmp_path_factory.mktemp("summary-run")
    run = run_real_notebooks(project, data, ["GB"], NOTEBOOKS)
    assert run.status == "ok", run.failed
    return run.run_dir


def shown_text(page: str) -> str:
    """What a reader sees of an HTML page: no tags, styles or scripts, entities decoded, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_when_the_summary_shows_a_headline_or_kpi_then_its_report_prints_that_very_text(run_dir):
    summary = (run_dir / SUMMARY).read_text()
    entries = report_entries(run_dir, json.loads((run_dir / "run.json").read_text()))
    kpis = 0

    assert len(entries) == 5
    for entry in entries:
        report = shown_text((run_dir / entry.html).read_text())
        assert entry.headline and not entry.headline.startswith("Scope:"), entry.notebook
        assert f'<p class="headline">{html.escape(entry.headline)}</p>' in summary
        assert " ".join(entry.headline.split()) in report, entry.notebook
        for kpi in entry.results.kpis:
            kpis += 1
            assert f"{html.escape(kpi.label)}</a>: {html.escape(kpi.text)}" in summary
            assert kpi.text in report and kpi.interval in report, (entry.notebook, kpi.name)
            assert kpi.change in report, (entry.notebook, kpi.name)
            if (entry.notebook, kpi.name) in TABULATED_TRENDS:
                assert kpi.trend and all(label in report and text in report for label, _, text in kpi.trend)
        for verdict in entry.results.verdicts:
            assert verdict.estimate in report and verdict.target in report, (entry.notebook, verdict.kpi)
    assert kpis == 10  # overview 4, funnel 2, benchmarking 1, readout 1, retention 2
    assert summary.count('<svg class="sparkline"') == 8  # all but cart abandonment and the lift carry a series
    assert "<script" not in summary
