"""Speed of the GB experiment readout against a scan of the columns it reads.

Usage::

    .venv/bin/python benchmarks/bench_experiment.py                     # 60,000 users, about 1.6M events
    .venv/bin/python benchmarks/bench_experiment.py --users 4000000 --runs 3   # about 105M events

Demo data for ``--users`` is generated once and cached under ``data/bench/`` (git-ignored). Each run times, on a
fresh DuckDB connection over the same files: the scan (one aggregation decoding every value of every column the
readout reads, in ``events`` and ``orders``), the readout (``experiment_units`` + ``experiment_readout`` of the five
metrics with CUPED) and the whole ``analyse_experiment`` (readout, segments, daily cumulative lift). Scan and readout
take turns so a drift in the machine's speed affects both sides; figures are medians of ``--runs`` runs, and the
ratios are taken against the scan of the same run. The target is a readout within 3x the scan.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date

from scan import scan_columns

from analysis.config import DATA_DIR

BENCH_DIR = DATA_DIR / "bench"
EVENT_COLUMNS = ["user_id", "session_id", "event_time", "event_name", "market", "variant", "segment", "device",
                 "channel"]  # fmt: skip
ORDER_COLUMNS = ["user_id", "order_time", "amount", "market"]
START, END = date(2025, 11, 1), date(2026, 6, 30)


def data_dir_for(users: int):
    """Cached demo data of ``users`` users (generated on first use)."""
    target = BENCH_DIR / f"experiment_{users}"
    if not (target / "events.parquet").exists():
        from analysis.sources.demo import write_demo_data

        started = time.perf_counter()
        write_demo_data(target, users=users, seed=20240101)
        print(f"generated {users:,} users in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


def scan(tables) -> float:
    """Read every column the readout reads once, in an aggregation the engine cannot answer from file metadata
    (see ``scan.py``)."""
    started = time.perf_counter()
    scan_columns(((tables["events"], EVENT_COLUMNS), (tables["orders"], ORDER_COLUMNS)))
    return time.perf_counter() - started


def readout(tables) -> float:
    from analysis.metrics.experiment import METRICS, experiment_readout, experiment_units
    from analysis.metrics.experiment.analysis import _pre

    started = time.perf_counter()
    events = tables["events"].filter(tables["events"].market == "GB")
    units = experiment_units(events, tables["orders"], start=START, end=END)
    experiment_readout(
        units, "variant", control="control", metrics=METRICS, covariates={m: _pre(s) for m, s in METRICS.items()}
    )
    return time.perf_counter() - started


def whole(tables) -> float:
    from analysis.metrics.experiment import analyse_experiment
    from analysis.scope import Scope

    started = time.perf_counter()
    analyse_experiment(tables, Scope.parse("GB", "2025-01-01", "2026-06-30"))
    return time.perf_counter() - started


def main() -> None:
    """Time scan, readout and the whole analysis; print medians and the ratios to the scan."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    from analysis.sources import connect, load_tables

    data_dir = data_dir_for(options.users)
    timings: dict[str, list[float]] = {"scan": [], "readout": [], "analyse_experiment": []}
    for _ in range(options.runs):
        for name, task in (("scan", scan), ("readout", readout), ("analyse_experiment", whole)):
            tables = load_tables(data_dir, connect(), tables=["events", "orders", "initiatives"])
            timings[name].append(task(tables))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    events = load_tables(data_dir, connect(), tables=["events"])["events"].count().execute()
    print(f"{options.users:,} users, {events:,} events, median of {options.runs} runs")
    for name, seconds in medians.items():
        print(f"  {name:20s} {seconds:7.2f} s   {seconds / medians['scan']:5.2f} x scan")
    verdict = "within" if medians["readout"] <= 3 * medians["scan"] else "NOT within"
    print(f"readout {verdict} 3x the scan")


if __name__ == "__main__":
    main()
