"""The competitive-benchmarking notebook, executed by papermill on the small demo data, shows its findings."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.notebooks import execute, shown

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("market", ["DE", "ALL"])
def test_when_the_notebook_runs_for_a_market_then_findings_scorecard_and_charts_are_shown(tmp_path: Path, market):
    notebook = execute(
        "competitive_benchmarking", tmp_path / f"benchmark_{market}.ipynb", market=market, n_simulations=200
    )

    text = shown(notebook)
    where = "across all markets" if market == "ALL" else f"in {market}"
    assert f"Craftly against 4 rival(s) {where} in 2026Q2, on 8 KPIs" in text
    assert "The value-chain stage where Craftly loses most is" in text
    assert "GlobalBazaar" in text and "Artisania" in text
    images = [o for c in notebook.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 5  # ranked bars, radar, quadrant, trends, market share
    assert not any(o.output_type == "error" for c in notebook.cells for o in c.get("outputs", []))
