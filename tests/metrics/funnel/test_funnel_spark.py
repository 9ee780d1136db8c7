"""The same funnel call gives identical results on PySpark (through Ibis) and on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers.funnel_reference import JOURNEYS, STEPS

from analysis.metrics.funnel import funnel
from analysis.metrics.funnel.timing import time_to_convert

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["ordered", "strict_order", "any_order"])
@pytest.mark.parametrize("unit", ["user", "session"])
def test_when_run_on_spark_then_funnel_equals_duckdb(spark_backend, mode, unit):
    spark_events = spark_backend.create_table(f"journeys_{mode}_{unit}", JOURNEYS, overwrite=True)
    on_spark = funnel(spark_events, STEPS, "60min", by="device", unit=unit, mode=mode)
    on_duckdb = funnel(JOURNEYS, STEPS, "60min", by="device", unit=unit, mode=mode)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False)
    assert on_duckdb["units"].sum() > 0


@pytest.mark.parametrize("mode", ["ordered", "strict_order"])
def test_when_run_on_spark_then_time_to_convert_equals_duckdb(spark_backend, mode):
    spark_events = spark_backend.create_table(f"journeys_timing_{mode}", JOURNEYS, overwrite=True)
    on_spark = time_to_convert(spark_events, STEPS, "60min", by="device", mode=mode)
    on_duckdb = time_to_convert(JOURNEYS, STEPS, "60min", by="device", mode=mode)
    pd.testing.assert_frame_equal(on_spark.summary, on_duckdb.summary, check_dtype=False)
    pd.testing.assert_frame_equal(on_spark.histogram, on_duckdb.histogram, check_dtype=False)
    assert on_duckdb.summary["units"].sum() > 0
