"""Validation of a data directory against the contract, computed in the engine.

The pandera declarations in :mod:`analysis.contract` say what valid data looks like; this module turns each
declared rule into an Ibis aggregate (a count of offending rows) plus a few example values, so a table of a hundred
million rows is checked in one scan and never pulled into pandas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import ibis
import pandera.pandas as pa

from analysis import contract
from analysis.errors import DataFileError, ValidationError
from analysis.sources.connection import connect
from analysis.sources.files import (
    conform,
    expected_type,
    find_table_files,
    read_table,
    type_matches,
)

EXAMPLES = 5


@dataclass(frozen=True)
class Violation:
    """One broken rule: where, what, how often, a few offending values and what would be valid."""

    file: str
    column: str | None
    problem: str
    valid: str
    count: int | None = None
    examples: tuple = ()
    table: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}, column {self.column!r}" if self.column else self.file
        how_many = f" in {self.count:,} rows" if self.count is not None else ""
        shown = f"; e.g. {', '.join(repr(value) for value in self.examples)}" if self.examples else ""
        return f"{where}: {self.problem}{how_many}{shown}. Valid: {self.valid}."


@dataclass
class ValidationReport:
    """What was checked in a data directory and what failed."""

    data_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.violations

    def to_text(self) -> str:
        """The report as plain text: the rows and file of each table, then one line per problem."""
        lines = [f"Data directory: {self.data_dir}"]
        for table, rows in self.rows.items():
            lines.append(f"  {table:<12} {rows:>14,} rows  {self.files[table]}")
        if self.ok:
            lines.append("All contract checks passed.")
        else:
            lines.append(f"{len(self.violations)} problem(s):")
            lines.extend(f"  - {violation}" for violation in self.violations)
        return "\n".join(lines)

    def raise_if_invalid(self, tables: Iterable[str] | None = None) -> None:
        """Raise :class:`analysis.errors.ValidationError` listing the problems (only those of ``tables`` when given).

        The error's ``violations`` holds the :class:`Violation` objects it lists; ``file`` is the data directory.
        """
        wanted = None if tables is None else set(tables)
        problems = [v for v in self.violations if wanted is None or v.table is None or v.table in wanted]
        if problems:
            listed = "\n".join(f"  - {violation}" for violation in problems)
            raise ValidationError(
                f"{len(problems)} data problem(s) in {self.data_dir}:\n{listed}",
                violations=problems,
                file=self.data_dir,
            )


def validate_data_dir(data_dir: Path | str, con=None, tables: Iterable[str] | None = None) -> ValidationReport:
    """Check the contract tables present in ``data_dir``; never raises for bad data, reports it instead.

    Parameters
    ----------
    data_dir
        The folder of the workbook's tables (see data/README.md).
    con
        An Ibis backend from :func:`analysis.sources.connect` (used as it is: its settings are not changed); a new
        one, and only one, when None.
    tables
        Limits the check to those tables and the tables their foreign keys refer to (all when None).
    """
    data_dir = Path(data_dir)
    con = con if con is not None else connect()
    report = ValidationReport(data_dir)
    try:
        files = find_table_files(data_dir)
    except DataFileError as error:
        report.violations.append(Violation(str(data_dir), None, str(error).split(": ", 1)[-1], "see data/README.md"))
        return report
    wanted = set(contract.TABLES) if tables is None else _with_references(tables)
    files = {name: table_file for name, table_file in files.items() if name in wanted}
    for table in contract.REQUIRED_TABLES:
        if table in wanted and table not in files:
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
    for name, table_file in files.items():
        try:
            table = conform(read_table(table_file, con), name)
            report.rows[name] = int(table.count().execute())
        except Exception as error:  # a corrupt file: report it, check the others
            problem = _first_line(error).removeprefix(f"{table_file.path}: ")
            report.violations.append(Violation(str(table_file.path), None, problem, "a readable file", table=name))
            continue
        report.files[name] = str(table_file.path)
        loaded[name] = table
        report.violations.extend(replace(v, table=name) for v in check_table(table, name, str(table_file.path)))
    for name, table in loaded.items():
        found = check_foreign_keys(table, name, loaded, report.files[name])
        report.violations.extend(replace(v, table=name) for v in found)
    return report


def _with_references(tables: Iterable[str]) -> set[str]:
    wanted = set(tables)
    for name in list(wanted):
        wanted.update(fk.ref_table for fk in contract.foreign_keys_of(name))
    return wanted


def check_table(table: ibis.Table, name: str, file: str) -> list[Violation]:
    """Columns, types, nulls, allowed values and key uniqueness of one table against its declaration."""
    schema = contract.schema_for(name)
    violations: list[Violation] = []
    rules: list[tuple[str, str, str, ibis.Expr]] = []  # (column, problem, valid, predicate of a bad row)
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
            rules.append((column, "is empty", "a value in every row", value.isnull()))
        for check in spec.checks:
            predicate, problem, valid = _rule_of(check, value)
            rules.append((column, problem, valid, value.notnull() & predicate))
    violations.extend(_count_rules(table, rules, file))
    violations.extend(_check_key(table, name, file))
    return violations


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


def _count_rules(table: ibis.Table, rules: list, file: str) -> list[Violation]:
    if not rules:
        return []
    # One scan counts every rule; examples are fetched only for rules that failed.
    counts = table.aggregate([predicate.cast("int64").sum().name(f"r{i}") for i, (*_, predicate) in enumerate(rules)])
    row = counts.execute().iloc[0]
    violations = []
    for i, (column, problem, valid, predicate) in enumerate(rules):
        bad = int(row[f"r{i}"] or 0)
        if bad:
            examples = table.filter(predicate).select(column).distinct().limit(EXAMPLES).execute()[column]
            violations.append(Violation(file, column, problem, valid, bad, tuple(_plain(v) for v in examples)))
    return violations


def _check_key(table: ibis.Table, name: str, file: str) -> list[Violation]:
    key = [column for column in contract.key_of(name) if column in table.columns]
    if not key or len(key) < len(contract.key_of(name)):
        return []
    duplicated = table.group_by(key).aggregate(copies=ibis._.count()).filter(ibis._.copies > 1)
    count = int(duplicated.count().execute())
    if not count:
        return []
    examples = duplicated.limit(EXAMPLES).execute()[key].itertuples(index=False, name=None)
    shown = tuple(_plain(values[0]) if len(key) == 1 else tuple(map(_plain, values)) for values in examples)
    return [Violation(file, ", ".join(key), "key is not unique", "each key once", count, shown)]


def check_foreign_keys(table: ibis.Table, name: str, loaded: dict[str, ibis.Table], file: str) -> list[Violation]:
    """Values of ``table`` that its referenced tables (when loaded) do not know."""
    violations = []
    for fk in contract.foreign_keys_of(name):
        ref = loaded.get(fk.ref_table)
        if ref is None or not set(fk.columns) <= set(table.columns) or not set(fk.ref_columns) <= set(ref.columns):
            continue
        known = ref.select(*[ref[r].name(c) for c, r in zip(fk.columns, fk.ref_columns, strict=True)]).distinct()
        orphans = table.select(*fk.columns).distinct().anti_join(known, list(fk.columns))
        count = int(orphans.count().execute())
        if count:
            examples = orphans.limit(EXAMPLES).execute()[fk.columns[0]]
            violations.append(
                Violation(
                    file,
                    ", ".join(fk.columns),
                    f"has {count} value(s) unknown to table {fk.ref_table!r}",
                    f"values listed in {fk.ref_table}.{', '.join(fk.ref_columns)}",
                    None,
                    tuple(_plain(v) for v in examples),
                )
            )
    return violations


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
