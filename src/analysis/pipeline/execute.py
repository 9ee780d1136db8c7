"""Executing the planned notebooks with Papermill in a pool of worker processes, one report per task.

Each worker executes one (notebook, market) in a fresh kernel, then renders its HTML in the same process,
so the HTML exporter is built once per worker rather than once per report. A failing notebook is kept
(executed up to the error, with an HTML view of the error) and does not stop the others. A kernel that fails to
start (no reply in time, a port already in use) is started once more before its report fails.

Kernels run with the project root as working directory, where a relative ``data_dir`` parameter points. What a
worker writes carries no absolute path of the machine (:class:`~analysis.pipeline.paths.PathScrubber`), and an
error is shown as its name and message under the source of the failing cell, not as a traceback into the
installed packages.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import time
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from analysis.config import KERNEL_NAME, PROJECT_ROOT
from analysis.pipeline.charts import keep_charts_beside
from analysis.pipeline.engine import kernel_environment
from analysis.pipeline.files import path_inside, safe_name, temporary_sibling, write_atomically
from analysis.pipeline.kernel_forks import fork_server
from analysis.pipeline.kernels import ReportKernelManager, finish_exits
from analysis.pipeline.paths import PathScrubber
from analysis.pipeline.plan import PlannedReport
from analysis.pipeline.provenance import Provenance
from analysis.pipeline.render import ReportHeader, error_notebook, notebook_title, render_report
from analysis.pipeline.workers import RunStopped, die_with_parent, ignore_stop_signals, stop_workers

# Kernels start slowly when both cores are busy executing other notebooks.
KERNEL_START_TIMEOUT_SECONDS = 180
# Per cell: a generous bound for queries over tens of millions of events, so a hung cell cannot hang the run.
CELL_TIMEOUT_SECONDS = 3600
# The kernel's own log (transport warnings, "KeyboardInterrupt caught" at shutdown) would drown the progress
# lines; errors in the notebook are reported through its outputs, crashes through the worker.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
OK, FAILED, INTERRUPTED = "ok", "failed", "interrupted"
# How jupyter_client, nbclient and ZeroMQ say a kernel never came up; such a start is tried once more.
KERNEL_START_FAILURE = re.compile(
    r"Kernel didn't respond|Kernel died before replying to kernel_info|Address already in use|"
    r"Timeout waiting for kernel|kernel_info",
    re.IGNORECASE,
)
KERNEL_START_ATTEMPTS = 2


@dataclass(frozen=True)
class NotebookError:
    """Why a report failed: the exception's name and value and, for a failing cell, its execution count."""

    ename: str
    evalue: str
    execution_count: int | None = None

    def __str__(self) -> str:
        where = f" (in cell In [{self.execution_count}])" if self.execution_count is not None else ""
        return f"{self.ename}: {self.evalue}{where}"


@dataclass
class NotebookResult:
    """The outcome of one report.

    Attributes
    ----------
    notebook, market
        which report (market ``ALL`` for run-once notebooks).
    status
        ``"ok"``, ``"failed"`` or ``"interrupted"`` (the run stopped before the report finished).
    html_path, ipynb_path
        the rendered report and the executed notebook (kept for failures too; None if never written).
    seconds
        wall time of execution and rendering.
    error
        why it failed; None when it did not.
    phases
        seconds spent, by phase: ``kernel_start`` (from the report's start to its first cell),
        ``cells`` (the cells' own run times, as papermill records them), ``render`` (writing the executed
        notebook and the HTML page); a phase not reached is absent.
    """

    notebook: str
    market: str
    status: str
    html_path: Path | None
    ipynb_path: Path | None
    seconds: float
    error: NotebookError | None = None
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportTask:
    """Everything a worker needs to make one report (picklable)."""

    report: PlannedReport
    ipynb_path: Path
    html_path: Path
    period: str
    provenance: Provenance
    scrubber: PathScrubber = field(default_factory=PathScrubber.for_run)


@dataclass
class PoolOutcome:
    """Results of the tasks in plan order, and whether the run was interrupted."""

    results: list[NotebookResult] = field(default_factory=list)
    interrupted: bool = False
    stop_signal: int | None = None


def report_task(
    report: PlannedReport,
    run_dir: Path,
    period: str,
    provenance: Provenance,
    scrubber: PathScrubber | None = None,
) -> ReportTask:
    """The task for ``report``, writing ``<run_dir>/<notebook>/<market>.ipynb`` and ``.html``.

    ``scrubber`` removes the machine's paths from what the report shows (the project's and Python's when None).

    Raises
    ------
    UnsafePathError
        if the notebook or market name would put a file outside ``run_dir``.
    """
    notebook = safe_name(report.notebook, what="notebook")
    market = safe_name(report.market, what="market")
    return ReportTask(
        report=report,
        ipynb_path=path_inside(run_dir, notebook, f"{market}.ipynb"),
        html_path=path_inside(run_dir, notebook, f"{market}.html"),
        period=period,
        provenance=provenance,
        scrubber=scrubber or PathScrubber.for_run(),
    )


