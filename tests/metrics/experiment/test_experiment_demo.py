"""On the demo data, the GB test recovers the planted effects (data/README.md, design.PLANTED_EFFECTS) and no SRM."""

from __future__ import annotations

import ibis
import pytest

from analysis.metrics.experiment import analyse_experiment
from analysis.scope import Scope
from analysis.sources.demo import generate_demo_tables
from analysis.sources.demo.design import AB_TEST_MARKET, PLANTED_EFFECTS


@pytest.fixture(scope="module")
def tables():
    return {name: ibis.memtable(frame) for name, frame in generate_demo_tables(users=60_000, seed=12).items()}


@pytest.fixture(scope="module")
def readout(tables):
    return analyse_experiment(tables, Scope.parse(AB_TEST_MARKET, "2025-01-01", "2026-06-30"))


def row(analysis, metric):
    return analysis.readout.set_index("metric").loc[metric]


def test_when_gb_is_read_out_then_the_planted_session_conversion_lift_is_inside_the_interval(readout):
    lift = row(readout, "session_conversion")
    assert lift["relative_lift_ci_low"] < PLANTED_EFFECTS["conversion_rate"] < lift["relative_lift_ci_high"]
    assert lift["real"]  # +17.5% is well above the minimum detectable lift at this size


def test_when_gb_is_read_out_then_the_planted_cart_abandonment_change_is_inside_the_interval(readout):
    change = row(readout, "cart_abandonment")
    assert change["relative_lift_ci_low"] < PLANTED_EFFECTS["cart_abandonment_rate"] < change["relative_lift_ci_high"]
    assert change["real"]


def test_when_gb_is_read_out_then_the_split_shows_no_sample_ratio_mismatch(readout):
    assert readout.has_experiment and not readout.srm.flagged
    assert readout.start.isoformat() == "2025-11-01" and (readout.target_low, readout.target_high) == (0.15, 0.20)


def test_when_a_market_has_no_arms_then_the_analysis_says_there_is_no_experiment(tables):
    analysis = analyse_experiment(tables, Scope.parse("FR", "2025-01-01", "2026-06-30"))
    assert not analysis.has_experiment and analysis.readout.empty and analysis.srm is None
