"""Market-entry scoring: candidate countries ranked on PEST figures and Hofstede cultural distance, with robustness.

``score_scenario`` is the subject's one entry point; the scoring methods and distance are public for use at a prompt.
"""

from analysis.metrics.market_entry.scenario import EntryScenario, score_scenario
from analysis.metrics.market_entry.scoring import (
    AhpResult,
    ahp_weights,
    criteria_from_mapping,
    kogut_singh_distance,
    normalise,
    score_markets,
    topsis,
    validate_weights,
    weighted_sum,
    weights_from_judgements,
)

__all__ = [
    "AhpResult",
    "EntryScenario",
    "ahp_weights",
    "criteria_from_mapping",
    "kogut_singh_distance",
    "normalise",
    "score_markets",
    "score_scenario",
    "topsis",
    "validate_weights",
    "weighted_sum",
    "weights_from_judgements",
]
