"""Charts of the retention-and-value analysis: cohort heatmaps, survival, the sBG fit, retention, repeat rate, CLV.

They draw the frames of a :class:`~analysis.metrics.retention.RetentionAnalysis` as they are; nothing is estimated
here. Cells of a cohort grid that are not yet observable are left blank (never drawn as 0) and the chart says so.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.metrics.retention import RetentionAnalysis
from analysis.present.labels import COHORT_LABELS, PERIOD_ADJECTIVES, SURVIVAL_GROUP_LABELS
from analysis.present.theme import (
    BAR_COLOUR,
    HIGHLIGHT_COLOUR,
    REFERENCE_COLOUR,
    accent_colours,
    empty_figure,
    error_widths,
    mark_launches,
    small_multiples,
)

WHO = tuple(COHORT_LABELS)
BLANK_NOTE = "Blank cells: not yet observable (the period has not ended for every member of the cohort), not zero."


def plot_cohort_heatmap(analysis: RetentionAnalysis, who: str = "sellers"):
    """Share of each cohort still active (sellers) or buying again (buyers) k months later; unobservable cells blank."""
    if who not in WHO:
        raise ValueError(f"who must be one of {WHO}, not {who!r}")
    grid = analysis.seller_cohorts if who == "sellers" else analysis.buyer_cohorts
    if grid.empty:
        return empty_figure(f"No {who} in this market and period.")
    shares = grid.pivot_table(index="cohort", columns="periods_since", values="share", aggfunc="first", dropna=False)
    shares = shares.reindex(sorted(grid["cohort"].unique())).sort_index(axis=1)
    sizes = grid.groupby("cohort")["cohort_size"].first().reindex(shares.index)
    figure, axis = plt.subplots(figsize=(9, 0.32 * len(shares) + 1.8))
    colours = plt.get_cmap("viridis").with_extremes(bad="white")  # NaN, i.e. not yet observable, stays blank
    image = axis.imshow(np.ma.masked_invalid(shares.to_numpy(dtype=float) * 100), aspect="auto", cmap=colours,
                        vmin=0, vmax=100, interpolation="nearest")  # fmt: skip
    axis.set_yticks(range(len(shares)), [f"{c} (n={int(n):,})" for c, n in zip(shares.index, sizes, strict=True)])
    step = max(1, len(shares.columns) // 12)
    axis.set_xticks(range(0, len(shares.columns), step), [str(c) for c in shares.columns[::step]])
    axis.set_xlabel(COHORT_LABELS[who]["since"])
    axis.grid(False)
    what = COHORT_LABELS[who]["share"]
    axis.set_title(f"Share of each {PERIOD_ADJECTIVES[analysis.cohort_period]} cohort of {who} {what}, %")
    figure.colorbar(image, ax=axis, fraction=0.03, pad=0.02)
    figure.text(0.01, -0.02, BLANK_NOTE, fontsize=9, color=REFERENCE_COLOUR, ha="left", va="top")
    return figure


def plot_survival(analysis: RetentionAnalysis):
    """Kaplan–Meier share of sellers still active by months since signup, per cohort (a market) or market (ALL)."""
    curves = analysis.survival
    if curves.empty:
        return empty_figure("No sellers to draw survival curves for.")
    groups = list(pd.unique(curves["group"]))
    figure, axis = plt.subplots()
    for group, colour in zip(groups, _colours(len(groups)), strict=True):
        curve = curves[curves["group"] == group]
        axis.step(curve["months"], curve["survival"] * 100, where="post", color=colour, label=str(group), lw=1.5)
        axis.fill_between(curve["months"], curve["survival_ci_low"] * 100, curve["survival_ci_high"] * 100,
                          step="post", color=colour, alpha=0.12)  # fmt: skip
    axis.set_xlabel(COHORT_LABELS["sellers"]["since"])
    axis.set_ylabel("sellers still active, % (95% CI)")
    by = SURVIVAL_GROUP_LABELS["market" if analysis.headline_market == "ALL" else "cohort"]
    axis.set_title(f"Seller survival (Kaplan–Meier) by {by}")
    axis.legend(fontsize=8, ncol=2 if len(groups) > 6 else 1, loc="lower left")
    return figure


def plot_sbg_fit(analysis: RetentionAnalysis):
    """The recent cohorts' actual monthly survival, the sBG curve fitted to it and its projection with a band."""
    curve = analysis.sbg_curve
    if curve.empty:
        return empty_figure(f"No recent seller cohort to fit: {analysis.sbg_failure}")
    figure, axis = plt.subplots()
    axis.plot(curve["months"], curve["actual"] * 100, "o", color=BAR_COLOUR, label="actual (recent cohorts)")
    if analysis.sbg_fit is not None:
        projection = analysis.sbg_projection
        months = np.arange(0, max(analysis.projection_months, int(curve["months"].max())) + 1)
        axis.plot(months, np.asarray(analysis.sbg_fit.survival(months)) * 100, color=HIGHLIGHT_COLOUR,
                  label="shifted-beta-geometric fit")  # fmt: skip
        axis.fill_between(projection["period"], projection["survival_ci_low"] * 100,
                          projection["survival_ci_high"] * 100, color=HIGHLIGHT_COLOUR, alpha=0.15,
                          label="projection, 95% CI")  # fmt: skip
        axis.set_title("Recent seller cohorts: actual survival against the sBG model")
    else:
        axis.set_title("Recent seller cohorts: actual survival (no model fit)")
        figure.text(0.01, -0.02, f"No fit: {analysis.sbg_failure}", fontsize=9, color=REFERENCE_COLOUR,
                    ha="left", va="top", wrap=True)  # fmt: skip
    axis.set_xlabel(COHORT_LABELS["sellers"]["since"])
    axis.set_ylabel("sellers still active, %")
    axis.legend(loc="lower left")
    return figure


