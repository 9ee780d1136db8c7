"""The phased entry plan: which wave each market goes in, and the facts its reason is worded from."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.metrics.market_entry import phased_entry_plan

RANKING = pd.DataFrame(
    {"rank": [1.0, 2.0, 3.0, 4.0, np.nan], "score": [0.9, 0.8, 0.7, 0.2, np.nan]}, index=list("ABCDE")
)
DISTANCE = pd.DataFrame({"distance": [0.5, 3.0, np.nan, 4.0, 0.1]}, index=list("ABCDE"))
ROBUSTNESS = pd.DataFrame({"p_top_k": [0.95, 0.9, 0.6, 0.0]}, index=list("ABCD"))


def test_when_planning_waves_then_attractive_close_robust_markets_go_first():
    plan = phased_entry_plan(RANKING, DISTANCE, top_k=2, robustness=ROBUSTNESS, distance_threshold=1.0)
    # A: top 2, close, robust -> 1. B: top 2 but distant -> 2. C: rank 3 > 2 and no distance -> 3.
    # D: distant and rank 4 -> 3. E: close but unscored -> 3, after the ranked markets of its wave.
    assert plan.index.tolist() == ["A", "B", "C", "D", "E"]
    assert plan["wave"].tolist() == [1, 2, 3, 3, 3]
    assert plan["culturally_close"].tolist() == [True, False, False, False, True]
    assert plan["distance_threshold"].tolist() == [1.0] * 5
    assert plan["p_top_k"].iloc[:4].tolist() == [0.95, 0.9, 0.6, 0.0] and math.isnan(plan.loc["E", "p_top_k"])
    assert plan.columns.tolist() == [
        "wave",
        "rank",
        "score",
        "distance",
        "p_top_k",
        "culturally_close",
        "distance_threshold",
    ]


def test_when_a_close_market_ranks_within_twice_top_k_then_it_joins_wave_two():
    plan = phased_entry_plan(RANKING, DISTANCE.assign(distance=0.5), top_k=2, robustness=ROBUSTNESS)
    # Every market is at distance 0.5, the median, so all are close: A and B (top 2, robust) go first; C and D
    # rank within 2 * 2 = 4 and join wave 2; E has no score.
    assert plan["wave"].to_dict() == {"A": 1, "B": 1, "C": 2, "D": 2, "E": 3}


def test_when_a_top_market_is_not_robust_then_it_waits_for_wave_two():
    fragile = ROBUSTNESS.assign(p_top_k=[0.4, 0.9, 0.6, 0.0])
    plan = phased_entry_plan(RANKING, DISTANCE, top_k=2, robustness=fragile, distance_threshold=1.0)
    assert plan.loc["A", "wave"] == 2


def test_when_no_threshold_is_given_then_it_is_the_median_distance_of_the_candidates():
    plan = phased_entry_plan(RANKING, DISTANCE, top_k=2)
    # Distances 0.5, 3.0, 4.0 and unscored E's 0.1 (C unknown): median (0.5 + 3.0) / 2 = 1.75. Without
    # robustness every top-2 market counts as robust and p_top_k is missing.
    assert plan["distance_threshold"].iloc[0] == pytest.approx(1.75)
    assert plan.loc["A", "wave"] == 1
    assert plan["p_top_k"].isna().all()
