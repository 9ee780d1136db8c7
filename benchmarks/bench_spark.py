"""The funnel, the experiment readout and the KPI panels on local Spark against DuckDB, on the same files.

Usage::

    .venv/bin/python benchmarks/bench_spark.py                 # 60,000 users, about 1.6M events: about 5 minutes
    .venv/bin/python benchmarks/bench_spark.py --runs 3        # steadier: the median of three runs
    .venv/bin/python benchmarks/bench_spark.py --users 400000  # about 10.5M events: 7 to 11 minutes

Demo data for ``--users`` is generated once and cached under ``data/bench/`` (git-ignored; ``bench_impact.py``'s
``data_dir_for``: the data set of ``bench_experiment.py``, same generator and seed, is reused when it is there).
Without pyspark or Java the benchmark says so and is skipped, so ``make bench`` goes on.

Spark runs on a local session started by this process, ``local[2]`` by default (``--master``): UTC session time zone,
UI and console progress bars off, warehouse under ``data/bench/spark-warehouse``, ``--driver-memory`` (4g) for the
one JVM (driver and executors are one process in local mode), and ``spark.sql.shuffle.partitions`` of
``--shuffle-partitions``, 8 by default: four tasks per core, so two cores stay busy while a slow task finishes, and
at 10M events each task's share of a sort by user stays far inside the driver's memory. Spark's default of 200 is
sized for a cluster: on two cores every shuffle writes and schedules 200 blocks per map task, most of them tiny,
before adaptive execution (on by default) coalesces them; at 1.6M events it made the experiment readout about three
times slower than 2 or 8 partitions (120 s against 38-44 s). The session is started once and timed on its own
(``spark_startup``: JVM launch, ``getOrCreate`` and a first trivial query), as a client's session would be running
already; DuckDB's start-up is a connection, made fresh for every task.

Each run times, per engine, on tables freshly loaded with ``analysis.sources.load_tables`` (loading timed apart as
``load_tables``): the funnel as ``customer_journey_funnel.ipynb`` calls it with its defaults (``analyse_funnel`` of
US, by session, window 1D, broken down by segment, device and channel), the experiment readout as
``experiment_readout.ipynb`` calls it for GB (``analyse_experiment`` with the notebook's defaults), and
``kpi_panel(tables, period="week")`` (the post-initiative report's panel). The engines take turns within each task,
so a drift in the machine's speed affects both sides. Figures are medians of ``--runs`` runs (one by default: Spark
takes minutes per run) in wall-clock seconds and in CPU seconds of this process plus Spark's JVM (steadier on a shared
machine); each ratio is Spark's median over DuckDB's, and Spark's first run (JIT warm-up, file listing) is shown
apart. A small check value of each result (units that started the funnel, units in the experiment's arms, sessions in
the panel) is compared across engines; an analysis that fails on an engine is reported with its error
(``--traceback`` for the whole of it) and the others are still timed. ``--only`` picks tasks, in the order given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench_impact import BENCH_DIR, data_dir_for

TABLES = ["events", "orders", "initiatives", "surveys"]
FUNNEL_STEPS = ["session_start", "view_item", "add_to_cart", "begin_checkout", "purchase"]
FUNNEL_MARKET, EXPERIMENT_MARKET = "US", "GB"  # the two notebooks' default markets
START, END = "2025-01-01", "2026-06-30"  # both notebooks' default period
ENGINES = ("duckdb", "spark")


def funnel(tables) -> int:
    """``analyse_funnel`` as the funnel notebook calls it with its defaults; the check is the units that started."""
    from analysis.metrics.funnel import analyse_funnel
    from analysis.scope import Scope

    analysis = analyse_funnel(
        tables["events"],
        Scope.parse(FUNNEL_MARKET, START, END),
        FUNNEL_STEPS,
        "1D",
        breakdowns=["segment", "device", "channel"],
        unit="session",
        mode="ordered",
        min_group_size=100,
    )
    return int(analysis.started)


def experiment(tables) -> int:
    """``analyse_experiment`` as the experiment notebook calls it for GB; the check is the units in its arms."""
    from analysis.metrics.experiment import analyse_experiment
    from analysis.scope import Scope

    analysis = analyse_experiment(
        tables,
        Scope.parse(EXPERIMENT_MARKET, START, END),
        primary="session_conversion",
        guardrails=["average_order_value", "cart_abandonment"],
        alpha=0.05,
        correction="holm",
        min_group_size=100,
        pre_days=28,
    )
    return int(analysis.arm_counts["units"].sum())


def panels(tables) -> int:
    """The weekly market × period KPI panel; the check is its number of sessions."""
    from analysis.metrics.impact.panels import kpi_panel

    panel = kpi_panel(tables, period="week")
    return int(panel["sessions"].sum())


TASKS: dict[str, Callable] = {"funnel": funnel, "experiment_readout": experiment, "kpi_panel": panels}


def missing_requirement() -> str:
    """Why Spark cannot start here (no pyspark, no Java), or an empty string."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (it comes with requirements-test.lock)"
    java_home = os.environ.get("JAVA_HOME")
    if not shutil.which("java") and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        return "no Java for Spark (on Debian: apt-get install openjdk-17-jre-headless)"
    return ""


def spark_session(master: str, shuffle_partitions: int, driver_memory: str):
    """A local Spark session configured as the module docstring says."""
    from pyspark.sql import SparkSession

    warehouse = BENCH_DIR / "spark-warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    session = (
        SparkSession.builder.master(master)
        .appName("workbook-bench")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.range(1).count()  # the first query starts the executors' machinery
    return session


