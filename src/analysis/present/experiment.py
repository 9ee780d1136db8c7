"""Findings, tables and charts for the experiment readout; every number comes from an :class:`ExperimentAnalysis`.

Whether a difference is called real comes only from the analysis' ``real`` columns (the corrected test); the sample
ratio check comes first, because when it fails nothing after it can be trusted.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from analysis.metrics.experiment import ExperimentAnalysis
from analysis.present import formatting as fmt
from analysis.present.findings import escaped_style
from analysis.present.theme import BAR_COLOUR, HIGHLIGHT_COLOUR, REFERENCE_COLOUR, empty_figure

METRIC_LABELS = {
    "session_conversion": "session conversion",
    "user_conversion": "user conversion",
    "revenue_per_user": "revenue per user",
    "average_order_value": "average order value",
    "cart_abandonment": "cart abandonment",
}
CORRECTION_LABELS = {"holm": "Holm (family-wise error)", "bh": "Benjamini–Hochberg (false discovery rate)"}
BREAKDOWN_LABELS = {"segment": "personality segment", "device": "device", "channel": "channel"}


def metric_label(metric: str) -> str:
    """The reader's name of a metric: ``'cart_abandonment'`` -> ``'cart abandonment'``."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def lift_text(row: pd.Series) -> str:
    """'+20.9% (95% CI +11.8% to +30.0%)': a relative lift with its interval."""
    interval = _signed_interval(row["relative_lift_ci_low"], row["relative_lift_ci_high"])
    return f"{_signed(row['relative_lift'])} ({interval})"


def corrected_p(analysis: ExperimentAnalysis, row: pd.Series) -> str:
    """'p = 0.08 after Holm's correction for 5 metrics': the p-value that decides "real" (intervals are per metric)."""
    method = "Holm's correction" if analysis.correction == "holm" else "Benjamini–Hochberg"
    return f"{fmt.p_text(row['p_value_adjusted'])} after {method} for {len(analysis.metrics)} metrics"


def findings(analysis: ExperimentAnalysis) -> list[str]:
    """Sentences a reviewer reads first: SRM, the primary metric against the target, guardrails, segments, power."""
    if not analysis.has_experiment:
        return [f"There is no experiment in {analysis.scope.label}: no event carries an arm (variant)."]
    sentences = []
    counts = ", ".join(f"{row.arm} {fmt.count(row.units)}" for row in analysis.arm_counts.itertuples())
    if analysis.srm.flagged:
        sentences.append(
            f"The results of this test cannot be trusted: the arms' sizes ({counts} users) are not the planned "
            f"equal split (sample-ratio mismatch, chi-square {fmt.p_text(analysis.srm.p_value)}). Find the cause "
            "(assignment, logging or filtering) before reading any lift below."
        )
    else:
        sentences.append(
            f"The split is as planned ({counts} users; sample-ratio check p = {analysis.srm.p_value:.2f}, no mismatch)."
        )
    primary = analysis.primary_row
    verdict = "a real" if bool(primary["real"]) else "no real (within the noise)"
    sentence = (
        f"{metric_label(analysis.primary).capitalize()}: {fmt.percent(primary['control_mean'], 2)} in control, "
        f"{fmt.percent(primary['arm_mean'], 2)} in {primary['arm']}: {verdict} lift of {lift_text(primary)}"
    )
    sentence += f", {corrected_p(analysis, primary)}"
    if analysis.target_low is not None:
        sentence += f"; {_against_target(primary, analysis.target_low, analysis.target_high)}"
    sentences.append(sentence + ".")
    for guardrail in analysis.guardrails:
        row = analysis.readout.set_index("metric").loc[guardrail]
        moved = "moved" if bool(row["real"]) else "did not move beyond the noise"
        sentences.append(
            f"Guardrail {metric_label(guardrail)} {moved}: {lift_text(row)}; {corrected_p(analysis, row)}."
        )
    sentences += _segment_sentences(analysis)
    power = analysis.power.set_index("metric").loc[analysis.primary]
    sentence = (
        f"With {fmt.count(primary['n_control'])} and {fmt.count(primary['n_arm'])} users the test could detect a "
        f"{metric_label(analysis.primary)} lift of {fmt.percent(power['minimum_detectable_lift'])} or more "
        "(80% power)"
    )
    if analysis.target_detectable is not None:
        able = "had" if analysis.target_detectable else "did not have"
        sentence += f", so it {able} the power to see the target's low end ({_signed(analysis.target_low)})"
    sentences.append(sentence + ".")
    return sentences


