"""The competitive-benchmarking notebook, executed by papermill on the small demo data, shows its findings."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR

pytestmark = pytest.mark.slow

NOTEBOOK = NOTEBOOKS_DIR / "competitive_benchmarking.ipynb"


def shown(notebook: nbformat.NotebookNode) -> str:
    """Every text, Markdown and HTML output of the executed notebook, one after another."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(data.get("text/markdown", "") + data.get("text/html", "") + output.get("text", ""))
    return "\n".join(texts)


@pytest.mark.parametrize("market", ["DE", "ALL"])
def test_when_the_notebook_runs_for_a_market_then_findings_scorecard_and_charts_are_shown(tmp_path: Path, market):
    output = tmp_path / f"benchmark_{market}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={"market": market, "data_dir": os.environ["WORKBOOK_DATA_DIR"], "n_simulations": 200},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    notebook = nbformat.read(output, as_version=4)

    text = shown(notebook)
    where = "across all markets" if market == "ALL" else f"in {market}"
    assert f"Craftly against 4 rival(s) {where} in 2026Q2, on 8 KPIs" in text
    assert "The value-chain stage where Craftly loses most is" in text
    assert "GlobalBazaar" in text and "Artisania" in text
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 5  # ranked bars, radar, quadrant, trends, market share
    assert not any(o.output_type == "error" for c in notebook.cells for o in c.get("outputs", []))
