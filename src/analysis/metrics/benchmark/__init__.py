"""Competitive benchmarking: where the client stands against each rival, per market and over time.

``analyse_benchmark`` is the subject's one entry point (it returns a :class:`BenchmarkAnalysis`); the functions below
are public for use at a prompt. Modules: ``table`` (reading the benchmarks table, markets combined, scale floors),
``scorecard`` (ranks, percentiles, index to best, gaps), ``trends`` (indexed series, growth, gap slopes),
``composite`` (weighted index score and its sensitivity, market share), ``value_chain`` (gaps by stage),
``client_kpis`` and ``gap_value`` (the client's own KPIs and what a gap is worth) and ``analysis`` (all of it).
"""

from analysis.metrics.benchmark.analysis import BenchmarkAnalysis, analyse_benchmark
from analysis.metrics.benchmark.client_kpis import client_kpis, consistency_check
from analysis.metrics.benchmark.composite import composite_scores, market_share_trend, share_change
from analysis.metrics.benchmark.gap_value import cost_of_gap
from analysis.metrics.benchmark.scorecard import benchmark_scorecard
from analysis.metrics.benchmark.table import scale_floor
from analysis.metrics.benchmark.trends import BenchmarkTrends, benchmark_trends
from analysis.metrics.benchmark.value_chain import DEFAULT_VALUE_CHAIN, value_chain_gaps, weakest_stage

__all__ = [
    "DEFAULT_VALUE_CHAIN",
    "BenchmarkAnalysis",
    "BenchmarkTrends",
    "analyse_benchmark",
    "benchmark_scorecard",
    "benchmark_trends",
    "client_kpis",
    "composite_scores",
    "consistency_check",
    "cost_of_gap",
    "market_share_trend",
    "scale_floor",
    "share_change",
    "value_chain_gaps",
    "weakest_stage",
]
