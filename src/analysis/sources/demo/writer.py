"""The deterministic demo data set of "Craftly", a handmade-goods marketplace (see data/README.md).

Two entry points:

* :func:`write_demo_data` writes every contract table to a directory, streaming the clickstream in chunks of
  users so that millions of users fit in a few hundred MB of memory;
* :func:`generate_demo_tables` returns the same tables as pandas frames (small sizes: tests, notebooks).

Both produce identical data for the same ``users`` and ``seed``: users are processed in fixed chunks of
:data:`USERS_PER_CHUNK`, and each chunk draws from its own random stream ``(seed, stream, chunk index)``.
The behaviour and the planted effects are declared in :mod:`analysis.sources.demo.design`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.contract import TABLES
from analysis.errors import ValidationError
from analysis.sources.demo.clickstream import EVENTS_ARROW_SCHEMA, TIME_UNIT, generate_clickstream_chunk
from analysis.sources.demo.commerce import generate_sellers, orders_for_chunk, seller_pool, surveys_for_chunk
from analysis.sources.demo.design import PLANTED_EFFECTS, DemoDataError
from analysis.sources.demo.panels import benchmarks_table, initiatives_table, markets_table

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_USERS",
    "PLANTED_EFFECTS",
    "DemoDataError",
    "generate_demo_tables",
    "write_demo_data",
]

DEFAULT_USERS = 20_000  # about 520,000 events (26 per user): `make reports` stays quick
DEFAULT_SEED = 20240101
USERS_PER_CHUNK = 40_000  # about a million events: one Parquet row group, a few hundred MB at most
CSV_TABLES = ("markets", "benchmarks", "initiatives")  # written as CSV so a consultant sees both formats

ORDERS_ARROW_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("user_id", pa.string()),
        ("seller_id", pa.string()),
        ("market", pa.string()),
        ("order_time", pa.timestamp(TIME_UNIT, tz="UTC")),
        ("amount", pa.float64()),
        ("currency", pa.string()),
    ]
)
SURVEYS_ARROW_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("survey_date", pa.timestamp(TIME_UNIT)),
        ("market", pa.string()),
        ("csat", pa.int64()),
        ("nps", pa.int64()),
    ]
)
ARROW_SCHEMAS = {
    "events": EVENTS_ARROW_SCHEMA,
    "orders": ORDERS_ARROW_SCHEMA,
    "surveys": SURVEYS_ARROW_SCHEMA,
}


@dataclass(frozen=True)
class _Chunk:
    events: pa.Table
    orders: pd.DataFrame
    surveys: pd.DataFrame


def file_name(table: str) -> str:
    """The file a demo table is written to: ``<table>.csv`` for the small reference tables, else parquet."""
    return f"{table}.csv" if table in CSV_TABLES else f"{table}.parquet"


def _check_arguments(users: int, seed: int) -> None:
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        raise DemoDataError(
            f"demo data: parameter users must be a positive whole number, got {users!r}",
            parameter="users",
            value=users,
            valid="a positive whole number",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DemoDataError(
            f"demo data: parameter seed must be a non-negative whole number, got {seed!r}",
            parameter="seed",
            value=seed,
            valid="a non-negative whole number",
        )


def _validated(table: str, frame: pd.DataFrame, where: str = "") -> pd.DataFrame:
    try:
        return TABLES[table].validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as error:
        cases = error.failure_cases[["column", "check", "failure_case"]].drop_duplicates().head(10)
        # the generator's own fault, not its caller's: a data error listing what broke
        raise ValidationError(
            f"demo data: generated table {table!r}{where} breaks the contract in analysis.contract:\n"
            f"{cases.to_string(index=False)}",
            violations=cases.to_dict("records"),
        ) from error


def _small_tables(users: int, seed: int) -> dict[str, pd.DataFrame]:
    tables = {
        "markets": markets_table(),
        "benchmarks": benchmarks_table(seed),
        "initiatives": initiatives_table(),
        "sellers": generate_sellers(users, seed),
    }
    return {name: _validated(name, frame) for name, frame in tables.items()}


def _chunks(users: int, seed: int, sellers: pd.DataFrame) -> Iterator[_Chunk]:
    """Clickstream, orders and surveys of each chunk of users, each validated against the contract."""
    pool = seller_pool(sellers)
    for chunk, first in enumerate(range(0, users, USERS_PER_CHUNK)):
        count = min(USERS_PER_CHUNK, users - first)
        where = f" (users {first}..{first + count - 1})"
        clicks = generate_clickstream_chunk(first, count, seed=seed, chunk=chunk)
        _validated("events", clicks.events.to_pandas(), where)
        orders = _validated("orders", orders_for_chunk(clicks, pool, seed=seed, chunk=chunk), where)
        surveys = _validated("surveys", surveys_for_chunk(clicks.users, seed=seed, chunk=chunk), where)
        yield _Chunk(clicks.events, orders, surveys)


def generate_demo_tables(*, users: int, seed: int) -> dict[str, pd.DataFrame]:
    """Every contract table of the demo data set as a pandas frame (meant for small ``users``).

    Parameters
    ----------
    users
        Number of customers; events are about 26 per user, orders about 0.9 per user.
    seed
        Seed of every random draw: the same ``users`` and ``seed`` give identical tables.

    Returns
    -------
    dict[str, pandas.DataFrame]
        Table name (``events, orders, sellers, surveys, markets, benchmarks, initiatives``) -> frame whose
        columns and dtypes are those of the table's schema in :mod:`analysis.contract`.
    """
    _check_arguments(users, seed)
    tables = _small_tables(users, seed)
    chunks = list(_chunks(users, seed, tables["sellers"]))
    tables["events"] = pa.concat_tables([c.events for c in chunks]).to_pandas()
    tables["orders"] = pd.concat([c.orders for c in chunks], ignore_index=True)
    tables["surveys"] = pd.concat([c.surveys for c in chunks], ignore_index=True)
    return tables


def _arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """``frame`` as Arrow with fixed column types, keeping pandas' metadata (it restores Int64 on reading)."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    if table in ARROW_SCHEMAS:
        arrow = arrow.cast(ARROW_SCHEMAS[table].with_metadata(arrow.schema.metadata))
    return arrow


