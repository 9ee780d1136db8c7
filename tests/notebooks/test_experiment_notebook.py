"""The experiment-readout notebook, executed by papermill on the small demo data, shows its findings (slow)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers.notebooks import execute, shown

pytestmark = pytest.mark.slow


def run(tmp_path: Path, market: str) -> nbformat.NotebookNode:
    return execute("experiment_readout", tmp_path / f"experiment_{market}.ipynb", market=market)


def test_when_the_notebook_runs_for_gb_then_findings_tables_and_charts_are_shown(tmp_path: Path):
    notebook = run(tmp_path, "GB")

    text = shown(notebook)
    assert "The split is as planned" in text
    assert "Session conversion:" in text and "Guardrail cart abandonment" in text
    assert "Randomisation unit" in text and "Holm (family-wise error)" in text
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2  # forest plot, cumulative lift
    assert not any(o.output_type == "error" for c in notebook.cells for o in c.get("outputs", []))


def test_when_the_market_has_no_test_then_the_notebook_says_so_without_error(tmp_path: Path):
    notebook = run(tmp_path, "FR")
    assert "There is no experiment in FR" in shown(notebook)
