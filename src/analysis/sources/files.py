"""Reading the workbook's own files (parquet and CSV) into Ibis tables, conformed to the contract's types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.datatypes as dt

from analysis import contract
from analysis.errors import DataFileError
from analysis.sources.cache import prepared_events
from analysis.sources.connection import connect
from analysis.sources.spark import catalog_tables, read_catalog_table, spark_instant_columns

SUFFIXES = (".parquet", ".csv")


@dataclass(frozen=True)
class TableFile:
    """Where one contract table lives in a data directory."""

    table: str
    path: Path  # a file, or a directory of parquet files

    @property
    def fmt(self) -> str:
        """``"csv"`` or ``"parquet"``: how the file is read."""
        return "csv" if self.path.suffix == ".csv" else "parquet"


def find_table_files(data_dir: Path | str) -> dict[str, TableFile]:
    """The contract tables present in ``data_dir``: ``<table>.parquet``, ``<table>.csv`` or a ``<table>/`` folder.

    Raises
    ------
    DataFileError
        if ``data_dir`` does not exist, or one table is present in two forms (which one is meant is unclear).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataFileError(
            f"{data_dir}: no such data directory (expected a folder holding e.g. events.parquet)",
            file=data_dir,
            valid="a folder holding the contract's tables, e.g. events.parquet",
        )
    found: dict[str, TableFile] = {}
    for table in contract.TABLE_NAMES:
        candidates = [data_dir / f"{table}{suffix}" for suffix in SUFFIXES]
        folder = data_dir / table
        if folder.is_dir() and any(folder.glob("*.parquet")):
            candidates.append(folder)
        present = [path for path in candidates if path.exists()]
        if len(present) > 1:
            names = ", ".join(path.name for path in present)
            raise DataFileError(
                f"{data_dir}: table {table!r} is given twice ({names}); keep one of them",
                file=data_dir,
                value=[path.name for path in present],
                valid=f"one of {names}",
            )
        if present:
            found[table] = TableFile(table, present[0])
    return found


def read_table(table_file: TableFile, con) -> ibis.Table:
    """Register one file with the backend as an Ibis table named after the contract table."""
    path = table_file.path
    try:
        if table_file.fmt == "csv":
            return con.read_csv(path, table_name=table_file.table)
        source = str(path / "*.parquet") if path.is_dir() else path
        return con.read_parquet(source, table_name=table_file.table)
    except Exception as error:  # the engine's own message says what is broken; we add where
        raise DataFileError(
            f"{path}: cannot be read as {table_file.fmt} ({engine_cause(error, path)})",
            file=path,
            valid=f"a readable {table_file.fmt} file",
        ) from error


def engine_cause(error: Exception, path: Path | str | None = None) -> str:
    """The engine's own account of why a file could not be read, on one line, without the data it quoted.

    DuckDB's CSV errors open with where (``CSV Error on Line: 4``), quote the offending line, then say why (``Maximum
    line size of 2000000 bytes exceeded``, ``Invalid unicode ... not utf-8 encoded``), then list reader options. The
    first line and the why are kept; the quoted line is dropped, because a line of orders or events holds customer
    identifiers, and so are the options and DuckDB's suggestions (they name options the workbook does not expose).

    When DuckDB's format sniffer meets a line that is too long it reports line 1 whatever the line; given ``path``
    (the CSV file), the line number is then corrected to that of the first line over the limit.
    """
    lines = [line.strip() for line in str(error).strip().splitlines()]
    if not lines or not lines[0]:
        return type(error).__name__
    cause = []
    for line in lines[1:]:
        if not line:
            break  # a blank line ends the explanation; the options and suggestions follow it
        if not line.startswith(_QUOTED_LINE):
            cause.append(line)
    first = lines[0].rstrip(".")
    too_long = _LINE_SIZE.search(" ".join(cause))
    if too_long and path is not None and Path(path).is_file():
        number = _first_line_longer_than(Path(path), int(too_long.group(1)))
        if number is not None:
            first = _LINE_NUMBER.sub(f"Line: {number}", first)
    return f"{first}. {' '.join(cause)}" if cause else first


_QUOTED_LINE = "Original Line:"  # DuckDB quotes the offending line of data: never shown, it may hold identifiers
_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_LINE_NUMBER = re.compile(r"Line: \d+")


def _first_line_longer_than(path: Path, limit: int) -> int | None:
    """The 1-based number of the first line of ``path`` longer than ``limit`` bytes (read in blocks, never whole)."""
    number, length = 1, 0
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            start = 0
            while (end := block.find(b"\n", start)) != -1:
                if length + end - start > limit:
                    return number
                number, length, start = number + 1, 0, end + 1
            length += len(block) - start
            if length > limit:
                return number
    return None


