"""The post-initiative presenters on hand-built analyses: each verdict's sentence, the real column deciding the
wording, design words, caveats, escaping, tables and the charts' panels."""

from __future__ import annotations

import dataclasses
import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis.metrics.impact.analysis import ImpactAnalysis
from analysis.present import impact as show
from analysis.present import impact_charts as charts
from analysis.present.findings import findings_markdown
from analysis.present.theme import HIGHLIGHT_COLOUR, SECOND_BAR_COLOUR
from analysis.scope import Scope

NAN = math.nan
WEBB = "wild cluster bootstrap, Webb weights"
LAUNCHES = {
    "US": "2025-10-01",
    "GB": "2025-11-01",
    "DE": "2026-01-15",
    "CA": "2026-02-01",
    "AU": "2026-03-01",
    "FR": "2026-04-01",
    "JP": None,
    "NL": None,
}
EFFECT_COLUMNS = [
    "kpi", "period", "design", "inference", "treated_markets", "comparison_markets", "baseline", "effect",
    "effect_ci_low", "effect_ci_high", "relative", "relative_ci_low", "relative_ci_high", "p_value", "real",
    "few_cluster_p_value", "few_cluster_method", "target_low", "target_high", "target_source", "verdict", "position",
    "note",
]  # fmt: skip
DID = ("staggered_did", "session-sampling bootstrap", 6, 2)
EFFECTS = [
    ("conversion_rate", "month", *DID, 0.030, 0.0051, 0.0045, 0.0066, 0.171, 0.152, 0.219, 0.0004, True, 0.031, WEBB,
     0.15, 0.20, "initiatives", "met", "within", ""),
    ("cart_abandonment_rate", "month", *DID, 0.70, -0.14, -0.168, -0.112, -0.20, -0.24, -0.16, 0.001, True, 0.06, WEBB,
     -0.25, -0.30, "case study", "missed", "below", ""),
    ("csat_top2", "month", *DID, 0.50, 0.19, 0.15, 0.23, 0.38, 0.30, 0.46, 0.0001, True, 0.02, WEBB,
     0.40, 0.40, "case study", "inconclusive", "below", "intention_to_treat"),
    ("nps", "month", *DID, 0.5, 4.2, 1.0, 7.4, NAN, NAN, NAN, 0.012, True, 0.09, WEBB,
     NAN, NAN, "", "", "", ""),
    ("repeat_customer_rate", "quarter", "interrupted_time_series", "HAC", 1, 0, 0.2, 0.024, 0.004, 0.044,
     0.12, 0.02, 0.22, 0.09, False, NAN, "", 0.10, 0.15, "case study", "inconclusive", "within", ""),
    ("seller_churn_hazard", "month", "not_estimable", "", 0, 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, False,
     NAN, "", NAN, NAN, "", "", "", ""),
]  # fmt: skip


