"""Where the data prepared from a data folder is kept, and how a reader finds it: the cache key and the cache folder.

A data folder is prepared once (:func:`analysis.sources.prepare_data`): its validation is stored and its events are
copied sorted and partitioned by market. Every kernel of a run then looks the folder up here, many times, so the key
must be cheap: :func:`stat_fingerprint` hashes each data file's name, size and modification time (``stat`` calls,
microseconds) rather than its content, which the provenance fingerprint of ``analysis.pipeline.provenance`` hashes (a
full read, seconds at 100 million events, once per run). The assumption: a data file is never rewritten in place with
the same size and the same modification time to the nanosecond (a tool that restores both, such as ``touch -r`` after
an edit, would hide a change from the cache; delete the cache folder after such an edit).

A cache folder ``<cache>/prepared/<fingerprint>/`` is complete when it exists: it is built under a temporary name
and renamed into place, so a reader never sees a half-written one. It holds ``manifest.json`` (what was prepared),
``validation.json`` (the stored validation) and ``events/market=XX/part-0.parquet`` (the events of market XX without
their ``market`` column, which the folder name carries, sorted by user and time).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import ibis

from analysis.config import resolve_cache_dir
from analysis.errors import DataFileError

# Bumped when the layout of a cache folder changes, so an older cache is never read as a newer one.
FORMAT_VERSION = 1
PREPARED_FOLDER = "prepared"
MANIFEST_FILE = "manifest.json"
VALIDATION_FILE = "validation.json"
EVENTS_FOLDER = "events"
PARTITION_COLUMN = "market"

# The modules whose code decides what a prepared folder holds: a change to them invalidates every cache.
_CODE_FILES = ("contract.py", "sources/files.py", "sources/validate.py", "sources/cache.py", "sources/prepared.py")


def stat_fingerprint(data_dir: Path | str) -> str:
    """The cache key of a data folder: sha256 (hex) over its files' names, sizes and ``mtime_ns``.

    Covers every file at the top of the folder and every file below its subfolders (a table stored as a folder of
    parquet files), leaving out hidden ones (``.DS_Store``, markers); also the folder's absolute path, because a
    stored validation names its files, and the code that prepares and validates (:data:`_CODE_FILES`, by content).
    A stat, not a read: see the module docstring for why and for what it cannot see.

    Raises
    ------
    DataFileError
        if ``data_dir`` is not a folder (``file`` is the folder).
    """
    folder = Path(data_dir).resolve()
    if not folder.is_dir():
        raise DataFileError(
            f"{data_dir}: no such data directory (expected a folder holding e.g. events.parquet)",
            file=Path(data_dir),
            valid="a folder holding the contract's tables, e.g. events.parquet",
        )
    digest = hashlib.sha256(f"prepared-v{FORMAT_VERSION}\0{_code_version()}\0{folder}\0".encode())
    for path in _data_files(folder):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _data_files(folder: Path) -> list[Path]:
    files = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            files.extend(p for p in sorted(entry.rglob("*")) if p.is_file() and not _hidden(p, entry))
        elif entry.is_file():
            files.append(entry)
    return files


def _hidden(path: Path, below: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(below).parts)


@functools.cache
def _code_version() -> str:
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _CODE_FILES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def prepared_root(cache_dir: Path | str | None = None) -> Path:
    """The folder holding one prepared folder per fingerprint: ``<cache>/prepared`` (see :func:`resolve_cache_dir`)."""
    return resolve_cache_dir(cache_dir or "") / PREPARED_FOLDER


def prepared_folder(data_dir: Path | str, cache_dir: Path | str | None = None) -> Path | None:
    """The complete prepared folder of ``data_dir`` as its files are now, or None when it was not prepared.

    Raises
    ------
    DataFileError
        if ``data_dir`` is not a folder.
    """
    folder = prepared_root(cache_dir) / stat_fingerprint(data_dir)
    return folder if (folder / MANIFEST_FILE).is_file() else None


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a prepared folder (what was prepared, when, and the events' columns and rows)."""
    return json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))


def is_duckdb(con) -> bool:
    """Whether ``con`` is an Ibis DuckDB backend (the only engine that reads or writes a prepared folder)."""
    return getattr(con, "name", None) == "duckdb"


def prepared_events(data_dir: Path | str, con) -> ibis.Table | None:
    """The prepared copy of ``data_dir``'s events as the table ``events`` on ``con``, or None when there is none.

    None too when ``con`` is not DuckDB, or the cache holds no events copy (events that broke the contract are not
    copied). The table has the original's columns, in their order and with their types; a filter on ``market`` reads
    only that market's files. Reads the cache folder of :func:`resolve_cache_dir` ($WORKBOOK_CACHE_DIR).
    """
    if not is_duckdb(con):
        return None
    folder = prepared_folder(data_dir)
    if folder is None:
        return None
    events = read_manifest(folder).get("events")
    if not events:
        return None
    files = sql_literal(folder / EVENTS_FOLDER / "*" / "*.parquet")
    columns = ", ".join('"' + column.replace('"', '""') + '"' for column in events["columns"])
    # market codes stay text whatever they look like (hive_types), in the original column order (the select)
    con.raw_sql(
        f'CREATE OR REPLACE TEMPORARY VIEW "events" AS SELECT {columns} FROM read_parquet({files}, '
        f"hive_partitioning = true, hive_types = {{'{PARTITION_COLUMN}': 'VARCHAR'}}, hive_types_autocast = false)"
    )
    return con.table("events")


def sql_literal(path: Path | str) -> str:
    """A path as a quoted SQL string literal."""
    text = os.fspath(path).replace("'", "''")
    return f"'{text}'"
