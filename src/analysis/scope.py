"""Which slice of the data an analysis looks at: a market (or all of them) and an inclusive date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import pandas as pd

from analysis import contract
from analysis.contract import ALL_MARKETS, normalise_market
from analysis.errors import ParameterError

DATE_FORMAT = "YYYY-MM-DD"


@dataclass(frozen=True)
class Scope:
    """Which slice of the data an analysis looks at: one market (or ``ALL``) and an inclusive date range."""

    market: str
    start: date
    end: date

    @classmethod
    def parse(cls, market: str, start_date: str, end_date: str) -> Scope:
        """Build a scope from notebook parameters.

        The market follows the contract's market-code rule (:func:`analysis.contract.normalise_market`: an ISO 3166-1
        alpha-2 code or ``ALL``, returned in capitals); dates are ``YYYY-MM-DD`` and the range is inclusive.

        Raises
        ------
        ParameterError
            naming the parameter (``market``, ``start_date`` or ``end_date``), its value and what would be valid.
        """
        start, end = _parse_date("start_date", start_date), _parse_date("end_date", end_date)
        if end < start:
            raise ParameterError(
                f"end_date {end_date!r} is before start_date {start_date!r}",
                parameter="end_date",
                value=end_date,
                valid=f"a date on or after {start_date}",
            )
        return cls(normalise_market(market), start, end)

    @property
    def end_exclusive(self) -> datetime:
        """Midnight after the last day: the scope holds moments strictly before it."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    @property
    def label(self) -> str:
        """The scope for a reader: ``'DE, 01 Jan 2025 to 30 Jun 2026'`` (or ``'all markets, …'``)."""
        where = "all markets" if self.market == ALL_MARKETS else self.market
        return f"{where}, {self.start:%d %b %Y} to {self.end:%d %b %Y}"

    def apply(self, table: ibis.Table, name: str) -> ibis.Table:
        """Rows of contract table ``name`` in this market and date range (reference tables pass through)."""
        if self.market != ALL_MARKETS and "market" in table.columns:
            table = table.filter(table.market == self.market)
        time_column = contract.time_column_of(name)
        if time_column and name != "sellers":  # sellers are in scope while active, not by signup date
            moment = table[time_column]
            start = datetime.combine(self.start, datetime.min.time())
            end = self.end_exclusive
            if moment.type().is_timestamp() and moment.type().timezone:
                start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
            table = table.filter((moment >= start) & (moment < end))
        return table


def _parse_date(parameter: str, value: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(
            f"{parameter} {value!r} is not a date in the form {DATE_FORMAT}",
            parameter=parameter,
            value=value,
            valid=f"a date in the form {DATE_FORMAT}",
        ) from None


def check_market_known(tables: dict[str, ibis.Table], market: str) -> None:
    """Raise a clear error when ``market`` is not in the markets table (``ALL`` always passes).

    Raises
    ------
    ParameterError
        (parameter ``market``) whose ``valid`` lists ``ALL`` and the known markets.
    """
    if market == ALL_MARKETS or "markets" not in tables:
        return
    known = sorted(tables["markets"].market.execute())
    if market not in known:
        raise ParameterError(
            f"market {market!r} is not in the markets table; known markets: {known}",
            parameter="market",
            value=market,
            valid=[ALL_MARKETS, *known],
        )