def make_analysis(market: str = "ALL", **replaced) -> ImpactAnalysis:
    launches = pd.DataFrame(
        {
            "market": list(LAUNCHES),
            "launch_date": pd.to_datetime(list(LAUNCHES.values())),
            "randomised": [m == "GB" for m in LAUNCHES],
            "in_scope": [market in ("ALL", m) for m in LAUNCHES],
        }
    )
    market_effects = pd.DataFrame(
        [
            (kpi, m, "staggered_did", 0.01, 0.0, 0.02, rel, rel - 0.05, rel + 0.05)
            for kpi, rel in (("conversion_rate", 0.17), ("cart_abandonment_rate", -0.2))
            for m in ("US", "DE", "CA")
        ],
        columns=["kpi", "market", "design", "effect", "effect_ci_low", "effect_ci_high", "relative"]
        + ["relative_ci_low", "relative_ci_high"],
    )
    event_study = pd.DataFrame(
        [
            (kpi, t, 0.0 if t < 0 else 0.005, -0.002 if t < 0 else 0.003, 0.002 if t < 0 else 0.007, NAN, 3)
            for kpi in ("conversion_rate", "cart_abandonment_rate")
            for t in range(-3, 4)
        ],
        columns=["kpi", "event_time", "att", "att_ci_low", "att_ci_high", "relative", "cohorts"],
    )
    pre_trends = pd.DataFrame(
        {
            "kpi": ["conversion_rate", "nps"],
            "statistic": [2.1, 11.3],
            "degrees_of_freedom": [3, 3],
            "p_value": [0.55, 0.01],
            "parallel": [True, False],
        }
    )
    twfe = pd.DataFrame(
        {
            "kpi": ["conversion_rate", "cart_abandonment_rate"],
            "twfe_effect": [0.0049, -0.05],
            "twfe_ci_low": [0.004, -0.07],
            "twfe_ci_high": [0.006, -0.03],
            "twfe_p_value": [0.001, 0.002],
            "few_cluster_p_value": [0.031, 0.06],
            "did_effect": [0.0051, -0.14],
            "disagree": [False, True],
        }
    )
    months = pd.date_range("2025-07-01", periods=6, freq="MS")
    series = pd.DataFrame(
        [
            (kpi, m, month, 0.1 + i / 100, 100, m == "US" and month >= months[3], launch)
            for kpi in ("repeat_customer_rate", "seller_churn_hazard")
            for m, launch in (("US", pd.Timestamp("2025-10-01")), ("JP", pd.NaT))
            for i, month in enumerate(months)
        ],
        columns=["kpi", "market", "period_start", "value", "denominator", "treated", "launch_date"],
    )
    interrupted = pd.DataFrame(
        [
            ("repeat_customer_rate", method, month, 0.2 + i / 100, 0.2, 0.18, 0.22)
            for method in ("segmented", "structural")
            for i, month in enumerate(months)
        ],
        columns=["kpi", "method", "period_start", "actual", "counterfactual"]
        + ["counterfactual_ci_low", "counterfactual_ci_high"],
    )
    fields = {
        "scope": Scope.parse(market, "2025-01-01", "2026-06-30"),
        "initiative_id": "INI-001",
        "initiative_name": "Personalised journeys",
        "alpha": 0.05,
        "launches": launches,
        "effects": pd.DataFrame(EFFECTS, columns=EFFECT_COLUMNS),
        "market_effects": market_effects,
        "event_study": event_study,
        "pre_trends": pre_trends,
        "twfe": twfe,
        "series": series,
        "interrupted": interrupted,
        "unestimable": pd.DataFrame(
            {
                "kpi": ["seller_churn_hazard", "seller_churn_hazard"],
                "market": ["NL", "JP"],
                "reason": ["too few sellers at risk", "too few sellers at risk"],
            }
        ),
    }
    return ImpactAnalysis(**(fields | replaced))


def kpi_sentence(analysis: ImpactAnalysis, label: str) -> str:
    return next(s for s in show.findings(analysis) if s.startswith(label + " ") or s.startswith(label + ":"))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_when_the_whole_interval_clears_the_target_then_the_sentence_says_met():
    assert kpi_sentence(make_analysis(), "Conversion rate") == (
        "Conversion rate +17.1% (95% CI +15.2% to +21.9%), a real change (p < 0.001), staggered "
        "difference-in-differences over 6 launches against 2 comparison markets, met the +15–20% target range "
        "(point estimate within it)."
    )


def test_when_the_whole_interval_falls_short_of_a_reduction_then_the_sentence_says_missed():
    assert kpi_sentence(make_analysis(), "Cart abandonment") == (
        "Cart abandonment -20.0% (95% CI -24.0% to -16.0%), a real change (p = 0.001), staggered "
        "difference-in-differences over 6 launches against 2 comparison markets, missed the -25–30% target range "
        "(point estimate below it)."
    )


def test_when_the_interval_straddles_a_single_valued_target_then_inconclusive_and_the_itt_note_in_words():
    assert kpi_sentence(make_analysis(), "CSAT (share rating 4–5)") == (
        "CSAT (share rating 4–5) +38.0% (95% CI +30.0% to +46.0%), a real change (p < 0.001), staggered "
        "difference-in-differences over 6 launches against 2 comparison markets, inconclusive against the +40% "
        "target (point estimate below it); read as intention-to-treat: in GB only the treatment arm's users were "
        "treated (the A/B test), so the market-level effect is diluted."
    )


