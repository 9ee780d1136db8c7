"""The retention presenter on hand-built analyses: verdicts only from ``real``, markup escaped, blank cells blank."""

from __future__ import annotations

import dataclasses
from datetime import date

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.metrics.retention import RetentionAnalysis, fit_shifted_beta_geometric
from analysis.present import retention as show
from analysis.present.findings import findings_markdown
from analysis.present.labels import COHORT_LABELS, PERIOD_ADJECTIVES
from analysis.scope import Scope

HOSTILE = "<script>alert(1)</script>*Loyal*"


def change_row(real: bool, p: float) -> dict:
    return {
        "market": "DE", "quarter": "2026Q2", "earlier_quarter": "2025Q2", "retention": 0.95, "retention_ci_low": 0.93,
        "retention_ci_high": 0.96, "earlier_retention": 0.90, "earlier_retention_ci_low": 0.88,
        "earlier_retention_ci_high": 0.92, "difference": 0.05, "difference_ci_low": 0.02, "difference_ci_high": 0.08,
        "p_value": p, "p_value_adjusted": p, "real": real,
    }  # fmt: skip


def grid() -> pd.DataFrame:
    """Two cohorts: 2025Q4 observed at months 0-2; 2026Q1 at months 0-1, month 2 not yet observable."""
    return pd.DataFrame(
        {
            "market": "DE",
            "cohort": ["2025Q4"] * 3 + ["2026Q1"] * 3,
            "cohort_start": [date(2025, 10, 1)] * 3 + [date(2026, 1, 1)] * 3,
            "periods_since": [0, 1, 2] * 2,
            "cohort_size": [10] * 3 + [8] * 3,
            "active": [10.0, 9.0, 8.0, 8.0, 6.0, np.nan],
            "share": [1.0, 0.9, 0.8, 1.0, 0.75, np.nan],
            "complete": [True, True, True, True, True, False],
        }
    )


