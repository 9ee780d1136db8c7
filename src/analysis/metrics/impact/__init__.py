"""Post-initiative results: did an initiative work in each market, by how much, and against which target.

The KPI panels come from the engine (:mod:`~analysis.metrics.impact.panels`); the estimators take those small
market × period panels: Callaway & Sant'Anna for staggered adoption (:mod:`~analysis.metrics.impact.staggered`), a
two-way fixed-effects regression and event study through pyfixest (:mod:`~analysis.metrics.impact.twfe`), few-cluster
inference (:mod:`~analysis.metrics.impact.inference`), single-market interrupted time series and structural
counterfactuals (:mod:`~analysis.metrics.impact.interrupted`), and relative effects with their verdict against a
target range (:mod:`~analysis.metrics.impact.relative`).
"""
