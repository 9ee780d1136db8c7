"""A data folder prepared once per data fingerprint: its validation stored, its events copied by market.

A run's reports read the same data folder many times: each one used to validate it again and each per-market report
scanned every event to keep its market's. :func:`prepare_data`, called once per run before any kernel starts, stores
the validation and writes a copy of the events partitioned by market and sorted by user and time within each market.
Afterwards :func:`validate_data_dir` returns the stored result and :func:`analysis.sources.load_tables` reads the
copy, as long as the folder's files are unchanged (:func:`analysis.sources.cache.stat_fingerprint`). Only DuckDB
reads and writes it; a Spark or other backend reads the data folder as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.errors import DataFileError, ParameterError
from analysis.sources.cache import (
    EVENTS_FOLDER,
    FORMAT_VERSION,
    MANIFEST_FILE,
    PARTITION_COLUMN,
    VALIDATION_FILE,
    is_duckdb,
    prepared_folder,
    prepared_root,
    read_manifest,
    sql_literal,
    stat_fingerprint,
)
from analysis.sources.connection import connect
from analysis.sources.files import conform, find_table_files, read_table
from analysis.sources.spark import catalog_tables
from analysis.sources.validate import ValidationReport, Violation, check_data_dir, tables_checked

# Memory DuckDB may use while it copies and sorts the events; past it, it spills to the build folder's disk.
PREPARE_MEMORY_LIMIT = "1GB"
SORT_COLUMNS = ("user_id", "event_time")
_BUILDING = ".building-"


@dataclass(frozen=True)
class PreparedData:
    """What :func:`prepare_data` holds for a data folder as its files are now.

    Attributes
    ----------
    fingerprint
        the folder's cache key (:func:`analysis.sources.cache.stat_fingerprint`).
    folder
        the prepared folder, ``<cache>/prepared/<fingerprint>``.
    validation
        the stored validation of every table (``cached`` is True when an earlier call stored it).
    events
        the folder of the events copy (``events/market=XX/*.parquet``), or None when the events were not copied.
    events_note
        why the events were not copied (they break the contract, or there are none); empty when they were.
    built
        whether this call built the folder (False: it was there already).
    """

    fingerprint: str
    folder: Path
    validation: ValidationReport
    events: Path | None
    events_note: str
    built: bool


def prepare_data(data_dir: Path | str, *, con=None, cache_dir: Path | str | None = None) -> PreparedData:
    """Validate ``data_dir`` once and copy its events by market, for its files as they are now; idempotent.

    A second call for unchanged files reads what the first stored. The folder is built under a temporary name and
    renamed into place, under a lock: callers in other processes wait for the first and then read its result, and a
    crash leaves no prepared folder (its leftovers are removed by the next call). Events that break the contract are
    not copied (readers then read the data folder, and validation reports the problem).

    Parameters
    ----------
    data_dir
        The data folder (parquet or CSV files, see data/README.md); only read.
    con
        A DuckDB backend from :func:`analysis.sources.connect`, used as it is; when None a new one limited to
        :data:`PREPARE_MEMORY_LIMIT` that spills to the cache folder's disk (bounded memory at 100M events).
    cache_dir
        The cache folder; :func:`analysis.config.resolve_cache_dir` when None ($WORKBOOK_CACHE_DIR or
        ``<project>/.cache``). Readers look in the default one, so a run that prepares elsewhere sets the variable.

    Raises
    ------
    DataFileError
        if ``data_dir`` is not a folder, or its files changed while it was prepared (``file`` is the folder).
    ParameterError
        if ``con`` is not a DuckDB backend (parameter ``con``).
    """
    if con is not None and not is_duckdb(con):
        raise ParameterError(
            f"prepare_data writes its copy with DuckDB; got a {getattr(con, 'name', type(con).__name__)} backend",
            parameter="con",
            value=getattr(con, "name", type(con).__name__),
            valid="a DuckDB backend from analysis.sources.connect(), or None",
        )
    data_dir = Path(data_dir)
    fingerprint = stat_fingerprint(data_dir)
    root = prepared_root(cache_dir)
    final = root / fingerprint
    if (final / MANIFEST_FILE).is_file():
        return _read_prepared(final, data_dir, built=False)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / f".{fingerprint}.lock"):
        if (final / MANIFEST_FILE).is_file():  # another process built it while this one waited
            return _read_prepared(final, data_dir, built=False)
        for leftover in root.glob(f"{_BUILDING}{fingerprint}-*"):  # a crashed build's (the lock holder is us)
            shutil.rmtree(leftover, ignore_errors=True)
        building = root / f"{_BUILDING}{fingerprint}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            _build(data_dir, building, fingerprint, con)
            if stat_fingerprint(data_dir) != fingerprint:
                raise DataFileError(
                    f"{data_dir}: its files changed while it was being prepared; prepare it again",
                    file=data_dir,
                    valid="files left unchanged while the folder is prepared",
                )
            try:
                os.rename(building, final)
            except OSError:
                if not (final / MANIFEST_FILE).is_file():
                    raise
                return _read_prepared(final, data_dir, built=False)  # without a lock, another build renamed first
        finally:
            shutil.rmtree(building, ignore_errors=True)
    return _read_prepared(final, data_dir, built=True)


def validate_data_dir(
    data_dir: Path | str,
    con=None,
    tables: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
    catalog: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Check the contract tables present in ``data_dir``; never raises for bad data, reports it instead.

    When the folder was prepared (:func:`prepare_data`) and its files are unchanged, the stored result is returned
    (``cached`` True, ``validated_at`` the time of that check) without reading the data; otherwise the folder is
    checked now (:func:`analysis.sources.validate.check_data_dir`) and nothing is stored: only :func:`prepare_data`
    writes the cache, so a kernel never writes beside another.

    Parameters
    ----------
    data_dir
        The folder of the workbook's tables (see data/README.md).
    con
        An Ibis backend from :func:`analysis.sources.connect` (used as it is: its settings are not changed); a new
        one, and only one, when None and the data are checked now. A backend other than DuckDB always checks now.
    tables
        Limits the check to those tables and the tables their foreign keys refer to (all when None).
    now
        The run time: a moment recorded after it (an event, an order) is a problem. The current time when None; a
        ``now`` before the stored check's time checks now (the stored result only holds for later run times).
    catalog
        Contract tables read from the engine's catalog instead of files (None: $WORKBOOK_TABLES, else none); with
        any, the data are checked now (a stored check only covers the folder's files).
    """
    catalog = catalog_tables(catalog)
    stored = None if catalog else _stored_validation(data_dir, con, now)
    if stored is None:
        return check_data_dir(data_dir, con, tables, now=now, catalog=catalog)
    return stored if tables is None else _only(stored, tables_checked(tables))


def _stored_validation(data_dir: Path | str, con, now: datetime | None) -> ValidationReport | None:
    if con is not None and not is_duckdb(con):
        return None
    try:
        folder = prepared_folder(data_dir)
    except DataFileError:
        return None  # the check says what is wrong with the folder
    if folder is None:
        return None
    stored = json.loads((folder / VALIDATION_FILE).read_text(encoding="utf-8"))
    report = report_from_json(stored, data_dir, cached=True)
    if now is not None and report.validated_at is not None and _utc(now) < report.validated_at:
        return None
    return report


def _only(report: ValidationReport, wanted: set[str]) -> ValidationReport:
    """The report a check of ``wanted`` tables would have made (each problem carries its table)."""
    return replace(
        report,
        rows={table: rows for table, rows in report.rows.items() if table in wanted},
        files={table: file for table, file in report.files.items() if table in wanted},
        violations=[v for v in report.violations if v.table is None or v.table in wanted],
        # the one warning (markets without events) is only looked for when both tables are checked
        warnings=[w for w in report.warnings if (w.table is None or w.table in wanted) and "events" in wanted],
    )


def report_to_json(report: ValidationReport) -> dict[str, Any]:
    """A validation report as JSON-ready data, its files named relative to its data folder.

    Examples of identifier columns are not there to store: the report's violations withheld them when made.
    """

    def inside(file: str) -> str:
        path = Path(file)
        return path.relative_to(report.data_dir).as_posix() if path.is_relative_to(report.data_dir) else file

    def stored(violation: Violation) -> dict[str, Any]:
        return asdict(violation) | {"file": inside(violation.file)}

    return {
        "rows": report.rows,
        "files": {table: inside(file) for table, file in report.files.items()},
        "violations": [stored(v) for v in report.violations],
        "warnings": [stored(w) for w in report.warnings],
        "validated_at": report.validated_at.isoformat() if report.validated_at else None,
    }


def report_from_json(data: dict[str, Any], data_dir: Path | str, *, cached: bool) -> ValidationReport:
    """The report :func:`report_to_json` stored, its files named as a check of ``data_dir`` names them."""
    data_dir = Path(data_dir)

    def violation(stored: dict[str, Any]) -> Violation:
        examples = tuple(tuple(e) if isinstance(e, list) else e for e in stored.get("examples", ()))
        return Violation(**stored | {"file": str(data_dir / stored["file"]), "examples": examples})

    at = data.get("validated_at")
    return ValidationReport(
        data_dir,
        rows=dict(data["rows"]),
        files={table: str(data_dir / file) for table, file in data["files"].items()},
        violations=[violation(v) for v in data["violations"]],
        warnings=[violation(w) for w in data["warnings"]],
        validated_at=datetime.fromisoformat(at) if at else None,
        cached=cached,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _build(data_dir: Path, building: Path, fingerprint: str, con) -> None:
    building.mkdir(parents=True)
    own = con is None
    if own:
        spill = building / ".spill"
        con = connect(memory_limit=PREPARE_MEMORY_LIMIT, temp_directory=str(spill), preserve_insertion_order=False)
    try:
        validation = check_data_dir(data_dir, con)
        _write_json(building / VALIDATION_FILE, report_to_json(validation))
        events, note = _copy_events(data_dir, building, con, validation)
    finally:
        if own:
            con.disconnect()
    shutil.rmtree(building / ".spill", ignore_errors=True)
    manifest = {
        "format_version": FORMAT_VERSION,
        "fingerprint": fingerprint,
        "data_dir": str(data_dir.resolve()),
        "prepared_at": validation.validated_at.isoformat() if validation.validated_at else None,
        "events": events,
        "events_note": note,
    }
    _write_json(building / MANIFEST_FILE, manifest)  # written last: a folder with a manifest is complete


def _copy_events(
    data_dir: Path, building: Path, con, validation: ValidationReport
) -> tuple[dict[str, Any] | None, str]:
    """Write each market's events sorted by user and time, one market at a time (one sort in memory or spilled).

    A market at a time rather than one partitioned write: DuckDB's partitioned write does not keep the order within
    a partition, and at 10M events the filtered reads plus sorts took 31 s against 52 s for a partitioned write
    followed by a sort of each partition.
    """
    if "events" not in validation.files:
        return None, "the data folder has no readable events table"
    if any(v.table in (None, "events") for v in validation.violations):
        return None, "the events break the contract (see the validation), so they were not copied"
    events = conform(read_table(find_table_files(data_dir)["events"], con), "events")
    markets = sorted(events.select(PARTITION_COLUMN).distinct().execute()[PARTITION_COLUMN])
    if not all(str(market).isalnum() for market in markets):  # the contract's codes are; a folder name must be
        return None, "some market codes cannot name a folder, so the events were not copied"
    rows = {}
    for market in markets:
        target = building / EVENTS_FOLDER / f"{PARTITION_COLUMN}={market}" / "part-0.parquet"
        target.parent.mkdir(parents=True)
        own = events.filter(events[PARTITION_COLUMN] == market).drop(PARTITION_COLUMN).order_by(list(SORT_COLUMNS))
        con.raw_sql(f"COPY ({con.compile(own)}) TO {sql_literal(target)} (FORMAT parquet)").fetchall()
        counted = con.raw_sql(f"SELECT count(*) FROM read_parquet({sql_literal(target)}, hive_partitioning = false)")
        rows[market] = int(counted.fetchone()[0])
    if sum(rows.values()) != validation.rows["events"]:  # a copy that lost or gained rows must never be read
        raise DataFileError(
            f"{data_dir}: the copy of its events holds {sum(rows.values()):,} rows, not {validation.rows['events']:,}",
            file=data_dir,
            valid="a copy with every event",
        )
    return {"columns": list(events.columns), "rows_by_market": rows, "rows": sum(rows.values())}, ""


def _read_prepared(folder: Path, data_dir: Path, *, built: bool) -> PreparedData:
    manifest = read_manifest(folder)
    stored = json.loads((folder / VALIDATION_FILE).read_text(encoding="utf-8"))
    validation = report_from_json(stored, data_dir, cached=not built)
    events = folder / EVENTS_FOLDER if manifest["events"] else None
    return PreparedData(manifest["fingerprint"], folder, validation, events, manifest["events_note"], built)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (waits for another holder); without ``fcntl`` the rename alone decides."""
    try:
        import fcntl
    except ImportError:  # Windows: two builds may run; the first rename wins, the other's is discarded
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
