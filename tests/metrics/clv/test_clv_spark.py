"""rfm_summary gives the same summary on PySpark (the portable epoch arithmetic) as on DuckDB (test-small orders)."""

from __future__ import annotations

from pathlib import Path

import ibis
import pandas as pd
import pytest

from analysis.metrics.clv import rfm_summary

pytestmark = pytest.mark.slow

ORDERS = Path(__file__).resolve().parents[3] / "data" / "test-small" / "orders.parquet"


@pytest.mark.parametrize("period", ["D", "W", "M"])
def test_when_run_on_spark_then_rfm_summary_equals_duckdb(spark_backend, period):
    frame = pd.read_parquet(ORDERS)
    on_spark = spark_backend.create_table("clv_orders", frame, overwrite=True)
    options = {"amount": "amount", "observation_end": "2025-06-30", "period": period, "by": ["market"]}

    expected = rfm_summary(ibis.memtable(frame), **options)

    assert len(expected) > 100 and (expected["frequency"] > 0).any()
    pd.testing.assert_frame_equal(rfm_summary(on_spark, **options), expected, check_dtype=False)
