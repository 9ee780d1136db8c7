"""Charts of the post-initiative results; every point drawn comes from an :class:`ImpactAnalysis`.

The event study (effects by periods since launch, pre-periods included), the per-market forest plot against the
target range, the single-market counterfactuals, and the KPI series per market with their launches marked. A chart
with nothing to draw says why (:func:`~analysis.present.theme.empty_figure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from analysis.contract import ALL_MARKETS
from analysis.metrics.impact.analysis import ImpactAnalysis
from analysis.present.impact import SCORE_KPIS, in_kpi_order
from analysis.present.labels import kpi_label
from analysis.present.theme import BAR_COLOUR, HIGHLIGHT_COLOUR, REFERENCE_COLOUR, empty_figure, series_colours

PANEL_HEIGHT = 2.6  # inches per KPI panel
PARTLY_LABEL = "hollow: partly treated (launch inside the period), left out of the effect"


def plot_event_study(analysis: ImpactAnalysis, kpi: str | None = None):
    """Each KPI's effect by periods since launch (negative: before it), with its band; launch at 0, zero line.

    One panel per KPI (or only ``kpi``); the panels share nothing but the x axis, as KPIs have their own units. A
    partly treated event time (``partly_treated``: a launch fell inside the period) is drawn hollow, with a legend
    note that the effects leave it out.
    """
    study = analysis.event_study
    if kpi is not None and not study.empty:
        study = study[study["kpi"] == kpi]
    if study.empty:
        return empty_figure("No event study: no KPI was estimated by difference-in-differences in this scope.")
    kpis = list(dict.fromkeys(in_kpi_order(study)["kpi"]))
    figure, axes = plt.subplots(len(kpis), 1, figsize=(9, PANEL_HEIGHT * len(kpis) + 0.6), sharex=True, squeeze=False)
    for axis, name in zip(axes[:, 0], kpis, strict=True):
        rows = study[study["kpi"] == name].sort_values("event_time")
        scale, unit = _scale(name, difference=True)
        axis.fill_between(
            rows["event_time"], rows["att_ci_low"] * scale, rows["att_ci_high"] * scale, color=BAR_COLOUR, alpha=0.2
        )
        partly = (
            rows["partly_treated"].fillna(False).to_numpy(bool)
            if "partly_treated" in rows
            else np.zeros(len(rows), bool)
        )
        # filled markers where the period is fully treated (or before launch); the partly treated ones hollow
        axis.plot(
            rows["event_time"], rows["att"] * scale, "o-", color=BAR_COLOUR, markevery=list(np.flatnonzero(~partly))
        )
        axis.axhline(0, color=REFERENCE_COLOUR, lw=1)
        axis.axvline(0, color=HIGHLIGHT_COLOUR, lw=1, ls="--")
        if partly.any():
            axis.plot(
                rows["event_time"][partly],
                rows["att"][partly] * scale,
                "o",
                mfc="white",
                mec=BAR_COLOUR,
                label=PARTLY_LABEL,
            )
            axis.legend(loc="upper left", fontsize="small")
        axis.set_ylabel(f"effect, {unit}")
        axis.set_title(kpi_label(name))
    axes[-1, 0].set_xlabel(f"periods since launch (launch at 0; band: {_level(analysis)} CI)")
    figure.tight_layout()
    return figure


def plot_market_effects(analysis: ImpactAnalysis):
    """A forest plot per KPI: each treated market's relative effect with its interval; shaded: the target range."""
    effects = analysis.market_effects
    if not effects.empty:
        effects = effects.dropna(subset=["relative"])
    if effects.empty:
        return empty_figure("No per-market effects: the initiative did not launch in this scope.")
    kpis = list(dict.fromkeys(in_kpi_order(effects)["kpi"]))
    targets = analysis.effects.set_index("kpi")
    heights = [max(len(effects[effects["kpi"] == k]), 1) * 0.45 + 0.9 for k in kpis]
    figure, axes = plt.subplots(
        len(kpis), 1, figsize=(9, sum(heights)), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    for axis, name in zip(axes[:, 0], kpis, strict=True):
        rows = effects[effects["kpi"] == name].sort_values("market", ascending=False)
        positions = np.arange(len(rows))
        axis.hlines(positions, rows["relative_ci_low"] * 100, rows["relative_ci_high"] * 100, color=BAR_COLOUR, lw=2)
        axis.plot(rows["relative"] * 100, positions, "o", color=BAR_COLOUR)
        axis.axvline(0, color=REFERENCE_COLOUR, lw=1)
        if name in targets.index:
            low, high = targets.loc[name, "target_low"], targets.loc[name, "target_high"]
            if np.isfinite(low) and np.isfinite(high):
                # a single-valued target (+40%) is a line, a range a band
                axis.axvspan(min(low, high) * 100, max(low, high) * 100, color=HIGHLIGHT_COLOUR, alpha=0.15, lw=2)
        axis.set_yticks(positions, [str(m) for m in rows["market"]])
        axis.set_ylim(-0.6, len(rows) - 0.4)
        axis.set_title(kpi_label(name))
        axis.set_xlabel(f"relative effect, % ({_level(analysis)} CI; shaded: the target)")
    figure.tight_layout()
    return figure


def plot_interrupted(analysis: ImpactAnalysis):
    """Where a market had no comparison: its actual KPI against the counterfactual and the counterfactual's band."""
    interrupted = analysis.interrupted
    if interrupted.empty:
        return empty_figure(
            "No single-market design was used: every effect here has a comparison market or a randomised test."
        )
    ordered = in_kpi_order(interrupted)
    panels = list(dict.fromkeys(zip(ordered["kpi"], ordered["method"], strict=True)))
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, PANEL_HEIGHT * len(panels) + 0.6), squeeze=False)
    for axis, (name, method) in zip(axes[:, 0], panels, strict=True):
        rows = interrupted[(interrupted["kpi"] == name) & (interrupted["method"] == method)]
        rows = rows.sort_values("period_start")
        scale, unit = _scale(name, difference=False)
        axis.fill_between(
            rows["period_start"],
            rows["counterfactual_ci_low"] * scale,
            rows["counterfactual_ci_high"] * scale,
            color=REFERENCE_COLOUR,
            alpha=0.25,
            label=f"counterfactual ({_level(analysis)} band)",
        )
        axis.plot(rows["period_start"], rows["counterfactual"] * scale, "--", color=REFERENCE_COLOUR)
        axis.plot(rows["period_start"], rows["actual"] * scale, "o-", color=BAR_COLOUR, label="actual")
        launch = _single_market_launch(analysis, name)
        if launch is not None:
            axis.axvline(launch, color=HIGHLIGHT_COLOUR, ls=":", lw=1.2, label="launch")
        axis.set_ylabel(unit)
        axis.set_title(f"{kpi_label(name)}{_single_market(analysis, name)}: {method} counterfactual")
        axis.legend(loc="upper left", fontsize="small")
    figure.suptitle("Single-market designs: weaker evidence, no comparison market", fontsize="medium")
    figure.tight_layout()
    return figure


