"""Charts, tables and findings sentences for the funnel notebook; every number comes from a :class:`FunnelAnalysis`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from analysis.contract import ALL_MARKETS
from analysis.metrics.funnel.journey import FunnelAnalysis
from analysis.metrics.funnel.timing import OVERALL
from analysis.present import formatting as fmt
from analysis.present.labels import DEEPEST_STEP, column_label, step_label, value_label
from analysis.present.theme import (
    BAR_COLOUR,
    REFERENCE_COLOUR,
    SECOND_BAR_COLOUR,
    empty_figure,
    error_widths,
    mark_launches,
)

NO_TIMING = "No order between steps in any_order mode."


def shown_groups(tests: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Groups large enough to show, and how many were suppressed for being below the minimum size."""
    return tests[~tests["too_small"]], int(tests["too_small"].sum())


def findings(analysis: FunnelAnalysis) -> list[str]:
    """Sentences a reviewer can act on, each estimate with its 95% interval."""
    unit = analysis.unit
    scope_label = analysis.scope.label if analysis.scope is not None else "the events given"
    overall = analysis.overall
    last = overall.iloc[-1]
    started = analysis.started
    if started == 0:
        return [nothing_to_analyse(analysis)]
    overall_ci = fmt.interval(last.conversion_from_first_ci_low, last.conversion_from_first_ci_high)
    sentences = [
        f"Scope: {scope_label}. Of {fmt.count(started)} {unit}s that reached {step_label(analysis.steps[0])}, "
        f"{fmt.percent(last.conversion_from_first)} reached {step_label(last.step)} within "
        f"{fmt.window(analysis.window)} ({overall_ci})."
    ]
    worst = overall.iloc[1:].sort_values("conversion_from_previous").iloc[0]
    previous = analysis.steps[int(worst.step_index) - 2]
    sentences.append(
        f"The steepest drop is {step_label(previous)} → {step_label(worst.step)}: only "
        f"{fmt.percent(worst.conversion_from_previous)} continue "
        f"({fmt.interval(worst.conversion_from_previous_ci_low, worst.conversion_from_previous_ci_high)}), "
        f"{fmt.count(worst.dropped)} {unit}s are lost there."
    )
    if analysis.timing is not None:
        sentences.extend(timing_sentences(analysis.timing.summary, unit))
    carts = analysis.abandonment_overall.iloc[0]
    if carts.trials:
        sentences.append(
            f"{fmt.percent(carts.rate)} of {unit}s with a cart did not buy within the window "
            f"({fmt.interval(carts.rate_ci_low, carts.rate_ci_high)}; {fmt.count(carts.trials)} carts)."
        )
    for column, tests in analysis.abandonment.items():
        sentences.append(group_differences_sentence(tests, column, "cart abandonment"))
    for column, tests in analysis.conversion_tests.items():
        sentences.append(group_differences_sentence(tests, column, "conversion"))
    suppressed = sum(shown_groups(t)[1] for t in analysis.conversion_tests.values())
    suppressed_carts = sum(shown_groups(t)[1] for t in analysis.abandonment.values())
    if suppressed or suppressed_carts:
        sentences.append(
            f"Groups below {analysis.min_group_size} {unit}s are suppressed: {suppressed} in the conversion and "
            f"{suppressed_carts} in the cart-abandonment comparisons."
        )
    if unit == "session":
        sentences.append(
            "Caveat: sessions of the same customer are not independent, yet the intervals and tests treat them as if "
            "they were, so they are somewhat too narrow; rerun with unit = user for tests that respect this."
        )
    return sentences


def nothing_to_analyse(analysis: FunnelAnalysis) -> str:
    """Why an empty scope has no funnel: no events at all, or none that start it."""
    scope = analysis.scope
    if scope is not None and analysis.events_in_scope == 0:
        where = "any market" if scope.market == ALL_MARKETS else scope.market
        return f"No events for {where} between {scope.start:%d %b %Y} and {scope.end:%d %b %Y}: nothing to analyse."
    scope_label = scope.label if scope is not None else "the events given"
    return f"Scope: {scope_label}. No {analysis.unit} started the funnel, so there is nothing to analyse."


