"""The data-overview notebook, executed by papermill on tiny broken data, ends with a finding or a named problem."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
from helpers.notebooks import execute as run_notebook
from helpers.notebooks import shown
from helpers.tiny_data import tiny_tables, write_tables

pytestmark = pytest.mark.slow


def execute(output: Path, data_dir: Path, market: str, start: str, end: str) -> nbformat.NotebookNode:
    return run_notebook("data_overview", output, market=market, start_date=start, end_date=end, data_dir=str(data_dir))


def test_when_a_market_of_the_markets_table_has_no_rows_then_the_notebook_ends_with_that_finding(tmp_path: Path):
    tables = tiny_tables()
    italy = pd.DataFrame({"market": ["IT"], "name": ["Italy"], "region": ["Europe"], "currency": ["EUR"]})
    tables["markets"] = pd.concat([tables["markets"], italy], ignore_index=True)
    data_dir = write_tables(tmp_path / "data", tables)

    notebook = execute(tmp_path / "it.ipynb", data_dir, "it", "2025-01-01", "2026-06-30")

    text = shown(notebook)
    assert "No events for IT between 1 Jan 2025 and 30 Jun 2026. The data hold no events for IT at all." in text
    assert "1 market(s) have no events: IT" in text  # the validation warning
    assert "No periods to show" in text
    assert not any(output.output_type == "error" for cell in notebook.cells for output in cell.get("outputs", []))


def test_when_the_period_holds_none_of_the_market_s_events_then_the_notebook_counts_those_outside(tmp_path: Path):
    data_dir = write_tables(tmp_path / "data", tiny_tables())

    notebook = execute(tmp_path / "de.ipynb", data_dir, "DE", "2025-03-01", "2026-06-30")

    assert "No events for DE between 1 Mar 2025 and 30 Jun 2026. 11 events of DE fall outside this period." in (
        shown(notebook)
    )


def test_when_the_events_table_is_empty_then_the_notebook_stops_with_the_named_problem(tmp_path: Path):
    tables = tiny_tables()
    tables["events"] = tables["events"].iloc[0:0]
    data_dir = write_tables(tmp_path / "data", tables)

    with pytest.raises(papermill.PapermillExecutionError) as raised:
        execute(tmp_path / "empty.ipynb", data_dir, "DE", "2025-01-01", "2026-06-30")

    assert raised.value.ename == "ValidationError"
    assert "events.parquet: the table has no rows" in raised.value.evalue
    assert str(tmp_path) not in raised.value.evalue