def conform(table: ibis.Table, name: str) -> ibis.Table:
    """Cast columns whose stored type is a harmless variant of the contract's (date vs timestamp, int vs float).

    Anything else is left as it is for validation to report: a cast must never hide bad data.
    """
    schema = contract.schema_for(name)
    casts = {}
    instants: set[str] | None = None  # Spark's instant columns, looked up once, only when needed
    for column, spec in schema.columns.items():
        if column not in table.columns:
            continue
        want = expected_type(spec.dtype)
        have = table.schema()[column]
        if want == "date" and (have.is_date() or (have.is_timestamp() and have.timezone is None)):
            casts[column] = table[column].cast(dt.Timestamp(scale=6))
        elif want == "utc_timestamp" and have.is_timestamp() and have.timezone is not None:
            casts[column] = table[column].cast(dt.Timestamp(timezone="UTC", scale=6))
        elif want == "utc_timestamp" and have.is_timestamp():
            # Ibis shows Spark's instants without a time zone; they are UTC instants, a naive timestamp is not
            instants = spark_instant_columns(table) if instants is None else instants
            if column in instants:
                casts[column] = table[column].cast(dt.Timestamp(timezone="UTC", scale=6))
        elif want == "floating" and have.is_integer():
            casts[column] = table[column].cast("float64")
        elif want == "integer" and have.is_floating():
            continue  # fractional scores are a data error, not a type variant
    return table.mutate(**casts) if casts else table


def expected_type(pandera_dtype) -> str:
    """The contract dtype as a family name: string, utc_timestamp, date, integer, floating or boolean."""
    text = str(pandera_dtype)
    if text.startswith("datetime64") and "UTC" in text:
        return "utc_timestamp"
    if text.startswith("datetime64"):
        return "date"
    if text.lower().startswith("int"):
        return "integer"
    if text.startswith("float"):
        return "floating"
    if text.startswith("bool"):
        return "boolean"
    return "string"


def type_matches(family: str, have: dt.DataType) -> bool:
    """Whether a stored Ibis type fits a contract type family (after :func:`conform`)."""
    checks = {
        "string": have.is_string(),
        "utc_timestamp": have.is_timestamp() and have.timezone is not None,
        "date": have.is_timestamp() or have.is_date(),
        "integer": have.is_integer(),
        "floating": have.is_floating() or have.is_decimal(),
        "boolean": have.is_boolean(),
    }
    return checks[family]


def load_tables(
    data_dir: Path | str,
    con=None,
    tables: list[str] | None = None,
    *,
    catalog: Mapping[str, str] | None = None,
) -> dict[str, ibis.Table]:
    """Every contract table present in ``data_dir`` as an Ibis table on ``con`` (a new DuckDB backend if None).

    Nothing is read into memory: the tables are views over the files. Use :func:`validate_data_dir` to check them.
    When the folder was prepared (:func:`analysis.sources.prepare_data`) and its files have not changed since,
    ``events`` on a DuckDB backend reads the prepared copy: the same columns, types and rows, partitioned by market
    (a filter on ``market`` reads that market only) and sorted by user and time within it.

    Parameters
    ----------
    data_dir
        folder holding ``events.parquet``, ``markets.csv`` ... (see data/README.md).
    con
        an Ibis backend from :func:`analysis.sources.connect` (used as it is: its settings are not changed); a new
        one, and only one, when None.
    tables
        only these tables (each must be present); all present ones when None.
    catalog
        contract tables read from named tables of ``con``'s catalog instead of files, e.g. ``{"events":
        "db.events"}`` (``table``, ``database.table`` or ``catalog.database.table``); any table not named is read
        from ``data_dir``. None means $WORKBOOK_TABLES (:func:`analysis.sources.spark.catalog_tables`), else none.
    """
    con = con if con is not None else connect()
    catalog = catalog_tables(catalog)
    for name in catalog:
        contract.schema_for(name)  # unknown table names fail with the list of known ones
    files = find_table_files(data_dir)
    wanted = list(dict.fromkeys([*files, *catalog])) if tables is None else list(tables)
    for name in wanted:
        contract.schema_for(name)  # unknown table names fail with the list of known ones
        if name not in files and name not in catalog:
            raise DataFileError(
                f"{data_dir}: table {name!r} not found (looked for {name}.parquet, {name}.csv, {name}/*.parquet)",
                file=data_dir,
                value=name,
                valid=sorted(files),
            )
    loaded = {}
    for name in wanted:
        if name in catalog:
            loaded[name] = conform(_catalog_table(con, name, catalog[name]), name)
            continue
        prepared = prepared_events(data_dir, con) if name == "events" else None
        loaded[name] = conform(prepared if prepared is not None else read_table(files[name], con), name)
    return loaded


def _catalog_table(con, name: str, qualified_name: str) -> ibis.Table:
    try:
        return read_catalog_table(con, qualified_name)
    except Exception as error:  # the engine's own message says what is missing; we add which table was meant
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataFileError(
            f"catalog table {qualified_name!r} (the {name} table) cannot be read ({reason})",
            file=qualified_name,
            value=qualified_name,
            valid="a table of the engine's catalog, e.g. db.events",
        ) from error
