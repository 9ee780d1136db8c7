"""The validation stored by prepare_data: equal to a check made now, bad data's problems kept, ids still withheld."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.errors import ValidationError
from analysis.sources import load_tables, open_events, prepare_data, validate_data_dir
from analysis.sources.validate import check_data_dir


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("WORKBOOK_CACHE_DIR", str(folder))
    return folder


def _facts(report) -> dict:
    """Everything a report says except when it was checked and whether it was stored."""
    facts = asdict(report)
    facts.pop("validated_at")
    facts.pop("cached")
    return facts


@pytest.fixture
def bad_data_dir(tmp_path: Path) -> Path:
    """Unknown event names, a duplicated order id, an order of an unknown seller, a market without events."""
    tables = tiny_tables()
    tables["events"].loc[[1, 2], "event_name"] = "checkout_started"
    tables["orders"].loc[2, "order_id"] = "o1"
    tables["orders"].loc[1, "seller_id"] = "S9"
    tables["markets"].loc[2] = ["NL", "Netherlands", "Europe", "EUR"]
    return write_tables(tmp_path / "bad", tables)


def test_when_a_prepared_folder_is_validated_then_the_stored_result_equals_a_check_made_now(
    tiny_data_dir: Path, cache_dir
):
    now = check_data_dir(tiny_data_dir)
    prepared = prepare_data(tiny_data_dir)

    stored = validate_data_dir(tiny_data_dir)

    assert (stored.cached, now.cached) == (True, False)
    assert stored.validated_at == prepared.validation.validated_at
    assert _facts(stored) == _facts(now)
    assert stored.ok and stored.rows == {"events": 12, "orders": 3, "sellers": 3, "markets": 2}
    assert "Checked at" in stored.to_text() and "stored result" in stored.to_text()


def test_when_the_data_break_the_contract_then_the_stored_result_keeps_every_problem_and_warning(
    bad_data_dir: Path, cache_dir
):
    now = check_data_dir(bad_data_dir)
    prepared = prepare_data(bad_data_dir)

    stored = validate_data_dir(bad_data_dir)

    assert stored.cached
    assert _facts(stored) == _facts(now)
    assert [(v.table, v.column, v.count) for v in stored.violations] == [
        ("events", "event_name", 2),
        ("orders", "order_id", 1),
        ("orders", "seller_id", 1),
    ]
    assert stored.violations[0].examples == ("checkout_started",)
    assert stored.violations[1].withheld and stored.violations[1].examples == ()  # order ids never shown
    assert [w.problem.split(":")[0] for w in stored.warnings] == ["1 market(s) have no events"]
    # events breaking the contract are not copied: readers read the data folder and the funnel still refuses them
    assert prepared.events is None and "break the contract" in prepared.events_note
    assert load_tables(bad_data_dir, tables=["events"])["events"].count().execute() == 12
    with pytest.raises(ValidationError, match="event_name"):
        open_events(bad_data_dir)


@pytest.mark.parametrize("tables", [["events"], ["orders"], ["markets"], ["sellers", "orders"]])
def test_when_some_tables_are_asked_for_then_the_stored_result_says_what_a_check_of_them_says(
    bad_data_dir: Path, cache_dir, tables
):
    prepare_data(bad_data_dir)

    stored = validate_data_dir(bad_data_dir, tables=tables)

    assert stored.cached
    assert _facts(stored) == _facts(check_data_dir(bad_data_dir, tables=tables))


def test_when_the_run_time_is_before_the_stored_check_then_the_folder_is_checked_now(tiny_data_dir: Path, cache_dir):
    prepared = prepare_data(tiny_data_dir)
    at = prepared.validation.validated_at

    earlier = validate_data_dir(tiny_data_dir, now=at - timedelta(days=1))
    later = validate_data_dir(tiny_data_dir, now=datetime.now(UTC) + timedelta(days=1))

    assert (earlier.cached, later.cached) == (False, True)
    assert earlier.validated_at == at - timedelta(days=1)


def test_when_a_file_changed_after_preparing_then_validation_checks_the_new_files(tiny_data_dir: Path, cache_dir):
    prepare_data(tiny_data_dir)
    tables = tiny_tables()
    tables["events"].loc[0, "event_name"] = "checkout_started"
    write_tables(tiny_data_dir, {"events": tables["events"]})

    report = validate_data_dir(tiny_data_dir)

    assert not report.cached
    assert [(v.column, v.count) for v in report.violations] == [("event_name", 1)]


def test_when_the_folder_is_named_differently_then_the_stored_files_are_named_as_the_caller_names_them(
    tiny_data_dir: Path, cache_dir, monkeypatch
):
    prepare_data(tiny_data_dir)  # an absolute path
    monkeypatch.chdir(tiny_data_dir.parent)

    stored = validate_data_dir(Path(tiny_data_dir.name))  # the same folder, relative to the working directory

    assert stored.cached
    assert stored.data_dir == Path(tiny_data_dir.name)
    assert stored.files["events"] == str(Path(tiny_data_dir.name) / "events.parquet")
