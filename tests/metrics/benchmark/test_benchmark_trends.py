"""Trends: indexed series, QoQ / YoY change and CAGR by hand; gap slopes against statsmodels; verdicts via is_real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from analysis.metrics.benchmark import benchmark_trends

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def panel(values: dict[tuple[str, str], list[float]], units: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """``{(company, kpi): value per quarter}`` as benchmarks rows in DE (NaN: no row)."""
    return pd.DataFrame(
        [
            {
                "company": company,
                "market": "DE",
                "period": quarter,
                "kpi": kpi,
                "value": value,
                "unit": units[kpi][0],
                "direction": units[kpi][1],
            }  # fmt: skip
            for (company, kpi), series in values.items()
            for quarter, value in zip(QUARTERS, series, strict=False)
            if not np.isnan(value)
        ]
    )


def test_when_a_series_grows_then_its_index_changes_and_cagr_are_computed_from_the_base_quarter():
    frame = panel(
        {("A", "conversion_rate"): [0.10, 0.11, 0.12, 0.12, 0.15], ("A", "nps"): [-20.0, -10.0, np.nan, 0.0, 20.0]},
        {"conversion_rate": ("fraction", "higher"), "nps": ("score -100..100", "higher")},
    )

    trends = benchmark_trends(frame, client="A")
    conversion = trends.series[trends.series["kpi"] == "conversion_rate"].set_index("period")
    nps = trends.series[trends.series["kpi"] == "nps"].set_index("period")

    assert conversion["indexed"].tolist() == pytest.approx([100, 110, 120, 120, 150])
    assert conversion.loc["2025Q2", "qoq_change"] == pytest.approx(0.01)
    assert conversion.loc["2026Q1", "yoy_change"] == pytest.approx(0.05)
    assert conversion.loc["2026Q1", "yoy_change_pct"] == pytest.approx(0.5)
    assert np.isnan(conversion.loc["2025Q4", "yoy_change"])  # no quarter four before
    # NPS from its floor of -100: 120 / 80 = 150; 2025Q3 is missing, so 2025Q4 has no quarter before it
    assert nps.loc["2026Q1", "indexed"] == pytest.approx(150.0)
    assert np.isnan(nps.loc["2025Q4", "qoq_change"])
    growth = trends.growth.set_index("kpi")
    assert growth.loc["conversion_rate", "cagr"] == pytest.approx(0.5)  # 0.10 -> 0.15 in exactly a year
    assert growth.loc["nps", "cagr"] == pytest.approx(1.5 - 1)
    assert growth.loc["nps", "change"] == pytest.approx(40.0)


def test_when_the_client_gap_moves_then_its_slope_and_interval_equal_statsmodels_ols():
    gap = np.array([-0.020, -0.024, -0.027, -0.033, -0.035, -0.041])
    leader = np.array([0.15, 0.151, 0.149, 0.152, 0.150, 0.151])
    frame = panel(
        {("Client", "conversion_rate"): list(leader + gap), ("Leader", "conversion_rate"): list(leader)},
        {"conversion_rate": ("fraction", "higher")},
    )

    trends = benchmark_trends(frame, client="Client")

    row = trends.gap_trends.set_index("reference").loc["leader"]
    fit = sm.OLS(leader + gap - leader, sm.add_constant(np.arange(6.0))).fit()
    assert row["slope"] == pytest.approx(fit.params[1])
    assert (row["slope_ci_low"], row["slope_ci_high"]) == pytest.approx(tuple(fit.conf_int(0.05)[1]))
    assert row["p_value"] == pytest.approx(fit.pvalues[1])
    assert row["trend"] == "widening" and not row["client_ahead"]
    gaps = trends.gaps.set_index("period")
    assert gaps["gap_to_best"].tolist() == pytest.approx(list(gap))
    assert (gaps["leader"] == "Leader").all()


def test_when_several_slopes_are_tested_then_each_verdict_uses_its_holm_corrected_p_value():
    closing = [-0.040, -0.031, -0.024, -0.016, -0.009, -0.001]
    noisy = [-0.020, -0.010, -0.025, -0.012, -0.022, -0.015]
    frame = panel(
        {
            ("Client", "conversion_rate"): [0.15 + g for g in closing],
            ("Leader", "conversion_rate"): [0.15] * 6,
            ("Client", "repeat_customer_rate"): [0.30 + g for g in noisy],
            ("Leader", "repeat_customer_rate"): [0.30] * 6,
        },
        {"conversion_rate": ("fraction", "higher"), "repeat_customer_rate": ("fraction", "higher")},
    )

    table = benchmark_trends(frame, client="Client").gap_trends.set_index(["kpi", "reference"])

    # with two companies the median is their mean, so the gap to it is half the gap to the leader
    assert table["p_value_holm"].tolist() == pytest.approx(list(multipletests(table["p_value"], method="holm")[1]))
    assert table.loc[("conversion_rate", "leader"), "trend"] == "closing"
    assert table.loc[("repeat_customer_rate", "leader"), "trend"] == "no clear trend"
    assert table.loc[("repeat_customer_rate", "leader"), "p_value"] > 0.05


def test_when_a_start_quarter_is_given_then_the_window_begins_there():
    frame = panel({("A", "csat"): [3.0, 3.2, 3.4, 3.6]}, {"csat": ("score 1-5", "higher")})

    trends = benchmark_trends(frame, client="A", start="2025Q2", end="2025Q3")

    assert trends.quarters == ("2025Q2", "2025Q3")
    assert trends.series["indexed"].tolist() == pytest.approx([100.0, 2.4 / 2.2 * 100])
    assert np.isnan(trends.gap_trends["slope"]).all()  # two quarters: no slope to test
    assert (trends.gap_trends["trend"] == "no clear trend").all()
