"""A market-entry scenario from notebook parameters: clear errors, and the pieces agree with each other."""

from __future__ import annotations

import pytest

from analysis.metrics.market_entry import score_markets
from analysis.metrics.market_entry.scenario import score_scenario
from analysis.sources.reference import read_market_reference

CRITERIA = {"internet_users_pct": ("benefit", 0.5), "cultural_distance": ("cost", 0.5)}


@pytest.fixture(scope="module")
def reference():
    return read_market_reference()


def test_when_no_candidates_are_named_then_every_other_reference_market_is_scored(reference):
    scenario = score_scenario(reference, home_market="US", candidate_markets=[], criteria=CRITERIA, n_simulations=50)

    assert sorted(scenario.candidates) == sorted(set(reference.index) - {"US"})
    assert scenario.other_method == "topsis"
    expected = score_markets(scenario.matrix, scenario.weights, scenario.benefit, "weighted_sum", min_coverage=0.8)
    assert scenario.ranking["rank"].equals(expected["rank"])
    assert set(scenario.plan.index) <= set(scenario.candidates)


def test_when_a_market_is_unknown_then_the_error_lists_the_known_ones(reference):
    with pytest.raises(ValueError, match=r"markets \['XX'\] are not in the reference data; known: \['AE'"):
        score_scenario(reference, home_market="US", candidate_markets=["DE", "XX"], criteria=CRITERIA)


def test_when_a_criterion_is_not_a_reference_column_then_the_error_names_it(reference):
    with pytest.raises(ValueError, match=r"criteria \['happiness'\] are not reference columns"):
        score_scenario(reference, home_market="US", candidate_markets=[], criteria={"happiness": ("benefit", 1.0)})
