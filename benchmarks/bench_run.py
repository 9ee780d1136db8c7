"""The full run plan (``workbook.yml``) on the demo data, per report and in total, against the sequential
``papermill`` + ``jupyter nbconvert --no-input`` loop over the same notebooks and markets.

Usage::

    .venv/bin/python benchmarks/bench_run.py                    # data/demo, the whole plan, one round
    .venv/bin/python benchmarks/bench_run.py --quick            # data_overview and the funnel only
    .venv/bin/python benchmarks/bench_run.py --users 400000     # data/bench/demo_400000 (about 10.5M events)
    .venv/bin/python benchmarks/bench_run.py --repeat 3 --no-loop
    .venv/bin/python benchmarks/bench_run.py --quick --no-chart-files   # like for like: the loop draws no chart files

Per report it prints the fixed cost (from the report's start to the first line of analysis: kernel start and the
setup cell's imports), validation, analysis (every other cell) and rendering, from papermill's cell timings in the
executed notebooks. To time imports and validation apart, the benchmark runs copies of the notebooks whose setup cell
is split in three (imports | up to the validation | the rest); both sides run these copies. Peak memory is the
largest sum of resident memory over this process and all its descendants, sampled every 0.2 s. Sides alternate
between rounds; times are medians. The loop reads the data folder as prepared by the first pipeline run (the
prepared copy is shared through the cache folder), so the comparison is of the runners, not of the data layout.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from bench_pipeline import time_command_loop

from analysis.config import NOTEBOOKS_DIR, PROJECT_ROOT, RUN_CONFIG
from analysis.pipeline import load_run_config, run_reports
from analysis.pipeline.plan import plan_reports

QUICK_NOTEBOOKS = ["data_overview", "customer_journey_funnel"]
PAGE = os.sysconf("SC_PAGE_SIZE")


class PeakMemory:
    """The largest sum of RSS over this process and its descendants while inside the ``with`` block (bytes)."""

    def __enter__(self) -> PeakMemory:
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, tree_rss(os.getpid()))


def tree_rss(root: int) -> int:
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)], rss[int(entry.name)] = int(fields[1]), int(fields[21]) * PAGE
    total, frontier = rss.get(root, 0), [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                total += rss.get(pid, 0)
                frontier.append(pid)
    return total


def split_setup_cells(source_dir: Path, target_dir: Path, names: list[str]) -> None:
    """Copies of the notebooks whose first code cell after the parameters is split: imports | validation | rest."""
    target_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        notebook = nbformat.read(source_dir / f"{name}.ipynb", as_version=4)
        code = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        setup_index = next(i for i in code if "parameters" not in notebook.cells[i].metadata.get("tags", []))
        lines = notebook.cells[setup_index].source.splitlines()
        imports_end = next(i for i, line in enumerate(lines) if line.strip() and not re.match(r"(from|import) ", line))
        validated = [i for i, line in enumerate(lines) if "validat" in line]
        validation_end = max(validated) + 1 if validated else imports_end
        parts = [lines[:imports_end], lines[imports_end:validation_end], lines[validation_end:]]
        try:
            for part in parts:
                compile("\n".join(part), name, "exec")
        except SyntaxError:
            parts = [lines, [], []]  # a statement spans the cut: time the cell whole
        cells = [nbformat.v4.new_code_cell("\n".join(part)) for part in parts]
        for cell, role in zip(cells, ("imports", "validation", "analysis"), strict=True):
            cell.metadata["bench"] = role
        notebook.cells[setup_index : setup_index + 1] = cells
        nbformat.write(notebook, target_dir / f"{name}.ipynb")


def report_rows(run) -> list[dict]:
    rows = []
    for result in run.results:
        executed = nbformat.read(result.ipynb_path, as_version=4)
        seconds = {"imports": 0.0, "validation": 0.0, "analysis": 0.0}
        for cell in executed.cells:
            if cell.cell_type != "code" or "injected-parameters" in cell.metadata.get("tags", []):
                continue
            if "parameters" in cell.metadata.get("tags", []):
                continue
            role = cell.metadata.get("bench", "analysis")
            seconds[role] += cell.metadata.get("papermill", {}).get("duration") or 0.0
        rows.append(
            {
                "report": f"{result.notebook} {result.market}",
                "status": result.status,
                "fixed": result.phases.get("kernel_start", 0.0) + seconds["imports"],
                "validation": seconds["validation"],
                "analysis": seconds["analysis"],
                "render": result.phases.get("render", 0.0),
                "total": result.seconds,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, help="use data/bench/demo_<users> instead of data/demo")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_NOTEBOOKS)}")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; times are medians (default 1)")
    parser.add_argument("--jobs", type=int, default=None, help="pipeline workers (default: one per core)")
    parser.add_argument("--no-loop", action="store_true", help="time the pipeline only")
    parser.add_argument(
        "--no-chart-files", action="store_true", help="run with chart_files: false (the loop draws no chart files)"
    )
    args = parser.parse_args(argv)

    data_dir = PROJECT_ROOT / ("data/demo" if args.users is None else f"data/bench/demo_{args.users}")
    if not data_dir.is_dir():
        raise SystemExit(f"{data_dir} not found (make data, or generate the bench data set)")
    with tempfile.TemporaryDirectory(prefix="bench-run-") as folder:
        config = load_run_config(RUN_CONFIG)
        names = [entry.notebook for entry in config.notebooks]
        names = [name for name in names if name in QUICK_NOTEBOOKS] if args.quick else names
        split_setup_cells(NOTEBOOKS_DIR, Path(folder) / "notebooks", names)
        config = config.model_copy(
            update={
                "data_dir": data_dir,
                "notebooks_dir": Path(folder) / "notebooks",
                "reports_dir": Path(folder),
                "chart_files": not args.no_chart_files,
            }
        )
        plan = plan_reports(config, notebooks=names)
        print(f"{len(plan)} reports, {len(names)} notebooks, data {data_dir.relative_to(PROJECT_ROOT)}", flush=True)
        runs, loops = [], []
        for round_number in range(1, args.repeat + 1):
            sides = ["pipeline"] if args.no_loop else ["pipeline", "loop"]
            for side in sides if round_number % 2 else reversed(sides):
                with PeakMemory() as memory:
                    started = time.perf_counter()
                    if side == "pipeline":
                        run = run_reports(config, notebooks=names, jobs=args.jobs, progress=lambda line: None)
                    else:
                        time_command_loop(plan)
                    seconds = time.perf_counter() - started
                (runs if side == "pipeline" else loops).append(
                    (seconds, memory.peak, run if side == "pipeline" else None)
                )
                print(
                    f"round {round_number}: {side:<8} {seconds:7.1f} s, peak {memory.peak / 2**30:.2f} GB", flush=True
                )
        last = runs[-1][2]
        rows = report_rows(last)
        print(f"\n{'report':<34} {'status':<7} {'fixed':>6} {'valid.':>6} {'analysis':>8} {'render':>6} {'total':>6}")
        for row in rows:
            print(
                f"{row['report']:<34} {row['status']:<7} {row['fixed']:6.2f} {row['validation']:6.2f} "
                f"{row['analysis']:8.2f} {row['render']:6.2f} {row['total']:6.2f}"
            )
        med = {
            key: statistics.median(row[key] for row in rows) for key in ("fixed", "validation", "analysis", "render")
        }
        print(
            f"{'median':<42} {med['fixed']:6.2f} {med['validation']:6.2f} {med['analysis']:8.2f} {med['render']:6.2f}"
        )
        wall = statistics.median(seconds for seconds, _, _ in runs)
        print(f"\nworkbook run: {wall:.1f} s (median of {len(runs)}), peak {max(p for _, p, _ in runs) / 2**30:.2f} GB")
        if loops:
            loop = statistics.median(seconds for seconds, _, _ in loops)
            print(f"papermill + nbconvert loop: {loop:.1f} s, peak {max(p for _, p, _ in loops) / 2**30:.2f} GB")
            print(f"speed-up: {loop / wall:.2f}x")
        failed = [row["report"] for row in rows if row["status"] != "ok"]
        if failed:
            print(f"failed: {', '.join(failed)}")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
