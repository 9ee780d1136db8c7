"""The client's own KPIs: hand counts on a tiny data set, and agreement with the demo's benchmark rows."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.tiny_data import tiny_tables, write_tables
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import ParameterError
from analysis.metrics.benchmark.client_kpis import client_kpis, consistency_check
from analysis.scope import Scope
from analysis.sources import load_tables

Q1_DE = Scope.parse("DE", "2025-01-01", "2025-03-31")


def _surveys() -> pd.DataFrame:
    """DE: CSAT 5, 4, 2 and one blank; NPS 10, 9 (promoters), 3 (detractor), 7 (passive). FR: one answer."""
    return pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4", "u9"],
            "survey_date": pd.to_datetime(["2025-01-10", "2025-02-10", "2025-03-10", "2025-03-31", "2025-01-10"]),
            "market": ["DE", "DE", "DE", "DE", "FR"],
            "csat": pd.array([5, 4, 2, None, 1], dtype="Int64"),
            "nps": pd.array([10, 9, 3, 7, 0], dtype="Int64"),
        }
    )


@pytest.fixture
def tables(tmp_path: Path):
    return load_tables(write_tables(tmp_path / "data", {**tiny_tables(), "surveys": _surveys()}))


@pytest.fixture
def kpis(tables) -> pd.DataFrame:
    return client_kpis(tables, Q1_DE).set_index("kpi")


def test_when_tiny_tables_then_each_kpi_is_its_hand_count(kpis):
    # sessions u1-1 (cart, purchase), u2-1, u2-2 (cart), u1-2 (purchase), u3-1 (purchase); u1 orders twice in Q1;
    # S1 and S2 sell on 1 Jan, only S1 still sells after 31 Mar
    expected = {
        "conversion_rate": (3, 5),
        "cart_abandonment_rate": (1, 2),
        "repeat_customer_rate": (1, 2),
        "csat": (11, 3),
        "csat_top_two_box": (2, 3),
        "nps": (1, 4),
        "seller_retention_rate": (1, 2),
    }
    assert list(kpis.index) == list(expected)
    assert {kpi: (kpis.loc[kpi, "numerator"], kpis.loc[kpi, "denominator"]) for kpi in expected} == expected
    assert kpis.loc["conversion_rate", "value"] == 0.6
    assert kpis.loc["csat", "value"] == pytest.approx(11 / 3)
    assert kpis.loc["nps", "value"] == 25.0
    assert kpis.loc["csat", "unit"] == "score 1-5" and kpis.loc["nps", "unit"] == "score -100..100"
    assert kpis.loc["cart_abandonment_rate", "direction"] == "lower"


def test_when_sessions_cluster_in_users_then_wilson_runs_on_the_effective_sample(kpis):
    # per user (bought, sessions): u1 (2, 2), u2 (0, 2), u3 (1, 1); p = 0.6
    spread = (2 - 1.2) ** 2 + (0 - 1.2) ** 2 + (1 - 0.6) ** 2
    design_effect = 3 / 2 * spread / 5**2 / (0.6 * 0.4 / 5)
    assert design_effect == pytest.approx(2.8)
    low, high = proportion_confint(0.6 * 5 / design_effect, 5 / design_effect, method="wilson")
    assert kpis.loc["conversion_rate", "value_ci_low"] == pytest.approx(low, rel=1e-12)
    assert kpis.loc["conversion_rate", "value_ci_high"] == pytest.approx(high, rel=1e-12)


def test_when_answers_are_independent_then_top_two_box_is_plain_wilson_and_csat_a_t_interval(kpis):
    low, high = proportion_confint(2, 3, method="wilson")
    assert kpis.loc["csat_top_two_box", ["value_ci_low", "value_ci_high"]].tolist() == pytest.approx([low, high])
    t_low, t_high = scipy_stats.t.interval(0.95, 2, loc=11 / 3, scale=np.std([5, 4, 2], ddof=1) / np.sqrt(3))
    assert kpis.loc["csat", ["value_ci_low", "value_ci_high"]].tolist() == [max(t_low, 1.0), min(t_high, 5.0)]


def test_when_nps_then_interval_is_the_adjusted_wald_of_promoters_minus_detractors(kpis):
    p, d, n = 2.75 / 7, 1.75 / 7, 7
    half = 1.959963984540054 * np.sqrt((p + d - (p - d) ** 2) / n)
    assert kpis.loc["nps", "value_ci_low"] == pytest.approx(100 * (p - d - half))
    assert kpis.loc["nps", "value_ci_high"] == pytest.approx(100 * (p - d + half))


def test_when_scope_has_no_survey_answers_then_scores_are_missing_not_zero(tables):
    later = client_kpis(tables, Scope.parse("DE", "2025-04-01", "2025-06-30")).set_index("kpi")
    assert later.loc[["csat", "nps", "conversion_rate"], "denominator"].tolist() == [0, 0, 0]
    assert later.loc[["csat", "nps", "conversion_rate"], "value"].isna().all()


def test_when_benchmark_value_is_inside_the_interval_then_it_agrees():
    own = pd.DataFrame(
        {
            "kpi": ["conversion_rate", "nps"],
            "value": [0.12, -19.0],
            "value_ci_low": [0.10, -25.0],
            "value_ci_high": [0.14, -13.0],
            "unit": ["fraction", "score -100..100"],
        }
    )
    rows = pd.DataFrame({"kpi": ["nps", "conversion_rate", "csat"], "value": [-30.0, 0.14, 3.2]})
    check = consistency_check(own, rows)
    assert check.to_dict("list") == {
        "kpi": ["conversion_rate", "nps"],
        "own_value": [0.12, -19.0],
        "own_value_ci_low": [0.10, -25.0],
        "own_value_ci_high": [0.14, -13.0],
        "benchmark_value": [0.14, -30.0],
        "agrees": [True, False],
    }
    with pytest.raises(ParameterError, match=r"several rows for \['nps'\]"):
        consistency_check(own, pd.concat([rows, rows.iloc[:1]]))
    with pytest.raises(ParameterError, match="units differ"):
        consistency_check(own, rows.assign(unit="fraction"))


def test_when_demo_data_then_the_clients_kpis_agree_with_its_benchmark_rows_within_their_intervals():
    tables = load_tables(Path(os.environ["WORKBOOK_DATA_DIR"]))
    rows = tables["benchmarks"].filter(tables["benchmarks"].company == "Craftly").to_pandas()
    checks = []
    for market in sorted(rows["market"].unique()):
        for quarter in pd.period_range("2025Q1", "2026Q2", freq="Q"):
            scope = Scope.parse(market, str(quarter.start_time.date()), str(quarter.end_time.date()))
            own = client_kpis(tables, scope)
            panel = rows.loc[(rows["market"] == market) & (rows["period"] == str(quarter))]
            checks.append(consistency_check(own, panel))
    agreement = pd.concat(checks).groupby("kpi")["agrees"].agg(["mean", "size"])
    # 8 markets x 6 quarters x 6 KPIs, each a 95% interval: about 5% miss by chance (more where answers are few)
    assert set(agreement.index) == {
        "conversion_rate",
        "cart_abandonment_rate",
        "repeat_customer_rate",
        "csat",
        "nps",
        "seller_retention_rate",
    }
    assert (agreement["size"] == 48).all()
    assert (agreement["mean"] * agreement["size"]).sum() / agreement["size"].sum() >= 0.90
    assert (agreement["mean"] >= 0.85).all(), agreement
