"""Data overview: what data there is per table, and the headline KPIs over time."""

from analysis.metrics.overview.kpis import (
    TABLES_USED,
    conversion_change,
    initiatives_in_scope,
    kpis_over_time,
    table_coverage,
)
from analysis.scope import Scope, check_market_known

__all__ = [
    "TABLES_USED",
    "Scope",
    "check_market_known",
    "conversion_change",
    "initiatives_in_scope",
    "kpis_over_time",
    "table_coverage",
]
