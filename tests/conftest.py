"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.tiny_data import tiny_tables, write_tables


@pytest.fixture
def tiny_data_dir(tmp_path: Path) -> Path:
    """The hand-built data set of tiny_data.py, written as files (markets as CSV, the rest as parquet)."""
    return write_tables(tmp_path / "data", tiny_tables())


@pytest.fixture(scope="session")
def spark_backend(tmp_path_factory):
    """An Ibis backend on a local one-core Spark session (UTC, no UI), shared by every Spark parity test of a worker."""
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))  # not the working dir
        .appName("workbook-parity-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield ibis.pyspark.connect(session)
    session.stop()
