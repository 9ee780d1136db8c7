"""Issue 17's market-entry fixes: served markets apart, the home market named, thin cultural distances flagged,
and tables a reviewer reads without help (checked in the rendered HTML, not pandas' repr)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.metrics.market_entry import MarketEntryAnalysis, analyse_market_entry
from analysis.present import market_entry as show

NAN = np.nan
# Home H; A and B scored on all six dimensions; S already served; T measured on lto and ivr only (2 of 6). pdi
# separates H, A, B, S; lto and ivr are equal to H's for T, so T's distance on its 2 dimensions is 0: it would
# look the closest market of all.
REFERENCE = pd.DataFrame(
    {
        "name": ["Home", "Alpha", "Beta", "Served", "Thin"],
        "pdi": [40.0, 50.0, 60.0, 45.0, NAN],
        "idv": [80.0, 80.0, 80.0, 80.0, NAN],
        "mas": [50.0, 50.0, 50.0, 50.0, NAN],
        "uai": [30.0, 30.0, 30.0, 30.0, NAN],
        "lto": [50.0, 50.0, 50.0, 40.0, 50.0],
        "ivr": [50.0, 50.0, 50.0, 60.0, 50.0],
        "lpi_score": [3.0, 4.0, 3.0, 3.5, 3.9],
    },
    index=pd.Index(["H", "A", "B", "S", "T"], name="market"),
)
CRITERIA = {"lpi_score": ("benefit", 0.5), "cultural_distance": ("cost", 0.5)}


def analyse(**overrides) -> MarketEntryAnalysis:
    parameters = {
        "home_market": "H",
        "candidate_markets": [],
        "criteria": CRITERIA,
        "served_markets": ["H", "S"],
        "n_simulations": 100,
        "top_k": 1,
    }
    return analyse_market_entry(REFERENCE, **(parameters | overrides))


@pytest.fixture(scope="module")
def default() -> MarketEntryAnalysis:
    return analyse()


def test_when_a_market_is_already_served_then_it_is_no_candidate_and_is_shown_apart(default):
    assert default.candidates == ("A", "B", "T")
    assert "S" not in default.plan.index and "S" not in default.ranking.index
    assert default.served.index.tolist() == ["S"]
    served = show.served_table(default)
    assert served.data.index.tolist() == ["Served"]
    assert "Served (S)" in show.served_sentence(default)
    assert show.served_table(analyse(include_served=True)) is None
    assert analyse(include_served=True).candidates == ("A", "B", "S", "T")


def test_when_a_served_market_is_listed_as_a_candidate_then_it_is_still_left_out(default):
    assert analyse(candidate_markets=["A", "S"]).candidates == ("A",)


def test_when_only_served_markets_are_listed_then_the_error_says_so():
    with pytest.raises(ParameterError, match="no candidate market left") as raised:
        analyse(candidate_markets=["S"])
    assert raised.value.parameter == "candidate_markets"


def test_when_findings_are_written_then_the_home_market_is_named_first(default):
    assert show.findings(default)[0] == (
        "Home market: Home (H); cultural distance is measured from it, and 3 candidate markets are scored."
    )


def test_when_a_distance_rests_on_two_dimensions_then_it_is_not_used_and_flagged(default):
    # T's raw distance is 0 (its lto and ivr equal H's), on 2 of 6 dimensions: not a figure for scoring.
    assert default.distance.loc["T", ["distance", "dimensions_measured", "distance_used"]].tolist() == [0.0, 2, False]
    assert np.isnan(default.matrix.loc["T", "cultural_distance"])
    assert default.ranking.loc["T", "weight_coverage"] == 0.5  # LPI only, not 100%
    assert np.isnan(default.ranking.loc["T", "score"])  # below the default 80% coverage
    assert not default.plan.loc["T", "culturally_close"]
    ranking = show.ranking_table(default, include_unscored=True)
    assert ranking.loc["T", ["Data coverage", "Hofstede dimensions"]].tolist() == [
        "50%",
        "2 of 6 (too few: distance not used)",
    ]
    assert show.criterion_values_table(default).loc["T", "Cultural distance"] == "– (2 of 6 dimensions)"
    assert "Thin (T) on 2 of 6" in show.distance_caveat_sentence(default)
    assert "T: cultural distance on only 2 of Hofstede's 6 dimensions (at least 4 needed)" in (
        show.data_gap_sentence(default)
    )
    assert show.plan_table(default).data.loc["T", "Reason"] == (
        "T has too little data to score, cultural distance on only 2 of 6 Hofstede dimensions, so not used: watch list"
    )


def test_when_tables_are_rendered_then_no_nan_no_float_ranks_and_no_snake_case_headers(default):
    for styled in (show.plan_table(default), show.robustness_table(default), show.agreement_table(default)):
        html = styled.to_html()
        assert "nan" not in html.lower() and ".000000" not in html
        assert not any(code in html for code in ("p_top_k", "base_rank", "mean_rank", "kendall_tau", "method_a"))


def test_when_tailoring_notes_are_rendered_then_every_note_is_there_in_full():
    analysis = analyse(top_k=3, min_coverage=0.5)
    rules = show.tailoring_rules(analysis)
    html = show.tailoring_notes(analysis).to_html()
    assert len(rules) > 0
    for note in rules["note"]:
        assert note in html  # the whole sentence, not cut at pandas' column width
    assert "…" not in html and "Uncertainty avoidance" in html and "Alpha (A)" in html
