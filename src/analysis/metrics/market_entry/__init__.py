"""Market-entry scoring: candidate countries ranked on PEST figures and Hofstede cultural distance, with robustness.

``analyse_market_entry`` is the subject's one entry point; it returns a :class:`MarketEntryAnalysis`. The scoring
methods, weights and distance are public for use at a prompt.

Modules: ``weights`` (criteria, AHP), ``scoring`` (normalisation, weighted sum, TOPSIS), ``distance``
(Kogut-Singh), ``sensitivity`` (robustness to the weights and the method), ``plan`` (entry waves) and
``analysis`` (all of it for one scenario).
"""

from analysis.metrics.market_entry.analysis import MarketEntryAnalysis, analyse_market_entry
from analysis.metrics.market_entry.distance import kogut_singh_distance
from analysis.metrics.market_entry.plan import phased_entry_plan
from analysis.metrics.market_entry.scoring import normalise, score_markets, topsis, weighted_sum
from analysis.metrics.market_entry.weights import (
    AhpResult,
    ahp_weights,
    criteria_from_mapping,
    validate_weights,
    weights_from_judgements,
)

__all__ = [
    "AhpResult",
    "MarketEntryAnalysis",
    "ahp_weights",
    "analyse_market_entry",
    "criteria_from_mapping",
    "kogut_singh_distance",
    "normalise",
    "phased_entry_plan",
    "score_markets",
    "topsis",
    "validate_weights",
    "weighted_sum",
    "weights_from_judgements",
]