def timing_sentences(summary: pd.DataFrame, unit: str) -> list[str]:
    """How long the journey takes: the overall median with its quartiles, and the slowest step."""
    overall = summary[summary.to_step == OVERALL]
    steps = summary[(summary.to_step != OVERALL) & (summary.units > 0)]
    if overall.empty or not overall.iloc[0].units:
        return []
    row = overall.iloc[0]
    sentences = [
        f"Half of the {unit}s that went past {step_label(row.from_step)} reached their deepest step within "
        f"{fmt.duration(row.median_seconds)} (middle half between {fmt.duration(row.q1_seconds)} and "
        f"{fmt.duration(row.q3_seconds)}; {fmt.count(row.units)} {unit}s)."
    ]
    if len(steps) > 1:
        slowest = steps.sort_values("median_seconds").iloc[-1]
        sentences.append(
            f"The slowest step is {step_label(slowest.from_step)} → {step_label(slowest.to_step)}: median "
            f"{fmt.duration(slowest.median_seconds)}."
        )
    return sentences


def group_differences_sentence(tests: pd.DataFrame, column: str, measure: str) -> str:
    """Which groups of a breakdown differ from the rest, by the same Holm-corrected test as :func:`tests_table`.

    A group is named as different exactly when its table row says "real difference? yes" (the ``significant``
    column, decided by :func:`analysis.metrics.stats.is_real`); nothing else is compared, so the sentence never
    claims more than the table.
    """
    shown, _ = shown_groups(tests)
    real = shown[shown["significant"]].sort_values("difference", ascending=False)
    by = column_label(column).lower()
    if shown.empty:
        return f"By {by}: no group is large enough to compare {measure}."
    if real.empty:
        return (
            f"By {by}: no group's {measure} differs from the rest beyond the noise "
            f"({len(shown)} groups, each tested against the rest, Holm-corrected)."
        )
    named = "; ".join(
        f"{value_label(row[column])} at {fmt.percent(row.rate)} ({fmt.interval(row.rate_ci_low, row.rate_ci_high)}), "
        f"{fmt.points(row.difference)} vs the rest (Holm {fmt.p_text(row.p_value_holm)})"
        for _, row in real.iterrows()
    )
    others = len(shown) - len(real)
    tail = f"; the other {others} group(s) are within the noise" if others else ""
    return f"By {by}: {measure} really differs from the rest for {named}{tail}."


def timing_table(analysis: FunnelAnalysis) -> pd.DataFrame | str:
    """Median and quartiles of the time between consecutive steps and overall, for reading (a note without order)."""
    if not analysis.started:
        return nothing_to_analyse(analysis)
    if analysis.timing is None:
        return NO_TIMING
    summary = analysis.timing.summary
    return pd.DataFrame(
        {
            "from": summary.from_step.map(step_label),
            "to": summary.to_step.map(lambda step: DEEPEST_STEP if step == OVERALL else step_label(step)),
            "units": summary.units.map(fmt.count),
            "lower quartile": summary.q1_seconds.map(fmt.duration),
            "median": summary.median_seconds.map(fmt.duration),
            "upper quartile": summary.q3_seconds.map(fmt.duration),
        }
    ).set_index(["from", "to"])


def plot_time_to_convert(analysis: FunnelAnalysis):
    """Histogram of the time from the first step to each unit's deepest step (None without order between steps)."""
    if analysis.timing is None:
        return None
    histogram = analysis.timing.histogram
    overall = histogram[histogram.to_step == OVERALL]
    reached = overall.index[overall.units > 0]
    if len(reached):  # the empty bins after the last one with units only push the data into a corner
        overall = overall.loc[: reached[-1]]
    labels = [
        fmt.duration_range(start, end)
        for start, end in zip(overall.bin_start_seconds, overall.bin_end_seconds, strict=True)
    ]
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.bar(labels, overall.units, color=SECOND_BAR_COLOUR)
    axis.set_ylabel(f"{analysis.unit}s")
    axis.set_xlabel("time from the first step to the deepest step reached")
    axis.set_title("Time to convert")
    axis.tick_params(axis="x", rotation=45)
    figure.tight_layout()
    return figure


def plot_funnel(analysis: FunnelAnalysis):
    """Bars of units reaching each step, each step's name saying the share that continued from the previous one.

    The share goes under the step's name rather than over the bars, where it overprinted the taller ones.
    """
    if not analysis.started:
        return empty_figure(nothing_to_analyse(analysis))
    overall = analysis.overall
    figure, axis = plt.subplots(figsize=(9, 3.8))
    labels = [
        step_label(row.step) + (f"\n{fmt.percent(row.conversion_from_previous, 0)} continue" if position else "")
        for position, row in enumerate(overall.itertuples())
    ]
    axis.bar(range(len(labels)), overall.units, color=BAR_COLOUR)
    axis.set_xticks(range(len(labels)), labels)
    axis.set_ylim(top=max(overall.units) * 1.12)  # room for the counts over the bars
    for position, row in enumerate(overall.itertuples()):
        axis.annotate(fmt.count(row.units), (position, row.units), ha="center", va="bottom", fontsize=9)
    axis.set_ylabel(f"{analysis.unit}s reaching the step")
    axis.set_title("Customer journey: where customers drop off")
    figure.tight_layout()
    return figure


