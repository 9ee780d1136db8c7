"""Validation of a data directory against the contract, computed in the engine.

The pandera declarations in :mod:`analysis.contract` say what valid data looks like; this module turns each
declared rule into an Ibis aggregate (a count of offending rows) plus a few example values, so a table of a hundred
million rows is checked in one scan and never pulled into pandas.

Beyond the declared rules, a table with no rows and a moment recorded after the run time are problems too; a market
in the markets table without a single event is a warning (the markets table may list markets not yet entered).

Customer-level identifiers (:data:`analysis.contract.IDENTIFIER_COLUMNS`) are never quoted: a broken rule on such a
column is counted and its values are withheld, so no report, executed notebook or run record built from a violation
can show one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from analysis import contract
from analysis.contract import IDENTIFIER_COLUMNS, is_identifier  # noqa: F401  (re-exported: validation's rule)
from analysis.errors import DataFileError, ValidationError
from analysis.sources.connection import connect
from analysis.sources.files import (
    conform,
    engine_cause,
    expected_type,
    find_table_files,
    read_table,
    type_matches,
)
from analysis.sources.spark import catalog_tables, read_catalog_table

if TYPE_CHECKING:  # the checks come from the contract's schemas, which import pandera when first built
    import pandera.pandas as pa

EXAMPLES = 5


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, what, how often, a few offending values and what would be valid.

    ``count`` counts rows unless ``unit`` says what else (``"values"``, ``"markets"``); the ``problem`` then states
    the count itself. Examples of an identifier column (:func:`is_identifier`) are dropped on construction and
    ``withheld`` is set: such a violation can carry its count, never its values.
    """

    file: str
    column: str | None
    problem: str
    valid: str
    count: int | None = None
    examples: tuple = ()
    table: str | None = None
    unit: str = "rows"
    withheld: bool = False

    def __post_init__(self) -> None:
        """Withhold the examples of an identifier column, whoever built the violation."""
        if is_identifier(self.column) and self.examples:
            object.__setattr__(self, "examples", ())
            object.__setattr__(self, "withheld", True)

    def __str__(self) -> str:
        return self.describe()

    def describe(self, data_dir: Path | str | None = None) -> str:
        """The violation as one sentence; a file inside ``data_dir`` is named relative to it."""
        file = self.file
        if data_dir is not None and Path(file).is_relative_to(data_dir):
            file = str(Path(file).relative_to(data_dir)) or Path(file).name
        where = f"{file}, column {self.column!r}" if self.column else file
        how_many = f" in {self.count:,} rows" if self.count is not None and self.unit == "rows" else ""
        if self.withheld:
            shown = " (ids withheld)"
        elif self.examples:
            shown = f"; e.g. {', '.join(repr(value) for value in self.examples)}"
        else:
            shown = ""
        return f"{where}: {self.problem}{how_many}{shown}. Valid: {self.valid}."


@dataclass
class ValidationReport:
    """What was checked in a data directory, what breaks the contract, and what deserves a warning.

    ``violations`` break the contract (:meth:`raise_if_invalid` raises for them); ``warnings`` are named problems
    that leave the data usable, such as a market of the markets table without events. ``validated_at`` is the run
    time the files were checked at (UTC); ``cached`` says the report is the stored result of an earlier check of the
    same files (:func:`analysis.sources.prepare_data`), not a check made now.
    """

    data_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    validated_at: datetime | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        """Whether every contract check passed (warnings do not count)."""
        return not self.violations

    def to_text(self) -> str:
        """The report as plain text: the rows and file of each table, then one line per problem and warning."""
        lines = [f"Data directory: {self.data_dir}"]
        if self.cached and self.validated_at is not None:
            lines.append(f"Checked at {self.validated_at:%Y-%m-%d %H:%M:%S} UTC (stored result, files unchanged since)")
        for table, rows in self.rows.items():
            lines.append(f"  {table:<12} {rows:>14,} rows  {self.files[table]}")
        if self.ok:
            lines.append("All contract checks passed.")
        else:
            lines.append(f"{len(self.violations)} problem(s):")
            lines.extend(f"  - {violation}" for violation in self.violations)
        if self.warnings:
            lines.append(f"{len(self.warnings)} warning(s):")
            lines.extend(f"  - {warning}" for warning in self.warnings)
        return "\n".join(lines)

    def raise_if_invalid(self, tables: Iterable[str] | None = None) -> None:
        """Raise :class:`analysis.errors.ValidationError` listing the problems (only those of ``tables`` when given).

        The message names the data folder by its name and each file relative to it (it may reach a report); the
        error's ``file`` is the data directory and its ``violations`` the :class:`Violation` objects it lists.
        """
        wanted = None if tables is None else set(tables)
        problems = [v for v in self.violations if wanted is None or v.table is None or v.table in wanted]
        if problems:
            listed = "\n".join(f"  - {violation.describe(self.data_dir)}" for violation in problems)
            raise ValidationError(
                f"{len(problems)} data problem(s) in the data folder {self.data_dir.name!r}:\n{listed}",
                violations=problems,
                file=self.data_dir,
            )