def test_when_there_is_no_relative_effect_and_no_target_then_the_absolute_effect_is_shown_in_score_points():
    assert kpi_sentence(make_analysis(), "NPS") == (
        "NPS +4.2 points (95% CI +1.0 points to +7.4 points), a real change (p = 0.012), staggered "
        "difference-in-differences over 6 launches against 2 comparison markets, no target set."
    )


def test_when_a_market_has_no_comparison_then_the_design_is_said_to_be_weaker_and_the_real_column_decides():
    # the interval excludes zero but the analysis' test does not call it real: the sentence follows the column
    assert kpi_sentence(make_analysis(), "Repeat-customer rate") == (
        "Repeat-customer rate +12.0% (95% CI +2.0% to +22.0%), within the noise (p = 0.09), single-market "
        "interrupted time series (weaker evidence: no comparison market), inconclusive against the +10–15% target "
        "range (point estimate within it)."
    )


def test_when_flipping_the_real_column_then_the_sentence_follows_it():
    analysis = make_analysis()
    effects = analysis.effects.copy()
    effects["real"] = ~effects["real"].astype(bool)
    flipped = dataclasses.replace(analysis, effects=effects)
    assert "within the noise (p < 0.001)" in kpi_sentence(flipped, "Conversion rate")
    assert "a real change (p = 0.09)" in kpi_sentence(flipped, "Repeat-customer rate")


def test_when_a_kpi_cannot_be_estimated_then_the_sentence_gives_the_reason():
    assert kpi_sentence(make_analysis(), "Seller churn hazard") == (
        "Seller churn hazard: could not be estimated in any market (too few sellers at risk)."
    )


def test_when_the_market_is_randomised_then_the_design_is_the_ab_test_in_that_market():
    analysis = make_analysis("GB")
    effects = analysis.effects.copy()
    effects.loc[0, ["design", "treated_markets", "comparison_markets"]] = ["randomised", 1, 0]
    sentence = kpi_sentence(dataclasses.replace(analysis, effects=effects), "Conversion rate")
    assert ", A/B test in GB, met the +15–20% target range" in sentence


def test_when_the_initiative_never_launched_then_each_kpi_says_there_is_no_effect_to_estimate():
    analysis = make_analysis("JP")
    effects = analysis.effects.copy()
    effects["design"] = "not_launched"
    sentences = show.findings(dataclasses.replace(analysis, effects=effects, pre_trends=analysis.pre_trends.iloc[:0]))
    assert sentences[0] == "Conversion rate: the initiative did not launch in JP: no effect to estimate."
    assert len([s for s in sentences if "did not launch in JP" in s]) == 6


def test_when_did_was_used_then_the_few_cluster_pre_trend_and_twfe_sentences_follow_the_kpis():
    sentences = show.findings(make_analysis())
    assert sentences[6:] == [
        "With only 8 markets as clusters, cluster-robust standard errors run too small, so each "
        f"difference-in-differences has a few-cluster check beside it, a {WEBB}: Conversion rate p = 0.031 (DiD "
        "p < 0.001); Cart abandonment p = 0.06 (DiD p = 0.001); CSAT (share rating 4–5) p = 0.02 (DiD p < 0.001); "
        "NPS p = 0.09 (DiD p = 0.012). The verdicts use the difference-in-differences intervals: session-sampling "
        "bootstrap.",
        "Pre-trend check (joint test that every pre-launch effect is zero): no sign of diverging trends before the "
        "launches for Conversion rate (p = 0.55); trends already diverged before the launches for NPS (p = 0.01), "
        "so their difference-in-differences estimates rest on an assumption the data do not support.",
        "For Cart abandonment a two-way fixed-effects regression gives -5.0 pts, outside the interval of "
        "Callaway–Sant'Anna's -14.0 pts: with staggered launches it makes forbidden comparisons of already-treated "
        "markets, used as controls for later launches, so the Callaway–Sant'Anna estimate is the one read here.",
    ]


def test_when_twfe_agrees_everywhere_then_one_sentence_says_so():
    analysis = make_analysis()
    twfe = analysis.twfe.assign(disagree=False)
    assert show.findings(dataclasses.replace(analysis, twfe=twfe))[-1].startswith(
        "A two-way fixed-effects regression agrees with Callaway–Sant'Anna for every KPI"
    )


