"""Report tables and the data-gap finding of the market-entry notebook."""

from __future__ import annotations

import pandas as pd

from analysis.metrics.market_entry import weighted_sum
from analysis.present.market_entry import criterion_values_table, data_gap_sentence, ranking_table

MATRIX = pd.DataFrame(
    {
        "lpi_score": [4.0, 3.0, None, None],
        "cultural_distance": [1.0, 2.0, None, 0.5],
    },
    index=pd.Index(["A", "B", "C", "D"], name="market"),
)
BENEFIT = {"lpi_score": True, "cultural_distance": False}
WEIGHTS = {"lpi_score": 0.5, "cultural_distance": 0.5}


def test_when_ranking_is_formatted_then_rank_is_integer_score_two_decimals_and_coverage_percent():
    ranking = weighted_sum(MATRIX, WEIGHTS, BENEFIT, min_coverage=0.8)
    # A: lpi 1.0 and distance (2 - 1) / 1.5 = 2/3 -> 0.5 + 0.333 = 0.83; B: 0 + 0 = 0.00.
    table = ranking_table(ranking)
    assert table.index.tolist() == ["A", "B"]
    assert table.columns.tolist() == ["#", "score", "LPI", "cult. dist.", "data"]
    assert table.loc["A"].tolist() == ["1", "0.83", "0.50", "0.33", "100%"]
    assert table.loc["B"].tolist() == ["2", "0.00", "0.00", "0.00", "100%"]
    everything = ranking_table(ranking, include_unscored=True)
    assert everything.index.tolist() == ["A", "B", "D", "C"]
    assert everything.loc["D"].tolist() == ["–", "–", "–", "–", "50%"]


def test_when_raw_values_are_formatted_then_missing_figures_show_a_dash():
    table = criterion_values_table(MATRIX)
    assert table.loc["A"].tolist() == ["4.0", "1.00"]
    assert table.loc["C"].tolist() == ["–", "–"]


def test_when_markets_lack_data_then_the_finding_names_them_and_the_missing_figures():
    ranking = weighted_sum(MATRIX, WEIGHTS, BENEFIT, min_coverage=0.8)
    sentence = data_gap_sentence(ranking, MATRIX, min_coverage=0.8)
    assert sentence.startswith("Not scored, because their data cover less than 80% of the weight — ")
    assert "D: no LPI 2023 figure bundled" in sentence
    assert "C: no LPI 2023 figure bundled; no Hofstede dimensions shared with the home market" in sentence
    assert data_gap_sentence(ranking.loc[["A", "B"]], MATRIX, min_coverage=0.8) is None
