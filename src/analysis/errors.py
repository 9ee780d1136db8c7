"""Every error the workbook raises on purpose: one base, ``WorkbookError``, and a subclass per kind of problem.

Each error keeps its readable message and carries the facts a program needs as attributes: the ``file``,
``column`` or ``parameter`` at fault, the offending ``value`` and the ``valid`` values. The command line prints a
``WorkbookError`` as one message without a traceback; its ``exit_code`` says how the command ends (2 for usage and
configuration, 1 for bad data and failed reports).

The subclasses also derive from ``ValueError`` where a caller may already catch that (a bad argument is a value
error), so code written against the earlier bare ``ValueError``s keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

USAGE_EXIT_CODE = 2
DATA_EXIT_CODE = 1


class WorkbookError(Exception):
    """Base of the workbook's errors: a readable message plus the facts behind it.

    Parameters
    ----------
    message
        The sentence a reader sees: what is wrong, where, and what would be valid.
    file, column, parameter
        Where the problem is: a file (as given, or relative to the data folder), a column of a table, a parameter of a
        function, notebook or configuration.
    value
        The offending value (or values).
    valid
        What would have been accepted: allowed values, a format, a range.
    """

    exit_code: int = DATA_EXIT_CODE

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        column: str | None = None,
        parameter: str | None = None,
        value: Any = None,
        valid: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = None if file is None else str(file)
        self.column = column
        self.parameter = parameter
        self.value = value
        self.valid = valid

    def __str__(self) -> str:
        return self.message


class ParameterError(WorkbookError, ValueError):
    """A function or notebook parameter has a value it cannot take."""

    exit_code = USAGE_EXIT_CODE


class ConfigError(WorkbookError, ValueError):
    """The run configuration (``workbook.yml`` or the command line) is not usable; nothing has run."""

    exit_code = USAGE_EXIT_CODE

    def __init__(self, message: str, *, problems: Sequence[str] = (), **facts: Any) -> None:
        super().__init__(message, **facts)
        self.problems = list(problems) or [message]


class DataError(WorkbookError, ValueError):
    """The data cannot be read or does not meet the contract."""


class DataFileError(DataError):
    """A data file is missing, ambiguous, unreadable or has the wrong columns or types."""


class ValidationError(DataError):
    """Data that break the contract, with every violation found (``violations``)."""

    def __init__(self, message: str, *, violations: Iterable[Any] = (), **facts: Any) -> None:
        super().__init__(message, **facts)
        self.violations = list(violations)


class ReportError(WorkbookError):
    """One or more reports of a run failed, or the reports folder cannot be written."""


def one_of(values: Iterable[Any]) -> str:
    """``'a', 'b' or 'c'``: the valid values as a reader expects them in a message."""
    shown = [repr(value) for value in values]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]
