"""Validating a data directory against the contract, in the engine: every broken rule named with file and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis import contract
from analysis.cli import main
from analysis.errors import ValidationError
from analysis.sources import validate_data_dir


def test_when_every_table_fits_the_contract_then_validation_passes_and_counts_rows(tiny_data_dir: Path):
    report = validate_data_dir(tiny_data_dir)

    assert report.ok, report.to_text()
    assert report.rows == {"events": 12, "orders": 3, "sellers": 3, "markets": 2}


def test_when_the_tiny_tables_are_checked_by_pandera_then_they_pass():
    # the engine validator and pandera read the same declarations; the fixture must satisfy both
    tables = tiny_tables()
    for name, frame in tables.items():
        contract.schema_for(name).validate(frame, lazy=True)


def test_when_a_column_is_missing_then_the_error_names_file_and_column(tmp_path: Path):
    tables = tiny_tables()
    tables["events"] = tables["events"].drop(columns="device")
    folder = write_tables(tmp_path, tables)

    report = validate_data_dir(folder)

    assert [(Path(v.file).name, v.column, v.problem) for v in report.violations] == [
        ("events.parquet", "device", "column is missing")
    ]


def test_when_an_event_name_is_unknown_then_the_error_counts_and_shows_it(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[[1, 2], "event_name"] = ["checkout_started", "checkout_started"]
    folder = write_tables(tmp_path, tables)

    (violation,) = validate_data_dir(folder).violations

    assert violation.column == "event_name"
    assert violation.count == 2
    assert violation.examples == ("checkout_started",)
    assert "add_to_cart" in violation.valid
    assert str(violation).startswith(f"{folder / 'events.parquet'}, column 'event_name': has unknown values in 2 rows")


def test_when_a_market_is_not_in_the_markets_table_then_it_is_reported_as_unknown(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[0, "market"] = "BR"
    folder = write_tables(tmp_path, tables)

    (violation,) = validate_data_dir(folder).violations

    assert (violation.column, violation.examples) == ("market", ("BR",))
    assert "unknown to table 'markets'" in violation.problem


def test_when_a_market_code_is_malformed_then_the_pattern_is_named(tmp_path: Path):
    tables = tiny_tables()
    tables["markets"].loc[1, "market"] = "fra"
    tables["events"].loc[11, "market"] = "fra"
    folder = write_tables(tmp_path, tables)

    problems = {(v.file.split("/")[-1], v.column, v.problem) for v in validate_data_dir(folder).violations}

    assert problems == {
        ("markets.csv", "market", "has values in the wrong format"),
        ("events.parquet", "market", "has values in the wrong format"),
        ("sellers.parquet", "market", "has 1 value(s) unknown to table 'markets'"),
    }


def test_when_a_file_is_corrupt_then_it_is_named_and_other_tables_are_still_checked(tmp_path: Path):
    folder = write_tables(tmp_path, tiny_tables())
    (folder / "orders.parquet").write_bytes(b"PAR1 this is not a parquet file")

    report = validate_data_dir(folder)

    (violation,) = report.violations
    assert violation.file == str(folder / "orders.parquet")
    assert violation.problem.startswith("cannot be read as parquet")
    assert report.rows["events"] == 12


def test_when_a_key_repeats_then_the_duplicated_keys_are_counted(tmp_path: Path):
    tables = tiny_tables()
    tables["markets"].loc[1, "market"] = "DE"  # market codes are not identifiers: the duplicate is quoted
    tables["events"].loc[11, "market"] = "DE"
    tables["sellers"].loc[2, "market"] = "DE"
    folder = write_tables(tmp_path, tables)

    (violation,) = validate_data_dir(folder).violations

    assert (violation.column, violation.count, violation.examples) == ("market", 1, ("DE",))
    assert violation.problem == "key is not unique: 1 market value(s) occur more than once"


def test_when_values_are_empty_or_out_of_range_then_each_rule_is_reported(tmp_path: Path):
    tables = tiny_tables()
    tables["orders"].loc[0, "amount"] = -5.0
    tables["events"].loc[3, "user_id"] = None
    folder = write_tables(tmp_path, tables)

    problems = {(v.column, v.problem, v.count) for v in validate_data_dir(folder).violations}

    assert problems == {("amount", "has values too small", 1), ("user_id", "is empty", 1)}


def test_when_event_times_have_no_time_zone_then_the_type_is_reported(tmp_path: Path):
    tables = tiny_tables()
    tables["events"]["event_time"] = tables["events"].event_time.dt.tz_localize(None)
    folder = write_tables(tmp_path, tables)

    (violation,) = validate_data_dir(folder).violations

    assert (violation.column, violation.valid) == ("event_time", "type utc_timestamp")


def test_when_the_data_directory_does_not_exist_then_the_report_says_so(tmp_path: Path):
    report = validate_data_dir(tmp_path / "nowhere")

    assert not report.ok
    assert "no such data directory" in report.violations[0].problem


def test_when_validate_runs_from_the_command_line_then_exit_status_follows_the_result(
    tiny_data_dir: Path, tmp_path: Path, capsys
):
    assert main(["validate", str(tiny_data_dir)]) == 0
    assert "All contract checks passed." in capsys.readouterr().out

    broken = tiny_tables()
    broken["events"].loc[0, "device"] = "smart fridge"
    assert main(["validate", str(write_tables(tmp_path / "broken", broken))]) == 1
    assert "'smart fridge'" in capsys.readouterr().out


def test_when_only_some_tables_matter_then_raise_if_invalid_ignores_the_others(tmp_path: Path):
    tables = tiny_tables()
    tables["orders"].loc[0, "amount"] = 0.0
    report = validate_data_dir(write_tables(tmp_path, tables))

    report.raise_if_invalid(tables=["events", "markets"])
    with pytest.raises(
        ValidationError, match=r"1 data problem\(s\) in .*\n  - .*orders.parquet, column 'amount'"
    ) as raised:
        report.raise_if_invalid(tables=["events", "orders"])
    assert [(v.table, v.column, v.count) for v in raised.value.violations] == [("orders", "amount", 1)]
    assert raised.value.file == str(report.data_dir)


def test_when_validation_is_limited_to_some_tables_then_only_they_and_their_references_are_read(tmp_path: Path):
    folder = write_tables(tmp_path, tiny_tables())
    (folder / "orders.parquet").write_bytes(b"not parquet")

    report = validate_data_dir(folder, tables=["events"])

    assert report.ok
    assert sorted(report.rows) == ["events", "markets"]  # markets: events.market refers to it


def test_when_no_connection_is_given_then_validation_opens_exactly_one(tiny_data_dir: Path, opened_connections: list):
    assert validate_data_dir(tiny_data_dir).ok

    assert len(opened_connections) == 1


def test_when_a_connection_is_given_then_validation_uses_it_and_leaves_its_settings(
    tiny_data_dir: Path, outside_connection, settings_of, opened_connections: list
):
    before = settings_of(outside_connection)

    report = validate_data_dir(tiny_data_dir, outside_connection)

    assert report.ok and report.rows["events"] == 12
    assert opened_connections == []
    assert settings_of(outside_connection) == before