def _write_tables(directory: Path, users: int, seed: int) -> None:
    small = _small_tables(users, seed)
    for name, frame in small.items():
        if name in CSV_TABLES:
            frame.to_csv(directory / file_name(name), index=False, date_format="%Y-%m-%d")
        else:
            pq.write_table(_arrow(name, frame), directory / file_name(name))
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for chunk in _chunks(users, seed, small["sellers"]):
            parts = {
                "events": chunk.events,
                "orders": _arrow("orders", chunk.orders),
                "surveys": _arrow("surveys", chunk.surveys),
            }
            for name, part in parts.items():
                if name not in writers:
                    writers[name] = pq.ParquetWriter(directory / file_name(name), part.schema)
                writers[name].write_table(part)
    finally:
        for writer in writers.values():
            writer.close()


def _replace_directory(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an existing ``target`` is swapped out first and removed only afterwards."""
    if not target.exists():
        new.rename(target)
        return
    retired = target.with_name(f".{target.name}.retired-{os.getpid()}")
    target.rename(retired)
    try:
        new.rename(target)
    except BaseException:
        retired.rename(target)
        raise
    shutil.rmtree(retired)


def write_demo_data(out_dir: Path, *, users: int = DEFAULT_USERS, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write every contract table of the demo data set to ``out_dir``, replacing what was there.

    Events, orders, surveys and sellers are Parquet (the streamed tables in row groups of about
    :data:`USERS_PER_CHUNK` users); markets, benchmarks and initiatives are CSV. The tables are written into a
    temporary directory beside ``out_dir`` and renamed into place at the end, so a failure leaves ``out_dir``
    as it was.

    Parameters
    ----------
    out_dir
        Directory to create or replace as a whole (e.g. ``config.DEMO_DATA_DIR``).
    users
        Number of customers; about 26 events per user (4 million users -> about 100 million events).
    seed
        Seed of every random draw: the same ``users`` and ``seed`` give byte-identical files.

    Returns
    -------
    dict[str, Path]
        Table name -> path of its file inside ``out_dir``.
    """
    _check_arguments(users, seed)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.writing-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the data set is meant to be shared
        _write_tables(staging, users, seed)
        _replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {name: out_dir / file_name(name) for name in TABLES}