def test_when_a_market_name_holds_markup_then_findings_tables_and_limitations_escape_it():
    analysis = make_analysis()
    launches = analysis.launches.copy()
    launches.loc[launches["market"] == "GB", "market"] = "<script>alert(1)</script>"
    hostile = dataclasses.replace(analysis, launches=launches)
    for shown in (
        findings_markdown(show.findings(hostile)).data,
        findings_markdown(show.limitations(hostile)).data,
        show.effects_table(hostile).to_html(),
    ):
        assert "<script>" not in shown and "&lt;script&gt;" in shown


def test_when_the_effects_table_is_drawn_then_rates_are_percentages_and_verdicts_coloured():
    styler = show.effects_table(make_analysis())
    table = styler.data
    assert list(table.index) == [show.kpi_label(k) for k in show.KPIS]
    row = table.loc["Conversion rate"]
    assert (row["effect"], row["95% CI"], row["absolute effect"]) == ("+17.1%", "+15.2% to +21.9%", "+0.5 pts")
    assert (row["target"], row["verdict"], row["few-cluster p"], row["real"]) == ("+15–20%", "met", "0.031", "yes")
    assert table.loc["NPS", "effect"] == "–" and table.loc["NPS", "absolute effect"] == "+4.2 points"
    html = styler.to_html()
    assert f"color: {SECOND_BAR_COLOUR}" in html and f"color: {HIGHLIGHT_COLOUR}" in html


def test_when_the_check_tables_are_drawn_then_they_show_the_tests_and_both_estimates():
    trends = show.pre_trends_table(make_analysis()).data
    assert trends.loc["NPS"].tolist() == ["11.30", "3", "0.01", "no"]
    twfe = show.twfe_table(make_analysis()).data
    assert twfe.loc["Cart abandonment"].tolist() == [
        "-5.0 pts",
        "-7.0 pts to -3.0 pts",
        "0.002",
        "0.06",
        "-14.0 pts",
    ] + ["yes"]


def test_when_limitations_are_listed_then_they_count_the_markets_and_name_the_randomised_one():
    sentences = show.limitations(make_analysis())
    assert sentences[0].startswith(
        "The initiative launched in 6 of 8 markets (AU, CA, DE, FR, GB and US); 2 never launched (JP and NL)."
    )
    assert "(spill-overs)" in sentences[1] and "changed in a market at its launch" in sentences[2]
    assert any(s.startswith("In GB the initiative ran as an A/B test") for s in sentences)
    assert any(s.startswith("Single-market interrupted time series") for s in sentences)
    assert sentences[-1] == "Not estimated: Seller churn hazard in JP and NL (too few sellers at risk)."


def test_when_the_event_study_is_drawn_then_one_panel_per_kpi_with_band_zero_and_launch_lines():
    figure = charts.plot_event_study(make_analysis())
    assert [a.get_title() for a in figure.axes] == ["Conversion rate", "Cart abandonment"]
    axis = figure.axes[0]
    assert len(axis.collections) == 1  # the interval band
    x, y = axis.lines[0].get_data()
    assert list(x) == list(range(-3, 4)) and y[-1] == pytest.approx(0.5)  # a rate's effect in points
    assert [line.get_xdata()[0] for line in axis.lines[1:]] == [0, 0]  # zero line (y) and launch (x = 0)
    assert len(charts.plot_event_study(make_analysis(), kpi="conversion_rate").axes) == 1


def test_when_event_time_0_is_partly_treated_then_it_is_drawn_hollow_with_a_legend_note():
    base = make_analysis()
    study = base.event_study.assign(partly_treated=lambda f: (f["event_time"] == 0) & (f["kpi"] == "conversion_rate"))
    figure = charts.plot_event_study(dataclasses.replace(base, event_study=study))
    conversion, abandonment = figure.axes
    line = conversion.lines[0]
    assert list(line.get_markevery()) == [0, 1, 2, 4, 5, 6]  # filled markers skip event time 0
    hollow = conversion.lines[-1]
    assert list(hollow.get_xdata()) == [0] and hollow.get_ydata()[0] == pytest.approx(0.5)
    assert hollow.get_markerfacecolor() == "white"
    assert [t.get_text() for t in conversion.get_legend().get_texts()] == [charts.PARTLY_LABEL]
    assert abandonment.get_legend() is None and len(abandonment.lines) == 3
    plt.close("all")


