"""Cost of the gap, computed by hand on the tiny data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.tiny_data import tiny_tables, write_tables

from analysis.errors import ParameterError
from analysis.metrics.benchmark.client_kpis import client_kpis
from analysis.metrics.benchmark.gap_value import cost_of_gap
from analysis.scope import Scope
from analysis.sources import load_tables

Q1_DE = Scope.parse("DE", "2025-01-01", "2025-03-31")
AMOUNTS = np.array([10.0, 20.5, 30.0])  # the DE orders of Q1: u1 twice, u3 once


def _scorecard(gaps: dict[str, float]) -> pd.DataFrame:
    directions = {"conversion_rate": "higher", "cart_abandonment_rate": "lower", "repeat_customer_rate": "higher"}
    rows = [("Craftly", kpi, 0.1, "fraction", directions[kpi], gap) for kpi, gap in gaps.items()]
    rows.append(("Rival", "conversion_rate", 0.3, "fraction", "higher", 0.1))
    return pd.DataFrame(rows, columns=["company", "kpi", "value", "unit", "direction", "gap_to_median"])


@pytest.fixture
def tables(tiny_data_dir: Path):
    return load_tables(tiny_data_dir)


def test_when_the_client_trails_then_half_the_gap_is_volume_times_gap_times_order_value(tables):
    gaps = {"conversion_rate": -0.1, "cart_abandonment_rate": -0.2, "repeat_customer_rate": -0.1}
    value = cost_of_gap(tables, Q1_DE, _scorecard(gaps), client="Craftly").set_index("kpi")
    aov = AMOUNTS.mean()
    assert aov == pytest.approx(20.1666666667)
    # 5 sessions, 2 sessions with a cart, 2 buyers in the one quarter; u1's 2 orders: 1 order beyond the first
    assert value["value_per_quarter"].to_dict() == pytest.approx(
        {
            "conversion_rate": 0.5 * 5 * 0.1 * aov,
            "cart_abandonment_rate": 0.5 * 2 * 0.2 * aov,
            "repeat_customer_rate": 0.5 * 2 * 0.1 * (2 - 1) * aov,
        }
    )
    assert value["gap_to_median"].to_dict() == gaps
    assert set(value["currency"]) == {"EUR"}


def test_when_inputs_are_uncertain_then_the_range_takes_both_intervals_at_their_ends(tables):
    value = cost_of_gap(tables, Q1_DE, _scorecard({"conversion_rate": -0.1}), client="Craftly").iloc[0]
    half = 1.959963984540054 * AMOUNTS.std(ddof=1) / np.sqrt(3)
    own = client_kpis(tables, Q1_DE).set_index("kpi").loc["conversion_rate"]
    above, below = own["value_ci_high"] - 0.6, 0.6 - own["value_ci_low"]  # higher is better: a higher own rate
    assert value["value_per_quarter_low"] == pytest.approx(0.5 * 5 * max(0.1 - above, 0) * (AMOUNTS.mean() - half))
    assert value["value_per_quarter_high"] == pytest.approx(0.5 * 5 * (0.1 + below) * (AMOUNTS.mean() + half))
    assert value["value_per_quarter_low"] <= value["value_per_quarter"] <= value["value_per_quarter_high"]


def test_when_the_client_leads_or_lacks_a_gap_then_it_is_worth_nothing_or_unknown(tables):
    scorecard = _scorecard({"conversion_rate": 0.05, "repeat_customer_rate": np.nan})
    value = cost_of_gap(tables, Q1_DE, scorecard, client="Craftly", share_closed=1.0).set_index("kpi")
    assert value.loc["conversion_rate", ["value_per_quarter", "value_per_quarter_high"]].tolist() == [0.0, 0.0]
    assert value.loc["repeat_customer_rate", ["value_per_quarter", "value_per_quarter_low"]].isna().all()
    assert list(value.index) == ["conversion_rate", "repeat_customer_rate"]


def test_when_orders_mix_currencies_then_the_scope_is_refused(tmp_path: Path):
    raw = tiny_tables()
    extra = raw["orders"].iloc[[0]].assign(order_id="o4", market="FR", currency="GBP")
    tables = load_tables(write_tables(tmp_path / "d", {**raw, "orders": pd.concat([raw["orders"], extra])}))
    scope = Scope.parse("ALL", "2025-01-01", "2025-03-31")
    with pytest.raises(ParameterError, match=r"several currencies \['EUR', 'GBP'\]: value the gap per market"):
        cost_of_gap(tables, scope, _scorecard({"conversion_rate": -0.1}), client="Craftly")


def test_when_share_closed_or_client_is_wrong_then_a_parameter_error_names_it(tables):
    scorecard = _scorecard({"conversion_rate": -0.1})
    with pytest.raises(ParameterError, match=r"share_closed 0 must be in \(0, 1\]"):
        cost_of_gap(tables, Q1_DE, scorecard, client="Craftly", share_closed=0)
    with pytest.raises(ParameterError, match="no rows of client 'Nobody'") as error:
        cost_of_gap(tables, Q1_DE, scorecard, client="Nobody")
    assert error.value.valid == ["Craftly", "Rival"]