# How the primary lift's interval stands against the target: the readout's words, and the verdict they state.
TARGET_STATEMENTS = {
    "which the whole interval exceeds": "met",
    "which the whole interval falls short of": "missed",
    "and the whole interval lies within it": "met",
    "which the interval overlaps": "inconclusive",
}


def _against_target(row: pd.Series, low: float, high: float) -> str:
    exceeds, falls_short, lies_within, overlaps = TARGET_STATEMENTS
    target = f"the target is {_signed(low)} to {_signed(high)}"
    ci_low, ci_high = row["relative_lift_ci_low"], row["relative_lift_ci_high"]
    if ci_low > high:
        return f"{target}, {exceeds}"
    if ci_high < low:
        return f"{target}, {falls_short}"
    if low <= ci_low and ci_high <= high:
        return f"{target}, {lies_within}"
    return f"{target}, {overlaps}"


def _segment_sentences(analysis: ExperimentAnalysis) -> list[str]:
    sentences = []
    for row in analysis.heterogeneity.itertuples():
        label = BREAKDOWN_LABELS.get(row.breakdown, row.breakdown)
        if row.groups < 2:
            sentences.append(f"Too few {label} groups of at least {analysis.min_group_size} users per arm to compare.")
            continue
        lifts = analysis.segments[(analysis.segments["breakdown"] == row.breakdown) & analysis.segments["real"]]
        named = ", ".join(
            f"{group} ({_signed(lift)})" for group, lift in zip(lifts["group"], lifts["relative_lift"], strict=True)
        )
        p_value = fmt.p_text(row.p_value_adjusted)
        differs = (
            f"The lift differs by {label} (Cochran's Q {p_value} after Holm)"
            if bool(row.real)
            else f"The lift does not differ by {label} beyond the noise (Cochran's Q {p_value})"
        )
        sentences.append(f"{differs}; real lifts after Benjamini–Hochberg: {named or 'none'}.")
    return sentences


def plan_table(analysis: ExperimentAnalysis) -> Styler:
    """The analysis plan as stated before reading: unit, arms, metrics and family, α, correction, CUPED, segments."""
    family = ", ".join(metric_label(m) for m in analysis.metrics)
    rows = [
        ("Randomisation unit", analysis.unit),
        ("Initiative", analysis.initiative or "–"),
        ("Period read", f"{analysis.start} to {analysis.end}" if analysis.has_experiment else "–"),
        ("Arms", f"{analysis.control} (control) against the others, planned as an equal split"),
        ("Primary metric", metric_label(analysis.primary)),
        ("Guardrails", ", ".join(metric_label(m) for m in analysis.guardrails) or "none"),
        ("Family corrected together", family),
        ("Significance level α", f"{analysis.alpha:g}"),
        ("Correction", CORRECTION_LABELS.get(analysis.correction, analysis.correction)),
        ("Variance reduction", f"CUPED on each metric over the {analysis.pre_days} days before the start"),
        ("Segments", f"Benjamini–Hochberg per breakdown; groups under {analysis.min_group_size} users suppressed"),
        ("Sample-ratio check", "chi-square against the planned split; p < 0.001 flags the test"),
    ]
    return escaped_style(pd.DataFrame(rows, columns=["", "plan"]).set_index(""))


def readout_table(analysis: ExperimentAnalysis) -> Styler | pd.DataFrame:
    """Every metric of the family: both arms, the lift with its interval, the corrected p-value and the verdict."""
    if not analysis.has_experiment:
        return pd.DataFrame({"": ["no experiment in this market and period"]})
    table = pd.DataFrame(
        {
            "metric": analysis.readout["metric"].map(metric_label),
            "control": [
                _value(m, v) for m, v in zip(analysis.readout["metric"], analysis.readout["control_mean"], strict=True)
            ],
            "treatment": [
                _value(m, v) for m, v in zip(analysis.readout["metric"], analysis.readout["arm_mean"], strict=True)
            ],
            "lift": [_signed(v) for v in analysis.readout["relative_lift"]],
            "95% CI": [
                _signed_interval(lo, hi)
                for lo, hi in zip(
                    analysis.readout["relative_lift_ci_low"], analysis.readout["relative_lift_ci_high"], strict=True
                )
            ],
            "adjusted p": [fmt.p_value(p) for p in analysis.readout["p_value_adjusted"]],
            "CUPED variance cut": [fmt.percent(v) for v in analysis.readout["variance_reduction"]],
            "real": ["yes" if r else "no" for r in analysis.readout["real"]],
        }
    )
    return escaped_style(table.set_index("metric"))


