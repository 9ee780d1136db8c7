"""On the demo data, the KPI panels show the planted levels and lifts (data/README.md § Planted truths).

A cheap sanity check of the panels, not of any estimator: pooled rates of untreated and treated market-weeks
(partly treated weeks left out; GB's market-level rows mix both arms, so GB is left out of the treated pool).
"""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from analysis.metrics.impact.panels import kpi_panel, session_panel
from analysis.sources.demo import generate_demo_tables
from analysis.sources.demo.design import AB_TEST_MARKET, CART_TO_PURCHASE, MARKETS, PLANTED_EFFECTS

UNTREATED_CONVERSION = 0.1218  # data/README.md: 12.2% of untreated sessions reach purchase


@pytest.fixture(scope="module")
def tables():
    return {name: ibis.memtable(frame) for name, frame in generate_demo_tables(users=60_000, seed=12).items()}


@pytest.fixture(scope="module")
def panel(tables) -> pd.DataFrame:
    weekly = kpi_panel(tables, period="week")
    return weekly[~weekly.partly_treated]


def pooled(rows: pd.DataFrame, numerator: str, denominator: str) -> float:
    return rows[numerator].sum() / rows[denominator].sum()


def test_when_market_weeks_are_untreated_then_conversion_and_abandonment_are_the_planted_baselines(panel):
    untreated = panel[~panel.treated]
    assert untreated.sessions.sum() > 200_000
    assert pooled(untreated, "purchasing_sessions", "sessions") == pytest.approx(UNTREATED_CONVERSION, abs=0.004)
    assert pooled(untreated, "abandoned_carts", "cart_sessions") == pytest.approx(1 - CART_TO_PURCHASE, abs=0.01)


def test_when_market_weeks_are_treated_then_the_planted_lifts_are_visible(panel):
    untreated, treated = panel[~panel.treated], panel[panel.treated & (panel.market != AB_TEST_MARKET)]
    conversion = pooled(treated, "purchasing_sessions", "sessions") / pooled(
        untreated, "purchasing_sessions", "sessions"
    )
    abandonment = pooled(treated, "abandoned_carts", "cart_sessions") / pooled(
        untreated, "abandoned_carts", "cart_sessions"
    )
    assert conversion - 1 == pytest.approx(PLANTED_EFFECTS["conversion_rate"], abs=0.05)
    assert abandonment - 1 == pytest.approx(PLANTED_EFFECTS["cart_abandonment_rate"], abs=0.05)


def test_when_a_market_launches_then_its_csat_top_two_box_rises_by_the_planted_share(panel):
    us = panel[panel.market == "US"]
    before, after = (
        pooled(us[~us.treated], "satisfied", "responses_csat"),
        pooled(us[us.treated], "satisfied", "responses_csat"),
    )
    baseline = next(market.csat_top2_share for market in MARKETS if market.code == "US")
    assert before == pytest.approx(baseline, abs=0.04)
    assert after / before - 1 == pytest.approx(PLANTED_EFFECTS["csat"], abs=0.15)
    assert panel.nps.dropna().between(-100, 100).all()


def test_when_gb_is_split_by_variant_then_only_the_treatment_arm_converts_more(tables):
    gb = tables["events"].filter(tables["events"].market == AB_TEST_MARKET)
    arms = session_panel(gb, period="quarter", by=("variant",), start=date(2025, 11, 1))
    totals = arms.groupby("variant", dropna=False)[["purchasing_sessions", "sessions"]].sum()
    rates = (totals.purchasing_sessions / totals.sessions).to_dict()
    assert set(rates) == {"control", "treatment"}  # GB's sessions after launch all carry an arm
    assert rates["control"] == pytest.approx(UNTREATED_CONVERSION, abs=0.01)
    assert rates["treatment"] / rates["control"] - 1 == pytest.approx(PLANTED_EFFECTS["conversion_rate"], abs=0.09)
