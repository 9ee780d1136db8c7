"""The KPI panels give exactly the same counts on PySpark (through Ibis) as on DuckDB, on data/test-small/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.metrics.impact.panels import session_panel, survey_panel
from analysis.sources import load_tables

pytestmark = pytest.mark.slow

TEST_SMALL = Path(__file__).resolve().parents[3] / "data" / "test-small"


@pytest.fixture(scope="module")
def on_duckdb():
    return load_tables(TEST_SMALL, tables=["events", "surveys"])


@pytest.fixture(scope="module")
def on_spark(spark_backend, on_duckdb):
    tables = {}
    for name, table in on_duckdb.items():
        frame = table.to_pandas()
        for column in frame.columns:  # Spark reads a missing str as "nan", a missing number as NaN: make both NULL
            if frame[column].isna().any():
                frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        tables[name] = spark_backend.create_table(f"impact_panels_{name}", frame, overwrite=True)
    return tables


@pytest.mark.parametrize(("period", "by"), [("week", ("market",)), ("month", ("market", "variant"))])
def test_when_run_on_spark_then_the_session_panel_equals_duckdb(on_spark, on_duckdb, period, by):
    spark = session_panel(on_spark["events"], period=period, by=by)
    duckdb = session_panel(on_duckdb["events"], period=period, by=by)
    assert duckdb.sessions.sum() == on_duckdb["events"].select("user_id", "session_id").distinct().count().execute()
    pd.testing.assert_frame_equal(spark, duckdb, check_dtype=False)


@pytest.mark.parametrize("period", ["week", "quarter"])
def test_when_run_on_spark_then_the_survey_panel_equals_duckdb(on_spark, on_duckdb, period):
    spark, duckdb = survey_panel(on_spark["surveys"], period=period), survey_panel(on_duckdb["surveys"], period=period)
    assert duckdb.responses_csat.sum() == on_duckdb["surveys"].csat.count().execute()
    pd.testing.assert_frame_equal(spark, duckdb, check_dtype=False)