def check_data_dir(
    data_dir: Path | str,
    con=None,
    tables: Iterable[str] | None = None,
    *,
    now: datetime | None = None,
    catalog: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Check the contract tables present in ``data_dir`` now; never raises for bad data, reports it instead.

    :func:`analysis.sources.validate_data_dir` returns the stored result of this check when the folder was prepared.

    Parameters
    ----------
    data_dir
        The folder of the workbook's tables (see data/README.md).
    con
        An Ibis backend from :func:`analysis.sources.connect` (used as it is: its settings are not changed); a new
        one, and only one, when None.
    tables
        Limits the check to those tables and the tables their foreign keys refer to (all when None).
    now
        The run time: a moment recorded after it (an event, an order) is a problem. The current time when None.
    catalog
        Contract tables read from named tables of ``con``'s catalog instead of files (as
        :func:`analysis.sources.load_tables` reads them), checked in the engine like the files; violations name the
        catalog table. None means $WORKBOOK_TABLES, else none.
    """
    data_dir = Path(data_dir)
    catalog = catalog_tables(catalog)
    con = con if con is not None else connect()
    now = _as_utc(now).to_pydatetime()
    report = ValidationReport(data_dir, validated_at=now)
    try:
        files = find_table_files(data_dir)
    except DataFileError as error:
        report.violations.append(Violation(str(data_dir), None, str(error).split(": ", 1)[-1], "see data/README.md"))
        return report
    wanted = set(contract.TABLES) if tables is None else tables_checked(tables)
    files = {name: table_file for name, table_file in files.items() if name in wanted and name not in catalog}
    catalog = {name: qualified for name, qualified in catalog.items() if name in wanted}
    for table in contract.REQUIRED_TABLES:
        if table in wanted and table not in files and table not in catalog:
            report.violations.append(
                Violation(
                    str(data_dir / table),
                    None,
                    "required table is missing",
                    f"{table}.parquet or .csv",
                    table=table,
                )
            )
    loaded: dict[str, ibis.Table] = {}
    sources = [(name, str(table_file.path), table_file) for name, table_file in files.items()]
    sources += [(name, qualified, None) for name, qualified in catalog.items()]
    for name, file, table_file in sources:
        try:
            source = read_table(table_file, con) if table_file else read_catalog_table(con, file)
            table = conform(source, name)
            rows = _count_rows(table, every_column=table_file is not None and table_file.fmt == "csv")
            found = check_table(table, name, file, now=now)
        except Exception as error:  # a corrupt file or a missing catalog table: report it, check the others
            engine_error = error.__cause__ if isinstance(error, DataFileError) and error.__cause__ else error
            if table_file is None:
                reason = str(engine_error).strip().splitlines()[0] if str(engine_error).strip() else repr(error)
                problem, valid = f"cannot be read from the catalog ({reason})", "a table of the engine's catalog"
            else:
                problem = f"cannot be read as {table_file.fmt} ({engine_cause(engine_error, table_file.path)})"
                valid = "a readable file"
            report.violations.append(Violation(file, None, problem, valid, table=name))
            continue
        report.rows[name] = rows
        report.files[name] = file
        loaded[name] = table
        report.violations.extend(replace(v, table=name) for v in found)
    for name, table in loaded.items():
        found = check_foreign_keys(table, name, loaded, report.files[name])
        report.violations.extend(replace(v, table=name) for v in found)
    if "markets" in loaded and "events" in loaded:
        report.warnings.extend(markets_without_events(loaded["markets"], loaded["events"], report.files["markets"]))
    return report


def tables_checked(tables: Iterable[str]) -> set[str]:
    """The tables a check of ``tables`` covers: them and the tables their foreign keys refer to."""
    wanted = set(tables)
    for name in list(wanted):
        wanted.update(fk.ref_table for fk in contract.foreign_keys_of(name))
    return wanted


def _count_rows(table: ibis.Table, *, every_column: bool) -> int:
    """Rows of ``table``; with ``every_column`` each column is read too, so a CSV's bad bytes surface here.

    (DuckDB counts CSV rows without decoding their values, so a line that is not UTF-8 would pass a bare count.)
    """
    if not every_column:
        return int(table.count().execute())
    measures = {"rows": table.count()} | {f"c{i}": table[c].count() for i, c in enumerate(table.columns)}
    return int(table.aggregate(**measures).execute().iloc[0]["rows"])


def check_table(table: ibis.Table, name: str, file: str, *, now: datetime | None = None) -> list[Violation]:
    """Rows, columns, types, nulls, allowed values, times and key uniqueness of one table against its declaration.

    Parameters
    ----------
    table, name, file
        The table, its contract name and where it was read from (named in each violation).
    now
        The run time; a UTC timestamp column (a moment that happened, such as ``event_time``) may not pass it. The
        current time when None.
    """
    now = _as_utc(now)
    schema = contract.schema_for(name)
    violations: list[Violation] = []
    rules: list[_Rule] = []
    for column, spec in schema.columns.items():
        family = expected_type(spec.dtype)
        if column not in table.columns:
            violations.append(
                Violation(
                    file,
                    column,
                    "column is missing",
                    f"columns {list(schema.columns)}; found {table.columns}",
                )
            )
            continue
        have = table.schema()[column]
        if not type_matches(family, have):
            violations.append(Violation(file, column, f"has type {have}", f"type {family}"))
            continue
        value = table[column]
        if not spec.nullable:
            rules.append(_Rule(column, "is empty", "a value in every row", value.isnull(), quote=False))
        for check in spec.checks:
            predicate, problem, valid = _rule_of(check, value)
            rules.append(_Rule(column, problem, valid, value.notnull() & predicate))
        if family == "utc_timestamp":
            at = f"{now:%Y-%m-%d %H:%M} UTC"
            rules.append(_Rule(column, f"is dated after the run time ({at})", f"times up to {at}", value > now))
    rows, found = _count_rules(table, rules, file)
    if rows == 0:
        found.insert(0, Violation(file, None, "the table has no rows", f"at least one {name} row"))
    violations.extend(found)
    violations.extend(_check_key(table, name, file))
    return violations


def _as_utc(now: datetime | None) -> pd.Timestamp:
    moment = pd.Timestamp(now if now is not None else datetime.now(UTC))
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def _rule_of(check: pa.Check, value: ibis.Column) -> tuple[ibis.Expr, str, str]:
    """An Ibis predicate true for rows breaking ``check``, what is wrong with them, and what is valid."""
    stats = check.statistics
    if check.name == "isin":
        allowed = list(stats["allowed_values"])
        return ~value.isin(allowed), "has unknown values", f"one of {allowed}"
    if check.name == "in_range":
        low, high = stats["min_value"], stats["max_value"]
        return (value < low) | (value > high), "has values out of range", f"between {low} and {high}"
    if check.name == "greater_than":
        return value <= stats["min_value"], "has values too small", f"greater than {stats['min_value']}"
    if check.name == "str_matches":
        pattern = stats["pattern"]
        return ~value.re_search(pattern), "has values in the wrong format", f"text matching {pattern}"
    raise NotImplementedError(f"the engine validator has no rule for pandera check {check.name!r}")


@dataclass(frozen=True)
class _Rule:
    column: str
    problem: str
    valid: str
    breaks: ibis.Expr  # true for a row breaking the rule
    quote: bool = True  # whether offending values are worth quoting (not for empty ones)


def _count_rules(table: ibis.Table, rules: list[_Rule], file: str) -> tuple[int, list[Violation]]:
    """The table's rows and one violation per failed rule, from one scan; examples fetched only for failed rules."""
    measures = [table.count().name("rows")]
    measures += [rule.breaks.cast("int64").sum().name(f"r{i}") for i, rule in enumerate(rules)]
    row = table.aggregate(measures).execute().iloc[0]
    violations = []
    for i, rule in enumerate(rules):
        bad = int(row[f"r{i}"] or 0)
        if not bad:
            continue
        withheld = rule.quote and is_identifier(rule.column)
        quoted = rule.quote and not withheld
        examples = _examples(table.filter(rule.breaks).select(rule.column).distinct()) if quoted else ()
        violations.append(Violation(file, rule.column, rule.problem, rule.valid, bad, examples, withheld=withheld))
    return int(row["rows"]), violations


