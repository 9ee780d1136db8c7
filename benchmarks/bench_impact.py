"""Speed of the post-initiative KPI panels against a scan of the columns they read.

Usage::

    .venv/bin/python benchmarks/bench_impact.py                          # 60,000 users, about 1.6M events
    .venv/bin/python benchmarks/bench_impact.py --users 400000           # about 10.5M events
    .venv/bin/python benchmarks/bench_impact.py --users 4000000 --runs 3 # about 105M events

Demo data for ``--users`` is generated once and cached under ``data/bench/`` (git-ignored; the data set of
``bench_experiment.py``, same generator and seed, is reused when it is there). Each run times, on a fresh DuckDB
connection over the same files: the scan (one aggregation decoding every value of every column the panels read, in
``events`` and ``surveys``), and the panels (``kpi_panel`` by week: the session panel, the survey panel, the treatment
calendar and the balanced market × week frame). Scan and panels take turns so a drift in the machine's speed affects
both sides; figures are medians of ``--runs`` runs, and each ratio is the median of each run's panels over its
scan, in wall-clock seconds and in CPU seconds of the process (all DuckDB threads: steadier on a shared machine,
where other work slows an aggregation's threads more than a scan's reads). The target is panels within 3x the scan.
``session_floor`` is the engine's floor for any panel of sessions: the events grouped by (``user_id``,
``session_id``) and counted, with no other aggregate; no session panel can be faster than it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from scan import scan_columns

from analysis.config import DATA_DIR

BENCH_DIR = DATA_DIR / "bench"
SEED = 20240101
EVENT_COLUMNS = ["user_id", "session_id", "event_time", "event_name", "market"]
SURVEY_COLUMNS = ["survey_date", "market", "csat", "nps"]


def data_dir_for(users: int) -> Path:
    """Cached demo data of ``users`` users (generated on first use)."""
    for name in (f"experiment_{users}", f"demo_{users}"):
        if (BENCH_DIR / name / "events.parquet").exists():
            return BENCH_DIR / name
    target = BENCH_DIR / f"demo_{users}"
    from analysis.sources.demo import write_demo_data

    started = time.perf_counter()
    write_demo_data(target, users=users, seed=SEED)
    print(f"generated {users:,} users in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


def scan(tables) -> None:
    """Read every value of every column the panels read once (see ``scan.py`` for why it is done so)."""
    scan_columns(((tables["events"], EVENT_COLUMNS), (tables["surveys"], SURVEY_COLUMNS)))


def session_floor(tables) -> None:
    """The engine's own floor for any session panel: group the events by session and count, nothing else."""
    events = tables["events"]
    sessions = events.group_by(["user_id", "session_id"]).aggregate(events_in_session=events.count())
    sessions.aggregate(events=sessions.events_in_session.sum()).execute()


def panels(tables) -> None:
    """The weekly market × period KPI panel with its treatment calendar."""
    from analysis.metrics.impact.panels import kpi_panel

    kpi_panel(tables, period="week")


def timed(task, tables) -> tuple[float, float]:
    """Wall-clock and CPU seconds (every thread of this process) of ``task(tables)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    task(tables)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    """Time scan and panels in turns; print medians and the ratio to the scan."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    from analysis.sources import connect, load_tables

    data_dir = data_dir_for(options.users)
    timings: dict[str, list[tuple[float, float]]] = {"scan": [], "session_floor": [], "kpi_panel": []}
    for _ in range(options.runs):
        for name, task in (("scan", scan), ("session_floor", session_floor), ("kpi_panel", panels)):
            tables = load_tables(data_dir, connect(), tables=["events", "surveys", "initiatives"])
            timings[name].append(timed(task, tables))
    events = load_tables(data_dir, connect(), tables=["events"])["events"].count().execute()
    print(f"{options.users:,} users, {events:,} events, median of {options.runs} runs (wall clock; CPU of all threads)")
    for name, values in timings.items():
        wall, cpu = (statistics.median(value[i] for value in values) for i in (0, 1))
        print(f"  {name:12s} {wall:7.2f} s   CPU {cpu:7.2f} s")
    for i, kind in enumerate(("wall clock", "CPU")):
        ratios = {
            name: statistics.median(run[i] / scan[i] for run, scan in zip(timings[name], timings["scan"], strict=True))
            for name in ("session_floor", "kpi_panel")
        }
        verdict = "within" if ratios["kpi_panel"] <= 3 else "NOT within"
        print(
            f"  kpi_panel / scan, {kind:10s} {ratios['kpi_panel']:5.2f} x: {verdict} 3x the scan "
            f"(the session group-by alone: {ratios['session_floor']:.2f} x)"
        )


if __name__ == "__main__":
    main()
