"""Benchmark spreadsheets as consultants receive them (CSV or Excel ``.xlsx``) → the ``benchmarks`` contract.

A sheet has one row per company and period (and market, when a column says which) and one column per KPI. A
mapping names those columns and gives each KPI column its ``(kpi, unit, direction)``. Cells are read the way
people write them: ``$2,160,000,000``, ``-$14,540,000``, ``(1,234)`` (negative), ``€1.2M``, ``$122 million``,
``1.2bn``, ``3.5k``, ``26.14%``; periods ``2025Q3``, ``Q3 2025``, ``2025-Q3``, ``Sep 2024``, ``2024-09-30`` or an
Excel date. ``N/A``, ``n/a``, ``NA``, ``—``, ``–``, ``-`` and empty cells are missing: counted, reported and left
out (never read as zero). Anything else that cannot be read raises :class:`analysis.errors.DataFileError` naming
the file, the row as the spreadsheet shows it (header = row 1), the column and the value.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from analysis.contract import KPI_DIRECTIONS, key_of, normalise_market, schema_for
from analysis.errors import ConfigError, DataFileError, ParameterError, ValidationError, one_of
from analysis.sources.formats.sheet_cells import (
    Cell,
    cell_text,
    label_of,
    market_of,
    number_of,
    period_of,
    read_cells,
)

COLUMNS = ["company", "market", "period", "kpi", "value", "unit", "direction"]
MAPPING_KEYS = ("company_column", "period_column", "market", "market_column", "sheet", "kpi_columns")


def read_benchmark_sheet(
    path: str | Path,
    *,
    company_column: str,
    period_column: str,
    kpi_columns: Mapping[str, tuple[str, str, str] | list[str]],
    market: str | None = None,
    market_column: str | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a benchmark spreadsheet (``.csv`` or ``.xlsx``) into a frame in the ``benchmarks`` contract.

    Parameters
    ----------
    path
        The file; its suffix decides how it is read (``.xlsx``/``.xlsm``: Excel, anything else: CSV, whose
        delimiter ``,``, ``;`` or tab is detected).
    company_column, period_column
        Header of the column naming the company, and of the column giving the period (read into a calendar quarter).
    kpi_columns
        ``{sheet column: (kpi, unit, direction)}``; ``direction`` is ``higher`` or ``lower``. A percentage is
        divided by 100 when ``unit`` is ``fraction`` and kept as written when it is ``percent``.
    market, market_column
        Exactly one: the market of every row (ISO 3166-1 alpha-2), or the column holding each row's market.
    sheet
        Excel sheet name (the first sheet when None); not allowed for a CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per company, market, period and KPI with a value, sorted by those columns:
        ``company``, ``market`` (ISO alpha-2), ``period`` (``2025Q3``), ``kpi``, ``value`` (float, in ``unit``),
        ``unit``, ``direction``. ``attrs["missing"]`` is a frame of the missing cells left out, one row per sheet
        column with any (``file``, ``column``, ``kpi``, ``missing``: how many, ``rows``: their row numbers as text);
        ``attrs["summary"]`` says the same in one sentence.

    Raises
    ------
    ParameterError
        when the arguments contradict each other (both or neither of ``market``/``market_column``, a bad direction).
    DataFileError
        for a missing file, sheet or column, an unreadable cell, or two rows giving the same company, market, period
        and KPI.
    """
    path = Path(path)
    kpis = _checked_kpi_columns(kpi_columns)
    if (market is None) == (market_column is None):
        raise ParameterError(
            "give exactly one of market (every row's market) and market_column (the column holding it)",
            parameter="market",
            value={"market": market, "market_column": market_column},
            valid="market='DE' or market_column='Country'",
        )
    fixed_market = None if market is None else _fixed_market(market)
    header, rows = read_cells(path, sheet)
    needed = [company_column, period_column, *([market_column] if market_column else []), *kpis]
    absent = [column for column in needed if column not in header]
    if absent:
        raise DataFileError(
            f"{path}: no column(s) {absent}; the header (row 1) has {header}",
            file=path,
            column=absent[0],
            value=absent,
            valid=header,
        )
    where = {column: header.index(column) for column in needed}
    records, missing, seen = [], {column: [] for column in kpis}, {}
    for number, cells in rows:
        if any(cell_text(cell) for cell in cells[len(header) :]):
            raise DataFileError(
                f"{path}, row {number}: {len(cells)} cells but the header (row 1) has {len(header)} columns; "
                "is a number written with unquoted thousands separators, such as 1,234 in a CSV?",
                file=path,
                value=[cell.value for cell in cells[len(header) :]],
                valid=f"{len(header)} cells per row",
            )
        text = {column: cells[where[column]] if where[column] < len(cells) else Cell(None) for column in needed}
        company = label_of(path, number, company_column, text[company_column], "a company name")
        period = period_of(path, number, period_column, text[period_column])
        row_market = fixed_market or market_of(path, number, market_column, text[market_column])
        for column, (kpi, unit, direction) in kpis.items():
            value = number_of(path, number, column, text[column], unit)
            if value is None:
                missing[column].append(number)
                continue
            key = (company, row_market, period, kpi)
            if key in seen:
                raise DataFileError(
                    f"{path}: rows {seen[key]} and {number} both give {kpi} of {company} in {row_market}, {period}",
                    file=path,
                    column=column,
                    value=list(key),
                    valid="one value per company, market, period and KPI",
                )
            seen[key] = number
            records.append((company, row_market, period, kpi, value, unit, direction))
    frame = pd.DataFrame(records, columns=COLUMNS).astype(
        {"value": float} | {c: "str" for c in COLUMNS if c != "value"}
    )
    frame = _validated(path, frame.sort_values(list(key_of("benchmarks"))).reset_index(drop=True))
    frame.attrs["missing"] = _missing_frame(path, kpis, missing)
    frame.attrs["summary"] = _summary(path, frame, frame.attrs["missing"])
    return frame