def jvm_cpu_reader(session) -> Callable[[], float]:
    """CPU seconds used so far by Spark's JVM (every thread; read from ``/proc``, 0 where there is none)."""
    pid = session.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / ticks  # utime and stime, fields 14 and 15 of stat

    return read


def connection(engine: str, session):
    """A fresh Ibis backend: a new DuckDB connection, or an Ibis connection on the running Spark session."""
    if engine == "duckdb":
        from analysis.sources import connect

        return connect()
    import ibis

    return ibis.pyspark.connect(session)


def _error(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:160]}"


def run_task(name: str, engine: str, session, data_dir, jvm_cpu: Callable[[], float]) -> dict:
    """Load the tables on ``engine`` and time one task (wall clock, and CPU of this process and Spark's JVM);
    failures are kept with their error."""
    from analysis.sources import load_tables

    def cpu() -> float:
        return time.process_time() + jvm_cpu()

    started = time.perf_counter()
    tables = load_tables(data_dir, connection(engine, session), tables=TABLES)
    loaded, cpu_started = time.perf_counter(), cpu()
    try:
        check = TASKS[name](tables)
    except Exception as error:  # noqa: BLE001 - a failure on one engine is reported, not fatal
        return {"load": loaded - started, "error": _error(error), "trace": traceback.format_exc()}
    return {"load": loaded - started, "seconds": time.perf_counter() - loaded, "cpu": cpu() - cpu_started,
            "check": check}  # fmt: skip


def main() -> None:
    """Start Spark, time every task on both engines in turns; print the medians, the ratios and any failures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--only", nargs="*", choices=list(TASKS), help="only these tasks")
    parser.add_argument("--traceback", action="store_true", help="print the full traceback of a failure")
    options = parser.parse_args()
    missing = missing_requirement()
    if missing:
        print(f"skipped: {missing}")
        return

    data_dir = data_dir_for(options.users)
    started = time.perf_counter()
    session = spark_session(options.master, options.shuffle_partitions, options.driver_memory)
    startup = time.perf_counter() - started
    jvm_cpu = jvm_cpu_reader(session)
    tasks = options.only or list(TASKS)
    results: dict[tuple[str, str], list[dict]] = {(task, engine): [] for task in tasks for engine in ENGINES}
    for run in range(options.runs):
        for task in tasks:
            for engine in ENGINES:
                result = run_task(task, engine, session, data_dir, jvm_cpu)
                results[task, engine].append(result)
                shown = (
                    f"{result['seconds']:.2f} s, CPU {result['cpu']:.2f} s" if "seconds" in result else result["error"]
                )
                print(f"  run {run + 1}: {task} on {engine}: {shown}", flush=True)
    events = connection("duckdb", None).read_parquet(data_dir / "events.parquet").count().execute()
    session.stop()
    report(options, events, startup, tasks, results)


def _seconds(value: float | None) -> str:
    return f"{value:10.2f}" if value is not None else f"{'-':>10s}"


def _median(runs: list[dict], key: str) -> float | None:
    values = [run[key] for run in runs if key in run]
    return statistics.median(values) if values else None


def report(options, events: int, startup: float, tasks: list[str], results: dict) -> None:
    """The table of medians: seconds and CPU seconds per engine, the ratios, Spark's first run; checks, failures."""
    print()
    print(
        f"{options.users:,} users, {events:,} events; median of {options.runs} runs (wall clock; CPU of this process "
        f"and Spark's JVM); Spark {options.master}, shuffle partitions {options.shuffle_partitions}, driver memory "
        f"{options.driver_memory}"
    )
    print(f"  spark_startup        {startup:8.2f} s (once: JVM, session, first query)")
    header = ["DuckDB s", "Spark s", "ratio", "DuckDB CPU", "Spark CPU", "CPU ratio", "Spark 1st"]
    print(f"  {'task':20s} " + " ".join(f"{name:>10s}" for name in header))
    for name in ["load_tables", *tasks]:
        if name == "load_tables":
            per_engine = {engine: [run for task in tasks for run in results[task, engine]] for engine in ENGINES}
            keys = ("load", None)
        else:
            per_engine = {engine: results[name, engine] for engine in ENGINES}
            keys = ("seconds", "cpu")
        cells = []
        for key in keys:
            duck, spark = (_median(per_engine[engine], key) if key else None for engine in ENGINES)
            cells += [_seconds(duck), _seconds(spark), f"{spark / duck:9.1f}x" if duck and spark else f"{'-':>10s}"]
        first = next((run[keys[0]] for run in per_engine["spark"] if keys[0] in run), None)
        print(f"  {name:20s} " + " ".join([*cells, _seconds(first)]))
    for task in tasks:
        checks = {engine: {run["check"] for run in results[task, engine] if "check" in run} for engine in ENGINES}
        if checks["duckdb"] and checks["spark"] and checks["duckdb"] != checks["spark"]:
            print(f"!! {task}: check values differ: DuckDB {sorted(checks['duckdb'])}, Spark {sorted(checks['spark'])}")
        for engine in ENGINES:
            failures = [run for run in results[task, engine] if "error" in run]
            if failures:
                print(f"!! {task} failed on {engine} in {len(failures)} of {options.runs} runs: {failures[0]['error']}")
                if options.traceback:
                    print(failures[0]["trace"])


if __name__ == "__main__":
    main()
