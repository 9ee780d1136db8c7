"""Throughput of the demo-data generator: events written per second (median of 3 runs), no assertions.

Run: .venv/bin/python benchmarks/bench_demo_data.py [users ...]   (default: 100000 400000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from analysis.sources.demo import DEFAULT_SEED, write_demo_data

REPEATS = 3


def events_per_second(users: int) -> tuple[float, int, float]:
    """Median events/second over REPEATS writes, the number of events, and the median seconds."""
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(REPEATS):
            started = time.perf_counter()
            paths = write_demo_data(Path(scratch) / "demo", users=users, seed=DEFAULT_SEED)
            seconds.append(time.perf_counter() - started)
        events = pq.ParquetFile(paths["events"]).metadata.num_rows
    median = statistics.median(seconds)
    return events / median, events, median


def main(argv: list[str]) -> None:
    for users in [int(a) for a in argv] or [100_000, 400_000]:
        rate, events, seconds = events_per_second(users)
        print(f"users={users:>9,}  events={events:>12,}  median {seconds:6.1f} s  {rate:>12,.0f} events/s")


if __name__ == "__main__":
    main(sys.argv[1:])
