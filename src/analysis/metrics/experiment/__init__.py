"""Experiment readout: did a change win its A/B test, by how much, and can the test be trusted.

``analyse_experiment`` is the subject's one entry point (it returns an :class:`ExperimentAnalysis`); the functions
below are public for use at a prompt. Modules: ``units`` (per-unit metrics in the engine), ``readout`` (sufficient
statistics, Welch / z tests, delta method, CUPED, corrections), ``srm`` (sample-ratio mismatch), ``power`` (MDE,
sample size), ``segments`` (lifts per segment, heterogeneity) and ``analysis`` (all of it).
"""

from analysis.metrics.experiment.analysis import (
    METRICS,
    ExperimentAnalysis,
    analyse_experiment,
    cumulative_lift,
    minimum_detectable_effects,
)
from analysis.metrics.experiment.power import minimum_detectable_effect, sample_size
from analysis.metrics.experiment.readout import experiment_readout, readout_from_statistics, sufficient_statistics
from analysis.metrics.experiment.segments import heterogeneity, segment_lifts
from analysis.metrics.experiment.srm import SampleRatioCheck, sample_ratio_mismatch
from analysis.metrics.experiment.units import daily_ratio_statistics, experiment_units

__all__ = [
    "METRICS",
    "ExperimentAnalysis",
    "SampleRatioCheck",
    "analyse_experiment",
    "cumulative_lift",
    "daily_ratio_statistics",
    "experiment_readout",
    "experiment_units",
    "heterogeneity",
    "minimum_detectable_effect",
    "minimum_detectable_effects",
    "readout_from_statistics",
    "sample_ratio_mismatch",
    "sample_size",
    "segment_lifts",
    "sufficient_statistics",
]
