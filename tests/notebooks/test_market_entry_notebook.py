"""The market-entry notebook runs top to bottom with its default parameters."""

from __future__ import annotations

import re

import nbformat
import papermill
import pytest

from analysis.config import KERNEL_NAME, NOTEBOOKS_DIR

NOTEBOOK = NOTEBOOKS_DIR / "market_entry_scoring.ipynb"


def test_when_notebook_is_stored_then_it_has_a_title_a_parameters_cell_and_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    tagged = [i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert tagged == [1]
    for name in ("home_market", "candidate_markets", "method", "top_k", "market", "start_date", "data_dir"):
        assert re.search(rf"^{name}: \w+ = ", nb.cells[1].source, flags=re.M), name  # typed: papermill reads it
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    assert nb.metadata["kernelspec"]["name"] == KERNEL_NAME


def test_when_notebook_is_stored_then_it_analyses_once_and_each_later_cell_makes_one_presenter_call():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = nb.cells[2].source
    assert setup.count("analyse_market_entry(") == 1 and "analysis = analyse_market_entry(" in setup
    code = [cell for cell in nb.cells[3:] if cell.cell_type == "code"]
    assert code[-1].get("id") == "record-results"  # the last cell records the results as data, showing nothing
    shown = [cell.source.strip() for cell in code[:-1]]
    assert shown, "the notebook shows nothing"
    for source in shown:
        assert "\n" not in source, f"more than one line in a presenter cell: {source!r}"
        assert source.count("show.") == 1 and "(analysis)" in source, f"not one presenter call: {source!r}"


@pytest.mark.slow
def test_when_notebook_runs_with_topsis_and_ahp_then_it_finishes_with_findings(tmp_path):
    output = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters={
            "method": "topsis",
            "n_simulations": 200,
            "criteria": {
                "internet_users_pct": ["benefit", 1.0],
                "lpi_score": ["benefit", 1.0],
                "cultural_distance": ["cost", 1.0],
            },
            "ahp_judgements": {
                "internet_users_pct|lpi_score": 1,
                "internet_users_pct|cultural_distance": 2,
                "lpi_score|cultural_distance": 2,
            },
            "market": "DE",
            "start_date": "2025-01-01",
            "end_date": "2025-03-31",
        },
        kernel_name=KERNEL_NAME,
        progress_bar=False,
        cwd=str(NOTEBOOKS_DIR),
    )
    executed = nbformat.read(output, as_version=4)
    markdown = [
        out["data"]["text/markdown"]
        for cell in executed.cells
        for out in cell.get("outputs", [])
        if "text/markdown" in out.get("data", {})
    ]
    assert any("Wave 1" in text for text in markdown)