def test_when_market_effects_are_drawn_then_each_kpi_has_its_markets_and_target_band():
    figure = charts.plot_market_effects(make_analysis())
    assert len(figure.axes) == 2
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["US", "DE", "CA"]
    band = figure.axes[0].patches[0].get_extents().transformed(figure.axes[0].transData.inverted())
    assert (band.x0, band.x1) == (pytest.approx(15.0), pytest.approx(20.0))


def test_when_no_single_market_design_was_used_then_the_interrupted_chart_says_why():
    analysis = make_analysis()
    figure = charts.plot_interrupted(analysis)
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 2  # counterfactual, actual (+ band)
    assert figure.axes[0].get_title() == "Repeat-customer rate: segmented counterfactual"
    market_effects = analysis.market_effects.copy()
    market_effects.loc[len(market_effects)] = ["repeat_customer_rate", "AU", "interrupted_time_series"] + [0.1] * 6
    named = charts.plot_interrupted(dataclasses.replace(analysis, market_effects=market_effects))
    assert named.axes[1].get_title() == "Repeat-customer rate in AU: structural counterfactual"
    launch = named.axes[1].lines[-1]  # AU's launch marked on its single-market chart
    assert launch.get_label() == "launch" and launch.get_xdata()[0] == pd.Timestamp(LAUNCHES["AU"])
    empty = charts.plot_interrupted(dataclasses.replace(analysis, interrupted=analysis.interrupted.iloc[:0]))
    assert "No single-market design was used" in empty.axes[0].texts[0].get_text()


def test_when_kpi_series_are_drawn_then_one_line_per_market_and_a_launch_marker_where_launched():
    figure = charts.plot_kpi_series(make_analysis())
    assert [a.get_title() for a in figure.axes] == [
        "Repeat-customer rate by market (dotted: launch)",
        "Seller churn hazard by market (dotted: launch)",
    ]
    lines = figure.axes[0].lines
    assert [line.get_label() for line in lines if not line.get_label().startswith("_")] == ["JP", "US"]
    assert len(lines) == 3  # JP, US, and US's launch


def test_when_every_frame_is_empty_then_each_view_says_so_without_error():
    analysis = make_analysis("JP")
    empty = dataclasses.replace(
        analysis,
        **{
            name: getattr(analysis, name).iloc[:0]
            for name in ("effects", "market_effects", "event_study", "pre_trends", "twfe", "series", "interrupted")
        },
        unestimable=analysis.unestimable.iloc[:0],
    )
    assert show.findings(empty) == ["There is no initiative to read in JP, 01 Jan 2025 to 30 Jun 2026."]
    for table in (show.effects_table(empty), show.pre_trends_table(empty), show.twfe_table(empty)):
        assert list(table.columns) == [""]
    assert len(show.limitations(empty)) == 3  # markets, spill-overs, concurrent changes (GB is out of scope)
    for figure in (
        charts.plot_event_study(empty),
        charts.plot_market_effects(empty),
        charts.plot_interrupted(empty),
        charts.plot_kpi_series(empty),
    ):
        assert len(figure.axes) == 1 and figure.axes[0].texts


def test_when_the_launches_carry_market_names_then_sentences_name_the_markets_not_their_codes():
    analysis = make_analysis()
    launches = analysis.launches.assign(name=analysis.launches["market"].map({"GB": "United Kingdom"}))
    named = dataclasses.replace(analysis, launches=launches)
    limitations = " ".join(show.limitations(named))
    assert "In United Kingdom the initiative ran as an A/B test" in limitations
    assert "only the treatment arm's users were treated" in limitations and "half" not in limitations
    assert show.note_text(named, "randomised_market_left_out,partly_treated_periods") == (
        "United Kingdom left out (only its treatment arm was treated, so its market-level effect is diluted); "
        "periods in which the launch fell part-way through are left out of the effect (event time 0 of the event "
        "study shows them)"
    )
