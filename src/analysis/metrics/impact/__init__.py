"""Post-initiative results: did an initiative work in each market, by how much, and against which target.

The KPI panels come from the engine (:mod:`~analysis.metrics.impact.panels`); the estimators take those small
market × period panels: Callaway & Sant'Anna for staggered adoption (:mod:`~analysis.metrics.impact.staggered`), a
two-way fixed-effects regression and event study through pyfixest (:mod:`~analysis.metrics.impact.twfe`), few-cluster
inference (:mod:`~analysis.metrics.impact.inference`), single-market interrupted time series and structural
counterfactuals (:mod:`~analysis.metrics.impact.interrupted`), and relative effects with their verdict against a
target range (:mod:`~analysis.metrics.impact.relative`).
"""

from analysis.metrics.impact.analysis import DEFAULT_TARGETS, DESIGNS, KPIS, ImpactAnalysis, analyse_impact
from analysis.metrics.impact.calendar import treatment_calendar
from analysis.metrics.impact.inference import randomisation_inference, wild_cluster_bootstrap
from analysis.metrics.impact.interrupted import interrupted_time_series, structural_counterfactual
from analysis.metrics.impact.panels import kpi_panel, session_panel, survey_panel
from analysis.metrics.impact.relative import relative_effect, verdict
from analysis.metrics.impact.staggered import callaway_santanna
from analysis.metrics.impact.twfe import event_study, twfe_did

__all__ = [
    "DEFAULT_TARGETS",
    "DESIGNS",
    "KPIS",
    "ImpactAnalysis",
    "analyse_impact",
    "callaway_santanna",
    "event_study",
    "interrupted_time_series",
    "kpi_panel",
    "randomisation_inference",
    "relative_effect",
    "session_panel",
    "structural_counterfactual",
    "survey_panel",
    "treatment_calendar",
    "twfe_did",
    "verdict",
    "wild_cluster_bootstrap",
]