def make_report(task: ReportTask) -> NotebookResult:
    """Execute ``task``'s notebook and render its HTML report; a notebook error is returned, not raised."""
    started = time.perf_counter()
    started_at = time.time()
    report = task.report
    task.ipynb_path.parent.mkdir(parents=True, exist_ok=True)
    partial = temporary_sibling(task.ipynb_path)
    try:  # the kernel ends while the report is written and rendered; it never outlives the report
        try:
            error = _execute(task, partial)
            executed = _saved_or_error_notebook(partial, error) if error else nbformat.read(partial, as_version=4)
            rendering = time.perf_counter()
            phases = cell_phases(executed, started_at)
            # charts as files beside the report, before scrubbing paths from text (a PNG's base64 is not text)
            executed = keep_charts_beside(executed, task.ipynb_path)
            failing_cell = _show_errors_plainly(executed, task.scrubber)
            _scrub_paths(executed, task.scrubber)
            write_atomically(task.ipynb_path, nbformat.writes(executed))
        finally:
            partial.unlink(missing_ok=True)
        if error is not None:
            error = NotebookError(error.ename, task.scrubber(error.evalue), error.execution_count)
        html_path = _render(task, executed, error, failing_cell)
        phases["render"] = round(time.perf_counter() - rendering, 3)
    finally:
        finish_exits()
    return NotebookResult(
        notebook=report.notebook,
        market=report.market,
        status=OK if error is None else FAILED,
        html_path=html_path,
        ipynb_path=task.ipynb_path,
        seconds=round(time.perf_counter() - started, 3),
        error=error,
        phases=phases,
    )


def cell_phases(executed: nbformat.NotebookNode, started_at: float) -> dict[str, float]:
    """``kernel_start`` and ``cells`` seconds from papermill's timings in ``executed`` (see :class:`NotebookResult`).

    ``started_at`` is the report's start as a POSIX timestamp.
    """
    timings = [cell.metadata.get("papermill", {}) for cell in executed.cells if cell.cell_type == "code"]
    phases = {}
    first_start = next((timing["start_time"] for timing in timings if timing.get("start_time")), None)
    if first_start is not None:
        phases["kernel_start"] = round(_timestamp(first_start) - started_at, 3)
    durations = [timing.get("duration") for timing in timings]
    if any(duration is not None for duration in durations):
        phases["cells"] = round(sum(duration or 0.0 for duration in durations), 3)
    return phases


