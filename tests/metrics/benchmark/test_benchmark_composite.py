"""Composite score on the index scale (reusing the market-entry sensitivity), market share and the value chain."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.metrics.benchmark import composite_scores, market_share_trend, value_chain_gaps, weakest_stage
from analysis.metrics.benchmark.trends import indexed_series


def scorecard(index: dict[str, dict[str, float]], client: str = "A") -> pd.DataFrame:
    """Scorecard rows holding what the composite and the value chain read: index, gap to median %, value."""
    rows = [
        {
            "company": company,
            "kpi": kpi,
            "index_to_best": value,
            "value": value,
            "gap_to_median_pct": 0.0,
            "is_client": company == client,
        }  # fmt: skip
        for kpi, by_company in index.items()
        for company, value in by_company.items()
    ]
    return pd.DataFrame(rows)


CARD = scorecard({"conversion_rate": {"A": 80.0, "B": 100.0, "C": 50.0}, "csat": {"A": 100.0, "B": 60.0, "C": 90.0}})


def test_when_weights_are_given_then_the_composite_is_the_weighted_mean_index_to_best():
    composite = composite_scores(CARD, {"conversion_rate": 3, "csat": 1}, n_simulations=50).set_index("company")

    # A: 0.75 x 80 + 0.25 x 100 = 85; B: 0.75 x 100 + 0.25 x 60 = 90; C: 0.75 x 50 + 0.25 x 90 = 60
    assert composite["composite_score"].to_dict() == pytest.approx({"A": 85.0, "B": 90.0, "C": 60.0})
    assert composite["rank"].to_dict() == {"B": 1, "A": 2, "C": 3}
    assert composite.loc["A", "is_client"] and not composite.loc["B", "is_client"]


def test_when_no_weights_are_given_then_every_kpi_weighs_the_same():
    composite = composite_scores(CARD, n_simulations=50).set_index("company")

    assert composite["composite_score"].to_dict() == pytest.approx({"A": 90.0, "B": 80.0, "C": 70.0})


def test_when_a_company_lacks_a_kpi_then_its_score_reweights_the_others():
    card = scorecard({"conversion_rate": {"A": 80.0, "B": 100.0}, "csat": {"A": 100.0, "B": float("nan")}})

    composite = composite_scores(card, n_simulations=50).set_index("company")

    assert composite.loc["B", "composite_score"] == pytest.approx(100.0)
    assert composite.loc["B", "weight_coverage"] == pytest.approx(0.5)


def test_when_one_company_is_best_on_every_kpi_then_it_is_first_in_every_weight_draw():
    card = scorecard({"k1": {"A": 100.0, "B": 70.0, "C": 40.0}, "k2": {"A": 100.0, "B": 50.0, "C": 90.0}})

    composite = composite_scores(card, top_k=1, n_simulations=300, seed=3).set_index("company")

    assert composite.loc["A", "p_top_k"] == 1.0 and composite.loc["A", "rank_p95"] == 1
    assert composite["p_top_k"].sum() == pytest.approx(1.0)  # exactly one company is first in each draw


def test_when_weights_name_an_unknown_kpi_then_the_error_lists_the_kpis():
    with pytest.raises(ParameterError) as raised:
        composite_scores(CARD, {"conversion_rate": 1, "nps": 1})

    assert raised.value.parameter == "weights" and raised.value.valid == ["conversion_rate", "csat"]


def test_when_market_shares_move_then_their_changes_are_in_points():
    values = pd.DataFrame(
        {
            "company": ["A"] * 5,
            "is_client": [True] * 5,
            "kpi": ["market_share"] * 5,
            "period": ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"],
            "value": [0.10, 0.12, 0.11, 0.11, 0.13],
            "markets": [1] * 5,
            "unit": ["fraction"] * 5,
            "direction": ["higher"] * 5,
        }
    )

    shares = market_share_trend(indexed_series(values)).set_index("period")

    assert shares["change_qoq"].iloc[1:].tolist() == pytest.approx([0.02, -0.01, 0.0, 0.02])
    assert shares.loc["2026Q1", "change_yoy"] == pytest.approx(0.03)
    assert shares.loc["2026Q1", "change_since_start"] == pytest.approx(0.03)


def test_when_kpis_map_to_stages_then_each_stage_averages_its_kpis_and_the_weakest_is_named():
    card = scorecard(
        {
            "conversion_rate": {"A": 80.0, "B": 100.0},
            "market_share": {"A": 40.0, "B": 100.0},
            "csat": {"A": 100.0, "B": 70.0},
            "order_fulfilment_days": {"A": 70.0, "B": 100.0},
        }
    )

    chain = value_chain_gaps(card).set_index(["stage", "company"])

    assert list(dict.fromkeys(chain.index.get_level_values("stage"))) == ["acquisition", "fulfilment", "service"]
    assert chain.loc[("acquisition", "A"), "mean_index_to_best"] == pytest.approx(60.0)
    assert chain.loc[("acquisition", "A"), "index_gap_to_best"] == pytest.approx(40.0)
    assert chain.loc[("acquisition", "A"), "kpis"] == "conversion_rate, market_share"
    assert weakest_stage(value_chain_gaps(card)) == "acquisition"
    custom = value_chain_gaps(card, {"csat": "service", "order_fulfilment_days": "logistics"})
    assert weakest_stage(custom) == "logistics"


def test_when_the_value_chain_names_an_unknown_kpi_then_the_error_lists_the_kpis():
    with pytest.raises(ParameterError) as raised:
        value_chain_gaps(CARD, {"returns_rate": "fulfilment"})

    assert raised.value.parameter == "stages" and raised.value.value == ["returns_rate"]
