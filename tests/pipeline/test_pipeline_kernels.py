"""Kernels of a run: a start that fails is known in seconds and tried once more, no port race, no kernel outlives its
report; the data folder is prepared once per run, before any kernel."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from helpers.pipeline_notebooks import write_notebook, write_project

import analysis.sources
from analysis.errors import DataFileError
from analysis.pipeline import load_run_config, run_reports
from analysis.pipeline.execute import make_report, report_task
from analysis.pipeline.plan import PlannedReport
from analysis.pipeline.provenance import collect_provenance
from analysis.pipeline.run import DataPreparationError

CONFIG = """\
data_dir: data
reports_dir: reports
period: {start: 2025-01-01, end: 2025-06-30}
markets: [DE]
notebooks:
  - notebook: quick
"""
QUICK = ["print(market)"]


def one_report(root: Path, name: str, cells: list[str], kernel: str | None = None) -> PlannedReport:
    path = write_notebook(root / "notebooks", name, cells)
    if kernel is not None:
        notebook = nbformat.read(path, as_version=4)
        notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
        nbformat.write(notebook, path)
    parameters = {"market": "DE", "start_date": "2025-01-01", "end_date": "2025-06-30", "data_dir": "data"}
    return PlannedReport(notebook=name, market="DE", notebook_path=path, parameters=parameters)


def make(root: Path, report: PlannedReport):
    task = report_task(report, root / "run", "2025-01-01 to 2025-06-30", collect_provenance(root, now=None))
    return make_report(task)


def test_when_the_kernel_process_exits_at_once_then_the_report_fails_in_seconds_after_one_retry(
    tmp_path: Path, monkeypatch
):
    starts = tmp_path / "starts"
    spec = tmp_path / "jupyter" / "kernels" / "exits-at-once"
    spec.mkdir(parents=True)
    exits = "import sys; open(sys.argv[1], 'a').write('start\\n'); sys.exit(3)"
    argv = [sys.executable, "-c", exits, str(starts), "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "exits", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    result = make(tmp_path, one_report(tmp_path, "dies", QUICK, kernel="exits-at-once"))

    assert result.status == "failed"
    assert "Kernel died before replying to kernel_info" in str(result.error)
    assert starts.read_text().splitlines() == ["start", "start"]  # the first start and its one retry
    assert result.seconds < 30  # against the 180 s start timeout


def test_when_a_report_runs_then_its_kernel_listens_on_unix_sockets_not_ports(tmp_path: Path):
    cell = (
        "import json\nfrom ipykernel.connect import get_connection_info\n"
        "print(json.loads(get_connection_info())['transport'])"
    )
    result = make(tmp_path, one_report(tmp_path, "transport", [cell]))

    executed = nbformat.read(result.ipynb_path, as_version=4)
    assert result.status == "ok"
    assert executed.cells[-1].outputs[0]["text"].strip() == "ipc"


def test_when_a_report_is_made_then_its_kernel_has_ended_and_its_phases_are_timed(tmp_path: Path):
    result = make(tmp_path, one_report(tmp_path, "pid", ["import os\nprint(os.getpid())"]))

    executed = nbformat.read(result.ipynb_path, as_version=4)
    kernel_pid = int(executed.cells[-1].outputs[0]["text"])
    assert kernel_pid != os.getpid()
    assert not Path(f"/proc/{kernel_pid}").exists() or _is_zombie(kernel_pid)
    assert set(result.phases) == {"kernel_start", "cells", "render"}
    assert 0 < result.phases["kernel_start"] < result.seconds
    assert result.phases["kernel_start"] + result.phases["cells"] + result.phases["render"] <= result.seconds


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path, {"quick": QUICK}, CONFIG)


def test_when_a_run_starts_then_it_prepares_its_data_folder_once_before_any_kernel(project: Path, monkeypatch):
    prepared = []
    real = analysis.sources.prepare_data

    def counting(data_dir, **options):
        prepared.append(Path(data_dir))
        return real(data_dir, **options)

    monkeypatch.setattr(analysis.sources, "prepare_data", counting)
    lines = []
    config = load_run_config(project)

    run = run_reports(config, progress=lines.append)

    assert prepared == [project.parent.resolve() / "data"]
    assert run.status == "ok"
    manifest = json.loads((run.run_dir / "run.json").read_text())
    assert manifest["data_preparation"]["state"] in ("prepared", "already prepared")
    assert "; data " in lines[0]


def test_when_the_data_folder_cannot_be_prepared_then_one_error_names_it_and_earlier_runs_stay(
    project: Path, monkeypatch
):
    config = load_run_config(project)
    earlier = run_reports(config, progress=lambda line: None)
    reports = project.parent / "reports"
    before = {path.relative_to(reports): path.read_bytes() for path in reports.rglob("*") if path.is_file()}

    def failing(data_dir, **options):
        raise DataFileError(f"{data_dir}: its files changed while it was being prepared", file=data_dir)

    monkeypatch.setattr(analysis.sources, "prepare_data", failing)
    with pytest.raises(DataPreparationError) as raised:
        run_reports(config, progress=lambda line: None)

    message = str(raised.value)
    assert message.startswith("data: the data folder could not be prepared for the run (DataFileError: ")
    assert str(project.parent) not in message  # the machine's path is not shown
    assert raised.value.file == str(project.parent.resolve() / "data")
    after = {path.relative_to(reports): path.read_bytes() for path in reports.rglob("*") if path.is_file()}
    assert after == before
    assert earlier.status == "ok"
