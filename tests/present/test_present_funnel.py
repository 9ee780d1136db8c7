"""Findings sentences, tables and charts of the funnel notebook say what the analysis holds, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from helpers.funnel_reference import JOURNEYS, STEPS
from helpers.oracles import wilson

from analysis.metrics.funnel import analyse_funnel
from analysis.metrics.funnel.timing import OVERALL
from analysis.present import formatting as fmt
from analysis.present import funnel as show
from analysis.present.funnel import timing_sentences
from analysis.scope import Scope


def group_tests(**columns) -> pd.DataFrame:
    """A group_vs_rest-shaped frame with only the columns the sentence reads."""
    frame = pd.DataFrame(columns)
    frame["rate_ci_low"], frame["rate_ci_high"] = frame.rate - 0.02, frame.rate + 0.02
    return frame


@pytest.fixture(scope="module")
def analysis():
    scope = Scope.parse("DE", "2025-03-01", "2025-03-31")
    return analyse_funnel(JOURNEYS.assign(market="DE"), scope, STEPS, "60min", breakdowns=["device"], min_group_size=1)


def test_when_timing_is_summarised_then_the_overall_median_and_slowest_step_are_named():
    summary = pd.DataFrame(
        {
            "from_step": ["session_start", "view_item", "session_start"],
            "to_step": ["view_item", "purchase", "overall"],
            "units": [900, 100, 900],
            "q1_seconds": [10.0, 120.0, 43.0],
            "median_seconds": [30.0, 5400.0, 96.0],
            "q3_seconds": [60.0, 7200.0, 186.0],
        }
    )
    assert timing_sentences(summary, "session") == [
        "Half of the sessions that went past Visit reached their deepest step within 1.6 min "
        "(middle half between 43 s and 3.1 min; 900 sessions).",
        "The slowest step is Product view → Purchase: median 1.5 h.",
    ]


def test_when_groups_survive_holm_then_the_sentence_names_exactly_those_groups():
    tests = group_tests(
        device=["desktop", "mobile", "tablet", "watch"],
        trials=[1000, 1200, 300, 10],
        rate=[0.62, 0.71, 0.66, 0.9],
        difference=[-0.06, 0.07, 0.01, 0.2],
        p_value_holm=[0.003, 0.0004, 0.6, float("nan")],
        significant=[True, True, False, False],
        too_small=[False, False, False, True],
    )
    assert show.group_differences_sentence(tests, "device", "cart abandonment") == (
        "By device: cart abandonment really differs from the rest for Mobile at 71.0% (95% CI 69.0–73.0%), "
        "+7.0 pts vs the rest (Holm p < 0.001); Desktop at 62.0% (95% CI 60.0–64.0%), -6.0 pts vs the rest "
        "(Holm p = 0.003); the other 1 group(s) are within the noise."
    )
    shown = show.tests_table(tests, "device")
    named_real = {"Desktop", "Mobile"}
    assert set(shown.index[shown["real difference?"] == "yes"]) == named_real


def test_when_no_group_survives_holm_then_the_sentence_claims_no_difference_even_if_an_uncorrected_p_is_small():
    # 0.02 uncorrected would have been "a real difference" before; Holm's 0.06 is what the table shows
    tests = group_tests(
        channel=["email", "social", "search"],
        rate=[0.40, 0.30, 0.35],
        difference=[0.05, -0.05, 0.0],
        p_value_holm=[0.06, 0.06, 0.9],
        significant=[False, False, False],
        too_small=[False, False, False],
    )
    assert show.group_differences_sentence(tests, "channel", "conversion") == (
        "By channel: no group's conversion differs from the rest beyond the noise "
        "(3 groups, each tested against the rest, Holm-corrected)."
    )


def test_when_findings_are_written_then_they_state_the_analysis_numbers(analysis):
    # JOURNEYS within 60 min: u1, u2 (second attempt) and u3 reach the cart, only u1 buys in time: 1 of 3 users
    # (Wilson 6.1–79.2%); carts: u1 bought, u2 and u4 abandoned, u3 bought 59 min after the cart: 2 of 4
    low, high = wilson(1, 3)
    ci = f"95% CI {low * 100:.1f}–{high * 100:.1f}%"
    sentences = show.findings(analysis)
    assert sentences[:2] == [
        f"Scope: DE, 01 Mar 2025 to 31 Mar 2025. Of 3 users that reached Visit, 33.3% reached Purchase within "
        f"1 hours ({ci}).",
        f"The steepest drop is Cart → Purchase: only 33.3% continue ({ci}), 2 users are lost there.",
    ]
    low, high = wilson(2, 4)
    carts = (
        f"50.0% of users with a cart did not buy within the window (95% CI {low * 100:.1f}–{high * 100:.1f}%; 4 carts)."
    )
    assert carts in sentences
    assert sentences[-2:] == [
        show.group_differences_sentence(analysis.abandonment["device"], "device", "cart abandonment"),
        show.group_differences_sentence(analysis.conversion_tests["device"], "device", "conversion"),
    ]


def test_when_steps_have_no_order_then_the_timing_presenters_say_so():
    unordered = analyse_funnel(JOURNEYS, None, STEPS, "60min", mode="any_order")
    assert show.timing_table(unordered) == "No order between steps in any_order mode."
    assert show.plot_time_to_convert(unordered) is None
    assert show.findings(unordered)[0].startswith("Scope: the events given. Of ")


def test_when_the_timing_table_is_shown_then_durations_are_read_and_the_last_row_is_the_deepest_step(analysis):
    table = show.timing_table(analysis)
    summary = analysis.timing.summary
    assert table.index[-1] == ("Visit", "deepest step")
    assert table["median"].iloc[-1] == f"{summary.median_seconds.iloc[-1] / 60:.1f} min"


def test_when_tables_are_listed_then_there_is_one_per_breakdown_without_suppressed_groups():
    frame = pd.DataFrame(
        {
            "device": ["desktop", "mobile", "watch"],
            "trials": [400, 600, 5],
            "successes": [40, 90, 1],
            "rate": [0.1, 0.15, 0.2],
            "rate_ci_low": [0.07, 0.12, 0.01],
            "rate_ci_high": [0.13, 0.18, 0.6],
            "difference": [-0.04, 0.04, 0.07],
            "p_value_holm": [0.03, 0.03, float("nan")],
            "significant": [True, True, False],
            "too_small": [False, False, True],
        }
    )
    table = show.tests_table(frame, "device")
    assert table.index.name == "Device"  # the reader's labels, not the codes
    assert table.index.tolist() == ["Desktop", "Mobile"]
    assert table.loc["Mobile"].tolist() == ["600", "15.0%", "12.0–18.0%", "+4.0 pts", "0.03", "yes"]


def test_when_charts_are_drawn_then_each_presenter_returns_a_figure(analysis):
    import matplotlib.pyplot as plt

    for presenter in (
        show.plot_funnel,
        show.plot_conversion_by_group,
        show.plot_abandonment_by_group,
        show.plot_time_to_convert,
        show.plot_weekly,
    ):
        figure = presenter(analysis)
        assert figure.axes, presenter.__name__
        plt.close(figure)
    figure = show.plot_time_to_convert(analysis)
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert labels[0] == "0s–1min" and heights[-1] > 0  # from zero up to the last bin that holds units
    histogram = analysis.timing.histogram
    used = histogram[(histogram.to_step == OVERALL) & (histogram.units > 0)].iloc[-1]
    assert labels[-1] == fmt.duration_range(used.bin_start_seconds, used.bin_end_seconds)
    plt.close(figure)
    assert analysis.window == timedelta(minutes=60)


def test_when_the_scope_has_no_events_then_the_report_says_so_instead_of_crashing():
    empty = analyse_funnel(
        JOURNEYS, Scope.parse("DE", "2020-01-01", "2020-01-31"), STEPS, "60min", breakdowns=["device"]
    )
    assert empty.events_in_scope == 0 and empty.started == 0
    message = "No events for DE between 01 Jan 2020 and 31 Jan 2020: nothing to analyse."
    assert show.findings(empty) == [message]
    assert show.timing_table(empty) == message
    assert show.conversion_tables(empty) == [] and show.abandonment_tables(empty) == []
    for chart in (show.plot_funnel, show.plot_conversion_by_group, show.plot_abandonment_by_group, show.plot_weekly):
        assert message in [text.get_text() for text in chart(empty).axes[0].texts]


def test_when_events_exist_but_none_starts_the_funnel_then_the_finding_says_no_unit_started():
    no_start = JOURNEYS[JOURNEYS.event_name != STEPS[0]]
    analysis = analyse_funnel(no_start, Scope.parse("DE", "2025-03-01", "2025-03-31"), STEPS, "60min")
    assert analysis.events_in_scope == len(no_start)
    assert show.findings(analysis) == [
        "Scope: DE, 01 Mar 2025 to 31 Mar 2025. No user started the funnel, so there is nothing to analyse."
    ]


def test_when_groups_are_compared_across_breakdowns_then_the_panels_share_one_scale_and_read_as_labels():
    import matplotlib.pyplot as plt

    common = {"too_small": [False, False], "trials": [500, 500]}
    tests = {
        "device": group_tests(device=["desktop", "mobile"], rate=[0.30, 0.33], **common),  # a 3-point gap
        "channel": group_tests(channel=["paid_search", "email"], rate=[0.10, 0.33], **common),  # a 23-point gap
    }
    figure = show.plot_rates_by_group(tests, "Conversion", everyone=0.3)
    axes = figure.axes
    assert len({axis.get_xlim() for axis in axes}) == 1  # the 3-point gap looks 3 points wide in every panel
    assert [axis.get_title() for axis in axes] == ["Device", "Channel"]
    assert [tick.get_text() for tick in axes[1].get_yticklabels()] == ["Paid search", "E-mail"]
    plt.close(figure)


def test_when_the_funnel_is_drawn_then_the_share_continuing_sits_under_each_step_name_not_over_the_bars(analysis):
    import matplotlib.pyplot as plt

    figure = show.plot_funnel(analysis)
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    second = analysis.overall.iloc[1]
    assert labels[0] == "Visit"
    assert labels[1] == f"{show.step_label(second.step)}\n{fmt.percent(second.conversion_from_previous, 0)} continue"
    assert not [text for text in figure.axes[0].texts if "continue" in text.get_text()]
    plt.close(figure)


def test_when_codes_are_shown_to_a_reader_then_they_are_spelled_out_and_written_names_are_kept():
    assert show.value_label("paid_search") == "Paid search"
    assert show.value_label("mobile") == "Mobile"
    assert show.value_label("Bargain hunter") == "Bargain hunter"
    assert show.value_label("GB") == "GB"
    assert show.value_label(None) == "None"  # the caller's missing marker stays as it is
    assert show.column_label("segment") == "Personality segment"
    assert show.column_label("age_band") == "Age band"


def test_when_an_initiative_launched_during_the_weeks_shown_then_the_weekly_trend_marks_only_the_scopes_launch(
    analysis,
):
    from datetime import date

    import matplotlib.pyplot as plt

    launches = [("DE", date(2025, 3, 5)), ("FR", date(2025, 3, 6)), ("DE", date(2026, 1, 1))]  # week of 3 Mar 2025
    figure = show.plot_weekly(analysis, launches)
    assert [text.get_text() for text in figure.axes[0].texts] == ["DE launch"]
    plt.close(figure)
    assert len(show.plot_weekly(analysis).axes[0].texts) == 0  # nothing to mark without launches
