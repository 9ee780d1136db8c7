"""What the market-entry report says and shows: findings, plan reasons, tables, tailoring notes and charts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from IPython.display import Markdown

from analysis.metrics.market_entry import MarketEntryAnalysis, analyse_market_entry
from analysis.present import market_entry as show

# Home H; candidates A and B with Hofstede scores, C with no figures at all, D with an LPI figure only. pdi is the
# only dimension that varies among H, A, B (40, 50, 60: sample variance 100), so the Kogut-Singh distance is
# (50 - 40)^2 / 100 = 1 for A and (60 - 40)^2 / 100 = 4 for B; C and D have none.
NAN = np.nan
REFERENCE = pd.DataFrame(
    {
        "pdi": [40.0, 50.0, 60.0, NAN, NAN],
        "idv": [80.0, 80.0, 80.0, NAN, NAN],
        "mas": [50.0, 50.0, 50.0, NAN, NAN],
        "uai": [30.0, 30.0, 30.0, NAN, NAN],
        "lto": [50.0, 50.0, 50.0, NAN, NAN],
        "ivr": [50.0, 50.0, 50.0, NAN, NAN],
        "lpi_score": [3.0, 4.0, 3.0, NAN, 2.0],
    },
    index=pd.Index(["H", "A", "B", "C", "D"], name="market"),
)
CRITERIA = {"lpi_score": ("benefit", 0.5), "cultural_distance": ("cost", 0.5)}


def analyse(**overrides) -> MarketEntryAnalysis:
    parameters = {"home_market": "H", "candidate_markets": [], "criteria": CRITERIA, "n_simulations": 200}
    return analyse_market_entry(REFERENCE, **(parameters | overrides))


@pytest.fixture(scope="module")
def strict() -> MarketEntryAnalysis:
    """Top 1, 80% coverage: A and B are scored (C has no data, D only half the weight).

    LPI min-max over A 4, B 3, D 2: A 1, B 0.5; distance min-max (a cost) over A 1, B 4: A 1, B 0.
    A = 0.5 * 1 + 0.5 * 1 = 1.00, B = 0.5 * 0.5 + 0 = 0.25. A beats B on both criteria, so it is first in every
    weight draw. The plan's threshold is the median distance (1 + 4) / 2 = 2.5.
    """
    return analyse(top_k=1)


@pytest.fixture(scope="module")
def lenient() -> MarketEntryAnalysis:
    """Top 3, 50% coverage: D is scored too, on LPI alone (normalised 0), so A 1.00, B 0.25, D 0.00; with three
    markets scored each is in the top 3 in every draw. B is distant and D has no distance: both go to wave 2."""
    return analyse(top_k=3, min_coverage=0.5)


def test_when_findings_are_written_then_they_state_rank_robustness_agreement_wave_one_and_data_gaps(strict):
    assert show.findings(strict) == [
        "Home market: H; cultural distance is measured from it, and 4 candidate markets are scored.",
        "A ranks #1 by weighted sum; it stays in the top 1 in 100% of weight draws, so the recommendation is robust.",
        "The weighted sum and TOPSIS rankings agree with Kendall's tau = 1.00 over 2 markets.",
        "Wave 1 (attractive, culturally close and robust): A.",
        "Not scored, because their data cover less than 80% of the weight — "
        "D: no Hofstede dimensions shared with the home market (no cultural distance) · "
        "C: no LPI 2023 figure bundled; no Hofstede dimensions shared with the home market (no cultural distance). "
        "They are left out of the ranking rather than ranked on partial evidence.",
    ]


def test_when_a_market_is_scored_on_part_of_the_weight_then_its_finding_says_how_much(lenient):
    sentences = show.findings(lenient)
    assert sentences[3] == (
        "D ranks #3 by weighted sum (scored on 50% of the weight); it stays in the top 3 in 100% of weight draws, "
        "so the recommendation is robust."
    )
    assert sentences[-1].startswith("Not scored, because their data cover less than 50% of the weight — C: ")


def test_when_every_market_is_scored_then_there_is_no_data_gap_sentence():
    analysis = analyse(candidate_markets=["A", "B"], top_k=1)
    assert show.data_gap_sentence(analysis) is None
    assert not any(sentence.startswith("Not scored") for sentence in show.findings(analysis))


def test_when_a_trailing_market_often_enters_the_top_k_then_it_is_named_a_close_contender():
    # With A's and B's pdi swapped, A has the better LPI (weight 0.52) and B the smaller distance (0.48), so A ranks
    # first, and B overtakes it in the draws where LPI's weight falls below one half: under Dirichlet(50 x weights)
    # that weight is Beta(26, 24), below one half 39% of the time.
    reference = REFERENCE.assign(pdi=[40.0, 60.0, 50.0, NAN, NAN])
    criteria = {"lpi_score": ("benefit", 0.52), "cultural_distance": ("cost", 0.48)}
    analysis = analyse_market_entry(
        reference, home_market="H", candidate_markets=["A", "B"], criteria=criteria, top_k=1, n_simulations=400
    )
    assert analysis.ranking["rank"].to_dict() == {"A": 1.0, "B": 2.0}
    p_b = analysis.robustness.loc["B", "p_top_k"]
    assert 0.2 <= p_b < 0.5
    sentence = f"Close contenders that enter the top 1 under other plausible weights: B ({p_b:.0%})."
    assert sentence in show.findings(analysis)


def test_when_plan_reasons_are_worded_then_each_states_rank_distance_robustness_and_action(strict, lenient):
    assert show.plan_table(lenient).data["Reason"].to_dict() == {
        "A": "A ranks #1, cultural distance 1.00 (at or below the median 2.50); top 3 in 100% of weight draws: "
        "enter first",
        "B": "B ranks #2, cultural distance 4.00 (above the median 2.50); top 3 in 100% of weight draws: "
        "enter after wave 1, with local adaptation",
        "D": "D ranks #3, no Hofstede scores, so cultural distance is unknown; top 3 in 100% of weight draws: "
        "enter after wave 1, with local adaptation",
        "C": "C has too little data to score, no Hofstede scores, so cultural distance is unknown: watch list",
    }
    assert show.plan_table(strict).data.loc["B", "Reason"] == (
        "B ranks #2, cultural distance 4.00 (above the median 2.50); top 1 in 0% of weight draws: watch list"
    )


def test_when_the_plan_is_shown_then_it_has_the_plan_columns_and_the_report_formats(lenient):
    styled = show.plan_table(lenient)
    assert styled.data.columns.tolist() == [
        "Wave",
        "Rank",
        "Score",
        "Cultural distance",
        "In top 3 (share of draws)",
        "Reason",
    ]
    assert styled.data.index.tolist() == ["A", "B", "D", "C"]
    html = styled.to_html()
    assert ">0.250<" in html and ">4.00<" in html and ">100%<" in html
    # ranks as integers, no snake_case header, C's missing share and score as a dash, never "nan"
    assert ">2<" in html and "2.000000" not in html and "p_top_k" not in html and "nan" not in html.lower()
    assert 'id="T_' in html and f">{show.NO_DATA}<" in html


def test_when_the_ranking_is_formatted_then_rank_is_integer_score_two_decimals_and_coverage_percent(strict):
    table = show.ranking_table(strict)
    assert table.index.tolist() == ["A", "B"]
    assert table.columns.tolist() == [
        "Rank",
        "Score",
        "Logistics (LPI)",
        "Cultural distance",
        "Data coverage",
        "Hofstede dimensions",
    ]
    assert table.loc["A"].tolist() == ["1", "1.00", "0.50", "0.50", "100%", "6 of 6"]
    assert table.loc["B"].tolist() == ["2", "0.25", "0.25", "0.00", "100%", "6 of 6"]
    everything = show.ranking_table(strict, include_unscored=True)
    assert everything.index.tolist() == ["A", "B", "D", "C"]
    assert everything.loc["D"].tolist() == ["–", "–", "–", "–", "50%", "none"]


def test_when_a_topsis_ranking_is_formatted_then_criterion_columns_are_shares_of_the_gap_to_the_ideal():
    # B's squared gaps to the ideal: LPI (0.5 * (4 - 3) / sqrt(4^2 + 3^2 + 2^2))^2 = 0.25 / 29 and distance
    # (0.5 * (4 - 1) / sqrt(1^2 + 4^2))^2 = 2.25 / 17; LPI's share is (1/29) / (1/29 + 9/17) = 17/278 = 6%.
    table = show.ranking_table(analyse(method="topsis", top_k=1))
    assert table.loc["A", ["Logistics (LPI)", "Cultural distance"]].tolist() == ["0%", "0%"]
    assert table.loc["B", ["Logistics (LPI)", "Cultural distance"]].tolist() == ["6%", "94%"]


def test_when_raw_values_are_formatted_then_they_follow_the_ranking_and_missing_figures_show_a_dash(strict):
    table = show.criterion_values_table(strict)
    assert table.index.tolist() == ["A", "B", "D", "C"]
    assert table.columns.tolist() == ["Logistics (LPI)", "Cultural distance"]
    assert table.loc["A"].tolist() == ["4.0", "1.00"]
    assert table.loc["D"].tolist() == ["2.0", "–"]
    assert table.loc["C"].tolist() == ["–", "–"]


def test_when_weights_are_shown_then_they_are_percentages_and_ahp_weights_are_announced(strict):
    styled = show.weights_table(strict)
    assert styled.data.columns.tolist() == ["Logistics (LPI)", "Cultural distance"]
    assert styled.data.index.tolist() == ["Weight"]
    assert styled.to_html().count(">50%<") == 2
    assert show.weights_note(strict) is None
    ahp = analyse(top_k=1, ahp_judgements={"lpi_score|cultural_distance": 3})
    note = show.weights_note(ahp)
    assert isinstance(note, Markdown)
    assert note.data == "Weights from AHP judgements; consistency ratio 0.000 (acceptable up to 0.10)."


def test_when_robustness_and_agreement_are_shown_then_they_carry_the_report_formats(strict):
    assert ">100%<" in show.robustness_table(strict).to_html()
    assert ">1.000<" in show.agreement_table(strict).to_html()


def test_when_tailoring_notes_are_written_then_waves_one_and_two_get_the_rules_they_trigger(lenient):
    notes = show.tailoring_rules(lenient)
    assert list(zip(notes["market"], notes["dimension"], notes["level"], strict=True)) == [
        ("A", "uai", "low"),
        ("A", "idv", "high"),
        ("B", "uai", "low"),
        ("B", "idv", "high"),
        ("B", "pdi", "high"),
        ("D", "", ""),
    ]
    assert notes.loc[0, "note"] == "lead with novelty and new sellers; a light returns message is enough"
    assert notes.loc[5, "note"] == "no data"


def test_when_charts_are_drawn_then_they_show_the_analysis_views(strict):
    decomposition = show.plot_score_decomposition(strict)
    assert decomposition.axes[0].get_title() == "weighted sum: score by criterion"
    legend = [text.get_text() for text in decomposition.axes[0].get_legend().get_texts()]
    assert legend == ["Logistics (LPI)", "Cultural distance"]
    distance = show.plot_cultural_distance(strict)
    assert [label.get_text() for label in distance.axes[0].get_yticklabels()] == ["A", "B"]
    assert distance.axes[0].get_xlabel() == "Kogut-Singh cultural distance from H"
    top_k = show.plot_top_k_probability(strict)
    assert top_k.axes[0].get_xlabel() == "share of weight draws in which the market ranks in the top 1"
    tornado = show.plot_tornado(strict)
    assert tornado.axes[0].get_xlabel() == "score of A"
    plt.close("all")


def test_when_no_market_is_scored_then_there_is_no_tornado_chart():
    # B keeps its distance but loses its LPI figure, D has LPI only: each has data for half the weight.
    reference = REFERENCE.assign(lpi_score=[3.0, 4.0, NAN, NAN, 2.0])
    analysis = analyse_market_entry(
        reference, home_market="H", candidate_markets=["B", "D"], criteria=CRITERIA, n_simulations=10
    )
    assert analysis.top_market is None
    assert show.plot_tornado(analysis) is None
