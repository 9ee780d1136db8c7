"""A market-entry analysis from notebook parameters: a hand-computed two-market case and clear errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.contract import HOFSTEDE_DIMENSIONS
from analysis.errors import ParameterError
from analysis.metrics.market_entry import MarketEntryAnalysis, analyse_market_entry

# Home H and two candidates. Only pdi varies, so the distance uses it alone (a dimension that does not vary has no
# variance to divide by): pdi 50, 60, 80 has mean 190/3 and sample variance (13.33^2 + 3.33^2 + 16.67^2) / 2
# = 700/3, so KS(A) = (60 - 50)^2 / (700/3) = 3/7 and KS(B) = (80 - 50)^2 / (700/3) = 27/7.
REFERENCE = pd.DataFrame(
    {
        "pdi": [50.0, 60.0, 80.0],
        "idv": [80.0, 80.0, 80.0],
        "mas": [50.0, 50.0, 50.0],
        "uai": [30.0, 30.0, 30.0],
        "lto": [50.0, 50.0, 50.0],
        "ivr": [50.0, 50.0, 50.0],
        "internet_users_pct": [95.0, 80.0, 90.0],
        "lpi_score": [4.2, 4.0, 3.0],
    },
    index=pd.Index(["H", "A", "B"], name="market"),
)
CRITERIA = {
    "internet_users_pct": ("benefit", 0.40),
    "cultural_distance": ("cost", 0.35),
    "lpi_score": ("benefit", 0.25),
}


def analyse(**overrides) -> MarketEntryAnalysis:
    parameters = {
        "home_market": "H",
        "candidate_markets": [],
        "criteria": CRITERIA,
        "top_k": 1,
        "n_simulations": 4000,
    }
    return analyse_market_entry(REFERENCE, **(parameters | overrides))


@pytest.fixture(scope="module")
def two_markets() -> MarketEntryAnalysis:
    return analyse()


def test_when_two_markets_are_scored_then_distance_and_weighted_sum_equal_hand_computation(two_markets):
    assert two_markets.candidates == ("A", "B")
    assert two_markets.distance.index.tolist() == ["A", "B", "H"]
    assert two_markets.distance["distance"].tolist() == pytest.approx([3 / 7, 27 / 7, 0.0])
    # Min-max over two markets puts the better one at 1 and the other at 0 on each criterion. A has more LPI and
    # less distance: 0.35 + 0.25 = 0.60; B has more internet users: 0.40.
    ranking = two_markets.ranking
    assert ranking["score"].tolist() == pytest.approx([0.60, 0.40])
    assert ranking["rank"].tolist() == [1.0, 2.0]
    assert ranking.loc["A", ["internet_users_pct_contribution", "cultural_distance_contribution"]].tolist() == [
        pytest.approx(0.0),
        pytest.approx(0.35),
    ]
    assert ranking.loc["B", "internet_users_pct_contribution"] == pytest.approx(0.40)
    assert two_markets.top_market == "A"


def test_when_two_markets_are_scored_then_topsis_closeness_equals_hand_computation(two_markets):
    # Vector-normalised gaps between A and B, times the weights: internet 0.4 * 10 / sqrt(80^2 + 90^2),
    # distance 0.35 * (27 - 3) / sqrt(3^2 + 27^2), LPI 0.25 * (4 - 3) / 5. A is best on distance and LPI, so its
    # distance to the ideal is the internet gap alone and its distance to the anti-ideal the other two.
    internet = 0.4 * 10 / math.sqrt(80**2 + 90**2)
    distance = 0.35 * 24 / math.sqrt(3**2 + 27**2)
    lpi = 0.25 * 1 / 5
    d_plus, d_minus = internet, math.sqrt(distance**2 + lpi**2)
    closeness = d_minus / (d_plus + d_minus)
    assert two_markets.other_method == "topsis"
    assert two_markets.other_ranking["score"].tolist() == pytest.approx([closeness, 1 - closeness])
    assert two_markets.agreement[["kendall_tau", "markets"]].iloc[0].tolist() == [1.0, 2]


def test_when_weights_are_drawn_then_the_top_one_share_matches_the_dirichlet_marginal(two_markets):
    # A beats B in a draw exactly when B's only winning criterion (internet) gets less than half the weight. Under
    # Dirichlet(50 x weights) the internet weight is Beta(20, 30), so P(A first) = its CDF at 0.5 (about 0.92);
    # 4000 draws put the estimate within about 0.004 of it (one standard error).
    expected = stats.beta.cdf(0.5, 20, 30)
    robustness = two_markets.robustness
    assert robustness.index.tolist() == ["A", "B"]
    assert robustness.loc["A", "p_top_k"] == pytest.approx(expected, abs=0.015)
    assert robustness.loc["B", "p_top_k"] == pytest.approx(1 - robustness.loc["A", "p_top_k"])


def test_when_two_markets_are_planned_then_the_close_robust_leader_goes_first_and_is_tailored_for(two_markets):
    # The threshold is the median distance (3/7 + 27/7) / 2 = 15/7: A is close, B is not.
    plan = two_markets.plan
    assert plan["wave"].to_dict() == {"A": 1, "B": 3}
    assert plan["distance_threshold"].iloc[0] == pytest.approx(15 / 7)
    assert plan["culturally_close"].to_dict() == {"A": True, "B": False}
    assert two_markets.tailoring_scores.index.tolist() == ["A"]
    assert two_markets.tailoring_scores.columns.tolist() == list(HOFSTEDE_DIMENSIONS)
    assert two_markets.tailoring_scores.loc["A"].tolist() == [60.0, 80.0, 50.0, 30.0, 50.0, 50.0]


def test_when_candidates_are_named_then_only_they_are_scored_in_that_order():
    analysis = analyse(candidate_markets=["B", "A"])
    assert analysis.candidates == ("B", "A")
    assert analysis.matrix.index.tolist() == ["B", "A"]
    assert analysis.distance.index.tolist() == ["B", "A", "H"]


def test_when_judgements_are_given_then_they_replace_the_weights():
    # internet is 2x distance and 4x LPI, distance 2x LPI: consistent, so the weights are (4, 2, 1) / 7 exactly.
    judgements = {
        "internet_users_pct|cultural_distance": 2,
        "internet_users_pct|lpi_score": 4,
        "cultural_distance|lpi_score": 2,
    }
    analysis = analyse(ahp_judgements=judgements)
    assert analysis.weights.tolist() == pytest.approx([4 / 7, 2 / 7, 1 / 7])
    assert analysis.ahp is not None and analysis.ahp.consistency_ratio == pytest.approx(0.0, abs=1e-9)
    assert analyse().ahp is None


def test_when_no_market_can_be_scored_then_there_is_no_top_market_and_every_market_waits():
    # A lacks LPI and B internet: each has data for half the weight, below the 0.8 required.
    sparse = REFERENCE.assign(lpi_score=[4.0, np.nan, 3.0], internet_users_pct=[90.0, 80.0, np.nan])
    criteria = {"lpi_score": ("benefit", 1.0), "internet_users_pct": ("benefit", 1.0)}
    analysis = analyse_market_entry(sparse, home_market="H", candidate_markets=[], criteria=criteria, n_simulations=10)
    assert analysis.ranking["score"].isna().all()
    assert analysis.top_market is None
    assert analysis.robustness.empty
    assert analysis.plan["wave"].to_dict() == {"A": 3, "B": 3}
    assert analysis.tailoring_scores.empty


def test_when_a_candidate_is_unknown_then_the_error_lists_the_known_ones():
    message = r"markets \['XX'\] are not in the reference data; known: \['A', 'B', 'H'\]"
    with pytest.raises(ParameterError, match=message) as e:
        analyse(candidate_markets=["A", "XX"])
    assert (e.value.parameter, e.value.value, e.value.valid) == ("candidate_markets", ["XX"], ["A", "B", "H"])


def test_when_the_home_market_is_unknown_then_the_error_names_the_home_market_parameter():
    with pytest.raises(ParameterError) as e:
        analyse(home_market="ZZ")
    assert (e.value.parameter, e.value.value) == ("home_market", ["ZZ"])


def test_when_a_criterion_is_not_a_reference_column_then_the_error_names_it():
    with pytest.raises(ParameterError, match=r"criteria \['happiness'\] are not reference columns") as e:
        analyse(criteria={"happiness": ("benefit", 1.0)})
    assert (e.value.parameter, e.value.value) == ("criteria", ["happiness"])
    assert "cultural_distance" in e.value.valid


def test_when_the_analysis_is_built_then_it_cannot_be_changed_afterwards(two_markets):
    with pytest.raises(AttributeError):
        two_markets.top_market = "B"
