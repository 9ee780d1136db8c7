"""The data-overview analysis of one scope: what data there is, whether it is valid, and the headline KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from analysis.metrics.overview.kpis import (
    conversion_change,
    initiatives_in_scope,
    kpis_over_time,
    scope_totals,
    table_coverage,
)
from analysis.scope import Scope, check_market_known

if TYPE_CHECKING:
    from analysis.sources.validate import ValidationReport

CHANGE_PERIODS = 3  # conversion of the first periods against the last ones


@dataclass(frozen=True)
class OverviewAnalysis:
    """Everything the data-overview notebook shows; each frame is documented where it is made.

    Attributes
    ----------
    scope
        The market and period analysed.
    freq
        The KPI period: ``week``, ``month`` or ``quarter``.
    coverage
        :func:`table_coverage`: rows in scope, rows left outside the period, first and last date and markets, per
        table.
    kpis
        :func:`kpis_over_time`: one row per period.
    totals
        :func:`scope_totals`: events, orders, sessions, conversion and revenue over the whole scope.
    conversion_change
        :func:`conversion_change` of the first against the last three periods.
    initiatives
        :func:`initiatives_in_scope`: the initiatives planned for the scope's market(s).
    validation
        The :class:`analysis.sources.ValidationReport` of the data folder (None when not validated).
    """

    scope: Scope
    freq: str
    coverage: pd.DataFrame
    kpis: pd.DataFrame
    totals: dict[str, Any]
    conversion_change: dict[str, float]
    initiatives: pd.DataFrame
    validation: ValidationReport | None = None

    @property
    def empty(self) -> bool:
        """Whether the scope holds no events (its market has none, or none in the period): there is nothing to show."""
        return self.totals["events"] == 0

    @property
    def events_outside_period(self) -> int:
        """Events of the scope's market(s) that the period leaves out (0 when the coverage has no events row)."""
        events = self.coverage[self.coverage.table == "events"].outside_period
        return int(events.iloc[0]) if len(events) and not pd.isna(events.iloc[0]) else 0


def analyse_overview(
    tables: dict[str, ibis.Table], scope: Scope, *, freq: str = "month", validation: ValidationReport | None = None
) -> OverviewAnalysis:
    """Run the data overview of ``tables`` (from :func:`analysis.sources.load_tables`) within ``scope``.

    Parameters
    ----------
    tables
        The contract tables by name; ``events`` is needed, ``orders``, ``sellers``, ``markets`` and ``initiatives``
        are used when present.
    scope
        The market and period to look at; the market must be in the markets table (or ``ALL``).
    freq
        KPI period: ``week``, ``month`` or ``quarter``.
    validation
        The validation report of the data folder, kept for the reader (its problems are stated in the findings).

    A scope without events is not an error: the analysis is then :attr:`OverviewAnalysis.empty`, its KPI frame has
    no rows, its totals are zero and its conversion change NaN; the coverage still counts the rows outside the period.

    Raises
    ------
    ParameterError
        for a market not in the markets table, or an unknown ``freq``.
    """
    check_market_known(tables, scope.market)
    coverage = table_coverage(tables, scope)
    kpis = kpis_over_time(tables, scope, freq)
    return OverviewAnalysis(
        scope=scope,
        freq=freq,
        coverage=coverage,
        kpis=kpis,
        totals=scope_totals(coverage, kpis),
        conversion_change=conversion_change(kpis, CHANGE_PERIODS),
        initiatives=initiatives_in_scope(tables, scope),
        validation=validation,
    )
