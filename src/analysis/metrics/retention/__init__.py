"""Retention: seller retention and churn hazard, cohort grids, survival curves, the sBG model, repeat customers.

The analysis of the retention-and-value notebook is :func:`analyse_retention` (a :class:`RetentionAnalysis`).

Engine-side helpers (Ibis tables in, small tidy pandas frames out, on DuckDB and Spark alike):
:func:`seller_retention`, :func:`seller_churn_hazard`, :func:`seller_cohorts`, :func:`buyer_cohorts`,
:func:`survival_curves` and :func:`repeat_customer_rate`. On their results: :func:`hazard_before_after` and
:func:`fit_shifted_beta_geometric` (Fader & Hardie 2007). Definitions follow ``data/README.md``.
"""

from analysis.metrics.retention.analysis import RetentionAnalysis, analyse_retention
from analysis.metrics.retention.buyers import repeat_customer_rate
from analysis.metrics.retention.cohorts import buyer_cohorts, seller_cohorts, seller_durations
from analysis.metrics.retention.sbg import (
    SbgFitError,
    ShiftedBetaGeometricFit,
    fit_shifted_beta_geometric,
    sbg_log_likelihood,
)
from analysis.metrics.retention.sellers import hazard_before_after, seller_churn_hazard, seller_retention
from analysis.metrics.retention.survival import survival_curves

__all__ = [
    "RetentionAnalysis",
    "SbgFitError",
    "ShiftedBetaGeometricFit",
    "analyse_retention",
    "buyer_cohorts",
    "fit_shifted_beta_geometric",
    "hazard_before_after",
    "repeat_customer_rate",
    "sbg_log_likelihood",
    "seller_churn_hazard",
    "seller_cohorts",
    "seller_durations",
    "seller_retention",
    "survival_curves",
]
