"""The one place that creates a backend connection."""

from __future__ import annotations

import ibis


def connect(database: str | None = None, *, memory_limit: str | None = None, threads: int | None = None):
    """An in-process DuckDB backend for Ibis.

    Parameters
    ----------
    database
        Path of a DuckDB database file, or ``None`` for an in-memory database (the default: the workbook reads
        its files directly and keeps nothing).
    memory_limit
        DuckDB's memory limit, e.g. ``"4GB"``; past it DuckDB spills to its temporary directory instead of failing.
    threads
        Worker threads for DuckDB; ``None`` lets DuckDB use every core.
    """
    con = ibis.duckdb.connect(database or ":memory:")
    if memory_limit:
        con.raw_sql(f"SET memory_limit = '{_checked_size(memory_limit)}'")
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    return con


def _checked_size(size: str) -> str:
    cleaned = size.strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    if not number.replace(".", "", 1).isdigit() or cleaned == number:
        raise ValueError(f"memory_limit {size!r} is not a size such as '4GB' or '512MB'")
    return cleaned
