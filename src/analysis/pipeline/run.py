"""A run: plan the reports, execute them in the worker pool, write the manifest and the index pages.

``reports/<run-id>/`` holds ``<notebook>/<market>.ipynb`` and ``.html`` for every planned report, ``run.json``
(its process, configuration, plan, results, provenance) and ``index.html``; ``reports/index.html`` shows the newest
complete run of the full plan and lists every run. Nothing written names an absolute path of the machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import USAGE_EXIT_CODE, DataError, ReportError
from analysis.pipeline.execute import FAILED, OK, NotebookResult, PoolOutcome, report_task, run_in_pool
from analysis.pipeline.files import safe_name, write_atomically
from analysis.pipeline.index import write_indexes
from analysis.pipeline.manifest import (
    INTERRUPTED,
    MANIFEST,
    RUNNING,
    process_identity,
    remove_partials,
    settle_dead_runs,
)
from analysis.pipeline.paths import PathScrubber, parameter_path, shown_path
from analysis.pipeline.plan import ConfigError, RunConfig, plan_reports
from analysis.pipeline.provenance import collect_provenance
from analysis.pipeline.workers import stop_signals


@dataclass
class RunResult:
    """What a run made: ``reports/<run_id>/`` and one result per (notebook, market), in plan order."""

    run_id: str
    run_dir: Path
    results: list[NotebookResult]
    interrupted: bool = False
    stop_signal: int | None = None

    @property
    def failed(self) -> list[NotebookResult]:
        """The reports that did not finish ``ok`` (failed, crashed or interrupted), in plan order."""
        return [result for result in self.results if result.status != OK]

    @property
    def status(self) -> str:
        """``"ok"`` when every report succeeded, else ``"failed"``."""
        return OK if not self.failed else FAILED


def run_reports(
    config: RunConfig,
    *,
    markets: list[str] | None = None,
    notebooks: list[str] | None = None,
    jobs: int | None = None,
    progress: Callable[[str], None] = print,
) -> RunResult:
    """Execute every planned (notebook, market) and render its report, ``jobs`` at a time.

    Before it starts, the run marks earlier runs whose process died ``interrupted`` and removes their temporary
    files. While it runs, ``run.json`` names its process and lists each report as it finishes; SIGTERM (like
    Ctrl-C) stops it cleanly, with status ``interrupted``.

    Parameters
    ----------
    config
        from :func:`load_run_config`.
    markets, notebooks
        run only these (each must be in ``config``; market codes in any case); all when None.
    jobs
        worker processes; the number of CPU cores when None.
    progress
        called with one line per finished report with the time left at the pace so far, e.g. ``[3/8]
        data_overview DE ok 4.1s, about 0m12s left``, and a closing line, e.g. ``7 ok, 1 failed in 0m31s ->
        reports/<run-id>/index.html; failed: funnel [JP]``.

    Returns
    -------
    RunResult
        failed reports are listed in ``.failed``; nothing is raised for a failing notebook.

    Raises
    ------
    ConfigError
        if the selection names a market or notebook the configuration lacks, or ``jobs`` is below 1.
    UnsafePathError
        if a notebook or market name cannot be a file name; both are raised before anything is written.
    ReportsFolderError
        if the reports folder cannot be written (read-only, full, not a folder).
    DataPreparationError
        if the data folder cannot be prepared (:func:`analysis.sources.prepare_data`, called once before any kernel
        starts so that the reports share its stored validation and per-market copy of the events; only on DuckDB,
        whose copy it is: with ``engine: pyspark`` each report reads the data folder); nothing of the run is written
        then, and earlier runs are untouched.
    """
    plan = plan_reports(config, markets=markets, notebooks=notebooks)
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    if jobs < 1:
        raise ConfigError(
            "run_reports",
            [f"jobs: {jobs} is not a number of worker processes (1 or more)"],
            parameter="jobs",
            value=jobs,
            valid="1 or more",
        )
    for report in plan:  # before anything is written: names become paths
        safe_name(report.notebook, what="notebook")
        safe_name(report.market, what="market")
    reports_dir = Path(config.reports_dir)
    # the prepared copy is DuckDB's: on Spark each report reads the data folder (or the catalog) itself
    preparation = prepare_run_data(Path(config.data_dir)) if plan and config.engine == "duckdb" else {}
    started = datetime.now(UTC)
    with _reports_folder(reports_dir):
        reports_dir.mkdir(parents=True, exist_ok=True)
        run_id, run_dir = _new_run_dir(reports_dir, started)
    scrub = PathScrubber.for_run(config.data_dir, config.reports_dir, config.notebooks_dir)
    provenance = collect_provenance(Path(config.data_dir), now=started)
    period = f"{config.period.start.isoformat()} to {config.period.end.isoformat()}"
    tasks = [report_task(report, run_dir, period, provenance, scrub) for report in plan]
    workers = max(1, min(jobs, len(tasks)))
    manifest = {
        "run_id": run_id,
        "status": RUNNING,
        **process_identity(),
        "jobs": workers,
        "config": _shown_config(config),
        "selection": {"markets": markets, "notebooks": notebooks},
        "plan": {
            "notebooks": list(dict.fromkeys(report.notebook for report in plan)),
            "markets": list(dict.fromkeys(report.market for report in plan)),
            "reports": len(plan),
        },
        "full_plan": _is_full_plan(config, plan),
        "provenance": provenance.to_dict(),
        "data_preparation": preparation,
        "results": [],
    }
    finished: list[NotebookResult] = []

    def save(document: dict) -> None:
        with _reports_folder(reports_dir):
            write_atomically(run_dir / MANIFEST, _json(scrub.scrub_value(document)))

    with _reports_folder(reports_dir):
        save(manifest)
        settle_dead_runs(reports_dir, by_run=run_id)
        write_indexes(reports_dir, run_id, data_dir=config.data_dir)  # the run's page exists (and links) from the start
    prepared = f"; data {preparation['state']} in {preparation['seconds']:.1f}s" if preparation else ""
    progress(f"run {run_id}: {len(tasks)} reports on {workers} workers -> {run_dir}{prepared}")

    clock = time.perf_counter()

    def report_progress(result: NotebookResult, done: int, total: int) -> None:
        finished.append(result)
        save(manifest | {"results": [_result_entry(r, run_dir) for r in finished]})
        error = f" ({result.error})" if result.error else ""
        left = time_left(time.perf_counter() - clock, done, total)
        progress(
            f"[{done}/{total}] {result.notebook} {result.market} {result.status} {result.seconds:.1f}s{error}, {left}"
        )

    with stop_signals():
        outcome = run_in_pool(tasks, workers, report_progress) if tasks else PoolOutcome()
    remove_partials(run_dir)  # stopped workers may have left some
    run = RunResult(run_id, run_dir, outcome.results, outcome.interrupted, outcome.stop_signal)
    manifest |= {
        "status": INTERRUPTED if run.interrupted else run.status,
        "seconds": round(time.perf_counter() - clock, 3),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results": [_result_entry(result, run_dir) for result in run.results],
    }
    save(manifest)
    with _reports_folder(reports_dir):
        write_indexes(reports_dir, run_id, data_dir=config.data_dir)
    progress(closing_line(run, manifest["seconds"]))
    return run


class DataPreparationError(DataError):
    """The run's data folder could not be prepared; ``file`` is the folder, the message names it and the cause."""


