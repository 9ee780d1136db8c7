"""The scorecard: hand-computed ranks, percentiles, index and gaps (both directions, ties, a missing KPI), its
invariances (hypothesis), its parameter errors and the planted profiles of the demo data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import DataError, ParameterError
from analysis.metrics.benchmark import benchmark_scorecard, scale_floor
from analysis.sources import load_tables


def rows(values: dict[str, dict[str, float]], units: dict[str, tuple[str, str]], *, market="DE", period="2026Q2"):
    """A benchmarks frame from ``{kpi: {company: value}}`` and ``{kpi: (unit, direction)}``."""
    return pd.DataFrame(
        [
            {"company": company, "market": market, "period": period, "kpi": kpi, "value": value}
            | dict(zip(("unit", "direction"), units[kpi], strict=True))
            for kpi, by_company in values.items()
            for company, value in by_company.items()
        ]
    )


HAND = rows(
    {
        "conversion_rate": {"A": 0.10, "B": 0.20, "C": 0.10, "D": 0.05},
        "order_fulfilment_days": {"A": 4.0, "B": 2.0, "D": 8.0},  # C lacks it
        "nps": {"A": -20.0, "B": 0.0, "C": 20.0, "D": -20.0},
    },
    {
        "conversion_rate": ("fraction", "higher"),
        "order_fulfilment_days": ("days", "lower"),
        "nps": ("score -100..100", "higher"),
    },
)


def card(frame=HAND, **options) -> pd.DataFrame:
    return benchmark_scorecard(frame, client=options.pop("client", "A"), **options).set_index(["kpi", "company"])


def test_when_higher_is_better_with_a_tie_then_ties_share_the_best_rank_and_half_count_in_the_percentile():
    conversion = card().loc["conversion_rate"]

    assert conversion["rank"].to_dict() == {"B": 1, "A": 2, "C": 2, "D": 4}
    # A: of its 3 rivals, D is strictly worse (1) and C tied (1/2): 1.5 / 3
    assert conversion["percentile_rank"].to_dict() == pytest.approx({"B": 1.0, "A": 0.5, "C": 0.5, "D": 0.0})
    assert conversion["index_to_best"].to_dict() == pytest.approx({"B": 100.0, "A": 50.0, "C": 50.0, "D": 25.0})
    # median of 0.05, 0.10, 0.10, 0.20 = 0.10
    assert conversion["gap_to_median"].to_dict() == pytest.approx({"B": 0.10, "A": 0.0, "C": 0.0, "D": -0.05})
    assert conversion["gap_to_best"].to_dict() == pytest.approx({"B": 0.0, "A": -0.10, "C": -0.10, "D": -0.15})
    assert conversion["gap_to_best_pct"].to_dict() == pytest.approx({"B": 0.0, "A": -0.5, "C": -0.5, "D": -0.75})
    assert conversion["gap_to_median_pct"].to_dict() == pytest.approx({"B": 1.0, "A": 0.0, "C": 0.0, "D": -0.5})
    assert conversion["quartile"].to_dict() == {"B": 1, "A": 2, "C": 2, "D": 4}


def test_when_lower_is_better_then_the_smallest_value_leads_and_gaps_are_positive_when_better():
    days = card().loc["order_fulfilment_days"]

    assert days.loc[["B", "A", "D"], "rank"].tolist() == [1, 2, 3]
    assert days.loc[["B", "A", "D"], "percentile_rank"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    # best / value: 2/4 and 2/8
    assert days.loc[["B", "A", "D"], "index_to_best"].tolist() == pytest.approx([100.0, 50.0, 25.0])
    # median of 2, 4, 8 = 4: B is 2 days faster (+2), D 4 days slower (-4)
    assert days.loc[["B", "A", "D"], "gap_to_median"].tolist() == pytest.approx([2.0, 0.0, -4.0])
    assert days.loc[["B", "A", "D"], "gap_to_best"].tolist() == pytest.approx([0.0, -2.0, -6.0])
    assert days.loc[["B", "A", "D"], "gap_to_median_pct"].tolist() == pytest.approx([0.5, 0.0, -1.0])


def test_when_a_company_lacks_a_kpi_then_it_is_listed_as_missing_and_left_out_of_the_ranking():
    days = card().loc["order_fulfilment_days"]

    missing = days.loc["C"]
    assert np.isnan(missing["value"]) and missing["markets"] == 0
    measures = ["rank", "percentile_rank", "index_to_best", "gap_to_median", "gap_to_best", "quartile"]
    assert missing[measures].isna().all()
    assert missing["unit"] == "days" and missing["direction"] == "lower"
    assert days["rank"].max() == 3  # three ranked, not four


def test_when_a_kpi_is_a_score_on_a_bounded_scale_then_the_index_is_measured_from_its_floor():
    nps = card().loc["nps"]

    # floor -100: A is 80 above it, the best (C) 120
    assert nps.loc["A", "index_to_best"] == pytest.approx(80 / 120 * 100)
    assert nps.loc["B", "index_to_best"] == pytest.approx(100 / 120 * 100)
    assert nps.loc[["A", "D"], "rank"].tolist() == [3, 3]
    assert nps.loc["A", "percentile_rank"] == pytest.approx(0.5 / 3)
    assert (scale_floor("score 1-5"), scale_floor("score -100..100"), scale_floor("fraction")) == (1.0, -100.0, 0.0)


def test_when_all_markets_are_combined_then_each_value_is_the_mean_over_the_markets_that_report_it():
    frame = pd.concat(
        [
            rows({"csat": {"A": 3.0, "B": 4.0}}, {"csat": ("score 1-5", "higher")}, market="DE"),
            rows({"csat": {"A": 4.0}}, {"csat": ("score 1-5", "higher")}, market="FR"),
        ]
    )

    combined = card(frame, market="ALL").loc["csat"]

    assert combined.loc["A", "value"] == pytest.approx(3.5) and combined.loc["A", "markets"] == 2
    assert combined.loc["B", "value"] == pytest.approx(4.0) and combined.loc["B", "markets"] == 1
    assert (combined["market"] == "ALL").all()
    # floor 1: (3.5 - 1) / (4 - 1)
    assert combined.loc["A", "index_to_best"] == pytest.approx(2.5 / 3 * 100)


def test_when_no_period_is_given_then_the_latest_quarter_is_scored():
    frame = pd.concat([HAND, HAND.assign(period="2025Q4", value=HAND["value"] * 2)])

    assert set(card(frame)["period"]) == {"2026Q2"}
    assert card(frame, period="2025Q4").loc[("conversion_rate", "B"), "value"] == pytest.approx(0.40)


def test_when_peers_are_named_then_only_they_are_compared_with_the_client():
    scored = card(peers=["D"]).loc["conversion_rate"]

    assert scored["rank"].to_dict() == {"A": 1, "D": 2}
    assert scored.loc["A", "is_client"] and not scored.loc["D", "is_client"]


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"client": "Nobody"}, "client"),
        ({"market": "IT"}, "market"),
        ({"peers": ["B", "Ghost"]}, "peers"),
        ({"period": "2019Q1"}, "period"),
        ({"period": "Q1 2026"}, "period"),
    ],
)
def test_when_a_parameter_names_what_the_table_lacks_then_the_error_names_it_and_the_valid_values(options, parameter):
    with pytest.raises(ParameterError) as raised:
        card(**options)

    assert raised.value.parameter == parameter
    assert raised.value.valid


def test_when_a_kpi_has_two_directions_then_a_data_error_names_the_column():
    frame = HAND.copy()
    frame.loc[0, "direction"] = "lower"

    with pytest.raises(DataError) as raised:
        card(frame)

    assert raised.value.column == "direction" and raised.value.value == ["conversion_rate"]


# -- properties ---------------------------------------------------------------------------------------------------

KPI_VALUES = st.lists(st.integers(min_value=1, max_value=40), min_size=2, max_size=6)
DIRECTIONS = st.sampled_from(["higher", "lower"])


def panel(kpis: list[tuple[list[int], str]]) -> pd.DataFrame:
    frames = []
    for number, (values, direction) in enumerate(kpis):
        by_company = {f"C{position}": float(value) for position, value in enumerate(values)}
        frames.append(rows({f"k{number}": by_company}, {f"k{number}": ("fraction", direction)}))
    return pd.concat(frames, ignore_index=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(KPI_VALUES, DIRECTIONS), min_size=1, max_size=3))
def test_when_a_rival_worse_on_every_kpi_joins_then_the_client_index_to_best_does_not_change(kpis):
    frame = panel(kpis)
    worse = []
    for kpi, group in frame.groupby("kpi"):
        lower = group["direction"].iloc[0] == "lower"
        value = group["value"].max() * 2 if lower else group["value"].min() / 2
        worse.append(group.iloc[[0]].assign(company="Worse", value=value, kpi=kpi))
    before = card(frame, client="C0")["index_to_best"]
    after = card(pd.concat([frame, *worse]), client="C0")["index_to_best"].drop(index="Worse", level="company")

    pd.testing.assert_series_equal(after.sort_index(), before.sort_index())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(KPI_VALUES, DIRECTIONS), min_size=1, max_size=3))
def test_when_a_kpi_direction_is_flipped_and_its_values_negated_then_the_ranks_are_the_same(kpis):
    frame = panel(kpis)
    flipped = frame.assign(
        value=-frame["value"], direction=frame["direction"].map({"higher": "lower", "lower": "higher"})
    )

    ranks = ["rank", "percentile_rank", "quartile"]
    pd.testing.assert_frame_equal(card(flipped, client="C0")[ranks], card(frame, client="C0")[ranks])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(KPI_VALUES, DIRECTIONS), min_size=1, max_size=3),
    st.sampled_from([np.log, np.sqrt, lambda x: x**3 + 7]),
)
def test_when_values_go_through_an_increasing_transform_then_percentile_ranks_do_not_change(kpis, transform):
    frame = panel(kpis)
    transformed = frame.assign(value=transform(frame["value"]))

    ranks = ["rank", "percentile_rank", "quartile"]
    pd.testing.assert_frame_equal(card(transformed, client="C0")[ranks], card(frame, client="C0")[ranks])


# -- the demo data ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_benchmarks():
    return load_tables(Path(os.environ["WORKBOOK_DATA_DIR"]), tables=["benchmarks"])["benchmarks"]


@pytest.mark.parametrize("market", ["US", "DE", "FR", "JP", "AU", "ALL"])
def test_when_the_demo_benchmarks_are_scored_then_the_planted_profiles_come_out(demo_benchmarks, market):
    scored = benchmark_scorecard(demo_benchmarks, client="Craftly", market=market)
    best = scored[scored["rank"] == 1].set_index("kpi")["company"]
    worst = scored[scored["rank"] == 5].set_index("kpi")["company"]

    assert best["conversion_rate"] == "GlobalBazaar"
    assert worst["csat"] == worst["nps"] == "GlobalBazaar"
    assert best["order_fulfilment_days"] == "GlobalBazaar"
    assert best["csat"] == best["nps"] == "Artisania"
    assert worst["order_fulfilment_days"] == "Artisania"
    assert best["seller_retention_rate"] == "HandHub"
    assert len(scored) == 5 * 8 and scored["value"].notna().all()