def plot_kpi_series(analysis: ImpactAnalysis, kpis: Sequence[str] = ("repeat_customer_rate", "seller_churn_hazard")):
    """Each KPI over time, one line per market, its launch marked by a dotted line in the market's colour."""
    series = analysis.series
    if not series.empty:
        series = series[series["kpi"].isin(list(kpis))]
    if series.empty:
        return empty_figure(f"No series of {', '.join(kpi_label(k).lower() for k in kpis)} in this scope.")
    shown = [k for k in kpis if (series["kpi"] == k).any()]
    markets = sorted(series["market"].astype(str).unique())
    colours = dict(zip(markets, series_colours(len(markets)), strict=True))
    figure, axes = plt.subplots(len(shown), 1, figsize=(9, PANEL_HEIGHT * len(shown) + 0.8), squeeze=False)
    for axis, name in zip(axes[:, 0], shown, strict=True):
        rows = series[series["kpi"] == name]
        scale, unit = _scale(name, difference=False)
        for market, group in rows.groupby("market", sort=True):
            group = group.sort_values("period_start")
            colour = colours[str(market)]
            axis.plot(group["period_start"], group["value"] * scale, "o-", ms=3, color=colour, label=str(market))
            launch = group["launch_date"].dropna()
            if len(launch):
                axis.axvline(pd.Timestamp(launch.iloc[0]), color=colour, ls=":", lw=1.2)
        axis.set_ylabel(unit)
        axis.set_title(f"{kpi_label(name)} by market (dotted: launch)")
    axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small", title="market")
    figure.tight_layout()
    return figure


def _scale(kpi: str, difference: bool) -> tuple[float, str]:
    """How a KPI's values are drawn: rates ×100 (a level in %, a difference in points), scores as they are."""
    if kpi in SCORE_KPIS:
        return 1.0, "score points" if difference else "score"
    return 100.0, "percentage points" if difference else "%"


def _single_market(analysis: ImpactAnalysis, kpi: str) -> str:
    """' in US': the market a KPI's single-market design was read in, when the per-market effects name it."""
    effects = analysis.market_effects
    if effects.empty:
        return ""
    markets = effects.loc[(effects["kpi"] == kpi) & (effects["design"] == "interrupted_time_series"), "market"]
    return f" in {', '.join(sorted(markets.astype(str).unique()))}" if len(markets) else ""


def _single_market_launch(analysis: ImpactAnalysis, kpi: str) -> pd.Timestamp | None:
    """The launch date of the one market a KPI's single-market design was read in (None when not one market)."""
    effects, launches = analysis.market_effects, analysis.launches
    markets = set()
    if not effects.empty:
        single = effects[(effects["kpi"] == kpi) & (effects["design"] == "interrupted_time_series")]
        markets = set(single["market"].astype(str))
    if not markets and analysis.scope.market != ALL_MARKETS:
        markets = {analysis.scope.market}
    dates = launches.loc[launches["market"].astype(str).isin(markets), "launch_date"].dropna()
    return pd.Timestamp(dates.iloc[0]) if len(markets) == 1 and len(dates) else None


def _level(analysis: ImpactAnalysis) -> str:
    return f"{(1 - analysis.alpha) * 100:g}%"
