"""The benchmarks table as the benchmark helpers read it: any engine through Ibis, checked parameters, quarter maths.

Every helper of :mod:`analysis.metrics.benchmark` starts here: :func:`as_benchmarks_table` accepts an Ibis table or
a pandas frame, :func:`comparison` checks ``client``, ``market``, ``peers`` and ``period`` against what the table
holds (typed errors naming the parameter and the valid values) and :func:`company_kpi_values` aggregates in the
engine, so only one small frame per company x KPI (x quarter) reaches pandas.

Markets combined (``market="ALL"``)
-----------------------------------
A company's value for ALL is the unweighted mean of its values over the markets where it reports the KPI in that
quarter (each market counts once: the table holds no market sizes); the ``markets`` column says how many markets a
value averages, so a reader sees when a company is present in fewer markets than its rivals.

Scale floor
-----------
Ratios such as the index to best need a true zero. Fractions, days and money have one; a score on a bounded scale
does not (an NPS of -19 against a best of 6 has no meaningful ratio), so values are measured from the bottom of the
scale the ``unit`` names, e.g. ``"score 1-5"`` -> 1, ``"score -100..100"`` -> -100 (:func:`scale_floor`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from analysis import contract
from analysis.contract import ALL_MARKETS
from analysis.errors import DataError, ParameterError

COLUMNS = ("company", "market", "period", "kpi", "value", "unit", "direction")
QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")
_SCALE = re.compile(r"score\s*(-?\d+(?:\.\d+)?)\s*(?:\.\.|-|–|to)\s*-?\d+(?:\.\d+)?", re.IGNORECASE)


def as_benchmarks_table(benchmarks: ir.Table | pd.DataFrame) -> ir.Table:
    """``benchmarks`` as an Ibis table (a pandas frame becomes an in-memory DuckDB table).

    Raises
    ------
    DataError
        (column ``...``) when a column of the ``benchmarks`` contract is missing.
    """
    table = ibis.memtable(benchmarks) if isinstance(benchmarks, pd.DataFrame) else benchmarks
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise DataError(
            f"benchmarks: no column(s) {missing}; the benchmarks table needs {list(COLUMNS)}",
            column=missing[0],
            value=missing,
            valid=list(COLUMNS),
        )
    return table


def scale_floor(unit: str) -> float:
    """The bottom of the KPI's scale: ``"score 1-5"`` -> 1.0, ``"score -100..100"`` -> -100.0, anything else 0."""
    found = _SCALE.search(str(unit))
    return float(found.group(1)) if found else 0.0


def scale_floors(units: pd.Series) -> pd.Series:
    """:func:`scale_floor` of every unit in ``units`` (each distinct unit read once)."""
    return units.map({unit: scale_floor(unit) for unit in units.dropna().unique()}).astype(float)


def quarter_ordinal(period: str | pd.Series) -> int | pd.Series:
    """Quarters counted from year 0: ``"2025Q1"`` -> 8100; consecutive quarters differ by 1."""
    if isinstance(period, pd.Series):
        return period.str.slice(0, 4).astype(int) * 4 + period.str.slice(5, 6).astype(int) - 1
    year, quarter = QUARTER_PATTERN.match(period).groups()
    return int(year) * 4 + int(quarter) - 1


def quarter_of(moment) -> str:
    """The calendar quarter of a date: ``date(2025, 2, 1)`` -> ``"2025Q1"``."""
    return f"{moment.year}Q{(moment.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Comparison:
    """Who is compared where: the checked parameters of a benchmark helper.

    Attributes
    ----------
    table
        The benchmarks rows of the market (all markets for ALL) and the compared companies (an Ibis expression).
    client
        The company the analysis is for.
    companies
        The client first, then the peers in name order.
    market
        A market code or ``ALL``.
    quarters
        Every quarter the market's rows hold, in time order.
    """

    table: ir.Table
    client: str
    companies: tuple[str, ...]
    market: str
    quarters: tuple[str, ...]


