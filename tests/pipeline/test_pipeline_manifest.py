"""Settling dead runs and choosing the run the top index shows, on manifests written by hand."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis import cli
from analysis.pipeline.index import coverage, run_to_show
from analysis.pipeline.manifest import is_dead, process_identity, settle_dead_runs


def finished_pid() -> int:
    """The pid of a process that has ended (and been reaped), so nothing runs under it now."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def write_run(reports: Path, run_id: str, **fields) -> Path:
    folder = reports / run_id
    folder.mkdir(parents=True)
    manifest = {"run_id": run_id, "status": "running", "host": socket.gethostname(), "results": []} | fields
    (folder / "run.json").write_text(json.dumps(manifest))
    return folder


def test_when_a_running_run_has_no_live_process_then_it_is_dead(tmp_path: Path):
    me = process_identity()

    assert is_dead({"status": "running", **me}) is False
    assert is_dead({"status": "running", **me, "pid": finished_pid()}) is True
    assert is_dead({"status": "running", **me, "process_started": -1}) is (me["process_started"] is not None)
    assert is_dead({"status": "running", **me, "pid": finished_pid(), "host": "another-host"}) is False
    assert is_dead({"status": "ok", "pid": finished_pid()}) is False


def test_when_a_dead_run_is_settled_then_it_is_interrupted_and_its_partial_files_are_gone(tmp_path: Path):
    reports = tmp_path / "reports"
    dead = write_run(reports, "20250101T000000Z-dead", pid=finished_pid())
    (dead / "chart").mkdir()
    (dead / "chart" / ".DE.k3j2.partial.ipynb").write_text("{")
    (dead / ".run.json.x1.partial").write_text("{")
    alive = write_run(reports, "20250101T000001Z-live", **process_identity())
    (alive / ".index.html.q9.partial").write_text("<")

    settled = settle_dead_runs(reports, by_run="20250102T000000Z-next")

    assert settled == ["20250101T000000Z-dead"]
    manifest = json.loads((dead / "run.json").read_text())
    assert manifest["status"] == "interrupted"
    assert "20250102T000000Z-next" in manifest["interrupted"]
    assert sorted(p.name for p in dead.rglob("*") if p.is_file()) == ["run.json"]
    assert (alive / ".index.html.q9.partial").exists()  # a live run's file in progress is left alone
    assert json.loads((alive / "run.json").read_text())["status"] == "running"


def manifest(run_id: str, status: str, *, full: bool) -> dict:
    plan = {"notebooks": ["a", "b"], "markets": ["DE", "FR"], "reports": 4} if full else None
    plan = plan or {"notebooks": ["a"], "markets": ["DE"], "reports": 1}
    return {"run_id": run_id, "status": status, "full_plan": full, "plan": plan}


@pytest.mark.parametrize(
    ("runs", "shown"),
    [
        ([("4", "ok", False), ("3", "failed", True), ("2", "ok", True)], "3"),  # a subset re-run does not hide it
        ([("4", "running", True), ("3", "interrupted", True), ("2", "ok", True)], "2"),
        ([("2", "ok", False), ("1", "interrupted", True)], "2"),  # no complete full run: the newest finished one
        ([("1", "running", True)], None),
    ],
)
def test_when_the_top_index_is_built_then_it_shows_the_newest_complete_run_of_the_full_plan(runs, shown):
    manifests = [manifest(run_id, status, full=full) for run_id, status, full in runs]

    chosen = run_to_show(manifests)

    assert (chosen["run_id"] if chosen else None) == shown


def test_when_a_run_is_described_then_coverage_names_a_subset_and_counts_a_full_plan():
    assert coverage(manifest("1", "ok", full=True)) == "2 notebooks × 2 markets (full plan)"
    assert coverage(manifest("1", "ok", full=False)) == "a × DE"
    # manifests written before runs recorded their plan: read from the results and the selection
    older = {"selection": {"markets": None, "notebooks": None}, "results": [{"notebook": "a", "market": "ALL"}]}
    assert coverage(older) == "1 notebook × 1 market (full plan)"


def test_when_the_reports_folder_is_full_then_one_line_names_it_and_exit_2(tmp_path: Path, capsys, monkeypatch):
    config = write_project(
        tmp_path,
        {"sales": ["print(market)"]},
        "data_dir: data\nperiod: {start: 2025-01-01, end: 2025-06-30}\nmarkets: [DE]\n"
        "notebooks:\n  - notebook: sales\n",
    )

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)

    exit_code = cli.main(["run", "--config", str(config)])

    assert exit_code == 2
    assert capsys.readouterr().err == (
        f"workbook: {tmp_path / 'reports'}: the reports folder cannot be written (No space left on device)\n"
    )
    assert list((tmp_path / "reports").rglob("*partial*")) == []
