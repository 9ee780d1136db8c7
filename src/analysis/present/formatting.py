"""Numbers as a reviewer reads them: percentages, money, counts and intervals. Rates are fractions in code."""

from __future__ import annotations

import math

import pandas as pd


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


def money(amount: float, currency: str) -> str:
    """12345.6, 'EUR' -> 'EUR 12,346'; amounts in mixed currencies are not summed, so they print as '–'."""
    if _missing(amount) or currency in (None, "mixed"):
        return "–"
    return f"{currency} {amount:,.0f}"


def count(value: float) -> str:
    return "–" if _missing(value) else f"{value:,.0f}"


def month(moment: pd.Timestamp) -> str:
    return moment.strftime("%b %Y")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
