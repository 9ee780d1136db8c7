"""Speed of the funnel at scale: the public ``funnel`` call against a scan of the same columns and a pandas walk.

Usage::

    .venv/bin/python benchmarks/bench_funnel.py --sizes 1M 10M --runs 3
    .venv/bin/python benchmarks/bench_funnel.py --sizes 100M --runs 3 --spill-check 2GB

Demo data of about ``events / 26`` users is generated once per size and cached under ``data/bench/`` (git-ignored).
Every measurement runs in a fresh subprocess so its peak memory (``VmHWM``: the process's resident high-water mark,
DuckDB included) is its own; modules are imported before the clock starts. Scan and funnel runs take turns, so a
drift in the machine's speed affects both sides of the ratio. Timings are medians of ``--runs`` runs; the
pandas walk runs once, at 1M events only. Each funnel run uses a DuckDB connection with ``memory_limit`` and a
``temp_directory`` so it spills rather than fails; ``--spill-check`` adds one run with a deliberately small limit to
show that it still completes. At 1M and 10M events the portable window-function version (what Spark and other engines
run) is timed too, as the baseline of the DuckDB list path that ``funnel`` takes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from analysis.config import DATA_DIR

BENCH_DIR = DATA_DIR / "bench"
STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]
WINDOW = "7D"
EVENTS_PER_USER = 26
SCANNED_COLUMNS = ["user_id", "event_time", "event_name", "segment"]
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
PORTABLE_SIZES = ("1M", "10M")  # the portable version also runs at these sizes (33 s a run at 100M)


def data_dir_for(size: str) -> Path:
    """Cached demo data for ``size`` events (generated on first use)."""
    target = BENCH_DIR / f"events_{size}"
    if not (target / "events.parquet").exists():
        from analysis.sources.demo import write_demo_data

        started = time.perf_counter()
        write_demo_data(target, users=SIZES[size] // EVENTS_PER_USER, seed=20240101)
        print(f"generated {size} in {time.perf_counter() - started:.0f} s -> {target}", flush=True)
    return target


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _connection(memory_limit: str, temp_dir: str):
    from analysis.sources import connect

    return connect(memory_limit=memory_limit, temp_directory=temp_dir)


def child(task: str, data_dir: Path, memory_limit: str) -> dict:
    """One measurement in this process: returns seconds, peak RSS and a small check value."""
    from analysis.metrics.funnel import (
        duckdb_path,
        funnel,  # imported before the clock starts, like duckdb for the scan
    )
    from analysis.sources import load_tables

    with tempfile.TemporaryDirectory(prefix="duckdb-spill-", dir=BENCH_DIR) as spill:
        con = _connection(memory_limit, spill)
        events = load_tables(data_dir, con, tables=["events"])["events"]
        started = time.perf_counter()
        if task == "scan":
            columns = ", ".join(
                f"max({c})" if c != "event_time" else "max(epoch_us(event_time))" for c in SCANNED_COLUMNS
            )
            path = data_dir / "events.parquet"
            check = con.con.execute(f"SELECT count(*), {columns} FROM read_parquet('{path}')").fetchall()[0][0]
        elif task in ("funnel", "portable"):
            if task == "portable":  # the window-function version every other engine runs, for comparison
                duckdb_path.supports = lambda *args: False
            table = funnel(events, STEPS, WINDOW, by="segment")
            check = int(table.loc[table["step_index"] == 1, "units"].sum())
        elif task == "pandas":
            frame = events.select(*SCANNED_COLUMNS).to_pandas()
            check = int(sum(depth >= 1 for depth in pandas_walk(frame).values()))
        else:
            raise ValueError(f"unknown task {task!r}; expected scan, funnel or pandas")
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_rss_mb(), "check": check}


def pandas_walk(frame) -> dict:
    """The straightforward way: group by user, sort each user's events, walk them with ClickHouse's rule."""
    import pandas as pd

    window = pd.Timedelta(WINDOW)
    position = {name: index for index, name in enumerate(STEPS)}
    depths = {}
    for user, events in frame.groupby("user_id"):
        events = events[events["event_name"].isin(STEPS)]
        if not (events["event_name"] == STEPS[0]).any():
            continue
        events = events.assign(_step=events["event_name"].map(position)).sort_values(["event_time", "_step"])
        latest_start = [None] * len(STEPS)
        deepest = 0
        for _, row in events.iterrows():
            step = row["_step"]
            if step == 0:
                latest_start[0] = row["event_time"]
            elif latest_start[step - 1] is not None and row["event_time"] <= latest_start[step - 1] + window:
                latest_start[step] = latest_start[step - 1]
            if latest_start[step] is not None:
                deepest = max(deepest, step + 1)
        depths[user] = deepest
    return depths


def measure(task: str, size: str, runs: int, memory_limit: str) -> list[dict]:
    return measure_alternating([task], size, runs, memory_limit)[task]


def measure_alternating(tasks: list[str], size: str, runs: int, memory_limit: str) -> dict[str, list[dict]]:
    """``runs`` runs of each task, taking turns (task 1, task 2, task 1, ...), so drift in machine speed hits both."""
    results: dict[str, list[dict]] = {task: [] for task in tasks}
    for _ in range(runs):
        for task in tasks:
            command = [
                sys.executable,
                __file__,
                "--child",
                task,
                "--data",
                str(data_dir_for(size)),
                "--memory-limit",
                memory_limit,
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[task].append(json.loads(output.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"], choices=list(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit for every run")
    parser.add_argument("--spill-check", default="1GB", help="also run once with this small limit ('' to skip)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.data), args.memory_limit)))
        return
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        paired = measure_alternating(["scan", "funnel"], size, args.runs, args.memory_limit)
        scan, funnel_runs = paired["scan"], paired["funnel"]
        scan_s = statistics.median(r["seconds"] for r in scan)
        funnel_s = statistics.median(r["seconds"] for r in funnel_runs)
        row = {
            "size": size,
            "events": scan[0]["check"],
            "scan_s": scan_s,
            "funnel_s": funnel_s,
            "funnel_peak_mb": max(r["peak_mb"] for r in funnel_runs),
            "x_scan": funnel_s / scan_s,
        }
        if size in PORTABLE_SIZES:
            portable = measure("portable", size, args.runs, args.memory_limit)
            row["portable_s"] = statistics.median(r["seconds"] for r in portable)
            row["portable_over_funnel"] = row["portable_s"] / funnel_s
        if size == "1M":
            walk = measure("pandas", size, 1, args.memory_limit)[0]
            row["pandas_s"] = walk["seconds"]
            row["pandas_over_funnel"] = walk["seconds"] / funnel_s
            if walk["check"] != funnel_runs[0]["check"]:
                print(f"!! units at step 1 differ: pandas {walk['check']} vs funnel {funnel_runs[0]['check']}")
        if args.spill_check:
            spill = measure("funnel", size, 1, args.spill_check)[0]
            row[f"funnel_s_at_{args.spill_check}"] = spill["seconds"]
            row[f"peak_mb_at_{args.spill_check}"] = spill["peak_mb"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    header = list(dict.fromkeys(key for row in rows for key in row))
    print(" | ".join(header))
    for row in rows:
        print(
            " | ".join(
                f"{row.get(k, ''):.2f}" if isinstance(row.get(k), float) else str(row.get(k, "")) for k in header
            )
        )


if __name__ == "__main__":
    main()
