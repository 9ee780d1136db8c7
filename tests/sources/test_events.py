"""Opening the clickstream for an analysis: a data directory or a GA4 export, validated either way."""

from __future__ import annotations

import json
from pathlib import Path

import ibis
import pytest
from helpers.ga4 import ga4_rows
from helpers.tiny_data import tiny_tables, write_tables

from analysis.cli import main
from analysis.errors import ParameterError, ValidationError
from analysis.sources import open_events, validate_ga4_export


def write_ga4(folder: Path, rows: list[dict]) -> Path:
    path = folder / "events_20250303.json"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return path


def test_when_a_ga4_export_has_a_device_outside_the_contract_then_validation_names_it(tmp_path: Path):
    report = validate_ga4_export(write_ga4(tmp_path, ga4_rows()))

    assert report.rows == {"events": 3}  # scroll and first_visit are left out of the funnel vocabulary
    (violation,) = report.violations
    assert (violation.column, violation.count, violation.examples) == ("device", 1, ("unknown",))


def test_when_a_ga4_export_is_clean_then_it_opens_with_notes_on_what_was_left_out(tmp_path: Path):
    rows = [row for row in ga4_rows() if row["user_pseudo_id"] == "p1"]
    source = open_events("", ga4_export=write_ga4(tmp_path, rows))

    assert int(source.events.count().to_pandas()) == 2
    assert source.known_markets == ["DE", "ZZ"]
    assert source.notes == [
        "GA4 events outside the funnel vocabulary were left out: scroll (1).",
        "Countries without an ISO code mapping were counted as market ZZ: Atlantis (1).",
    ]


def test_when_the_ga4_flag_is_given_then_the_command_line_validates_the_export(tmp_path: Path, capsys):
    assert main(["validate", "--ga4", str(write_ga4(tmp_path, ga4_rows()))]) == 1
    assert "column 'device': has unknown values in 1 rows; e.g. 'unknown'" in capsys.readouterr().out


def test_when_a_data_directory_is_opened_then_markets_come_from_its_markets_table(tiny_data_dir: Path):
    source = open_events(tiny_data_dir)

    assert source.known_markets == ["DE", "FR"]
    with pytest.raises(
        ParameterError, match=r"market 'JP' is not in the markets table of .*; known markets: \['DE', 'FR'\]"
    ) as raised:
        source.check_market("JP")
    assert (raised.value.parameter, raised.value.value, raised.value.valid) == ("market", "JP", ["ALL", "DE", "FR"])
    source.check_market("ALL")
    source.check_market("FR")


def test_when_the_events_break_the_contract_then_opening_them_fails_with_the_column(tmp_path: Path):
    tables = tiny_tables()
    tables["events"].loc[0, "event_name"] = "checkout"
    with pytest.raises(
        ValidationError, match=r"events.parquet, column 'event_name': has unknown values in 1 rows"
    ) as raised:
        open_events(write_tables(tmp_path, tables))
    assert [(v.column, v.examples) for v in raised.value.violations] == [("event_name", ("checkout",))]


def test_when_the_events_table_is_empty_then_opening_it_fails_naming_the_empty_table(tmp_path: Path):
    tables = tiny_tables()
    tables["events"] = tables["events"].iloc[0:0]

    with pytest.raises(ValidationError, match=r"events.parquet: the table has no rows") as raised:
        open_events(write_tables(tmp_path, tables))
    assert [(v.table, v.problem) for v in raised.value.violations] == [("events", "the table has no rows")]


def test_when_no_connection_is_given_then_opening_a_data_directory_opens_exactly_one(
    tiny_data_dir: Path, opened_connections: list
):
    source = open_events(tiny_data_dir)

    assert opened_connections == [source.con]
    assert ibis.get_backend(source.events) is source.con


def test_when_no_connection_is_given_then_opening_a_ga4_export_opens_exactly_one(
    tmp_path: Path, opened_connections: list
):
    rows = [row for row in ga4_rows() if row["user_pseudo_id"] == "p1"]
    source = open_events("", ga4_export=write_ga4(tmp_path, rows))

    assert opened_connections == [source.con]
    assert ibis.get_backend(source.events) is source.con


@pytest.mark.parametrize("origin", ["data directory", "GA4 export"])
def test_when_a_connection_is_given_then_the_events_open_on_it_and_its_settings_are_untouched(
    origin: str, tiny_data_dir: Path, tmp_path: Path, outside_connection, settings_of, opened_connections: list
):
    before = settings_of(outside_connection)
    if origin == "GA4 export":
        rows = [row for row in ga4_rows() if row["user_pseudo_id"] == "p1"]
        source = open_events("", ga4_export=write_ga4(tmp_path, rows), con=outside_connection)
    else:
        source = open_events(tiny_data_dir, con=outside_connection)

    assert int(source.events.count().to_pandas()) == (2 if origin == "GA4 export" else 12)
    assert source.con is outside_connection and ibis.get_backend(source.events) is outside_connection
    assert opened_connections == []
    assert settings_of(outside_connection) == before


def test_when_a_connection_is_given_then_validating_a_ga4_export_leaves_its_settings(
    tmp_path: Path, outside_connection, settings_of, opened_connections: list
):
    before = settings_of(outside_connection)

    report = validate_ga4_export(write_ga4(tmp_path, ga4_rows()), con=outside_connection)

    assert report.rows == {"events": 3}
    assert opened_connections == []
    assert settings_of(outside_connection) == before


def test_when_the_data_hold_initiatives_then_the_source_carries_the_launches_that_went_live(tmp_path: Path):
    import pandas as pd

    tables = tiny_tables()
    tables["initiatives"] = pd.DataFrame(
        {
            "initiative_id": ["INI-1", "INI-1", "INI-1"],
            "name": ["Personalised journeys"] * 3,
            "market": ["FR", "DE", "DE"],
            "launch_date": pd.to_datetime(["2025-02-01", "2025-01-15", None]).date,
            "target_kpi": ["conversion_rate"] * 3,
            "target_low": [0.15] * 3,
            "target_high": [0.2] * 3,
        }
    ).astype({"launch_date": "object"})
    tables["initiatives"].loc[2, "initiative_id"] = "INI-2"  # planned, never launched

    source = open_events(write_tables(tmp_path, tables))

    assert [(market, str(day)[:10]) for market, day in source.launches] == [("DE", "2025-01-15"), ("FR", "2025-02-01")]
    assert open_events(write_tables(tmp_path / "none", tiny_tables())).launches == []
