"""Fixtures for the sources tests: a connection made outside the workbook, and a watch on connections opened."""

from __future__ import annotations

from collections.abc import Callable

import ibis
import pytest


@pytest.fixture
def outside_connection():
    """A DuckDB connection as a caller might make it, with Ibis's defaults (not through ``analysis.sources``)."""
    return ibis.duckdb.connect()


@pytest.fixture
def settings_of() -> Callable[[object], dict[str, str]]:
    """A function giving every DuckDB setting of a connection, name → value as text."""

    def settings(con) -> dict[str, str]:
        return dict(con.raw_sql("SELECT name, value FROM duckdb_settings()").fetchall())

    return settings


@pytest.fixture
def opened_connections(monkeypatch, outside_connection) -> list:
    """Every DuckDB connection opened during the test (``ibis.duckdb.connect`` is watched), in order.

    Depends on ``outside_connection`` so that one is made before the watch starts and is never counted.
    """
    opened = []
    real_connect = ibis.duckdb.connect

    def watched(*args, **kwargs):
        con = real_connect(*args, **kwargs)
        opened.append(con)
        return con

    monkeypatch.setattr(ibis.duckdb, "connect", watched)
    return opened
