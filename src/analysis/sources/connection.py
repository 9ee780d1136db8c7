"""The one place that creates a backend connection, and the one place that holds the engine's settings.

Every setting goes to DuckDB when the connection is created (its own ``config`` options), so no module changes the
settings of a connection afterwards, and a connection a caller passes in is used as it is. :func:`open_engine` is what
a notebook calls: in-process DuckDB by default, or a Spark session (:mod:`analysis.sources.spark`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import ibis

from analysis.errors import ParameterError

# Ibis 12 compiles array lambdas (``Array.filter``, ``Array.map``) to DuckDB's old ``x -> ...`` form, which DuckDB
# 2.0 refuses unless ``lambda_syntax`` allows it: set here so any Ibis array expression (a notebook's own included)
# runs on the workbook's connection. The workbook's own modules do not rely on it: the GA4 reader writes its lambdas
# in the new form, so it also runs on a connection made elsewhere.
ENGINE_SETTINGS: dict[str, Any] = {"lambda_syntax": "ENABLE_SINGLE_ARROW"}

_SIZE_UNITS = "KMGTIB"

# The engines a notebook or a run may name; the first is the default.
ENGINES = ("duckdb", "pyspark")
ENGINE_ENVIRONMENT = "WORKBOOK_ENGINE"


def resolve_engine(engine: str = "") -> str:
    """The engine a notebook uses: its ``engine`` parameter, else $WORKBOOK_ENGINE, else ``duckdb``.

    Raises
    ------
    ParameterError
        if the engine is not one of :data:`ENGINES` (parameter ``engine``).
    """
    chosen = (engine or os.environ.get(ENGINE_ENVIRONMENT) or ENGINES[0]).strip().lower()
    if chosen not in ENGINES:
        source = "" if engine else f" (from ${ENGINE_ENVIRONMENT})"
        raise ParameterError(
            f"engine {engine or os.environ.get(ENGINE_ENVIRONMENT)!r}{source} is not an engine the workbook runs on; "
            f"valid: {', '.join(ENGINES)}",
            parameter="engine",
            value=engine or os.environ.get(ENGINE_ENVIRONMENT),
            valid=list(ENGINES),
        )
    return chosen


def open_engine(engine: str = "", *, spark: Mapping[str, Any] | None = None) -> ibis.BaseBackend:
    """The backend a notebook reads its tables on: DuckDB in process, or a Spark session.

    Parameters
    ----------
    engine
        ``"duckdb"`` or ``"pyspark"``; empty means $WORKBOOK_ENGINE, else ``"duckdb"`` (:func:`resolve_engine`).
    spark
        for ``pyspark``: ``{"master": "local[*]", "settings": {...}}``; None means $WORKBOOK_SPARK, else a local
        session on every core (:func:`analysis.sources.spark.spark_options`). Ignored for DuckDB.

    Returns
    -------
    ibis.BaseBackend
        :func:`connect`'s DuckDB backend, or :func:`analysis.sources.spark.connect_spark`'s Spark backend (UTC
        session time). Pass it to :func:`analysis.sources.load_tables` and the other readers as ``con``.

    Raises
    ------
    ParameterError
        for an unknown engine, malformed Spark settings, or ``pyspark`` when pyspark is not installed.
    """
    if resolve_engine(engine) == "duckdb":
        return connect()
    from analysis.sources.spark import connect_spark  # pyspark is optional: imported only for Spark

    return connect_spark(spark)


def connect(
    database: str | None = None,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    **settings: Any,
) -> ibis.BaseBackend:
    """An in-process DuckDB backend for Ibis, configured once, when it is created.

    Parameters
    ----------
    database
        Path of a DuckDB database file, or ``None`` for an in-memory database (the default: the workbook reads
        its files directly and keeps nothing).
    memory_limit
        DuckDB's memory limit, e.g. ``"4GB"``; past it DuckDB spills to its temporary directory instead of failing.
    threads
        Worker threads for DuckDB; ``None`` lets DuckDB use every core.
    **settings
        Further DuckDB configuration options by their DuckDB names (e.g. ``temp_directory="/scratch/spill"``);
        they override :data:`ENGINE_SETTINGS`.

    Returns
    -------
    ibis.BaseBackend
        The Ibis DuckDB backend.

    Raises
    ------
    ParameterError
        if ``memory_limit`` is not a size such as ``"4GB"`` (parameter ``memory_limit``).
    """
    config = {**ENGINE_SETTINGS, **settings}
    if memory_limit:
        config["memory_limit"] = _checked_size(memory_limit)
    if threads:
        config["threads"] = int(threads)
    return ibis.duckdb.connect(database or ":memory:", **config)


def _checked_size(size: str) -> str:
    cleaned = size.strip().upper().replace(" ", "")
    number = cleaned.rstrip(_SIZE_UNITS)
    if not number.replace(".", "", 1).isdigit() or cleaned == number:
        raise ParameterError(
            f"memory_limit {size!r} is not a size such as '4GB' or '512MB'",
            parameter="memory_limit",
            value=size,
            valid="a number followed by a unit such as '4GB' or '512MB'",
        )
    return cleaned
