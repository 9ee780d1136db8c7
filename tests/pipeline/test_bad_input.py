"""Bad input end to end: the real data-overview notebook on broken data fails with a clear error, other runs survive."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.config import NOTEBOOKS_DIR
from analysis.pipeline import ConfigError, load_run_config, run_reports

pytestmark = pytest.mark.slow


def config_file(root: Path, data_dir: Path, markets: list[str]) -> Path:
    path = root / "workbook.yml"
    path.write_text(
        f"data_dir: {data_dir}\n"
        f"reports_dir: {root / 'reports'}\n"
        f"notebooks_dir: {NOTEBOOKS_DIR}\n"
        "period: {start: 2025-01-01, end: 2025-02-28}\n"
        f"markets: [{', '.join(markets)}]\n"
        "notebooks:\n"
        "  - notebook: data_overview\n"
        "    per_market: true\n"
    )
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_when_data_breaks_the_contract_then_the_report_fails_clearly_and_earlier_reports_survive(tmp_path: Path):
    good = write_tables(tmp_path / "good", tiny_tables())
    first = run_reports(load_run_config(config_file(tmp_path, good, ["DE", "FR"])), progress=lambda _: None)
    assert [r.status for r in first.results] == ["ok", "ok"]
    kept = {path: digest(path) for path in first.run_dir.rglob("*") if path.is_file()}

    broken = tiny_tables()
    broken["events"] = broken["events"].drop(columns="device")  # a missing column
    broken["events"].loc[1, "event_name"] = "checkout_started"  # an unknown event name
    folder = write_tables(tmp_path / "broken", broken)
    (folder / "orders.parquet").write_bytes(b"PAR1 truncated")  # a corrupt file
    second = run_reports(load_run_config(config_file(tmp_path, folder, ["DE"])), progress=lambda _: None)

    (result,) = second.results
    assert result.status == "failed"
    assert result.error.ename == "ValidationError"  # raise_if_invalid: every violation of the contract at once
    message = result.error.evalue
    assert "events.parquet, column 'device': column is missing" in message
    assert "column 'event_name': has unknown values in 1 rows; e.g. 'checkout_started'" in message
    assert "orders.parquet: cannot be read as parquet" in message
    assert str(tmp_path) not in message  # a folder outside the project is named, not located
    assert "checkout_started" in result.html_path.read_text()  # the reviewer sees the error in the HTML view
    assert {path: digest(path) for path in kept} == kept  # the earlier run is untouched


def test_when_a_market_is_unknown_then_the_run_is_refused_before_any_kernel_starts(tmp_path: Path):
    good = write_tables(tmp_path / "good", tiny_tables())
    with pytest.raises(ConfigError, match=r"markets\[1\]: 'JP' is not in the markets table"):
        load_run_config(config_file(tmp_path, good, ["DE", "JP"]))
    assert not (tmp_path / "reports").exists()
