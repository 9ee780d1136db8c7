"""Which slice of the data an analysis looks at: a market (or all of them) and an inclusive date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import ibis
import pandas as pd

from analysis import contract
from analysis.contract import ALL_MARKETS


@dataclass(frozen=True)
class Scope:
    """Which slice of the data an analysis looks at: one market (or ``ALL``) and an inclusive date range."""

    market: str
    start: date
    end: date

    @classmethod
    def parse(cls, market: str, start_date: str, end_date: str) -> Scope:
        """Build a scope from notebook parameters; a clear error says which parameter is wrong."""
        start, end = _parse_date("start_date", start_date), _parse_date("end_date", end_date)
        if end < start:
            raise ValueError(f"end_date {end_date!r} is before start_date {start_date!r}")
        market = market.strip().upper()
        if market != ALL_MARKETS and not (len(market) == 2 and market.isalpha()):
            raise ValueError(f"market {market!r} is not an ISO 3166 alpha-2 code such as 'DE', nor {ALL_MARKETS!r}")
        return cls(market, start, end)

    @property
    def end_exclusive(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())

    @property
    def label(self) -> str:
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
        raise ValueError(f"{parameter} {value!r} is not a date in the form YYYY-MM-DD") from None


def check_market_known(tables: dict[str, ibis.Table], market: str) -> None:
    """Raise a clear error when ``market`` is not in the markets table (``ALL`` always passes)."""
    if market == ALL_MARKETS or "markets" not in tables:
        return
    known = sorted(tables["markets"].market.execute())
    if market not in known:
        raise ValueError(f"market {market!r} is not in the markets table; known markets: {known}")
