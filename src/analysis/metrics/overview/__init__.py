"""Data overview: what data there is per table, and the headline KPIs over time.

``analyse_overview`` is the subject's one entry point (it returns an :class:`OverviewAnalysis`); the functions below
it are public for use at a prompt.
"""

from analysis.metrics.overview.analysis import OverviewAnalysis, analyse_overview
from analysis.metrics.overview.kpis import (
    TABLES_USED,
    conversion_change,
    initiatives_in_scope,
    kpis_over_time,
    scope_totals,
    table_coverage,
)
from analysis.scope import Scope, check_market_known

__all__ = [
    "TABLES_USED",
    "OverviewAnalysis",
    "Scope",
    "analyse_overview",
    "check_market_known",
    "conversion_change",
    "initiatives_in_scope",
    "kpis_over_time",
    "scope_totals",
    "table_coverage",
]
