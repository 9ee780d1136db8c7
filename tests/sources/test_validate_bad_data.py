"""Bad data that used to pass: empty tables, markets without events, moments after the run, unreadable CSV lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.errors import DataFileError, ValidationError
from analysis.sources import load_tables, validate_data_dir
from analysis.sources.files import engine_cause

RUN_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)  # after every moment of the tiny data


def test_when_the_events_table_has_no_rows_then_validation_names_it(tmp_path: Path):
    tables = tiny_tables()
    tables["events"] = tables["events"].iloc[0:0]
    tables["orders"] = tables["orders"].iloc[0:0]
    folder = write_tables(tmp_path, tables)

    report = validate_data_dir(folder, now=RUN_TIME)

    empty = [str(v) for v in report.violations if v.problem == "the table has no rows"]
    assert empty == [
        f"{folder / 'events.parquet'}: the table has no rows. Valid: at least one events row.",
        f"{folder / 'orders.parquet'}: the table has no rows. Valid: at least one orders row.",
    ]
    assert report.rows["events"] == 0
    assert not report.ok
    with pytest.raises(ValidationError, match=r"events.parquet: the table has no rows"):
        report.raise_if_invalid(tables=["events"])


def test_when_a_market_has_no_events_then_a_warning_names_it_and_the_data_stay_valid(tmp_path: Path):
    tables = tiny_tables()
    extra = pd.DataFrame({"market": ["IT", "AT"], "name": ["Italy", "Austria"], "region": ["Europe"] * 2})
    tables["markets"] = pd.concat([tables["markets"], extra.assign(currency="EUR")], ignore_index=True)
    folder = write_tables(tmp_path, tables)

    report = validate_data_dir(folder, now=RUN_TIME)

    assert report.ok
    (warning,) = report.warnings
    assert (warning.table, warning.column, warning.count, warning.unit) == ("markets", "market", 2, "markets")
    assert warning.problem.startswith("2 market(s) have no events: AT, IT;")
    assert "1 warning(s):" in report.to_text()
    assert "All contract checks passed." in report.to_text()
    report.raise_if_invalid()  # a warning never stops a report


def test_when_events_and_orders_are_dated_after_the_run_time_then_each_is_a_counted_problem(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[[0, 1, 2], "event_time"] = pd.Timestamp("2031-01-05T10:00:00Z")
    tables["orders"].loc[0, "order_time"] = pd.Timestamp("2025-03-01T12:00:01Z")  # one second after the run
    folder = write_tables(tmp_path, tables)

    report = validate_data_dir(folder, now=RUN_TIME)

    found = {(v.table, v.column, v.count): str(v) for v in report.violations}
    assert found == {
        ("events", "event_time", 3): (
            f"{folder / 'events.parquet'}, column 'event_time': is dated after the run time (2025-03-01 12:00 UTC) "
            "in 3 rows; e.g. '2031-01-05T10:00:00+00:00'. Valid: times up to 2025-03-01 12:00 UTC."
        ),
        ("orders", "order_time", 1): (
            f"{folder / 'orders.parquet'}, column 'order_time': is dated after the run time (2025-03-01 12:00 UTC) "
            "in 1 rows; e.g. '2025-03-01T12:00:01+00:00'. Valid: times up to 2025-03-01 12:00 UTC."
        ),
    }


def test_when_the_run_time_is_not_given_then_moments_are_checked_against_the_clock(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[0, "event_time"] = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=400)
    (violation,) = validate_data_dir(write_tables(tmp_path, tables)).violations

    assert (violation.column, violation.count) == ("event_time", 1)
    assert validate_data_dir(write_tables(tmp_path / "clean", tiny_tables())).ok


def write_markets_csv(folder: Path, extra_line: bytes) -> Path:
    folder = write_tables(folder, tiny_tables())
    with (folder / "markets.csv").open("ab") as markets:
        markets.write(extra_line)
    return folder


def test_when_a_csv_line_is_too_long_then_the_engine_sentence_and_the_line_are_kept(tmp_path: Path):
    folder = write_markets_csv(tmp_path, b"IT," + b"x" * 2_100_000 + b",Europe,EUR\n")

    report = validate_data_dir(folder, now=RUN_TIME)

    (violation,) = report.violations
    assert violation.file == str(folder / "markets.csv")
    # markets.csv: header, DE, FR, then the long line 4 (DuckDB's sniffer says line 1; the reader corrects it)
    assert violation.problem == (
        "cannot be read as csv (Invalid Input Error: CSV Error on Line: 4. Maximum line size of 2000000 bytes "
        "exceeded. Actual Size:2100015 bytes.)"
    )  # 3 + 2,100,000 + 11 bytes and the line break
    assert "xxxx" not in str(violation)


def test_when_a_csv_is_not_utf8_then_the_encoding_sentence_and_the_line_are_kept(tmp_path: Path):
    folder = write_markets_csv(tmp_path, b"IT,It\xe0lia,Europe,EUR\n")

    (violation,) = validate_data_dir(folder, now=RUN_TIME).violations

    assert violation.problem == (
        "cannot be read as csv (Invalid Input Error: CSV Error on Line: 4. Invalid unicode (byte sequence mismatch) "
        "detected. This file is not utf-8 encoded.)"
    )
    with pytest.raises(DataFileError, match=r"markets.csv: cannot be read as csv \(.*Line: 4. Invalid unicode"):
        load_tables(folder)


def test_when_a_bad_byte_sits_past_the_sniffed_sample_then_validation_still_finds_it(tmp_path: Path):
    # DuckDB counts CSV rows without decoding them: validation must read every column to meet the bad byte.
    lines = b"".join(f"Q{i % 10},Name {i},Europe,EUR\n".encode() for i in range(25_000))
    folder = write_markets_csv(tmp_path, lines + b"IT,It\xe0lia,Europe,EUR\n")

    (violation,) = [v for v in validate_data_dir(folder, now=RUN_TIME).violations if v.column is None]

    assert "CSV Error on Line: 25004. Invalid unicode" in violation.problem


def test_when_the_engine_quotes_the_offending_line_then_the_quote_is_dropped():
    message = (
        "Invalid Input Error: CSV Error on Line: 7\n"
        "Original Line: o-u1-0001,u1,S1,DE\n"
        "Invalid unicode (byte sequence mismatch) detected. This file is not utf-8 encoded.\n"
        "\n"
        "Possible Solution: Set the correct encoding\n"
        "  file = orders.csv\n"
    )

    assert engine_cause(RuntimeError(message)) == (
        "Invalid Input Error: CSV Error on Line: 7. Invalid unicode (byte sequence mismatch) detected. This file is "
        "not utf-8 encoded."
    )
    assert engine_cause(RuntimeError("")) == "RuntimeError"


def test_when_a_problem_is_raised_then_the_message_names_files_inside_the_data_folder(tmp_path: Path):
    tables = tiny_tables()
    tables["orders"].loc[0, "amount"] = 0.0
    folder = write_tables(tmp_path / "client-extract", tables)

    with pytest.raises(ValidationError) as raised:
        validate_data_dir(folder, now=RUN_TIME).raise_if_invalid()

    assert str(raised.value) == (
        "1 data problem(s) in the data folder 'client-extract':\n"
        "  - orders.parquet, column 'amount': has values too small in 1 rows; e.g. 0.0. Valid: greater than 0."
    )
    assert str(tmp_path) not in str(raised.value)
    assert raised.value.file == str(folder)