def read_benchmark_mapping(yaml_path: str | Path) -> dict[str, Any]:
    """The keyword arguments of :func:`read_benchmark_sheet` from a YAML mapping file.

    The file holds ``company_column``, ``period_column``, ``market`` or ``market_column``, optionally ``sheet``, and
    ``kpi_columns: {sheet column: [kpi, unit, direction]}``. Raises :class:`analysis.errors.ConfigError` naming the
    file and the key at fault.
    """
    yaml_path = Path(yaml_path)
    try:
        mapping = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{yaml_path}: cannot read the mapping file: {error}", file=yaml_path) from error
    if not isinstance(mapping, dict):
        raise ConfigError(f"{yaml_path}: a mapping file holds keys {list(MAPPING_KEYS)}", file=yaml_path)
    unknown = sorted(set(mapping) - set(MAPPING_KEYS))
    required = [key for key in ("company_column", "period_column", "kpi_columns") if key not in mapping]
    if unknown or required:
        wrong = unknown or required
        raise ConfigError(
            f"{yaml_path}: {'unknown' if unknown else 'missing'} key(s) {wrong}; valid keys: {list(MAPPING_KEYS)}",
            file=yaml_path,
            parameter=wrong[0],
            value=wrong,
            valid=list(MAPPING_KEYS),
        )
    columns = mapping["kpi_columns"]
    if not isinstance(columns, dict) or not all(isinstance(v, list) and len(v) == 3 for v in columns.values()):
        raise ConfigError(
            f"{yaml_path}: kpi_columns maps each sheet column to [kpi, unit, direction], got {columns!r}",
            file=yaml_path,
            parameter="kpi_columns",
            value=columns,
            valid="{column: [kpi, unit, higher|lower]}",
        )
    kpis = {str(column): tuple(str(part) for part in spec) for column, spec in columns.items()}
    return {**mapping, "kpi_columns": kpis}


