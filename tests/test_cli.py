"""The ``workbook`` command: a WorkbookError from any subcommand is one message on stderr and a meaningful exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis import cli
from analysis.errors import DataError, ParameterError
from analysis.pipeline import RunResult
from analysis.pipeline.execute import NotebookError, NotebookResult

CONFIG = """\
data_dir: data
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE, FR]
notebooks:
  - notebook: sales
"""


def project(tmp_path: Path, config: str = CONFIG) -> Path:
    return write_project(tmp_path, {"sales": ["print(market)"]}, config)


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    exit_code = cli.main(argv)
    captured = capsys.readouterr()
    return exit_code, captured.out, captured.err


def test_when_the_config_has_an_unknown_key_then_exit_2_and_one_line_names_it(tmp_path: Path, capsys):
    path = project(tmp_path, CONFIG + "colour: blue\n")

    exit_code, out, err = run_cli(["list", "--config", str(path)], capsys)

    assert exit_code == 2
    assert err.splitlines() == [
        f"workbook: {path}: colour: unknown key "
        "(valid here: data_dir, reports_dir, notebooks_dir, period, markets, notebooks, engine, spark, tables, "
        "chart_files)"
    ]
    assert out == ""


def test_when_the_config_has_several_problems_then_the_first_line_is_prefixed_and_the_others_indented(
    tmp_path: Path, capsys
):
    path = project(tmp_path, CONFIG.replace("[DE, FR]", "[DE, d3]") + "colour: blue\n")

    exit_code, _, err = run_cli(["run", "--config", str(path)], capsys)

    assert exit_code == 2
    assert err.splitlines() == [
        f"workbook: {path}: markets[1]: 'd3' is not an ISO 3166-1 alpha-2 market code (two letters, e.g. DE)",
        f"  {path}: colour: unknown key (valid here: data_dir, reports_dir, notebooks_dir, period, markets, notebooks, "
        "engine, spark, tables, chart_files)",
    ]
    assert not (tmp_path / "reports").exists()  # refused before anything ran


def test_when_the_selection_names_an_unconfigured_market_then_exit_2_before_anything_is_written(tmp_path: Path, capsys):
    path = project(tmp_path)

    exit_code, _, err = run_cli(["run", "--config", str(path), "--market", "JP"], capsys)

    assert exit_code == 2
    configured = "(configured: ['DE', 'FR'], or ALL)"
    assert err == f"workbook: selection: market 'JP' is not in the run configuration {configured}\n"
    assert not (tmp_path / "reports").exists()


def test_when_jobs_is_zero_then_exit_2_and_the_message_names_the_option(tmp_path: Path, capsys):
    path = project(tmp_path)

    exit_code, _, err = run_cli(["run", "--config", str(path), "--jobs", "0"], capsys)

    assert exit_code == 2
    assert err == "workbook: run_reports: jobs: 0 is not a number of worker processes (1 or more)\n"
    assert not (tmp_path / "reports").exists()


def test_when_reports_fail_then_exit_1_and_stderr_names_each_failed_report(tmp_path: Path, capsys, monkeypatch):
    path = project(tmp_path)
    failed = NotebookResult("sales", "FR", "failed", None, None, 0.5, NotebookError("KeyError", "'x'", 3))
    fine = NotebookResult("sales", "DE", "ok", None, None, 0.4)
    run = RunResult("20260101T000000Z-abcd", tmp_path / "reports" / "run", [fine, failed])
    monkeypatch.setattr("analysis.pipeline.run_reports", lambda *args, **kwargs: run)

    exit_code, out, err = run_cli(["run", "--config", str(path)], capsys)

    assert exit_code == 1
    assert out == f"reports: {run.run_dir}\n"
    assert err == "workbook: 1 report(s) failed: sales [FR]\n"


def test_when_the_reports_folder_cannot_be_created_then_exit_2_and_one_line_names_it(tmp_path: Path, capsys):
    path = project(tmp_path)
    (tmp_path / "reports").write_text("a file where the reports folder should be")

    exit_code, _, err = run_cli(["run", "--config", str(path)], capsys)

    assert exit_code == 2
    assert err == f"workbook: {tmp_path / 'reports'}: the reports folder cannot be written (File exists)\n"


def test_when_the_data_dir_is_missing_then_validate_exits_1_with_the_reason_and_no_traceback(tmp_path: Path, capsys):
    exit_code, out, err = run_cli(["validate", str(tmp_path / "nowhere")], capsys)

    assert exit_code == 1
    assert "no such data directory" in out
    assert "Traceback" not in out + err


@pytest.mark.parametrize(("error", "expected_code"), [(DataError("bad rows"), 1), (ParameterError("bad seed"), 2)])
def test_when_any_subcommand_raises_a_workbook_error_then_main_prints_it_and_returns_its_exit_code(
    tmp_path: Path, capsys, monkeypatch, error, expected_code
):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("analysis.sources.demo.write_demo_data", fail)

    exit_code, _, err = run_cli(["demo-data", "--out", str(tmp_path)], capsys)

    assert exit_code == expected_code
    assert err == f"workbook: {error.message}\n"


def test_when_a_subcommand_fails_with_a_bug_then_the_traceback_is_kept(tmp_path: Path, monkeypatch):
    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("analysis.sources.demo.write_demo_data", bug)

    with pytest.raises(ZeroDivisionError):
        cli.main(["demo-data", "--out", str(tmp_path)])


def test_when_the_command_runs_as_a_program_then_a_missing_config_is_one_line_and_exit_2(tmp_path: Path):
    missing = tmp_path / "missing.yml"

    finished = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "list", "--config", str(missing)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 2
    assert finished.stderr == f"workbook: {missing}: file not found\n"
    assert finished.stdout == ""
