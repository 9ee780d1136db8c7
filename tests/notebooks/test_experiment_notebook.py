"""The experiment-readout notebook, executed by papermill on the small demo data, shows its findings (slow)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR

pytestmark = pytest.mark.slow

NOTEBOOK = NOTEBOOKS_DIR / "experiment_readout.ipynb"


def shown(notebook: nbformat.NotebookNode) -> str:
    """Every text, Markdown and HTML output of the executed notebook, one after another."""
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts.append(data.get("text/markdown", "") + data.get("text/html", "") + output.get("text", ""))
    return "\n".join(texts)


def run(tmp_path: Path, market: str) -> nbformat.NotebookNode:
    output = tmp_path / f"experiment_{market}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={"market": market, "data_dir": os.environ["WORKBOOK_DATA_DIR"]},
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    return nbformat.read(output, as_version=4)


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