def _check_key(table: ibis.Table, name: str, file: str) -> list[Violation]:
    key = [column for column in contract.key_of(name) if column in table.columns]
    if not key or len(key) < len(contract.key_of(name)):
        return []
    duplicated = table.group_by(key).aggregate(copies=ibis._.count()).filter(ibis._.copies > 1)
    count = int(duplicated.count().execute())
    if not count:
        return []
    columns = ", ".join(key)
    problem = f"key is not unique: {count:,} {columns} value(s) occur more than once"
    withheld = is_identifier(columns)
    examples = () if withheld else _examples(duplicated.select(*key))
    return [Violation(file, columns, problem, "each key once", count, examples, unit="values", withheld=withheld)]


def check_foreign_keys(table: ibis.Table, name: str, loaded: dict[str, ibis.Table], file: str) -> list[Violation]:
    """Values of ``table`` that its referenced tables (when loaded) do not know (identifiers counted, not shown)."""
    violations = []
    for fk in contract.foreign_keys_of(name):
        ref = loaded.get(fk.ref_table)
        if ref is None or not set(fk.columns) <= set(table.columns) or not set(fk.ref_columns) <= set(ref.columns):
            continue
        known = ref.select(*[ref[r].name(c) for c, r in zip(fk.columns, fk.ref_columns, strict=True)]).distinct()
        orphans = table.select(*fk.columns).distinct().anti_join(known, list(fk.columns))
        count = int(orphans.count().execute())
        if count:
            columns = ", ".join(fk.columns)
            violations.append(
                Violation(
                    file,
                    columns,
                    f"has {count:,} value(s) unknown to table {fk.ref_table!r}",
                    f"values listed in {fk.ref_table}.{', '.join(fk.ref_columns)}",
                    count,
                    () if is_identifier(columns) else _examples(orphans.select(fk.columns[0])),
                    unit="values",
                    withheld=is_identifier(columns),
                )
            )
    return violations


def markets_without_events(markets: ibis.Table, events: ibis.Table, file: str) -> list[Violation]:
    """A warning naming the markets of the markets table that have no events at all (market codes are not ids).

    Every report of such a market has an empty scope; it is a warning, not a violation, because a markets table
    may list a market the client has not entered yet.
    """
    if "market" not in markets.columns or "market" not in events.columns:
        return []
    seen = events.select("market").distinct()
    missing = sorted(markets.select("market").distinct().anti_join(seen, "market").execute()["market"])
    if not missing:
        return []
    listed = ", ".join(missing)
    return [
        Violation(
            file,
            "market",
            f"{len(missing)} market(s) have no events: {listed}; their reports will say so and show no figures",
            "a market with at least one event",
            len(missing),
            table="markets",
            unit="markets",
        )
    ]


def _examples(values: ibis.Table) -> tuple:
    frame = values.limit(EXAMPLES).execute()
    if len(frame.columns) == 1:
        return tuple(_plain(value) for value in frame.iloc[:, 0])
    return tuple(tuple(map(_plain, row)) for row in frame.itertuples(index=False, name=None))


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value
