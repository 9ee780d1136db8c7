"""The retention-and-value notebook, executed by papermill on the small demo data, shows its findings (slow)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers.notebooks import execute, shown

pytestmark = pytest.mark.slow

CHARTS = 7  # seller retention, two cohort heatmaps, survival, sBG fit, repeat rate, CLV by segment


def run(tmp_path: Path, market: str) -> nbformat.NotebookNode:
    return execute("retention_and_value", tmp_path / f"retention_{market}.ipynb", market=market)


def errors(notebook: nbformat.NotebookNode) -> list:
    return [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]


def images(notebook: nbformat.NotebookNode) -> list:
    return [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


@pytest.mark.parametrize("market", ["ALL", "US", "NL"])
def test_when_the_notebook_runs_for_a_market_then_findings_tables_and_charts_are_shown(tmp_path: Path, market: str):
    notebook = run(tmp_path, market)

    text = shown(notebook)
    assert not errors(notebook)
    assert "Seller retention" in text and "Repeat-customer rate" in text and "Repeat buyers" in text
    assert "projects" in text or "No projection of recent seller cohorts" in text
    assert len(images(notebook)) == CHARTS
    if market == "ALL":
        assert "shown per currency, never summed" in text
    if market == "NL":
        assert "NL has not launched the initiative" in text
