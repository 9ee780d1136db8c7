"""Reading the cells of a benchmark spreadsheet the way people write them: numbers, money, percentages, periods.

Used by :mod:`analysis.sources.formats.benchmark_sheet`; every function that reads a cell raises
:class:`analysis.errors.DataFileError` naming the file, the row as the spreadsheet shows it (header = row 1), the
column and the value, and saying what would be valid.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from analysis.contract import ISO_4217
from analysis.errors import DataFileError, ParameterError

MISSING_MARKS = frozenset({"", "n/a", "na", "#n/a", "—", "–", "-", "−"})  # compared in lower case
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mm": 1e6, "million": 1e6}
MULTIPLIERS |= {"b": 1e9, "bn": 1e9, "billion": 1e9}
SYMBOL_CURRENCIES = {"€": ("EUR",), "£": ("GBP",), "¥": ("JPY", "CNY"), "$": ("USD", "CAD", "AUD", "NZD", "SGD")}
MONTHS = {name: number for number in range(1, 13) for name in (date(2000, number, 1).strftime("%b").lower(),)}
MONTHS |= {date(2000, number, 1).strftime("%B").lower(): number for number in range(1, 13)} | {"sept": 9}
VALID_NUMBER = "a number such as 0.25, 26.14%, 1,234.5, -$14,540,000, (1,234), €1.2M, $122 million, 1.2bn or 3.5k"
VALID_MISSING = "N/A, n/a, NA, —, –, - or an empty cell for a missing value"
VALID_PERIOD = "a quarter such as 2025Q3, Q3 2025 or 2025-Q3, a month such as Sep 2024, or a date such as 2024-09-30"

_NUMBER = re.compile(
    r"^(?P<sign>[-−+])?\s*(?P<symbol>[$€£¥]|[A-Z]{3}\s+)?\s*(?P<sign2>[-−])?\s*"
    r"(?P<digits>\d{1,3}(?:[,  \u202f]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)\s*"
    r"(?P<scale>%|[kKmMbB]|mn|mm|bn|thousand|million|billion)?\s*(?P<code>[A-Z]{3})?$",
    re.IGNORECASE,
)
_YEAR_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*Q([1-4])$", re.IGNORECASE)
_QUARTER_YEAR = re.compile(r"^Q([1-4])\s*[-/ ]?\s*(\d{4})$", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"^([A-Za-z]+)\.?[\s-]+(\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?)?$")


@dataclass(frozen=True)
class Cell:
    """One spreadsheet cell: its value and, for Excel, its number format (percentages, dates)."""

    value: Any  # text from a CSV; text, number, datetime or None from Excel
    number_format: str = "General"


def read_cells(path: Path, sheet: str | None) -> tuple[list[str], Iterator[tuple[int, list[Cell]]]]:
    """The header and the numbered rows (spreadsheet row numbers, header = 1) of a CSV or an Excel sheet."""
    if not path.is_file():
        raise DataFileError(f"{path}: no such file", file=path, valid="a .csv or .xlsx file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _excel_rows(path, sheet)
    elif sheet is not None:
        raise ParameterError(f"{path}: sheet={sheet!r} given but a CSV file has no sheets", parameter="sheet")
    else:
        rows = _csv_rows(path)
    numbered = [(number, cells) for number, cells in enumerate(rows, start=1)]
    if not numbered:
        raise DataFileError(f"{path}: the file is empty (no header row)", file=path, valid="a header row")
    header = ["" if c.value is None else str(c.value).strip() for c in numbered[0][1]]
    body = ((n, cells) for n, cells in numbered[1:] if any(cell_text(c) for c in cells))  # skip blank rows
    return header, body


def _csv_rows(path: Path) -> list[list[Cell]]:
    """The header and the numbered rows (spreadsheet row numbers, header = 1) of a CSV or an Excel sheet."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample.splitlines()[0] if sample else ",", delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [[Cell(value) for value in row] for row in csv.reader(handle, dialect)]


def _excel_rows(path: Path, sheet: str | None) -> list[list[Cell]]:
    import openpyxl  # only Excel files need it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError and its own errors for a broken file
        raise DataFileError(f"{path}: not a readable .xlsx workbook ({error})", file=path) from error
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise DataFileError(
                f"{path}: no sheet {sheet!r}; its sheets are {book.sheetnames}",
                file=path,
                parameter="sheet",
                value=sheet,
                valid=book.sheetnames,
            )
        worksheet = book[sheet] if sheet is not None else book.worksheets[0]
        return [[Cell(c.value, getattr(c, "number_format", "General")) for c in row] for row in worksheet.iter_rows()]
    finally:
        book.close()


