"""Speed of ``run_reports`` against a plain sequential loop of the ``papermill`` and ``jupyter nbconvert``
commands over the same notebooks and markets.

Usage::

    .venv/bin/python benchmarks/bench_pipeline.py                 # workbook.yml, median of 3
    .venv/bin/python benchmarks/bench_pipeline.py path/to/workbook.yml --repeat 5 --jobs 2

Both sides execute the same planned (notebook, market) pairs with the same parameters and kernel and write
an executed notebook and an HTML page (code hidden) per pair, into temporary folders. The pipeline side is
timed from ``run_reports`` call to return (config validation excluded; it runs once, before any kernel); the
loop side from its first command to its last. Each side's time is the median of ``--repeat`` rounds; the two
sides alternate within a round so that load from other processes on the machine hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from analysis.config import RUN_CONFIG
from analysis.pipeline import load_run_config, run_reports
from analysis.pipeline.plan import PlannedReport, RunConfig, plan_reports

BIN = Path(sys.executable).parent


def time_pipeline(config: RunConfig, jobs: int | None) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        config = config.model_copy(update={"reports_dir": Path(folder)})
        started = time.perf_counter()
        run = run_reports(config, jobs=jobs, progress=lambda line: None)
        seconds = time.perf_counter() - started
    if run.failed:
        raise SystemExit(f"pipeline run failed: {[(r.notebook, r.market, str(r.error)) for r in run.failed]}")
    return seconds


def time_command_loop(plan: list[PlannedReport]) -> float:
    """The baseline: for each report, ``papermill`` then ``jupyter nbconvert --to html --no-input``."""
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as folder:
        started = time.perf_counter()
        for report in plan:
            executed = Path(folder) / f"{report.notebook}-{report.market}.ipynb"
            run_command(
                [
                    str(BIN / "papermill"),
                    str(report.notebook_path),
                    str(executed),
                    "--cwd",
                    str(report.notebook_path.parent),
                    "-y",
                    yaml.safe_dump(report.parameters),
                    "--no-progress-bar",
                    "--log-level",
                    "WARNING",
                ]
            )
            run_command([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--no-input", str(executed)])
        return time.perf_counter() - started


def run_command(command: list[str]) -> None:
    environment = os.environ | {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} ... failed:\n{finished.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", type=Path, default=RUN_CONFIG, help="run configuration (workbook.yml)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each side's time is the median (default 3)")
    parser.add_argument("--jobs", type=int, default=None, help="pipeline workers (default: one per core)")
    args = parser.parse_args(argv)

    config = load_run_config(args.config)
    plan = plan_reports(config)
    jobs = args.jobs or os.cpu_count()
    print(f"{len(plan)} reports ({len({r.notebook for r in plan})} notebooks), {jobs} jobs, {os.cpu_count()} cores")
    pipeline_times, loop_times = [], []
    for round_number in range(1, args.repeat + 1):
        sides = [("pipeline", lambda: time_pipeline(config, args.jobs)), ("loop", lambda: time_command_loop(plan))]
        for name, measure in sides if round_number % 2 else reversed(sides):
            seconds = measure()
            (pipeline_times if name == "pipeline" else loop_times).append(seconds)
            print(f"round {round_number}: {name:<8} {seconds:7.1f} s", flush=True)
    pipeline, loop = statistics.median(pipeline_times), statistics.median(loop_times)
    print(f"run_reports (median of {args.repeat}):                 {pipeline:7.1f} s")
    print(f"papermill + nbconvert loop (median of {args.repeat}):  {loop:7.1f} s")
    print(f"speed-up: {loop / pipeline:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