def plot_seller_retention(analysis: RetentionAnalysis):
    """Quarterly seller retention of the market (ALL: pooled) with its interval, launch months marked."""
    frame = analysis.seller_retention
    line = frame[(frame["market"] == analysis.headline_market) & frame["complete"]]
    if line.empty:
        return empty_figure("No complete quarter of seller retention.")
    return _quarterly_line(
        analysis,
        line.rename(columns={"quarter_start": "period_start", "quarter": "period"}),
        "retention",
        ylabel="sellers retained through the quarter, % (95% CI)",
        title=f"Quarterly seller retention, {analysis.headline_market}",
    )


def plot_repeat_rate(analysis: RetentionAnalysis):
    """Quarterly repeat-customer rate of the market (ALL: pooled) with its interval, launch months marked."""
    frame = analysis.repeat_rate
    line = frame[(frame["market"] == analysis.headline_market) & frame["complete"]] if len(frame) else frame
    if line.empty:
        return empty_figure("No complete quarter of orders.")
    return _quarterly_line(
        analysis,
        line,
        "rate",
        ylabel="customers with 2+ orders in the quarter, % (95% CI)",
        title=f"Repeat-customer rate, {analysis.headline_market}",
    )


def plot_clv_by_segment(analysis: RetentionAnalysis):
    """Mean CLV per personality segment with its interval, one panel per currency; small segments left out."""
    clv = analysis.clv[~analysis.clv["too_small"].astype(bool)] if len(analysis.clv) else analysis.clv
    if clv.empty:
        return empty_figure("No customer value to show: no fit, or every segment below the minimum size.")
    currencies = list(pd.unique(clv["currency"]))
    figure, axes = small_multiples(len(currencies), columns=1, height=0.45 * clv.groupby("currency").size().max() + 1.2)
    for axis, currency in zip(axes, currencies, strict=True):
        rows = clv[clv["currency"] == currency].sort_values("mean_clv")
        positions = np.arange(len(rows))
        axis.barh(positions, rows["mean_clv"], color=BAR_COLOUR, alpha=0.7)
        stable = rows["interval_stable"].astype(bool).to_numpy()
        low, high = error_widths(rows["mean_clv"], rows["mean_clv_ci_low"], rows["mean_clv_ci_high"])
        axis.errorbar(rows["mean_clv"].to_numpy()[stable], positions[stable],
                      xerr=[low[stable], high[stable]], fmt="none", color="black", capsize=3)  # fmt: skip
        axis.set_yticks(positions, rows["segment"].astype(str).tolist())
        axis.set_xlabel(f"mean {analysis.clv_horizon_months}-month CLV, {currency} (95% CI where identified)")
        axis.tick_params(axis="x", labelbottom=True)
    figure.suptitle("Customer lifetime value by personality segment", fontweight="bold")
    return figure


def _quarterly_line(analysis: RetentionAnalysis, line: pd.DataFrame, column: str, *, ylabel: str, title: str):
    """``column`` (a fraction, drawn in %) of ``line`` by quarter with its interval, the launch months marked.

    ``line`` holds ``period_start`` (the quarter's first day), ``period`` (its label), ``column`` and
    ``<column>_ci_low`` / ``<column>_ci_high``.
    """
    moments = pd.to_datetime(line["period_start"])
    values = line[column].to_numpy(dtype=float) * 100
    low, high = error_widths(values, line[f"{column}_ci_low"] * 100, line[f"{column}_ci_high"] * 100)
    figure, axis = plt.subplots()
    axis.errorbar(moments, values, yerr=[low, high], fmt="o-", color=BAR_COLOUR, capsize=3)
    axis.set_xticks(moments, line["period"].astype(str).tolist())
    _launch_markers(axis, analysis, moments)
    axis.set_ylabel(ylabel)
    axis.set_xlabel("quarter")
    axis.set_title(title)
    return figure


def _launch_markers(axis, analysis: RetentionAnalysis, moments: pd.Series) -> None:
    launched = analysis.launches
    pairs = zip(launched["market"], launched["launch_date"], strict=True)
    mark_launches(axis, pairs, moments.min(), moments.max() + pd.DateOffset(months=3))


def _colours(count: int) -> list:
    return list(plt.get_cmap("tab20").colors[:count]) if count > len(accent_colours()) else accent_colours(count)
