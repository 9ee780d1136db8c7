"""The honest scan the benchmarks measure against: one aggregation that decodes every value of the columns read.

``count(column)`` and ``min``/``max`` of a string are not enough: DuckDB answers them from Parquet statistics (a
column without nulls is counted from the row-group sizes) and decodes next to nothing. Summing each string's byte
length (``strlen``, the cheapest function that needs the value) forces every value to be decoded; a timestamp's or
date's ``max`` and a number's ``sum`` are not answered from statistics either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ibis


@ibis.udf.scalar.builtin
def strlen(value: str) -> int:  # DuckDB's byte length; the benchmarks run on DuckDB
    """Byte length of a string."""


def every_value(column):
    """An aggregate that needs every value of ``column`` (not answerable from Parquet statistics)."""
    kind = column.type()
    if kind.is_string():
        return strlen(column).sum()
    if kind.is_timestamp() or kind.is_date():
        return column.max()
    return column.sum()


def scan_columns(reads: Iterable[tuple[object, Sequence[str]]]) -> None:
    """Read every value of ``columns`` of each ``(table, columns)`` in ``reads``: one aggregation per table."""
    for table, columns in reads:
        table.aggregate(**{f"read_{c}": every_value(table[c]) for c in columns}).execute()