def import_benchmarks(
    path: str | Path, mapping_path: str | Path, out_dir: str | Path, *, echo: Callable[[str], None] | None = None
) -> Path:
    """Read ``path`` with the mapping in ``mapping_path`` and write or merge it into ``<out_dir>/benchmarks.csv``.

    Rows already in the file are kept; a row of the sheet with the same company, market, period and KPI must carry
    the same value, unit and direction, otherwise nothing is written and a :class:`analysis.errors.DataFileError`
    lists the conflicting rows. The file is replaced atomically. ``echo`` (e.g. ``print``) receives the summary of
    what was read and what was missing. Returns the path written.
    """
    sheet = read_benchmark_sheet(path, **read_benchmark_mapping(mapping_path))
    out_dir = Path(out_dir)
    target = out_dir / "benchmarks.csv"
    key = list(key_of("benchmarks"))
    merged = sheet
    if target.exists():
        old = pd.read_csv(target, dtype={c: "str" for c in COLUMNS if c != "value"}, keep_default_na=False)
        both = old.merge(sheet, on=key, suffixes=("_old", "_new"))
        differs = (
            ~pd.Series(
                [math.isclose(a, b, rel_tol=1e-12) for a, b in zip(both.value_old, both.value_new, strict=True)],
                dtype=bool,
            )
            | (both.unit_old != both.unit_new)
            | (both.direction_old != both.direction_new)
        )
        if differs.any():
            shown = both.loc[differs].head(5)
            lines = [
                f"{r.company}, {r.market}, {r.period}, {r.kpi}: {r.value_old:g} {r.unit_old} in the file, "
                f"{r.value_new:g} {r.unit_new} in the sheet"
                for r in shown.itertuples()
            ]
            raise DataFileError(
                f"{target}: {int(differs.sum())} row(s) of {path} would overwrite different values; nothing written:\n"
                + "\n".join(lines),
                file=target,
                value=shown[key].to_dict("records"),
                valid="the same value, unit and direction as the file, or a key not in it",
            )
        merged = pd.concat([old, sheet], ignore_index=True).drop_duplicates(key, keep="first")
        merged = _validated(target, merged.sort_values(key).reset_index(drop=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=".benchmarks-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            merged[COLUMNS].to_csv(stream, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if echo is not None:
        echo(f"{sheet.attrs['summary']} Wrote {len(merged):,} rows to {target}.")
    return target


def _checked_kpi_columns(kpi_columns: Mapping[str, Any]) -> dict[str, tuple[str, str, str]]:
    checked = {}
    for column, spec in dict(kpi_columns).items():
        if isinstance(spec, str) or len(spec) != 3 or spec[2] not in KPI_DIRECTIONS:
            raise ParameterError(
                f"kpi_columns[{column!r}] = {spec!r}: give (kpi, unit, direction) with direction "
                f"{one_of(KPI_DIRECTIONS)}",
                parameter="kpi_columns",
                value=spec,
                valid="(kpi, unit, 'higher' or 'lower')",
            )
        checked[str(column)] = (str(spec[0]), str(spec[1]), str(spec[2]))
    if not checked:
        raise ParameterError("kpi_columns is empty: map at least one sheet column", parameter="kpi_columns")
    return checked


def _fixed_market(market: str) -> str:
    code = normalise_market(market)
    if code == "ALL":
        raise ParameterError(
            "market 'ALL' cannot label benchmark rows: give the one market the sheet describes, or market_column",
            parameter="market",
            value=market,
            valid="an ISO 3166-1 alpha-2 code such as 'DE'",
        )
    return code


def _validated(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    import pandera.errors  # here, not at import: only an import pays for pandera (and its pyspark import)

    try:
        return schema_for("benchmarks").validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as error:
        cases = error.failure_cases[["column", "check", "failure_case"]].drop_duplicates().head(10)
        raise ValidationError(
            f"{path}: the benchmarks read break the contract in analysis.contract:\n{cases.to_string(index=False)}",
            file=path,
            violations=cases.to_dict("records"),
        ) from error


def _missing_frame(path: Path, kpis: dict[str, tuple[str, str, str]], missing: dict[str, list[int]]) -> pd.DataFrame:
    rows = [
        (str(path), column, kpis[column][0], len(numbers), ", ".join(map(str, numbers)))
        for column, numbers in missing.items()
        if numbers
    ]
    return pd.DataFrame(rows, columns=["file", "column", "kpi", "missing", "rows"])


def _summary(path: Path, frame: pd.DataFrame, missing: pd.DataFrame) -> str:
    read = f"{path}: {len(frame):,} benchmark values read"
    if missing.empty:
        return f"{read}; none missing."
    parts = [f"{r.column!r} {r.missing} (row{'s' if r.missing > 1 else ''} {r.rows})" for r in missing.itertuples()]
    total = int(missing["missing"].sum())
    return f"{read}; {total:,} missing (N/A, dash or empty) left out, not zero: {', '.join(parts)}."
