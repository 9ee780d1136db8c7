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

``--modes`` times every public call the funnel report makes, each against an honest scan of the columns it reads (every
value decoded: byte lengths of strings, the sum of the times; nothing answerable from Parquet statistics): ``funnel``
in every mode for both units (by segment), ``time_to_convert`` and ``weekly_conversion`` as the notebook calls them
(by session, no breakdown) and the whole ``analyse_funnel`` of the notebook's defaults; and the engine's floor for
each unit: the funnel's events grouped by unit and counted, or gathered in one list per unit, and nothing else (no exact
funnel on DuckDB does less). Tasks take turns, one fresh process each; figures are medians of wall-clock and CPU
seconds and the largest peak memory::

    .venv/bin/python benchmarks/bench_funnel.py --modes --data-dir data/bench/demo_400000 --runs 3
    .venv/bin/python benchmarks/bench_funnel.py --modes --data-dir data/bench/experiment_4000000 --runs 1

``--src DIR`` puts another copy of the package first on the path (e.g. ``git archive HEAD~3 src | tar -x -C /tmp/b``
then ``--src /tmp/b/src``), to time the code before a change on the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ibis

from analysis.config import DATA_DIR

BENCH_DIR = DATA_DIR / "bench"
STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]
WINDOW = "7D"
NOTEBOOK_WINDOW = "1D"  # the funnel notebook's default window
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

    with tempfile.TemporaryDirectory(prefix="duckdb-spill-", dir=data_dir.parent) as spill:
        con = _connection(memory_limit, spill)
        events = load_tables(data_dir, con, tables=["events"])["events"]
        started = time.perf_counter()
        cpu_started = sum(os.times()[:4])
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
        elif task.startswith("scan_"):
            check = honest_scan(con, events, MODE_SCANS[task])
        elif task.startswith("floor_"):
            check = engine_floor(con, data_dir / "events.parquet", *task.split("_")[1:])
        elif ":" in task:
            check = run_call(events, *task.split(":"))
        elif task == "pandas":
            frame = events.select(*SCANNED_COLUMNS).to_pandas()
            check = int(sum(depth >= 1 for depth in pandas_walk(frame).values()))
        else:
            raise ValueError(f"unknown task {task!r}; expected scan, funnel or pandas")
        seconds = time.perf_counter() - started
    cpu = sum(os.times()[:4])
    return {"seconds": seconds, "cpu_s": cpu - cpu_started, "peak_mb": _peak_rss_mb(), "check": check}


MODE_SCANS = {
    "scan_user": ["user_id", "event_time", "event_name", "segment"],
    "scan_session": ["user_id", "session_id", "event_time", "event_name", "segment"],
    "scan_notebook": ["user_id", "session_id", "event_time", "event_name", "segment", "device", "channel", "market"],
}
NOTEBOOK_BREAKDOWNS = ["segment", "device", "channel"]
MODE_TASKS = {  # task: the scan of the columns it reads
    **{f"funnel:{mode}:{unit}": f"scan_{unit}" for mode in ("ordered", "strict_order", "any_order")
       for unit in ("user", "session")},
    "time_to_convert:ordered:session": "scan_session",
    "time_to_convert:strict_order:session": "scan_session",
    "weekly:ordered:session": "scan_session",
    "analyse:ordered:session": "scan_notebook",
}  # fmt: skip


def honest_scan(con, events, columns: list[str]) -> int:
    """Decode every value of ``columns`` (byte lengths of strings, the sum of the times), as an aggregate."""
    parts = [
        f"sum(epoch_us({c}))" if events[c].type().is_timestamp() else f"sum(strlen({c}::VARCHAR))" for c in columns
    ]
    query = events.select(*columns)
    sql = ibis.to_sql(query, dialect="duckdb")
    return int(con.con.execute(f"SELECT count(*), {', '.join(parts)} FROM ({sql})").fetchall()[0][0])


FLOORS = {f"floor_{kind}_{unit}": f"scan_{unit}" for kind in ("count", "list") for unit in ("user", "session")}
UNIT_KEYS = {"user": "user_id", "session": "user_id, session_id"}


