"""Numbers as a reviewer reads them: percentages, money, counts, intervals and durations.

The one home of the workbook's formats. Rates are fractions in code and percentages only here; durations are
seconds (or a ``timedelta``) in code.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd

# (name, seconds) from the largest unit down: '1.5 days', '2.1 h', '3.5 min', then '45 s'
_READING_UNITS = (("days", 86400), ("h", 3600), ("min", 60))
# (suffix, seconds) of pandas-style duration codes: '1D', '12h', '5min', then '30s'
_CODE_UNITS = (("D", 86400), ("h", 3600), ("min", 60))


def percent(rate: float, digits: int = 1) -> str:
    """0.1734 -> '17.3%'; missing -> '–'."""
    return "–" if _missing(rate) else f"{rate * 100:.{digits}f}%"


def points(difference: float, digits: int = 1) -> str:
    """A difference of two rates in percentage points, signed: 0.012 -> '+1.2 pts'."""
    return "–" if _missing(difference) else f"{difference * 100:+.{digits}f} pts"


def interval(low: float, high: float, *, as_percent: bool = True, digits: int = 1, label: bool = True) -> str:
    """'95% CI 2.9–3.4%' for fractions, or plain numbers when ``as_percent`` is False; no '95% CI' if not ``label``."""
    if _missing(low) or _missing(high):
        return "95% CI unavailable" if label else "–"
    prefix = "95% CI " if label else ""
    if as_percent:
        return f"{prefix}{low * 100:.{digits}f}–{high * 100:.{digits}f}%"
    return f"{prefix}{low:,.{digits}f} to {high:,.{digits}f}"


def points_interval(low: float, high: float, digits: int = 1) -> str:
    """The interval of a difference of rates: '95% CI -0.2 to +1.4 pts'."""
    if _missing(low) or _missing(high):
        return "95% CI unavailable"
    return f"95% CI {low * 100:+.{digits}f} to {high * 100:+.{digits}f} pts"


P_VALUE_FLOOR = 0.001  # smaller p-values print as '< 0.001': more digits claim a precision no test has


def p_value(p: float) -> str:
    """A p-value for a table cell: 0.0123 -> '0.012', 0.0004 -> '< 0.001' (never '0' or '1e-131'); missing -> '–'."""
    if _missing(p):
        return "–"
    return f"< {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else f"{p:.2g}"


def p_text(p: float) -> str:
    """A p-value in a sentence: 'p = 0.012', 'p < 0.001'; missing -> 'p unavailable'."""
    if _missing(p):
        return "p unavailable"
    return f"p < {P_VALUE_FLOOR:g}" if p < P_VALUE_FLOOR else f"p = {p:.2g}"


def money(amount: float, currency: str) -> str:
    """12345.6, 'EUR' -> 'EUR 12,346'; amounts in mixed currencies are not summed, so they print as '–'."""
    if _missing(amount) or currency in (None, "mixed"):
        return "–"
    return f"{currency} {amount:,.0f}"


def count(value: float) -> str:
    """12345 -> '12,345'; missing -> '–'."""
    return "–" if _missing(value) else f"{value:,.0f}"


def month(moment: pd.Timestamp) -> str:
    """A month as a reader names it: 'Mar 2025'."""
    return moment.strftime("%b %Y")


def duration(seconds: float) -> str:
    """A measured duration for reading, one decimal in the largest unit it reaches: '45 s', '3.5 min', '1.5 days'."""
    for name, size in _READING_UNITS:
        if seconds >= size:
            return f"{seconds / size:.1f} {name}"
    return f"{seconds:.0f} s"


def window(length: timedelta) -> str:
    """A window parameter in words: '1 day', '7 days', '12 hours'."""
    days = length.total_seconds() / 86400
    return f"{days:g} day{'s' if days != 1 else ''}" if days >= 1 else f"{length.total_seconds() / 3600:g} hours"


def duration_code(seconds: float) -> str:
    """A round duration as a short code: 300 -> '5min', 86400 -> '1D', 90 -> '90s'."""
    for suffix, size in _CODE_UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{suffix}"
    return f"{seconds:g}s"


def duration_range(start_seconds: float, end_seconds: float) -> str:
    """A histogram bin of durations: (300, 900) -> '5min–15min'."""
    return f"{duration_code(start_seconds)}–{duration_code(end_seconds)}"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