def segment_table(analysis: ExperimentAnalysis) -> Styler | pd.DataFrame:
    """The primary metric's lift per group, with the corrected verdict; small groups shown as suppressed."""
    if not analysis.has_experiment:
        return pd.DataFrame({"": ["no experiment in this market and period"]})
    segments = analysis.segments
    table = pd.DataFrame(
        {
            "breakdown": segments["breakdown"].map(lambda b: BREAKDOWN_LABELS.get(b, b)),
            "group": segments["group"],
            "users (control / treatment)": [
                "suppressed" if small else f"{fmt.count(c)} / {fmt.count(t)}"
                for small, c, t in zip(segments["too_small"], segments["n_control"], segments["n_arm"], strict=True)
            ],
            "lift": [
                "–" if s else _signed(v) for s, v in zip(segments["too_small"], segments["relative_lift"], strict=True)
            ],
            "95% CI": [
                "–" if s else _signed_interval(lo, hi)
                for s, lo, hi in zip(
                    segments["too_small"],
                    segments["relative_lift_ci_low"],
                    segments["relative_lift_ci_high"],
                    strict=True,
                )
            ],
            "BH-adjusted p": [
                "–" if s else fmt.p_value(p)
                for s, p in zip(segments["too_small"], segments["p_value_adjusted"], strict=True)
            ],
            "real": ["yes" if r else "no" for r in segments["real"]],
        }
    )
    return escaped_style(table.set_index(["breakdown", "group"]))


def plot_forest(analysis: ExperimentAnalysis):
    """Every metric's relative lift with its interval; the corrected-real ones highlighted, zero marked."""
    if not analysis.has_experiment:
        return empty_figure("No experiment in this market and period.")
    readout = analysis.readout.iloc[::-1]
    figure, axis = plt.subplots(figsize=(9, 0.6 * len(readout) + 1.2))
    positions = np.arange(len(readout))
    colours = [HIGHLIGHT_COLOUR if real else BAR_COLOUR for real in readout["real"]]
    for y, row, colour in zip(positions, readout.itertuples(), colours, strict=True):
        axis.plot([row.relative_lift_ci_low * 100, row.relative_lift_ci_high * 100], [y, y], color=colour, lw=2)
        axis.plot(row.relative_lift * 100, y, "o", color=colour)
    axis.axvline(0, color=REFERENCE_COLOUR, lw=1)
    if analysis.target_low is not None:
        axis.axvspan(analysis.target_low * 100, analysis.target_high * 100, color=REFERENCE_COLOUR, alpha=0.15)
    axis.set_yticks(positions, [metric_label(m) for m in readout["metric"]])
    axis.set_xlabel("relative lift of treatment over control, % (95% CI; shaded: the target)")
    axis.set_title("Lift of every metric (red: real after correction)")
    return figure


def plot_cumulative_lift(analysis: ExperimentAnalysis):
    """The primary metric's lift as it would have been read on each day: does it settle?"""
    cumulative = analysis.cumulative
    if analysis.has_experiment and not cumulative.empty:
        cumulative = cumulative.dropna(subset=["relative_lift_ci_low", "relative_lift_ci_high"])
    if not analysis.has_experiment or cumulative.empty:
        return empty_figure("No daily readout: no experiment, or a primary metric that is not a session ratio.")
    figure, axis = plt.subplots()
    axis.plot(cumulative["day"], cumulative["relative_lift"] * 100, color=BAR_COLOUR)
    axis.fill_between(
        cumulative["day"],
        cumulative["relative_lift_ci_low"] * 100,
        cumulative["relative_lift_ci_high"] * 100,
        color=BAR_COLOUR,
        alpha=0.2,
    )
    axis.axhline(0, color=REFERENCE_COLOUR, lw=1)
    axis.set_ylabel(f"{metric_label(analysis.primary)} lift, % (95% CI)")
    axis.set_title("Cumulative lift by day")
    return figure


def _value(metric: str, value: float) -> str:
    if not np.isfinite(value):
        return "–"
    # money metrics in the orders' currency (one market: its own); the others are rates
    return f"{value:,.2f}" if metric in ("revenue_per_user", "average_order_value") else fmt.percent(value, 2)


def _signed(value: float) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value * 100:+.1f}%"


def _signed_interval(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "95% CI unavailable"
    return f"95% CI {low * 100:+.1f}% to {high * 100:+.1f}%"
