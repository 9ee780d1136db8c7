"""A run's tables as one Excel workbook (openpyxl): a contents sheet, one sheet per table, a provenance sheet.

Each table is written as its report displays it: the same column labels (units as the report names them; nothing
is converted, so nothing is relabelled), numbers as numbers, text as text. Text is always stored as a string
cell, so a value from the data that starts with ``=`` stays text and never becomes a formula.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from analysis.pipeline.export import ExportedRun, ReportTable
from analysis.pipeline.files import write_atomically

CONTENTS, PROVENANCE = "Contents", "Provenance"
SHEET_NAME_LENGTH = 31  # Excel's limit
# Characters Excel forbids in sheet names, and control characters a worksheet cannot hold.
NOT_IN_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
HEADER_FILL = "F6F8FA"
MAX_COLUMN_WIDTH = 60


def write_xlsx(run: ExportedRun, path: Path) -> Path:
    """Write ``run``'s tables to the workbook ``path`` (atomically) and return it.

    The sheets are ``Contents`` (one row per table: its sheet, linked; report; market; table title; rows), then one
    sheet per table named ``<notebook> <MARKET> <n>`` (shortened to Excel's 31 characters, unique), then
    ``Provenance`` (:meth:`ExportedRun.provenance_rows`).
    """
    from openpyxl import Workbook
    from openpyxl.worksheet.hyperlink import Hyperlink

    workbook = Workbook()
    contents = workbook.active
    contents.title = CONTENTS
    _header(contents, ["sheet", "report", "market", "table", "rows"])
    taken = {CONTENTS.casefold(), PROVENANCE.casefold()}
    for report in run.reports:
        for number, table in enumerate(report.tables, start=1):
            name = sheet_name(report.notebook, report.market, number, taken)
            _table_sheet(workbook.create_sheet(name), table)
            row = contents.max_row + 1
            for column, value in enumerate([name, report.title, report.market_name, table.title, len(table.rows)], 1):
                _cell(contents, row, column, value)
            link = contents.cell(row=row, column=1)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{name}'!A1")  # a link inside the workbook
            link.style = "Hyperlink"
    provenance = workbook.create_sheet(PROVENANCE)
    _header(provenance, ["field", "value"])
    for row, (label, value) in enumerate(run.provenance_rows(), start=2):
        _cell(provenance, row, 1, label)
        _cell(provenance, row, 2, value)
    for sheet in (contents, provenance):
        _fit_columns(sheet)
    stream = io.BytesIO()
    workbook.save(stream)
    return write_atomically(Path(path), stream.getvalue())


def sheet_name(notebook: str, market: str, number: int, taken: set[str]) -> str:
    """``"customer journey funnel US 2"``: the notebook shortened so the name fits 31 characters; unique among
    ``taken`` (case-insensitive, as Excel compares), which it joins."""
    suffix = f" {market} {number}"
    stem = " ".join(NOT_IN_SHEET_NAME.sub(" ", notebook.replace("_", " ")).split()).strip("'")
    name = stem[: SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix
    extra = 1
    while name.casefold() in taken:  # two long notebook names cut to the same stem
        extra += 1
        tail = f"{suffix} ({extra})"
        name = stem[: SHEET_NAME_LENGTH - len(tail)].rstrip() + tail
    taken.add(name.casefold())
    return name


def _table_sheet(sheet, table: ReportTable) -> None:
    _cell(sheet, 1, 1, table.title)
    sheet.cell(row=1, column=1).font = _bold()
    _header(sheet, list(table.columns), row=2)
    for row, values in enumerate(table.rows, start=3):
        for column, value in enumerate(values, start=1):
            _cell(sheet, row, column, value)
            if column <= table.index_columns:
                sheet.cell(row=row, column=column).font = _bold()
    sheet.freeze_panes = sheet.cell(row=3, column=table.index_columns + 1)
    _fit_columns(sheet, first_row=2)


def _header(sheet, labels: list[str], row: int = 1) -> None:
    from openpyxl.styles import PatternFill

    for column, label in enumerate(labels, start=1):
        cell = _cell(sheet, row, column, label)
        cell.font = _bold()
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)


def _cell(sheet, row: int, column: int, value: object):
    """Write ``value``: numbers and booleans as themselves, None as an empty cell, anything else as a string cell."""
    cell = sheet.cell(row=row, column=column)
    if value is None or isinstance(value, bool | int | float):
        cell.value = value
        return cell
    cell.value = CONTROL_CHARACTERS.sub("", str(value))
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula: data stays text
    return cell


def _bold():
    from openpyxl.styles import Font

    return Font(bold=True)


def _fit_columns(sheet, first_row: int = 1) -> None:
    from openpyxl.utils import get_column_letter

    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=first_row):
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), len(str(cell.value)))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_COLUMN_WIDTH, width + 2)