def _timestamp(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


def _execute(task: ReportTask, output: Path) -> NotebookError | None:
    """Run the notebook into ``output`` with papermill; the error, if any. A kernel that fails to start gets a
    second try."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    report = task.report
    source = nbformat.read(report.notebook_path, as_version=4)
    kernel_name = source.metadata.get("kernelspec", {}).get("name") or KERNEL_NAME
    error = None
    for _ in range(KERNEL_START_ATTEMPTS):
        try:
            with kernel_environment(report.environment):  # the kernel inherits it (the Spark settings of a run)
                papermill.execute_notebook(
                    report.notebook_path,
                    output,
                    parameters=report.parameters,
                    kernel_name=kernel_name,
                    cwd=PROJECT_ROOT,  # a relative data_dir is relative to the project root
                    progress_bar=False,
                    # one write when the notebook ends (or fails), not two per cell: the run shows no partial notebooks
                    request_save_on_cell_execute=False,
                    kernel_manager_class=ReportKernelManager,
                    start_timeout=KERNEL_START_TIMEOUT_SECONDS,
                    execution_timeout=CELL_TIMEOUT_SECONDS,
                    extra_arguments=KERNEL_ARGUMENTS,
                )
            return None
        except PapermillExecutionError as failure:
            return NotebookError(failure.ename, failure.evalue, failure.exec_count)
        except Exception as failure:  # kernel died, timed out, could not start: the report says which
            error = NotebookError(type(failure).__name__, str(failure))
            if not kernel_did_not_start(failure):
                return error
    return error


def kernel_did_not_start(failure: BaseException) -> bool:
    """Whether ``failure`` says the kernel never came up (worth one more try), rather than that a cell failed."""
    name = type(failure).__name__
    return name in ("ZMQError", "TimeoutError") or bool(KERNEL_START_FAILURE.search(str(failure)))


def _show_errors_plainly(notebook: nbformat.NotebookNode, scrub: PathScrubber) -> str | None:
    """Cut each error output to ``<name>: <message>`` (no frames in src/ or .venv/, no colour codes); return the
    source of the first failing cell, or None when no cell failed."""
    failing = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["evalue"] = scrub(str(output.get("evalue", "")))
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output['evalue']}"]
                failing = failing if failing is not None else scrub(cell.source)
    return failing


def _scrub_paths(notebook: nbformat.NotebookNode, scrub: PathScrubber) -> None:
    """Remove the machine's paths from outputs, papermill's metadata and the injected parameters.

    A data folder outside the project reaches the kernel as an absolute path in papermill's injected-parameters cell;
    once the notebook has run, that cell names the folder as the report header does, so the executed notebook, a
    deliverable, holds no path of this machine (re-running it means pointing ``data_dir`` at the folder again).
    """
    for cell in notebook.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = scrub(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrub(output["text"])
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    output["data"][mime] = scrub.scrub_value(value)
    if "papermill" in notebook.metadata:
        notebook.metadata["papermill"] = scrub.scrub_value(notebook.metadata["papermill"])


def _saved_or_error_notebook(partial: Path, error: NotebookError) -> nbformat.NotebookNode:
    """The notebook papermill saved before failing, or one showing the error if nothing usable was saved."""
    try:
        return nbformat.read(partial, as_version=4)
    except Exception:  # empty or cut-off file: the kernel never ran a cell
        return error_notebook(error.ename, error.evalue, "The notebook could not be executed.")


def _render(
    task: ReportTask, executed: nbformat.NotebookNode, error: NotebookError | None, failing_cell: str | None
) -> Path:
    report = task.report
    header = ReportHeader(
        title=notebook_title(executed, default=report.notebook),
        notebook=report.notebook,
        market=report.market,
        period=task.period,
        parameters=task.scrubber.scrub_value(report.parameters),
        provenance=task.provenance,
        failure=str(error) if error else None,
        failing_cell=failing_cell if error else None,
    )
    try:
        page = render_report(executed, header)
    except Exception as failure:  # an output nbconvert cannot render must not cost the whole report
        reason = task.scrubber(f"{type(failure).__name__}: {failure}")
        page = render_report(error_notebook("RenderError", reason), header)
    write_atomically(task.html_path, page)
    return task.html_path


def _prepare_worker() -> None:
    die_with_parent()
    ignore_stop_signals()
    # debugpy in the kernel warns about frozen modules on every start unless told not to validate them.
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    import papermill  # noqa: F401 - imported once per worker, not once per report

    from analysis.pipeline.render import report_exporter

    report_exporter()


def run_in_pool(tasks: list[ReportTask], jobs: int, on_result: Any) -> PoolOutcome:
    """Run ``tasks`` on ``jobs`` processes, calling ``on_result(result, done, total)`` as each finishes.

    A crashed worker marks its task as failed; Ctrl-C or SIGTERM (raised as ``KeyboardInterrupt`` in the main
    thread) stops the workers and marks the unfinished tasks as interrupted, keeping the finished ones.
    """
    results: dict[int, NotebookResult] = {}
    outcome = PoolOutcome()
    # fork, not spawn: workers inherit the already imported papermill and nbconvert, which saves each
    # worker seconds of start-up (4 tiny reports on 2 workers: 3.7 s with fork, 19 s with forkserver).
    # Workers never use what other parent threads may hold (the DuckDB of config validation), so forking
    # is safe here; the start method is explicit because Python 3.14 changes the default.
    context = multiprocessing.get_context("fork")
    with (
        fork_server(KERNEL_NAME),  # before the workers fork: they inherit it
        ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_prepare_worker) as pool,
    ):
        futures: dict[Future, int] = {pool.submit(make_report, task): index for index, task in enumerate(tasks)}
        try:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool as failure:
                    result = _not_made(tasks[index], NotebookError("WorkerCrashed", str(failure)))
                except Exception as failure:  # a bug in the pipeline itself: record it, keep the others
                    result = _not_made(tasks[index], NotebookError(type(failure).__name__, str(failure)))
                results[index] = result
                on_result(result, len(results), len(tasks))
        except KeyboardInterrupt as stop:
            outcome.interrupted = True
            outcome.stop_signal = stop.signal_number if isinstance(stop, RunStopped) else int(signal.SIGINT)
            pool.shutdown(wait=False, cancel_futures=True)
            stop_workers()
    for index, task in enumerate(tasks):
        stopped = NotebookError("Interrupted", "the run was stopped before this report finished")
        outcome.results.append(results.get(index) or _not_made(task, stopped, INTERRUPTED))
    return outcome


def _not_made(task: ReportTask, error: NotebookError, status: str = FAILED) -> NotebookResult:
    ipynb = task.ipynb_path if task.ipynb_path.exists() else None
    html = task.html_path if task.html_path.exists() else None
    return NotebookResult(task.report.notebook, task.report.market, status, html, ipynb, 0.0, error)
