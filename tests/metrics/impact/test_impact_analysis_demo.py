"""On the demo data (60,000 users) analyse_impact recovers every planted effect inside its 95% interval.

data/README.md "Planted truths": conversion +17.5%, cart abandonment −27.0%, repeat customers +12.0%, seller churn
hazard 4.0% → 1.8% (−2.2 points), CSAT +40% within market; GB's randomised conversion from its A/B test.
"""

from __future__ import annotations

import ibis
import pytest

from analysis.metrics.impact import analyse_impact
from analysis.scope import Scope
from analysis.sources.demo import generate_demo_tables
from analysis.sources.demo.design import (
    PLANTED_EFFECTS,
    SELLER_CHURN_HAZARD_AFTER_LAUNCH,
    SELLER_CHURN_HAZARD_END_OF_2025,
)

pytestmark = pytest.mark.slow

HAZARD_RELATIVE = SELLER_CHURN_HAZARD_AFTER_LAUNCH / SELLER_CHURN_HAZARD_END_OF_2025 - 1  # −55%


@pytest.fixture(scope="module")
def tables():
    return {name: ibis.memtable(frame) for name, frame in generate_demo_tables(users=60_000, seed=12).items()}


def effects(tables, market: str):
    analysis = analyse_impact(tables, Scope.parse(market, "2025-01-01", "2026-06-30"))
    return analysis.effects.set_index("kpi")


@pytest.fixture(scope="module")
def everywhere(tables):
    return effects(tables, "ALL")


def inside(row, value: float, kind: str = "relative") -> bool:
    return row[f"{kind}_ci_low"] <= value <= row[f"{kind}_ci_high"]


@pytest.mark.parametrize(
    ("kpi", "planted"),
    [
        ("conversion_rate", PLANTED_EFFECTS["conversion_rate"]),
        ("cart_abandonment_rate", PLANTED_EFFECTS["cart_abandonment_rate"]),
        ("repeat_customer_rate", PLANTED_EFFECTS["repeat_customer_rate"]),
        ("csat_top2", PLANTED_EFFECTS["csat"]),
        ("seller_churn_hazard", HAZARD_RELATIVE),
    ],
)
def test_when_all_markets_are_read_then_the_planted_relative_effect_is_inside_the_interval(everywhere, kpi, planted):
    row = everywhere.loc[kpi]
    assert row["design"] == "staggered_did"
    assert inside(row, planted)


def test_when_all_markets_are_read_then_the_seller_churn_hazard_falls_by_the_planted_points(everywhere):
    row = everywhere.loc["seller_churn_hazard"]
    assert inside(row, PLANTED_EFFECTS["seller_monthly_churn_hazard"], kind="effect")
    assert row["real"]


def test_when_the_session_kpis_are_read_then_the_lifts_are_real_and_conversion_meets_no_less_than_inconclusive(
    everywhere,
):
    assert everywhere.loc["conversion_rate", "real"] and everywhere.loc["cart_abandonment_rate", "real"]
    assert everywhere.loc["conversion_rate", "verdict"] in ("met", "inconclusive")


def test_when_a_fully_treated_market_is_read_then_csat_rises_by_the_planted_40_percent(tables):
    assert inside(effects(tables, "US").loc["csat_top2"], PLANTED_EFFECTS["csat"])


def test_when_gb_is_read_then_its_conversion_is_the_experiment_and_recovers_the_planted_lift(tables):
    row = effects(tables, "GB").loc["conversion_rate"]
    assert row["design"] == "randomised"
    assert inside(row, PLANTED_EFFECTS["conversion_rate"])