def built(
    *, real: bool = False, p: float = 0.3, segment: str = "Loyal", failure: str | None = None, fallbacks: bool = False
) -> RetentionAnalysis:
    fit = fit_shifted_beta_geometric([[1000, 631, 468, 382, 326]])  # Fader & Hardie's regular customers, 5 periods
    quarters = pd.DataFrame(
        {"market": "DE", "quarter": ["2025Q2", "2026Q2"], "quarter_start": [date(2025, 4, 1), date(2026, 4, 1)],
         "active_at_start": [100, 120], "retained": [90, 114], "retention": [0.90, 0.95],
         "retention_ci_low": [0.83, 0.90], "retention_ci_high": [0.94, 0.98], "complete": [True, True]}
    )  # fmt: skip
    repeat = pd.DataFrame(
        {"market": "DE", "period": ["2025Q1", "2026Q2"], "period_start": [date(2025, 1, 1), date(2026, 4, 1)],
         "customers": [200, 220], "repeat_customers": [40, 55], "rate": [0.20, 0.25], "rate_ci_low": [0.15, 0.20],
         "rate_ci_high": [0.26, 0.31], "complete": [True, True]}
    )  # fmt: skip
    trend = pd.DataFrame(
        [{"market": "DE", "first_period": "2025Q1", "last_period": "2026Q2", "first_rate": 0.20, "last_rate": 0.25,
          "difference": 0.05, "difference_ci_low": -0.03, "difference_ci_high": 0.13, "p_value": 0.2,
          "p_value_adjusted": 0.2, "real": False}]
    )  # fmt: skip
    clv = pd.DataFrame(
        {"currency": "EUR", "segment": [segment, "Tiny"], "customers": [120, 3], "too_small": [False, True],
         "mean_clv": [85.0, np.nan], "mean_clv_ci_low": [70.0, np.nan], "mean_clv_ci_high": [101.0, np.nan],
         "interval_stable": [True, False], "total_clv": [10200.0, np.nan]}
    )  # fmt: skip
    fits = pd.DataFrame(
        [{"currency": "EUR", "customers": 123, "repeat_buyers": 60, "purchase_model": "BG/NBD",
          "spend_model": "Gamma–Gamma", "r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.4, "p": 6.0, "q": 4.0,
          "gamma": 15.0, "mean_spend": np.nan, "mean_spend_se": np.nan, "purchase_fallback": None,
          "spend_fallback": None, "failure": failure, "interval_failure": None}]
    )  # fmt: skip
    if fallbacks:
        fits = fits.assign(purchase_model="NBD (no dropout detected)", a=np.nan, b=np.nan,
                           purchase_fallback="the BG/NBD fit runs towards no dropout at all",
                           spend_model="mean spend (no between-customer spread)", p=np.nan, q=np.nan, gamma=np.nan,
                           mean_spend=47.6, mean_spend_se=1.2,
                           spend_fallback="the Gamma–Gamma fit runs towards no spread")  # fmt: skip
    revenue = pd.DataFrame(
        [{"currency": "EUR", "customers": 123, "repeat_buyers": 60, "revenue": 9000.0, "repeat_revenue": 6300.0,
          "share": 0.70, "share_ci_low": 0.64, "share_ci_high": 0.76}]
    )  # fmt: skip
    survival = pd.DataFrame(
        {"group": "2025Q4", "months": [0, 1, 2], "at_risk": [10, 10, 9], "stopped": [0, 1, 1],
         "survival": [1.0, 0.9, 0.8], "survival_ci_low": [np.nan, 0.5, 0.4], "survival_ci_high": [np.nan, 0.98, 0.95]}
    )  # fmt: skip
    curve = pd.DataFrame({"months": [0, 1, 2], "cohort_size": [18, 18, 10], "active": [18, 15, 8]})
    curve["actual"] = curve["active"] / curve["cohort_size"]
    curve["fitted"] = fit.survival(curve["months"].to_numpy(dtype=float))
    return RetentionAnalysis(
        scope=Scope.parse("DE", "2025-01-01", "2026-06-30"), observed_until=date(2026, 6, 30), cohort_period="quarter",
        projection_months=12, clv_horizon_months=12, margin=1.0, monthly_discount_rate=0.01, min_group_size=30,
        launches=pd.DataFrame({"market": ["DE"], "launch_date": [date(2026, 1, 15)]}),
        seller_retention=quarters, retention_change=pd.DataFrame([change_row(real, p)]),
        churn_hazard=pd.DataFrame(), hazard_change=pd.DataFrame(), seller_cohorts=grid(), buyer_cohorts=grid(),
        survival=survival, sbg_cohorts=("2025Q4", "2026Q1"), sbg_fit=fit, sbg_failure=None, sbg_curve=curve,
        sbg_projection=fit.projected_survival(range(1, 13)), sbg_remaining=fit.expected_remaining_periods(
            tenure=0, horizon=12), repeat_rate=repeat, repeat_trend=trend, clv=clv, clv_fits=fits,
        repeat_revenue=revenue,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_when_the_change_is_real_then_the_retention_finding_says_a_real_rise_with_its_interval():
    first = show.findings(built(real=True, p=0.001))[0]
    assert "95.0% (95% CI 93.0–96.0%)" in first and "against 90.0% in 2025Q2" in first
    assert "+5.0 pts (95% CI +2.0 to +8.0 pts; p = 0.001), a real rise." in first


def test_when_real_is_false_then_the_same_numbers_read_within_the_noise():
    # an interval that excludes 0 with real False (e.g. after a correction) must not be called real
    first = show.findings(built(real=False, p=0.001))[0]
    assert first.endswith("within the noise.") and "real" not in first


def test_when_the_findings_are_read_then_projection_trend_clv_and_revenue_share_are_stated():
    analysis = built()
    sentences = show.findings(analysis)
    at_12 = analysis.sbg_projection.set_index("period").loc[12, "survival"]
    projection = next(s for s in sentences if "shifted-beta-geometric" in s)
    assert f"{at_12 * 100:.1f}%" in projection and "2025Q4–2026Q1" in projection
    assert any("20.0% in 2025Q1, 25.0% in 2026Q2: +5.0 pts" in s and "within the noise" in s for s in sentences)
    clv = next(s for s in sentences if "customer value" in s)
    assert "Loyal EUR 85 (95% CI 70 to 101)" in clv and "Tiny" not in clv
    assert any("60 of 123 EUR customers and bring 70.0% of their revenue (95% CI 64.0–76.0%" in s for s in sentences)
    assert "In DE the monthly seller churn" not in " ".join(sentences)  # an empty comparison is not invented


def test_when_a_fit_failed_then_its_reason_is_the_finding():
    sentences = show.findings(built(failure="no customer made a repeat purchase"))
    assert "No customer value in EUR: no customer made a repeat purchase" in sentences
    no_sbg = dataclasses.replace(built(), sbg_fit=None, sbg_failure="too few periods", sbg_projection=pd.DataFrame())
    assert "No projection of recent seller cohorts in DE: too few periods" in show.findings(no_sbg)
    assert show.plot_sbg_fit(no_sbg) is not None


def test_when_data_strings_hold_markup_then_findings_and_tables_show_them_escaped():
    analysis = built(segment=HOSTILE)
    markdown = findings_markdown(show.findings(analysis)).data
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown and r"\*Loyal\*" in markdown
    html = show.clv_table(analysis).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "suppressed" in html


def test_when_a_cohort_cell_is_not_observable_then_the_heatmap_leaves_it_blank_with_a_note():
    figure = show.plot_cohort_heatmap(built(), who="sellers")
    image = figure.axes[0].images[0].get_array()
    assert image.mask[1, 2] and not image.mask[0, 2]  # 2026Q1 at month 2 masked (blank), not drawn as 0
    assert image[1, 1] == pytest.approx(75.0)
    assert any("not yet observable" in text.get_text() for text in figure.texts)


def test_when_every_chart_is_drawn_then_each_returns_a_figure_and_tables_render():
    analysis = built()
    for chart in (show.plot_survival, show.plot_sbg_fit, show.plot_seller_retention, show.plot_repeat_rate,
                  show.plot_clv_by_segment):  # fmt: skip
        assert chart(analysis).axes
    assert show.plot_cohort_heatmap(analysis, who="buyers").axes
    for table in (show.retention_table, show.hazard_table, show.clv_table, show.revenue_table):
        rendered = table(analysis)
        assert rendered.to_html() if hasattr(rendered, "to_html") else rendered is not None


def test_when_a_cohort_period_is_labelled_then_the_reader_sees_its_adjective():
    assert PERIOD_ADJECTIVES == {"quarter": "quarterly", "month": "monthly"}
    assert COHORT_LABELS["buyers"]["since"] == "months since first purchase"


def test_when_no_fallback_was_taken_then_the_clv_sentence_names_no_model():
    clv = next(s for s in show.findings(built()) if "customer value" in s)
    assert "drops out" not in clv and "mean spend" not in clv


def test_when_nested_models_replaced_bg_nbd_and_gamma_gamma_then_the_clv_sentence_says_what_it_assumes():
    clv = next(s for s in show.findings(built(fallbacks=True)) if "customer value" in s)
    assert "Loyal EUR 85 (95% CI 70 to 101)." in clv
    assert (
        "Lifetime value assumes no customer drops out within the horizon: none did in the data (BG/NBD found no "
        "dropout, so purchases come from the NBD (no dropout detected) model)." in clv
    )
    assert "valued at the mean spend per repeat purchase, EUR 48: spend per purchase does not differ" in clv
    assert "spend model: mean spend (no between-customer spread)" in clv


def test_when_every_seller_stayed_a_quarter_then_its_interval_ending_a_hair_below_100_pct_still_draws():
    # Wilson's upper bound of 17/17 is 0.9999999999999999: a width of -1e-14 matplotlib refused (test-small GB)
    analysis = built()
    quarters = analysis.seller_retention.assign(
        retained=[100, 114], retention=[1.0, 0.95], retention_ci_high=[1.0 - 1e-16, 0.98]
    )
    figure = show.plot_seller_retention(dataclasses.replace(analysis, seller_retention=quarters))
    assert figure.axes


def test_when_error_bars_are_measured_then_widths_are_the_distances_to_each_bound_never_negative():
    from analysis.present.theme import error_widths

    low, high = error_widths([0.5, 1.0], [0.4, 0.9], [0.7, 1.0 - 1e-16])
    assert low.tolist() == pytest.approx([0.1, 0.1]) and high.tolist() == pytest.approx([0.2, 0.0])
    assert (high >= 0).all()
