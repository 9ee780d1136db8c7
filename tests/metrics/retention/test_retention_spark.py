"""The engine-side retention helpers give identical results on PySpark (through Ibis) and on DuckDB (test-small)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.metrics.retention import (
    buyer_cohorts,
    repeat_customer_rate,
    seller_churn_hazard,
    seller_cohorts,
    seller_retention,
    survival_curves,
)

pytestmark = pytest.mark.slow

DATA = Path(__file__).resolve().parents[3] / "data" / "test-small"


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(DATA / f"{name}.parquet") for name in ("sellers", "orders")}


def test_when_run_on_spark_then_every_engine_helper_equals_duckdb(spark_backend, frames):
    sellers = spark_backend.create_table("retention_sellers", frames["sellers"], overwrite=True)
    orders = spark_backend.create_table("retention_orders", frames["orders"], overwrite=True)
    calls = [
        (seller_retention, sellers, frames["sellers"], {}),
        (seller_churn_hazard, sellers, frames["sellers"], {"start": "2025-01-01"}),
        (seller_cohorts, sellers, frames["sellers"], {"cohort": "quarter", "period": "month"}),
        (survival_curves, sellers, frames["sellers"], {"group": "market"}),
        (buyer_cohorts, orders, frames["orders"], {}),
        (repeat_customer_rate, orders, frames["orders"], {"by": ("market", "currency")}),
    ]
    for helper, on_spark, on_duckdb, options in calls:
        expected = helper(on_duckdb, **options)
        assert len(expected) > 0, helper.__name__
        pd.testing.assert_frame_equal(helper(on_spark, **options), expected, check_dtype=False, obj=helper.__name__)