def comparison(
    benchmarks: ir.Table | pd.DataFrame,
    *,
    client: str,
    market: str | None = None,
    peers: Sequence[str] | None = None,
) -> Comparison:
    """Check ``client``, ``market`` and ``peers`` against the table and limit it to them.

    ``market`` None or ``"ALL"`` keeps every market; ``peers`` None or empty compares the client with every other
    company of the market.

    Raises
    ------
    ParameterError
        naming ``client``, ``market`` or ``peers``, the offending value and the valid values.
    """
    table = as_benchmarks_table(benchmarks)
    market = ALL_MARKETS if market in (None, "") else contract.normalise_market(market)
    if market != ALL_MARKETS:
        markets = sorted(table.select("market").distinct().to_pandas()["market"])
        if market not in markets:
            raise ParameterError(
                f"market {market!r} has no benchmark rows; markets with rows: {markets}",
                parameter="market",
                value=market,
                valid=[ALL_MARKETS, *markets],
            )
        table = table.filter(table.market == market)
    present = table.select("company", "period").distinct().to_pandas()
    known = sorted(present["company"].unique())
    if client not in known:
        raise ParameterError(
            f"client {client!r} has no benchmark rows in {market}; companies there: {known}",
            parameter="client",
            value=client,
            valid=known,
        )
    peers = [peer for peer in (peers or []) if peer != client]
    unknown = [peer for peer in peers if peer not in known]
    if unknown:
        raise ParameterError(
            f"peers {unknown} have no benchmark rows in {market}; companies there: {known}",
            parameter="peers",
            value=unknown,
            valid=[company for company in known if company != client],
        )
    others = sorted(set(peers)) if peers else [company for company in known if company != client]
    companies = (client, *others)
    if peers:
        table = table.filter(table.company.isin(list(companies)))
    quarters = tuple(sorted(present["period"].unique(), key=quarter_ordinal))
    return Comparison(table=table, client=client, companies=companies, market=market, quarters=quarters)


def check_period(period: str | None, quarters: Sequence[str]) -> str:
    """``period`` checked against ``quarters`` (the latest of them when None or empty).

    Raises
    ------
    ParameterError
        (parameter ``period``) when it is not a quarter such as ``2025Q3`` or has no rows.
    """
    if not period:
        return quarters[-1]
    if period not in quarters:
        shape = "" if QUARTER_PATTERN.match(str(period)) else " (a quarter is written like 2025Q3)"
        raise ParameterError(
            f"period {period!r} has no benchmark rows{shape}; quarters with rows: {list(quarters)}",
            parameter="period",
            value=period,
            valid=list(quarters),
        )
    return period


def company_kpi_values(table: ir.Table, periods: Sequence[str], *, by_period: bool) -> pd.DataFrame:
    """Each company's value per KPI (and quarter), markets combined by their mean, computed in the engine.

    Returns
    -------
    pandas.DataFrame
        One row per company x KPI (x ``period`` when ``by_period``): ``company``, ``kpi``, (``period``), ``value``
        (mean over the markets that report it), ``markets`` (how many markets that is), ``unit``, ``direction``.

    Raises
    ------
    DataError
        when a KPI has more than one unit or direction among the rows compared.
    """
    rows = table.filter(table.period.isin(list(periods)) & table.value.notnull())
    keys = ["company", "kpi", "period"] if by_period else ["company", "kpi"]
    frame = (
        rows.group_by(keys)
        .aggregate(
            value=rows.value.mean(),
            markets=rows.count(),  # the contract's key (company, market, period, kpi) makes rows = markets
            unit=rows.unit.min(),
            unit_other=rows.unit.max(),
            direction=rows.direction.min(),
            direction_other=rows.direction.max(),
        )
        .to_pandas()
    )
    for column in ("unit", "direction"):
        per_kpi = pd.concat(
            [frame[["kpi", column]], frame[["kpi", f"{column}_other"]].set_axis(["kpi", column], axis=1)]
        )
        counts = per_kpi.groupby("kpi")[column].nunique()
        mixed = sorted(counts[counts > 1].index)
        if mixed:
            raise DataError(
                f"benchmarks: KPI(s) {mixed} have more than one {column}; give each KPI one {column}",
                column=column,
                value=mixed,
            )
    bad = sorted(set(frame["direction"]) - set(contract.KPI_DIRECTIONS))
    if bad:
        raise DataError(
            f"benchmarks: direction {bad}; use {list(contract.KPI_DIRECTIONS)}",
            column="direction",
            value=bad,
            valid=list(contract.KPI_DIRECTIONS),
        )
    frame["markets"] = frame["markets"].astype(int)
    return frame.drop(columns=["unit_other", "direction_other"]).sort_values(keys, ignore_index=True)