def engine_floor(con, path: Path, kind: str, unit: str) -> int:
    """What any exact funnel on DuckDB costs at least: the funnel's events grouped by unit and counted (``count``),
    or gathered into one list per unit as packed ``epoch_us * 16 + step`` numbers (``list``), and nothing else."""
    steps = ", ".join(f"'{step}'" for step in STEPS)
    step = "CASE event_name " + " ".join(f"WHEN '{name}' THEN {i}" for i, name in enumerate(STEPS)) + " END"
    gathered = "count(*) AS n" if kind == "count" else f"list(epoch_us(event_time) * 16 + {step}) AS n"
    measure = "sum(n)" if kind == "count" else "sum(len(n))"
    query = (
        f"SELECT count(*), {measure} FROM (SELECT {gathered} FROM read_parquet('{path}') "
        f"WHERE event_name IN ({steps}) GROUP BY {UNIT_KEYS[unit]})"
    )
    return int(con.con.execute(query).fetchall()[0][0])


def run_call(events, call: str, mode: str, unit: str) -> int:
    """One public funnel call the report makes; returns a small check value."""
    from analysis.metrics.funnel import analyse_funnel, funnel, time_to_convert, weekly_conversion

    if call == "funnel":
        table = funnel(events, STEPS, WINDOW, by="segment", unit=unit, mode=mode)
        return int(table.loc[table["step_index"] == 1, "units"].sum())
    if call == "time_to_convert":
        return int(time_to_convert(events, STEPS, NOTEBOOK_WINDOW, unit=unit, mode=mode).summary["units"].sum())
    if call == "weekly":
        return int(weekly_conversion(events, STEPS, NOTEBOOK_WINDOW, unit=unit, mode=mode)["units"].sum())
    if call == "analyse":
        analysis = analyse_funnel(events, None, STEPS, NOTEBOOK_WINDOW, breakdowns=NOTEBOOK_BREAKDOWNS, unit=unit)
        return analysis.started
    raise ValueError(f"unknown call {call!r}")


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


def measure_alternating(
    tasks: list[str], size: str | Path, runs: int, memory_limit: str, src: str = ""
) -> dict[str, list[dict]]:
    """``runs`` runs of each task, taking turns (task 1, task 2, task 1, ...), so drift in machine speed hits both.

    ``size`` is a size name or a data folder; ``src`` a folder put first on ``PYTHONPATH``.
    """
    data = size if isinstance(size, Path) else data_dir_for(size)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH", "")]))}
    results: dict[str, list[dict]] = {task: [] for task in tasks}
    for _ in range(runs):
        for task in tasks:
            command = [sys.executable, __file__, "--child", task, "--data", str(data), "--memory-limit", memory_limit]
            output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
            results[task].append(json.loads(output.strip().splitlines()[-1]))
    return results


def bench_modes(data: Path, runs: int, memory_limit: str, src: str, only: list[str] | None) -> list[dict]:
    """Every funnel call of the report against the scan of its columns (see the module docstring)."""
    calls = [task for task in MODE_TASKS if not only or any(o in task for o in only)]
    scans = list(dict.fromkeys(MODE_TASKS[task] for task in calls))
    floors = [floor for floor, scan in FLOORS.items() if scan in scans]
    results = measure_alternating([*scans, *floors, *calls], data, runs, memory_limit, src)
    rows = []
    for task in [*floors, *calls]:
        scan = results[{**MODE_TASKS, **FLOORS}[task]]
        scan_s = statistics.median(r["seconds"] for r in scan)
        own = results[task]
        seconds = statistics.median(r["seconds"] for r in own)
        row = {
            "task": task,
            "seconds": round(seconds, 2),
            "cpu_s": round(statistics.median(r["cpu_s"] for r in own), 2),
            "scan_s": round(scan_s, 2),
            "x_scan": round(seconds / scan_s, 2),
            "peak_mb": round(max(r["peak_mb"] for r in own)),
            "scan_peak_mb": round(max(r["peak_mb"] for r in scan)),
            "check": own[0]["check"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["1M", "10M"], choices=list(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-limit", default="6GB", help="DuckDB memory_limit for every run")
    parser.add_argument("--spill-check", default="1GB", help="also run once with this small limit ('' to skip)")
    parser.add_argument("--modes", action="store_true", help="every call of the report beside the scan of its columns")
    parser.add_argument("--only", nargs="*", help="with --modes: tasks containing one of these strings")
    parser.add_argument("--data-dir", help="with --modes: the data folder (default: the cached 10M events)")
    parser.add_argument("--src", default="", help="a package folder put first on PYTHONPATH (timing older code)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.data), args.memory_limit)))
        return
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if args.modes:
        data = Path(args.data_dir) if args.data_dir else data_dir_for("10M")
        bench_modes(data, args.runs, args.memory_limit, args.src, args.only)
        return
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
