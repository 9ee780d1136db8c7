"""A run: plan the reports, execute them in the worker pool, write the manifest and the index pages.

``reports/<run-id>/`` holds ``<notebook>/<market>.ipynb`` and ``.html`` for every planned report, ``run.json``
(configuration, results, provenance) and ``index.html``; ``reports/index.html`` shows the latest run.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import ReportError
from analysis.pipeline.execute import FAILED, OK, NotebookResult, PoolOutcome, report_task, run_in_pool
from analysis.pipeline.files import safe_name, write_atomically
from analysis.pipeline.index import MANIFEST, write_indexes
from analysis.pipeline.plan import ConfigError, RunConfig, plan_reports
from analysis.pipeline.provenance import collect_provenance


@dataclass
class RunResult:
    """What a run made: ``reports/<run_id>/`` and one result per (notebook, market), in plan order."""

    run_id: str
    run_dir: Path
    results: list[NotebookResult]
    interrupted: bool = False

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

    Parameters
    ----------
    config
        from :func:`load_run_config`.
    markets, notebooks
        run only these (each must be in ``config``); all when None.
    jobs
        worker processes; the number of CPU cores when None.
    progress
        called with one line per finished report, e.g. ``[3/8] data_overview DE ok 4.1s``.

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
    ReportError
        if the reports folder cannot hold a new run folder.
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
    started = datetime.now(UTC)
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        run_id, run_dir = _new_run_dir(reports_dir, started)
    except OSError as error:  # a file in the way, no permission, a full or read-only disk: nothing has run yet
        raise ReportError(
            f"{reports_dir}: cannot create a run folder here ({error.strerror or error})", file=reports_dir
        ) from error
    provenance = collect_provenance(Path(config.data_dir), now=started)
    period = f"{config.period.start.isoformat()} to {config.period.end.isoformat()}"
    tasks = [report_task(report, run_dir, period, provenance) for report in plan]
    workers = max(1, min(jobs, len(tasks)))
    manifest = {
        "run_id": run_id,
        "status": "running",
        "jobs": workers,
        "config": config.model_dump(mode="json"),
        "selection": {"markets": markets, "notebooks": notebooks},
        "provenance": provenance.to_dict(),
    }
    write_atomically(run_dir / MANIFEST, _json(manifest | {"results": []}))
    progress(f"run {run_id}: {len(tasks)} reports on {workers} workers -> {run_dir}")

    def report_progress(result: NotebookResult, done: int, total: int) -> None:
        error = f" ({result.error})" if result.error else ""
        progress(f"[{done}/{total}] {result.notebook} {result.market} {result.status} {result.seconds:.1f}s{error}")

    clock = time.perf_counter()
    outcome = run_in_pool(tasks, workers, report_progress) if tasks else PoolOutcome()
    run = RunResult(run_id, run_dir, outcome.results, outcome.interrupted)
    manifest |= {
        "status": "interrupted" if run.interrupted else run.status,
        "seconds": round(time.perf_counter() - clock, 3),
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "results": [_result_entry(result, run_dir) for result in run.results],
    }
    write_atomically(run_dir / MANIFEST, _json(manifest))
    write_indexes(reports_dir, run_id)
    return run


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
    def relative(path: Path | None) -> str | None:
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
    }


def _json(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
