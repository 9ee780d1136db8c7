"""Validation of contract tables read from an engine's catalog: checked in the engine like files, named by table."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from analysis.sources import load_tables, open_engine
from analysis.sources.prepared import validate_data_dir
from analysis.sources.validate import check_data_dir


@pytest.fixture
def engine_with_client_events(tiny_data_dir):
    """A DuckDB engine whose catalog holds ``client_events``: the folder's events with one event name misspelt."""
    con = open_engine("duckdb")
    events = load_tables(tiny_data_dir, con, tables=["events"])["events"].to_pyarrow()
    names = events.column("event_name").to_pylist()
    names[0] = "purchace"
    column = events.schema.get_field_index("event_name")
    misspelt = pc.cast(names, events.schema.field("event_name").type)
    con.create_table("client_events", events.set_column(column, "event_name", misspelt))
    (tiny_data_dir / "events.parquet").unlink()  # the client's events live only in the engine
    return con


def test_when_events_come_from_the_catalog_then_they_are_checked_there_and_violations_name_the_catalog_table(
    tiny_data_dir, engine_with_client_events
):
    report = check_data_dir(tiny_data_dir, engine_with_client_events, catalog={"events": "client_events"})

    problems = [(v.file, v.column, v.table) for v in report.violations]
    assert ("client_events", "event_name", "events") in problems
    assert not [v for v in report.violations if v.problem == "required table is missing"]
    assert report.files["events"] == "client_events" and report.rows["events"] > 0


def test_when_the_catalog_table_cannot_be_read_then_the_report_says_so_and_checks_the_other_tables(tiny_data_dir):
    report = check_data_dir(tiny_data_dir, open_engine("duckdb"), catalog={"events": "db.clicks"})

    (unreadable,) = [v for v in report.violations if v.file == "db.clicks"]
    assert unreadable.problem.startswith("cannot be read from the catalog (") and unreadable.table == "events"
    assert report.rows["markets"] > 0  # the folder's tables are still checked


def test_when_the_catalog_mapping_is_in_the_environment_then_validate_data_dir_checks_it_now(
    tiny_data_dir, engine_with_client_events, monkeypatch
):
    monkeypatch.setenv("WORKBOOK_TABLES", '{"events": "client_events"}')

    report = validate_data_dir(tiny_data_dir, engine_with_client_events)

    assert not report.cached and report.files["events"] == "client_events"
    assert any(v.column == "event_name" for v in report.violations)
