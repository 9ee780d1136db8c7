"""Kogut-Singh cultural distance over Hofstede's dimensions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DataError, ParameterError
from analysis.metrics.market_entry import kogut_singh_distance


def test_when_computing_kogut_singh_then_distance_matches_hand_computation():
    scores = pd.DataFrame({"pdi": [40.0, 60.0, 80.0], "idv": [90.0, 50.0, np.nan]}, index=["HOME", "X", "Y"])
    result = kogut_singh_distance(scores, "HOME")
    # sample variances: pdi 400, idv 800. X: ((20^2/400) + (40^2/800)) / 2 = 1.5;
    # Y uses pdi only: 40^2/400 = 4.
    assert result["distance"].tolist() == pytest.approx([0.0, 1.5, 4.0])
    assert result["dimensions_used"].tolist() == [2, 2, 1]


def test_when_home_market_is_unknown_then_error_lists_markets():
    with pytest.raises(ValueError, match="home market 'ZZ'"):
        kogut_singh_distance(pd.DataFrame({"pdi": [1.0]}, index=["A"]), "ZZ")


def test_when_home_market_is_unknown_then_the_error_carries_the_known_markets():
    with pytest.raises(ParameterError) as e:
        kogut_singh_distance(pd.DataFrame({"pdi": [1.0, 2.0]}, index=["A", "B"]), "ZZ")
    assert (e.value.parameter, e.value.value, e.value.valid) == ("home", "ZZ", ["A", "B"])


def test_when_home_market_has_no_scores_then_a_data_error_says_so():
    scores = pd.DataFrame({"pdi": [np.nan, 2.0, 4.0]}, index=["HOME", "A", "B"])
    with pytest.raises(DataError, match="home market 'HOME' has no cultural dimension scores"):
        kogut_singh_distance(scores, "HOME")
