"""The engine a run's notebooks read their tables on: the ``engine``, ``spark`` and ``tables`` keys of a run.

``engine: pyspark`` gives every report the notebook parameter ``engine="pyspark"``, and its kernel the ``spark:``
block and the ``tables:`` mapping as $WORKBOOK_SPARK and $WORKBOOK_TABLES (JSON), which
:func:`analysis.sources.open_engine` and :func:`analysis.sources.load_tables` read. The pipeline knows nothing of
Spark itself: it checks the keys and hands them on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from analysis.contract import TABLE_NAMES

ENGINES = ("duckdb", "pyspark")
# What `master` may be: local (all cores, N cores, N cores and F retries), a cluster manager URL, or YARN.
SPARK_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)(,\s*[1-9][0-9]*)?\])?|yarn|(spark|k8s|mesos|sc)://\S+")
# A Spark catalog table: `table`, `database.table` or `catalog.database.table`, each part an identifier.
CATALOG_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
SPARK_ENVIRONMENT = "WORKBOOK_SPARK"  # the names analysis.sources.spark reads (the pipeline never imports sources)
TABLES_ENVIRONMENT = "WORKBOOK_TABLES"


def _spark_master(value: str) -> str:
    if not SPARK_MASTER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Spark master (valid: local, local[*], local[N], spark://host:port, yarn, k8s://..., "
            "sc://...)"
        )
    return value


def _spark_settings(value: dict[str, Any]) -> dict[str, Any]:
    wrong = [key for key in value if not key.startswith("spark.")]
    if wrong:
        raise ValueError(
            f"{wrong} are not Spark settings (valid: keys starting with 'spark.', e.g. spark.driver.memory)"
        )
    lists = [key for key, setting in value.items() if not isinstance(setting, str | int | float | bool)]
    if lists:
        raise ValueError(f"{lists}: a Spark setting is one value (text, number or true/false)")
    return value


def _catalog_tables(value: dict[str, str]) -> dict[str, str]:
    unknown = [name for name in value if name not in TABLE_NAMES]
    if unknown:
        raise ValueError(f"{unknown} are not tables of the data contract (valid: {', '.join(TABLE_NAMES)})")
    bad = [name for name in value.values() if not CATALOG_TABLE.fullmatch(name)]
    if bad:
        raise ValueError(f"{bad} are not catalog table names (valid: table, database.table or catalog.database.table)")
    return value


class SparkConfig(BaseModel):
    """The ``spark:`` block: the master and any Spark settings (added to the workbook's defaults: UTC, no UI, the
    warehouse under the cache folder)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    master: Annotated[str, AfterValidator(_spark_master)] = "local[*]"
    settings: Annotated[dict[str, Any], AfterValidator(_spark_settings)] = Field(default_factory=dict)


Engine = Literal["duckdb", "pyspark"]
CatalogTables = Annotated[dict[str, str], AfterValidator(_catalog_tables)]


def engine_parameters(engine: str) -> dict[str, str]:
    """The notebook parameters a run on ``engine`` adds: ``{"engine": "pyspark"}``, nothing for DuckDB (the
    default), so a notebook without an ``engine`` parameter still runs on DuckDB."""
    return {} if engine == ENGINES[0] else {"engine": engine}


def engine_environment(engine: str, spark: SparkConfig, tables: Mapping[str, str]) -> dict[str, str]:
    """The environment a report's kernel gets for ``engine``: $WORKBOOK_SPARK and $WORKBOOK_TABLES on Spark."""
    if engine == ENGINES[0]:
        return {}
    return {
        SPARK_ENVIRONMENT: json.dumps(spark.model_dump(mode="json"), sort_keys=True),
        TABLES_ENVIRONMENT: json.dumps(dict(tables), sort_keys=True),
    }


@contextlib.contextmanager
def kernel_environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in this process's environment (which a kernel started now inherits), then restore it."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
