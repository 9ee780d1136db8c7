"""The post-initiative notebook, executed by papermill on the small demo data, shows its findings (slow)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from helpers.notebooks import execute, shown

pytestmark = pytest.mark.slow

CHARTS = 4  # event study, effects by market, seller and repeat-customer series, single-market designs


def run(tmp_path: Path, market: str) -> nbformat.NotebookNode:
    return execute("post_initiative_results", tmp_path / f"impact_{market}.ipynb", market=market)


def images(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))


def errors(notebook: nbformat.NotebookNode) -> list:
    return [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("market", ["ALL", "US"])
def test_when_the_notebook_runs_where_the_initiative_launched_then_every_section_is_shown(tmp_path: Path, market):
    notebook = run(tmp_path, market)

    text = shown(notebook)
    assert "Conversion rate " in text and "target range" in text
    assert "Callaway–Sant" in text and "parallel before launch" in text
    assert "spill-overs" in text
    assert images(notebook) == CHARTS
    assert not errors(notebook)


def test_when_the_initiative_never_launched_in_the_market_then_the_notebook_says_so_without_error(tmp_path: Path):
    notebook = run(tmp_path, "JP")

    assert "the initiative did not launch in Japan: no effect to estimate" in shown(notebook)
    assert images(notebook) == CHARTS
    assert not errors(notebook)
