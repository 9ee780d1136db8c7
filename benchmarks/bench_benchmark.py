"""Speed of the benchmarking helpers on a large benchmarks table: scorecard, trends and composite against a scan.

Usage::

    .venv/bin/python benchmarks/bench_benchmark.py --runs 5

A table of 100 companies x 50 markets x 20 quarters x 20 KPIs (2 million rows) is generated in the script and written
to parquet in a temporary folder; DuckDB reads it through Ibis as the workbook reads any data file. For one market
and for ALL, each helper runs ``--runs`` times (after one warm-up run, imports done) and the medians are printed with
their ratio to a plain ``count(*)`` of the same table, timed in the same runs. The issue's target: scorecard, trends
and composite together under 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.metrics.benchmark import benchmark_scorecard, benchmark_trends, composite_scores
from analysis.sources import connect

COMPANIES, MARKETS, QUARTERS, KPIS = 100, 50, 20, 20
TARGET_SECONDS = 2.0


def benchmark_rows(seed: int = 0) -> pd.DataFrame:
    """The generated table: every company x market x quarter x KPI, KPIs alternating direction and unit."""
    rng = np.random.default_rng(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    markets = [a + b for a in letters for b in letters][:MARKETS]
    quarters = [f"{2021 + (q + 2) // 4}Q{(q + 2) % 4 + 1}" for q in range(QUARTERS)]
    kpis = [f"kpi_{k:02d}" for k in range(KPIS)]
    units = ["fraction", "days", "score 1-5", "score -100..100"]
    company, market, quarter, kpi = np.meshgrid(
        np.arange(COMPANIES), np.arange(MARKETS), np.arange(QUARTERS), np.arange(KPIS), indexing="ij"
    )
    level = rng.uniform(0.2, 0.8, size=(COMPANIES, 1, 1, KPIS))
    value = level * (1 + 0.01 * quarter) * rng.normal(1, 0.02, size=company.shape)
    kpi_unit = np.array([units[k % 4] for k in range(KPIS)])
    scale = np.select([kpi_unit == "days", kpi_unit == "score 1-5", kpi_unit == "score -100..100"], [10, 4, 100], 1)
    offset = np.select([kpi_unit == "score 1-5", kpi_unit == "score -100..100"], [1, -50], 0)
    value = value * scale[kpi] + offset[kpi]
    return pd.DataFrame(
        {
            "company": np.array([f"Company {c:03d}" for c in range(COMPANIES)])[company.ravel()],
            "market": np.array(markets)[market.ravel()],
            "period": np.array(quarters)[quarter.ravel()],
            "kpi": np.array(kpis)[kpi.ravel()],
            "value": value.ravel(),
            "unit": kpi_unit[kpi.ravel()],
            "direction": np.where(kpi.ravel() % 2 == 1, "lower", "higher"),
        }
    )


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    """Generate, write, and time the helpers; print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmarks.parquet"
        rows = benchmark_rows()
        rows.to_parquet(path, index=False)
        print(f"{len(rows):,} rows ({COMPANIES} companies x {MARKETS} markets x {QUARTERS} quarters x {KPIS} KPIs)")
        del rows
        table = connect().read_parquet(path)
        client = "Company 000"
        for market in ("AA", "ALL"):
            card = benchmark_scorecard(table, client=client, market=market)
            steps = {
                "scan count(*)": lambda: table.count().execute(),
                "scan sum(value)": lambda: table.value.sum().execute(),  # reads a column, unlike count(*)
                "scorecard": lambda market=market: benchmark_scorecard(table, client=client, market=market),
                "trends": lambda market=market: benchmark_trends(table, client=client, market=market),
                "composite": lambda card=card: composite_scores(card, n_simulations=1000),
            }
            for action in steps.values():
                action()  # warm-up: caches, first compilation
            times = {name: [] for name in steps}
            for _ in range(runs):
                for name, action in steps.items():  # taking turns: a drift in speed affects every step alike
                    times[name].append(timed(action))
            medians = {name: statistics.median(values) for name, values in times.items()}
            scan = medians["scan count(*)"]
            total = medians["scorecard"] + medians["trends"] + medians["composite"]
            print(f"\nmarket {market}: medians of {runs} runs")
            for name, seconds in medians.items():
                print(f"  {name:<15} {seconds * 1000:8.0f} ms   {seconds / scan:6.1f} x scan")
            verdict = f"{'within' if total < TARGET_SECONDS else 'OVER'} {TARGET_SECONDS:g} s"
            print(f"  {'all three':<15} {total * 1000:8.0f} ms   {total / scan:6.1f} x scan ({verdict})")


if __name__ == "__main__":
    main()
