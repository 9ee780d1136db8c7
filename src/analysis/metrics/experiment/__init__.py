"""Experiment readout: did a change win its A/B test, by how much, and can the test be trusted."""

from analysis.metrics.experiment.units import daily_ratio_statistics, experiment_units

__all__ = ["daily_ratio_statistics", "experiment_units"]
