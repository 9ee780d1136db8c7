"""The Spark engine: a Spark session configured once, wrapped as an Ibis backend, and its settings.

pyspark is optional (``pip install '.[spark]'``, plus Java 17): it is imported only when a Spark engine is opened.
The settings a notebook's kernel uses come from its caller or, when the caller gives none, from $WORKBOOK_SPARK,
where :func:`analysis.pipeline.run_reports` puts the run configuration's ``spark:`` block.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import ibis

from analysis.config import resolve_cache_dir
from analysis.errors import ParameterError

DEFAULT_MASTER = "local[*]"
# Environment variables a report's kernel reads its Spark settings and catalog tables from (both JSON).
SPARK_ENVIRONMENT = "WORKBOOK_SPARK"
TABLES_ENVIRONMENT = "WORKBOOK_TABLES"
APP_NAME = "ecommerce-workbook"


def spark_defaults(cache_dir: str | Path = "") -> dict[str, str]:
    """The settings every workbook Spark session gets unless its caller overrides them.

    UTC session time (the contract's timestamps are UTC and Ibis assumes it), no web UI, and Spark's own files (the
    SQL warehouse, Derby's log of a Hive metastore) under the workbook's cache folder
    (:func:`analysis.config.resolve_cache_dir`), never in the working directory.
    """
    spark_dir = resolve_cache_dir(cache_dir) / "spark"
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir / 'derby'}",
    }


def spark_options(spark: Mapping[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    """The master and settings of a Spark engine: from ``spark``, else $WORKBOOK_SPARK, else the defaults.

    ``spark`` is ``{"master": "local[2]", "settings": {"spark.sql.shuffle.partitions": 8}}`` (either key may be
    left out); settings are added to :func:`spark_defaults`, overriding those of the same name.

    Raises
    ------
    ParameterError
        if $WORKBOOK_SPARK is not a JSON object or ``spark`` has other keys than ``master`` and ``settings``
        (parameter ``spark``).
    """
    if spark is None:
        spark = _json_object(SPARK_ENVIRONMENT, os.environ.get(SPARK_ENVIRONMENT, ""))
    unknown = sorted(set(spark) - {"master", "settings"})
    if unknown or not isinstance(spark.get("settings") or {}, Mapping):
        raise ParameterError(
            f"spark settings {dict(spark)!r} are not {{'master': ..., 'settings': {{...}}}}",
            parameter="spark",
            value=dict(spark),
            valid="a mapping with keys master (e.g. 'local[*]') and settings (Spark configuration keys and values)",
        )
    master = str(spark.get("master") or DEFAULT_MASTER)
    settings = {
        **spark_defaults(),
        **{str(key): _setting(value) for key, value in (spark.get("settings") or {}).items()},
    }
    return master, settings


def connect_spark(spark: Mapping[str, Any] | None = None) -> ibis.BaseBackend:
    """An Ibis backend on a Spark session with the settings of :func:`spark_options`.

    When this process already has a Spark session (Spark allows one per process) it is used: the settings that can
    change at run time (the session time zone, shuffle partitions ...) are applied to it, the others are kept as
    they were set when it started. A new session's JVM writes its standard error (start-up notes, warnings) to
    ``<cache>/spark/logs/driver-<pid>.log``, not into the notebook.

    Raises
    ------
    ParameterError
        if pyspark is not installed (parameter ``engine``), or the settings are malformed (parameter ``spark``).
    """
    master, settings = spark_options(spark)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ParameterError(
            "engine 'pyspark' needs pyspark, which is not installed: pip install '.[spark]' (and Java 17)",
            parameter="engine",
            value="pyspark",
            valid="duckdb, or pyspark once it is installed",
        ) from None
    builder = SparkSession.builder.master(master).appName(APP_NAME)
    for key, value in settings.items():
        builder = builder.config(key, value)
    with _jvm_log(resolve_cache_dir() / "spark" / "logs" / f"driver-{os.getpid()}.log"):
        session = builder.getOrCreate()
    for key, value in settings.items():  # an existing session took only the static settings it started with
        if session.conf.isModifiable(key):
            session.conf.set(key, value)
    return ibis.pyspark.connect(session)


def catalog_tables(tables: Mapping[str, str] | None = None) -> dict[str, str]:
    """The contract tables read from named tables of the engine's catalog: ``tables``, else $WORKBOOK_TABLES.

    ``{"events": "db.events"}`` reads the events from the catalog table ``db.events``; a table not named is read
    from the data folder. Empty when neither is given.

    Raises
    ------
    ParameterError
        if $WORKBOOK_TABLES is not a JSON object of table names (parameter ``tables``).
    """
    if tables is None:
        tables = _json_object(TABLES_ENVIRONMENT, os.environ.get(TABLES_ENVIRONMENT, ""))
    if not all(isinstance(name, str) and isinstance(value, str) for name, value in tables.items()):
        raise ParameterError(
            f"catalog tables {dict(tables)!r} are not a mapping of table names",
            parameter="tables",
            value=dict(tables),
            valid="a mapping of contract table to catalog table, e.g. {'events': 'db.events'}",
        )
    return dict(tables)


def read_catalog_table(con: ibis.BaseBackend, qualified_name: str) -> ibis.Table:
    """The catalog table ``qualified_name`` (``table``, ``database.table`` or ``catalog.database.table``) on ``con``."""
    *database, name = qualified_name.split(".")
    if not database:
        return con.table(name)
    return con.table(name, database=tuple(database) if len(database) > 1 else database[0])


@contextlib.contextmanager
def _jvm_log(path: Path) -> Iterator[None]:
    """Send the standard error of a JVM started meanwhile to ``path``: Spark's start-up notes and warnings go to its
    log, not into a report's outputs. Errors still reach Python as exceptions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _setting(value: Any) -> str:
    if isinstance(value, bool):  # Spark spells booleans in lower case
        return str(value).lower()
    return str(value)


def _json_object(variable: str, text: str) -> dict:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        parameter = "spark" if variable == SPARK_ENVIRONMENT else "tables"
        raise ParameterError(
            f"${variable} is not a JSON object: {text!r}",
            parameter=parameter,
            value=text,
            valid='a JSON object, e.g. {"master": "local[2]"} or {"events": "db.events"}',
        )
    return value


def spark_instant_columns(table: ibis.Table) -> set[str]:
    """The columns of ``table`` that Spark stores as instants (``TIMESTAMP``, not ``TIMESTAMP_NTZ``).

    Ibis shows both Spark timestamp types as a timestamp without time zone; Spark's ``TIMESTAMP`` is an instant
    (shown in the session's time zone, UTC for the workbook), so it is what a UTC timestamp of the contract is on
    Spark. Empty for a table on any other backend.
    """
    try:
        backend = table.get_backend()
    except Exception:  # a table bound to no backend (or to several) is not Spark's
        return set()
    if getattr(backend, "name", None) != "pyspark":
        return set()
    from pyspark.sql.types import TimestampType

    # Ibis keeps the session private; the schema of the compiled query is only analysed, never run
    frame = backend._session.sql(backend.compile(table))  # noqa: SLF001
    return {field.name for field in frame.schema.fields if type(field.dataType) is TimestampType}