def prepare_run_data(data_dir: Path) -> dict:
    """Prepare ``data_dir`` once for the run's kernels; what was done, for ``run.json``.

    Returns ``{"state": "prepared" | "already prepared", "seconds": ...}``.

    Raises
    ------
    DataPreparationError
        naming the data folder (as the project names it) and the cause.
    """
    from analysis.sources import prepare_data  # imported here: only this step needs the data engine

    clock = time.perf_counter()
    try:
        prepared = prepare_data(data_dir)
    except Exception as error:  # one line for the person at the terminal, whatever broke
        scrub = PathScrubber.for_run(data_dir)
        reason = scrub(f"{type(error).__name__}: {error}")
        raise DataPreparationError(
            f"{shown_path(data_dir)}: the data folder could not be prepared for the run ({reason})", file=data_dir
        ) from error
    state = "prepared" if prepared.built else "already prepared"
    return {"state": state, "seconds": round(time.perf_counter() - clock, 3)}


def duration(seconds: float) -> str:
    """``6m12s``: minutes and seconds, for progress lines."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def time_left(elapsed: float, done: int, total: int) -> str:
    """The time the remaining reports take at the pace so far (reports finished per second of the run's clock)."""
    if done >= total:
        return "done"
    return f"about {duration(elapsed / done * (total - done))} left"


def closing_line(run: RunResult, seconds: float) -> str:
    """``47 ok, 1 failed in 6m12s -> reports/<run-id>/index.html; failed: funnel [JP]`` (failed reports named).

    The index is named relative to the project when inside it; a reports folder elsewhere is named in full, since
    this line is for the person at the terminal, not a deliverable.
    """
    made = sum(1 for result in run.results if result.status == OK)
    line = f"{made} ok, {len(run.failed)} failed in {duration(seconds)} -> {parameter_path(run.run_dir / 'index.html')}"
    if run.interrupted:
        line += " (interrupted)"
    if run.failed:
        line += "; failed: " + ", ".join(f"{result.notebook} [{result.market}]" for result in run.failed)
    return line


class ReportsFolderError(ReportError):
    """The reports folder cannot be written (read-only, full, a file in the way): a usage problem, exit code 2.

    ``file`` is the folder; the message is one line naming it and the system's reason.
    """

    exit_code = USAGE_EXIT_CODE


@contextlib.contextmanager
def _reports_folder(reports_dir: Path) -> Iterator[None]:
    """Turn a failing write into the reports folder into one :class:`ReportsFolderError` naming it."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        raise ReportsFolderError(
            f"{reports_dir}: the reports folder cannot be written ({reason})", file=reports_dir
        ) from None


def _shown_config(config: RunConfig) -> dict:
    """The configuration as ``run.json`` records it: folders as the project names them, never absolute."""
    shown = config.model_dump(mode="json")
    for key in ("data_dir", "reports_dir", "notebooks_dir"):
        shown[key] = shown_path(getattr(config, key))
    return shown


def _is_full_plan(config: RunConfig, plan: list) -> bool:
    """Whether the plan makes every report ``config`` describes (no ``--market``/``--notebook`` narrowing)."""
    return len(plan) == len(plan_reports(config))


def new_run_id(now: datetime) -> str:
    """``20261122T110437Z-3f2a``: UTC time to the second (so ids sort by time) and a random suffix."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(2)}"


def _new_run_dir(reports_dir: Path, now: datetime) -> tuple[str, Path]:
    while True:  # two runs started in the same second get different suffixes
        run_id = new_run_id(now)
        try:
            (reports_dir / run_id).mkdir()
        except FileExistsError:
            continue
        return run_id, reports_dir / run_id


def _result_entry(result: NotebookResult, run_dir: Path) -> dict:
    def relative(path: Path | None) -> str | None:  # a report not written (yet) has no link
        return path.relative_to(run_dir).as_posix() if path is not None else None

    return {
        "notebook": result.notebook,
        "market": result.market,
        "status": result.status,
        "seconds": result.seconds,
        "html": relative(result.html_path),
        "ipynb": relative(result.ipynb_path),
        "error": str(result.error) if result.error else None,
        "error_name": result.error.ename if result.error else None,
        "error_value": result.error.evalue if result.error else None,
        "error_cell": result.error.execution_count if result.error else None,
        "phases": result.phases,
    }


def _json(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
