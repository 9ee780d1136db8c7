"""The engine-side part of the benchmark helpers gives identical results on PySpark (through Ibis) and on DuckDB."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from analysis.metrics.benchmark import benchmark_scorecard, benchmark_trends

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_rows() -> pd.DataFrame:
    return pd.read_csv(Path(os.environ["WORKBOOK_DATA_DIR"]) / "benchmarks.csv")


@pytest.mark.parametrize("market", ["DE", "ALL"])
def test_when_run_on_spark_then_the_scorecard_and_trends_equal_duckdb(spark_backend, demo_rows, market):
    on_spark_table = spark_backend.create_table(f"benchmarks_{market.lower()}", demo_rows, overwrite=True)
    options = {"client": "Craftly", "market": market, "peers": ["GlobalBazaar", "Artisania", "HandHub"]}

    pd.testing.assert_frame_equal(
        benchmark_scorecard(on_spark_table, period="2025Q3", **options),
        benchmark_scorecard(demo_rows, period="2025Q3", **options),
        check_dtype=False,
    )
    on_spark, on_duckdb = benchmark_trends(on_spark_table, **options), benchmark_trends(demo_rows, **options)
    pd.testing.assert_frame_equal(on_spark.series, on_duckdb.series, check_dtype=False)
    pd.testing.assert_frame_equal(on_spark.gap_trends, on_duckdb.gap_trends, check_dtype=False)
    assert on_duckdb.series["value"].notna().all() and len(on_duckdb.quarters) == 8
