"""Loading a data directory: each contract table from its file, conformed to the contract's types."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.errors import DataFileError
from analysis.sources import load_tables


def test_when_tables_load_then_they_keep_contract_types(tiny_data_dir: Path):
    tables = load_tables(tiny_data_dir)

    assert sorted(tables) == ["events", "markets", "orders", "sellers"]
    assert tables["events"].schema()["event_time"].timezone == "UTC"
    assert tables["sellers"].schema()["signup_date"].is_timestamp()
    assert int(tables["events"].count().execute()) == 12


def test_when_a_table_is_given_twice_then_loading_refuses(tmp_path: Path):
    folder = write_tables(tmp_path, tiny_tables())
    tiny_tables()["markets"].to_parquet(folder / "markets.parquet")

    with pytest.raises(DataFileError, match="table 'markets' is given twice"):
        load_tables(folder)


def test_when_events_live_in_a_folder_of_parquet_parts_then_all_parts_load(tmp_path: Path):
    tables = tiny_tables()
    events = tables.pop("events")
    folder = write_tables(tmp_path, tables)
    (folder / "events").mkdir()
    events.iloc[:5].to_parquet(folder / "events" / "part-0.parquet")
    events.iloc[5:].to_parquet(folder / "events" / "part-1.parquet")

    loaded = load_tables(folder, tables=["events"])

    assert int(loaded["events"].count().execute()) == 12
    assert pd.Timestamp(loaded["events"].event_time.max().execute()) == pd.Timestamp("2025-02-28T23:59:30Z")


def test_when_no_connection_is_given_then_loading_opens_exactly_one(tiny_data_dir: Path, opened_connections: list):
    tables = load_tables(tiny_data_dir)

    assert len(opened_connections) == 1
    assert all(ibis.get_backend(table) is opened_connections[0] for table in tables.values())


def test_when_a_connection_is_given_then_the_tables_load_on_it_and_its_settings_are_untouched(
    tiny_data_dir: Path, outside_connection, settings_of, opened_connections: list
):
    before = settings_of(outside_connection)

    tables = load_tables(tiny_data_dir, outside_connection)

    assert int(tables["orders"].count().execute()) == 3
    assert all(ibis.get_backend(table) is outside_connection for table in tables.values())
    assert opened_connections == []
    assert settings_of(outside_connection) == before


def test_when_a_requested_table_is_absent_then_the_error_lists_the_tables_found(tmp_path: Path):
    tables = tiny_tables()
    del tables["orders"]
    folder = write_tables(tmp_path, tables)

    with pytest.raises(DataFileError, match=r"table 'orders' not found \(looked for orders.parquet") as raised:
        load_tables(folder, tables=["orders"])
    assert (raised.value.file, raised.value.value, raised.value.valid) == (
        str(folder),
        "orders",
        ["events", "markets", "sellers"],
    )