def plot_conversion_by_group(analysis: FunnelAnalysis):
    """Conversion to the last step per group of each breakdown, everyone's conversion dashed."""
    if not analysis.conversion_tests:
        return empty_figure("No groups to compare." if analysis.started else nothing_to_analyse(analysis))
    everyone = analysis.overall.iloc[-1].conversion_from_first
    return plot_rates_by_group(analysis.conversion_tests, "Conversion to the last step (95% CI)", everyone)


def plot_abandonment_by_group(analysis: FunnelAnalysis):
    """Cart abandonment per group of each breakdown, everyone's abandonment dashed."""
    if not analysis.abandonment:
        return empty_figure("No groups to compare." if analysis.started else nothing_to_analyse(analysis))
    everyone = analysis.abandonment_overall.iloc[0].rate
    return plot_rates_by_group(analysis.abandonment, "Cart abandonment (95% CI)", everyone)


def plot_rates_by_group(tests: dict[str, pd.DataFrame], title: str, everyone: float):
    """One panel per breakdown: each large-enough group's rate with its 95% interval, ``everyone``'s rate dashed.

    The panels share one rate scale, so a gap between two devices and one between two segments look as large as
    they are; groups and breakdowns carry the reader's labels.
    """
    figure, axes = plt.subplots(1, len(tests), figsize=(3.6 * len(tests) + 1, 3.4), squeeze=False, sharex=True)
    for axis, (column, frame) in zip(axes[0], tests.items(), strict=True):
        shown, _ = shown_groups(frame)
        shown = shown.sort_values("rate")
        errors = error_widths(shown.rate, shown.rate_ci_low, shown.rate_ci_high)
        axis.errorbar(shown.rate, shown[column].map(value_label), xerr=errors, fmt="o", capsize=3)
        axis.axvline(everyone, linestyle="--", color=REFERENCE_COLOUR, linewidth=1)
        axis.xaxis.set_major_formatter(lambda value, _: fmt.percent(value, 0))
        axis.set_title(column_label(column))
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_weekly(analysis: FunnelAnalysis, launches=()):
    """Whole-funnel conversion by week of the first step, with its 95% band and the scope's launches marked.

    ``launches``: ``(market, day)`` pairs (the events source's ``launches``); those of other markets than the
    scope's are left out, every market's for ALL.
    """
    if not analysis.started:
        return empty_figure(nothing_to_analyse(analysis))
    weekly = analysis.weekly
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.plot(weekly.week, weekly.conversion, marker="o", markersize=3)
    axis.fill_between(weekly.week, weekly.conversion_ci_low, weekly.conversion_ci_high, alpha=0.25)
    market = analysis.scope.market if analysis.scope is not None else ALL_MARKETS
    shown = [(where, day) for where, day in launches if market in (ALL_MARKETS, where)]
    mark_launches(axis, shown, weekly.week.min(), weekly.week.max() + pd.Timedelta(days=6))
    axis.yaxis.set_major_formatter(lambda value, _: fmt.percent(value, 0))
    axis.set_ylabel(f"{analysis.unit}s converting")
    axis.set_title("Conversion by week of first visit (95% CI)")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def conversion_tables(analysis: FunnelAnalysis) -> list[pd.DataFrame]:
    """One :func:`tests_table` of conversion per breakdown, in the order of the breakdowns."""
    return [tests_table(tests, column) for column, tests in analysis.conversion_tests.items()]


def abandonment_tables(analysis: FunnelAnalysis) -> list[pd.DataFrame]:
    """One :func:`tests_table` of cart abandonment per breakdown, in the order of the breakdowns."""
    return [tests_table(tests, column) for column, tests in analysis.abandonment.items()]


def tests_table(tests: pd.DataFrame, column: str) -> pd.DataFrame:
    """A group-vs-rest frame formatted for reading; groups below the minimum size are suppressed."""
    shown, _ = shown_groups(tests)
    return pd.DataFrame(
        {
            column_label(column): shown[column].map(value_label),
            "units": shown.trials.map(fmt.count),
            "rate": shown.rate.map(fmt.percent),
            "95% CI": [
                fmt.interval(lo, hi, label=False) for lo, hi in zip(shown.rate_ci_low, shown.rate_ci_high, strict=True)
            ],
            "vs rest": shown.difference.map(fmt.points),
            "p (Holm)": shown.p_value_holm.map(fmt.p_value),
            "real difference?": shown.significant.map({True: "yes", False: "no"}),
        }
    ).set_index(column_label(column))