def cell_text(cell: Cell) -> str:
    """A cell's value as stripped text ('' for an empty cell)."""
    return "" if cell.value is None else str(cell.value).replace("\u00a0", " ").strip()


def unreadable(path: Path, row: int, column: str, cell: Cell, what: str, valid: str) -> DataFileError:
    """A cell's value as stripped text ('' for an empty cell)."""
    return DataFileError(
        f"{path}, row {row}, column {column!r}: cannot read {cell.value!r} as {what}; valid: {valid}",
        file=path,
        column=column,
        value=cell.value,
        valid=valid,
    )


def label_of(path: Path, row: int, column: str, cell: Cell, what: str) -> str:
    """The error for a cell that cannot be read: file, row, column, value, what it should be and what is valid."""
    text = cell_text(cell)
    if text.lower() in MISSING_MARKS:
        raise unreadable(path, row, column, cell, what, f"{what} (rows without one cannot be placed)")
    return text


def market_of(path: Path, row: int, column: str, cell: Cell) -> str:
    """A text cell that must not be empty (a company name, a market)."""
    code = cell_text(cell).upper()
    if not re.fullmatch(r"[A-Z]{2}", code):
        raise unreadable(path, row, column, cell, "a market", "an ISO 3166-1 alpha-2 code such as DE")
    return code


def period_of(path: Path, row: int, column: str, cell: Cell) -> str:
    """A market cell as an ISO 3166-1 alpha-2 code (any case)."""
    if isinstance(cell.value, (datetime, date)):
        return f"{cell.value.year}Q{(cell.value.month - 1) // 3 + 1}"
    text = cell_text(cell)
    if match := _YEAR_QUARTER.match(text):
        return f"{match[1]}Q{match[2]}"
    if match := _QUARTER_YEAR.match(text):
        return f"{match[2]}Q{match[1]}"
    month = None
    if (match := _MONTH_YEAR.match(text)) and match[1].lower() in MONTHS:
        year, month = int(match[2]), MONTHS[match[1].lower()]
    elif match := _ISO_DATE.match(text):
        year, month = int(match[1]), int(match[2])
        try:
            date(year, month, int(match[3] or 1))
        except ValueError:
            month = None
    if month is None or not 1 <= month <= 12:
        raise unreadable(path, row, column, cell, "a period", VALID_PERIOD)
    return f"{year}Q{(month - 1) // 3 + 1}"


def number_of(path: Path, row: int, column: str, cell: Cell, unit: str) -> float | None:
    """A period cell as its calendar quarter (``2025Q3``): quarters, months, ISO or Excel dates."""
    """The cell's value in ``unit``; None for a missing mark."""
    if isinstance(cell.value, (bool, datetime, date)):
        raise unreadable(path, row, column, cell, "a number", VALID_NUMBER)
    if isinstance(cell.value, (int, float)):
        if math.isnan(cell.value):
            return None
        # an Excel cell shown as 26.14% holds 0.2614
        return float(cell.value) * (100 if unit == "percent" and "%" in cell.number_format else 1)
    text = cell_text(cell)
    if text.lower() in MISSING_MARKS:
        return None
    negative = text.startswith("(") and text.endswith(")")
    match = _NUMBER.match(text[1:-1].strip() if negative else text)
    if match is None or (negative and (match["sign"] or match["sign2"])):
        raise unreadable(path, row, column, cell, "a number", f"{VALID_NUMBER}; or {VALID_MISSING}")
    value = float(re.sub(r"[,  \u202f]", "", match["digits"]))
    scale = (match["scale"] or "").lower()
    if scale == "%":
        if unit not in ("fraction", "percent"):
            raise unreadable(path, row, column, cell, f"a value in {unit!r}", "a percentage only in a column whose "
                              "unit is 'fraction' or 'percent'")  # fmt: skip
        value = value / 100 if unit == "fraction" else value
    elif scale:
        value *= MULTIPLIERS[scale]
    _check_currency(path, row, column, cell, unit, match)
    sign = match["sign"] or match["sign2"] or "+"
    return -value if negative or sign in "-−" else value


def _check_currency(path: Path, row: int, column: str, cell: Cell, unit: str, match: re.Match) -> None:
    """A KPI cell as a float in the KPI's unit, or None when it is marked missing."""
    symbol = (match["symbol"] or "").strip().upper() or (match["code"] or "").upper()
    if not symbol:
        return
    if not re.fullmatch(ISO_4217, unit):
        raise unreadable(path, row, column, cell, f"a value in {unit!r}", "money only in a column whose unit is a "
                          "currency code such as USD")  # fmt: skip
    currencies = SYMBOL_CURRENCIES.get(symbol, (symbol,))
    if unit not in currencies:
        raise unreadable(path, row, column, cell, f"an amount in {unit}", f"amounts in {unit}, the column's unit")
