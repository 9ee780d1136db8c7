"""Broken runs: a killed or stopped run leaves no process and no temporary file, and the next run says what happened."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers.pipeline_notebooks import write_project

from analysis.pipeline import load_run_config, run_reports

pytestmark = pytest.mark.slow

CONFIG = """\
data_dir: data
reports_dir: reports
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE, FR]
notebooks:
  - notebook: sleeper
  - notebook: quick
"""
SLEEPER = ["import time\ntime.sleep(300)"]
QUICK = ["print(market)"]


def project(root: Path) -> Path:
    return write_project(root, {"sleeper": SLEEPER, "quick": QUICK}, CONFIG)


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live, non-zombie process whose environment carries ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"WORKBOOK_TEST_MARKER={marker}".encode() not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append((int(entry.name), command))
    return found


def start_run(config: Path, marker: str) -> subprocess.Popen:
    environment = os.environ | {"WORKBOOK_TEST_MARKER": marker}
    return subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", "run", "--config", str(config), "--notebook", "sleeper", "--jobs", "2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_kernels(marker: str, count: int, timeout: float = 180.0) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        processes = marked_processes(marker)
        if sum("ipykernel" in command for _, command in processes) >= count:
            return processes
        time.sleep(0.5)
    raise AssertionError(f"{count} kernels did not start within {timeout} s: {marked_processes(marker)}")


def wait_until_gone(marker: str, timeout: float) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    while (alive := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return alive


def only_manifest(reports: Path) -> dict:
    (path,) = reports.glob("*/run.json")
    return json.loads(path.read_text())


def partial_files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*partial*"))


def test_when_the_run_process_is_killed_then_no_worker_or_kernel_survives(tmp_path: Path):
    config = project(tmp_path)
    marker = uuid.uuid4().hex
    run = start_run(config, marker)
    try:
        processes = wait_for_kernels(marker, 2)
        assert len(processes) >= 5  # the run, two workers, two kernels
        run.kill()
        run.wait(timeout=30)

        survivors = wait_until_gone(marker, timeout=5.0)
    finally:
        for pid, _ in marked_processes(marker):  # never leave them running, even when the test fails
            os.kill(pid, signal.SIGKILL)

    assert survivors == []


def test_when_a_run_was_killed_then_the_next_run_marks_it_interrupted_and_removes_its_partial_files(tmp_path: Path):
    config = project(tmp_path)
    marker = uuid.uuid4().hex
    run = start_run(config, marker)
    try:
        wait_for_kernels(marker, 2)
        dead = only_manifest(tmp_path / "reports")
        run.kill()
        run.wait(timeout=30)
        wait_until_gone(marker, timeout=5.0)
    finally:
        for pid, _ in marked_processes(marker):
            os.kill(pid, signal.SIGKILL)
    dead_dir = tmp_path / "reports" / dead["run_id"]
    assert json.loads((dead_dir / "run.json").read_text())["status"] == "running"  # as the killed run left it
    assert partial_files(dead_dir)  # papermill's output in progress

    following = run_reports(load_run_config(config), notebooks=["quick"], markets=["de"], progress=lambda _: None)

    settled = json.loads((dead_dir / "run.json").read_text())
    assert settled["status"] == "interrupted"
    assert following.run_id in settled["interrupted"]
    assert partial_files(tmp_path / "reports") == []
    top = (tmp_path / "reports" / "index.html").read_text()
    assert f'<a href="{dead["run_id"]}/index.html">{dead["run_id"]}</a></td><td>interrupted</td>' in top
    assert (dead_dir / "index.html").is_file()  # the listed run's link leads somewhere


def test_when_the_run_gets_sigterm_then_it_ends_cleanly_as_interrupted(tmp_path: Path):
    config = project(tmp_path)
    marker = uuid.uuid4().hex
    run = start_run(config, marker)
    try:
        wait_for_kernels(marker, 2)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
        survivors = wait_until_gone(marker, timeout=5.0)
    finally:
        for pid, _ in marked_processes(marker):
            os.kill(pid, signal.SIGKILL)

    assert run.returncode == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    assert survivors == []
    manifest = only_manifest(tmp_path / "reports")
    assert manifest["status"] == "interrupted"
    assert [(r["market"], r["status"]) for r in manifest["results"]] == [("DE", "interrupted"), ("FR", "interrupted")]
    assert partial_files(tmp_path / "reports") == []
    assert "interrupted" in (tmp_path / "reports" / "index.html").read_text()


def _read_only(folder: Path) -> None:
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return
    chattr = shutil.which("chattr")  # root ignores permissions; an immutable folder refuses even root
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot make a read-only folder")


def _writable(folder: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run([shutil.which("chattr"), "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


def test_when_the_reports_folder_is_read_only_then_one_line_and_exit_2(tmp_path: Path):
    config = project(tmp_path)
    reports = tmp_path / "reports"
    reports.mkdir()
    _read_only(reports)
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "analysis.cli", "run", "--config", str(config), "--notebook", "quick"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        _writable(reports)

    assert finished.returncode == 2
    (line,) = finished.stderr.splitlines()
    assert line.startswith(f"workbook: {reports}: the reports folder cannot be written (")
    assert list(reports.iterdir()) == []
