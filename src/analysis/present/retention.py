"""Findings and tables for retention and customer value; every number comes from a :class:`RetentionAnalysis`.

A change is called real only through the analysis' ``real`` columns (Holm-corrected tests); money is shown in its own
currency and never added across currencies. The charts live in :mod:`analysis.present.retention_charts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from analysis.metrics.retention import RetentionAnalysis
from analysis.present import formatting as fmt
from analysis.present.findings import escaped_style
from analysis.present.retention_charts import (
    plot_clv_by_segment,
    plot_cohort_heatmap,
    plot_repeat_rate,
    plot_sbg_fit,
    plot_seller_retention,
    plot_survival,
)

__all__ = [
    "clv_table",
    "findings",
    "hazard_table",
    "plot_clv_by_segment",
    "plot_cohort_heatmap",
    "plot_repeat_rate",
    "plot_sbg_fit",
    "plot_seller_retention",
    "plot_survival",
    "retention_table",
    "revenue_table",
]


def findings(analysis: RetentionAnalysis) -> list[str]:
    """Sentences a reviewer reads first: seller retention against a year ago, churn around the launch, the sBG
    projection, the repeat-customer trend, CLV by segment and the repeat buyers' share of revenue."""
    return [
        *_retention_sentences(analysis),
        *_hazard_sentences(analysis),
        _projection_sentence(analysis),
        *_repeat_sentences(analysis),
        *_clv_sentences(analysis),
        *_revenue_sentences(analysis),
    ]


def _where(analysis: RetentionAnalysis) -> str:
    return "across all markets" if analysis.headline_market == "ALL" else f"in {analysis.headline_market}"


def _verdict(real: bool, rise: str = "rise", fall: str = "fall", difference: float = 0.0) -> str:
    if not bool(real):
        return "within the noise"
    return f"a real {rise if difference > 0 else fall}"


def _p(row: pd.Series, tests: int) -> str:
    if not np.isfinite(row["p_value"]):
        return "no test possible"
    if tests > 1:
        return f"{fmt.p_text(row['p_value_adjusted'])} after Holm's correction for {tests} lines"
    return fmt.p_text(row["p_value"])


def _retention_sentences(analysis: RetentionAnalysis) -> list[str]:
    changes = analysis.retention_change
    rows = changes[changes["market"] == analysis.headline_market]
    if rows.empty:
        return [f"No complete quarter of seller retention {_where(analysis)} to report."]
    row = rows.iloc[0]
    now = (
        f"Seller retention {_where(analysis)} in {row['quarter']} (last complete quarter; sellers active on its first "
        f"day still active on its last): {fmt.percent(row['retention'])} "
        f"({fmt.interval(row['retention_ci_low'], row['retention_ci_high'])})"
    )
    if not np.isfinite(row["earlier_retention"]):
        return [f"{now}; {row['earlier_quarter']} is not in the data, so there is no year-earlier comparison."]
    sentences = [
        f"{now}, against {fmt.percent(row['earlier_retention'])} in {row['earlier_quarter']}: "
        f"{fmt.points(row['difference'])} ({fmt.points_interval(row['difference_ci_low'], row['difference_ci_high'])}; "
        f"{_p(row, len(changes))}), {_verdict(row['real'], difference=row['difference'])}."
    ]
    if analysis.headline_market == "ALL":
        markets = changes[(changes["market"] != "ALL") & changes["real"]]
        named = ", ".join(
            f"{m} ({fmt.points(d)})" for m, d in zip(markets["market"], markets["difference"], strict=True)
        )
        sentences.append(f"Markets whose change on a year earlier is real after Holm's correction: {named or 'none'}.")
    return sentences


def _hazard_sentences(analysis: RetentionAnalysis) -> list[str]:
    change = analysis.hazard_change
    if analysis.headline_market == "ALL":
        return _hazard_summary(analysis)
    if change.empty:
        return [f"{analysis.headline_market} has not launched the initiative: no before/after churn comparison."]
    row = change.iloc[0]
    return [
        f"In {row['market']} the monthly seller churn hazard was {fmt.percent(row['hazard_before'], 2)} before the "
        f"launch month ({row['launch_month']:%b %Y}) and {fmt.percent(row['hazard_after'], 2)} from it on: "
        f"{fmt.points(row['difference'], 2)} "
        f"({fmt.points_interval(row['difference_ci_low'], row['difference_ci_high'], 2)}; {_p(row, 1)}), "
        f"{_verdict(row['real'], difference=row['difference'])}."
    ]


def _hazard_summary(analysis: RetentionAnalysis) -> list[str]:
    change = analysis.hazard_change
    if change.empty:
        return ["No market has launched the initiative: no before/after churn comparison."]
    real = change[change["real"]]
    named = ", ".join(f"{m} ({fmt.points(d, 2)})" for m, d in zip(real["market"], real["difference"], strict=True))
    return [
        f"Monthly seller churn before against after each market's launch month, {len(change)} launched markets: "
        f"real changes after Holm's correction: {named or 'none'} (table below)."
    ]


def _projection_sentence(analysis: RetentionAnalysis) -> str:
    cohorts = _cohort_span(analysis.sbg_cohorts)
    if analysis.sbg_fit is None:
        return f"No projection of recent seller cohorts {_where(analysis)}: {analysis.sbg_failure}"
    at = analysis.sbg_projection.set_index("period").loc[analysis.projection_months]
    remaining = analysis.sbg_remaining
    return (
        f"Of the sellers who signed up in {cohorts} {_where(analysis)}, the shifted-beta-geometric model projects "
        f"{fmt.percent(at['survival'])} ({fmt.interval(at['survival_ci_low'], at['survival_ci_high'])}) still active "
        f"{analysis.projection_months} months after signing up; a new seller is expected to be active "
        f"{remaining['periods']:.1f} of their first {analysis.projection_months} months "
        f"({fmt.interval(remaining['periods_ci_low'], remaining['periods_ci_high'], as_percent=False)})."
    )


def _cohort_span(cohorts: tuple[str, ...]) -> str:
    if not cohorts:
        return "no cohort"
    return cohorts[0] if len(cohorts) == 1 else f"{cohorts[0]}–{cohorts[-1]}"


def _repeat_sentences(analysis: RetentionAnalysis) -> list[str]:
    trend = analysis.repeat_trend
    rows = trend[trend["market"] == analysis.headline_market]
    if rows.empty:
        return [f"Fewer than two complete quarters of orders {_where(analysis)}: no repeat-customer trend."]
    row = rows.iloc[0]
    return [
        f"Repeat-customer rate {_where(analysis)} (customers with two or more orders in a quarter): "
        f"{fmt.percent(row['first_rate'])} in {row['first_period']}, {fmt.percent(row['last_rate'])} in "
        f"{row['last_period']}: {fmt.points(row['difference'])} "
        f"({fmt.points_interval(row['difference_ci_low'], row['difference_ci_high'])}; {_p(row, len(trend))}), "
        f"{_verdict(row['real'], difference=row['difference'])}."
    ]


def _clv_sentences(analysis: RetentionAnalysis) -> list[str]:
    sentences = []
    terms = (
        f"expected {analysis.clv_horizon_months}-month customer value (margin {fmt.percent(analysis.margin, 0)}, "
        f"{fmt.percent(analysis.monthly_discount_rate)} monthly discount)"
    )
    if len(analysis.clv_fits) > 1:
        sentences.append("Orders are in several currencies, so customer value is shown per currency, never summed.")
    for fit in analysis.clv_fits.itertuples():
        if fit.failure:
            sentences.append(f"No customer value in {fit.currency}: {fit.failure}")
            continue
        rows = analysis.clv[(analysis.clv["currency"] == fit.currency) & ~analysis.clv["too_small"].astype(bool)]
        parts = [
            f"{row.segment} {fmt.money(row.mean_clv, fit.currency)}"
            + ("" if fit.interval_failure else f" ({_clv_interval(row)})")
            for row in rows.sort_values("mean_clv", ascending=False).itertuples()
        ]
        listed = "; ".join(parts) if parts else f"every segment has fewer than {analysis.min_group_size} customers"
        sentence = f"{terms.capitalize()} in {fit.currency} by personality segment: {listed}"
        if fit.interval_failure:
            sentence += f" (no intervals: {fit.interval_failure.rstrip('.')})"
        sentences.append(sentence + "." + _clv_models(fit))
    return sentences


def _clv_models(fit) -> str:
    """What the CLV rests on when a nested model replaced BG/NBD or Gamma–Gamma; nothing when neither did."""
    notes = []
    if fit.purchase_fallback:
        notes.append(
            f" Lifetime value assumes no customer drops out within the horizon: none did in the data (BG/NBD found "
            f"no dropout, so purchases come from the {fit.purchase_model} model)."
        )
    if fit.spend_fallback:
        notes.append(
            " Every customer is valued at the mean spend per repeat purchase, "
            f"{fmt.money(fit.mean_spend, fit.currency)}: spend per purchase does not differ between customers "
            f"beyond chance (Gamma–Gamma found no spread; spend model: {fit.spend_model})."
        )
    return "".join(notes)


def _clv_interval(row) -> str:
    if not bool(row.interval_stable):
        return "interval unavailable: parameters poorly identified"
    return fmt.interval(row.mean_clv_ci_low, row.mean_clv_ci_high, as_percent=False, digits=0)


def _revenue_sentences(analysis: RetentionAnalysis) -> list[str]:
    return [
        f"Repeat buyers (two or more orders in the period) are {fmt.count(row.repeat_buyers)} of "
        f"{fmt.count(row.customers)} {row.currency} customers and bring {fmt.percent(row.share)} of their revenue "
        f"({fmt.interval(row.share_ci_low, row.share_ci_high)}, delta method over customers)."
        for row in analysis.repeat_revenue.itertuples()
    ]


def retention_table(analysis: RetentionAnalysis) -> Styler | pd.DataFrame:
    """Quarterly seller retention of every line with its interval; quarters not yet complete say so."""
    frame = analysis.seller_retention
    if frame.empty:
        return _note("no seller active in this market and period")
    return _styled(
        {
            "market": frame["market"],
            "quarter": frame["quarter"],
            "sellers at start": frame["active_at_start"].map(fmt.count),
            "retention": [
                fmt.percent(v) if c else "not complete"
                for v, c in zip(frame["retention"], frame["complete"], strict=True)
            ],  # fmt: skip
            "95% CI": _intervals(frame, "retention"),
        },
        index=["market", "quarter"],
    )


def hazard_table(analysis: RetentionAnalysis) -> Styler | pd.DataFrame:
    """Monthly churn hazard before and from each launch month, the change, its corrected p-value and the verdict."""
    change = analysis.hazard_change
    if change.empty:
        return _note("no market in scope has launched the initiative")
    return _styled(
        {
            "market": change["market"],
            "launch month": [f"{m:%b %Y}" for m in change["launch_month"]],
            "hazard before": change["hazard_before"].map(lambda v: fmt.percent(v, 2)),
            "hazard after": change["hazard_after"].map(lambda v: fmt.percent(v, 2)),
            "change": change["difference"].map(lambda v: fmt.points(v, 2)),
            "95% CI": [
                fmt.points_interval(lo, hi, 2)
                for lo, hi in zip(change["difference_ci_low"], change["difference_ci_high"], strict=True)
            ],  # fmt: skip
            "Holm p": [fmt.p_value(p) for p in change["p_value_adjusted"]],
            "real": ["yes" if r else "no" for r in change["real"]],
        },
        index="market",
    )


def clv_table(analysis: RetentionAnalysis) -> Styler | pd.DataFrame:
    """Mean CLV per currency and segment with its interval; small segments suppressed."""
    clv = analysis.clv
    if clv.empty:
        return _note("no customer value could be estimated (see the findings)")
    small = clv["too_small"].astype(bool)
    return _styled(
        {
            "currency": clv["currency"],
            "segment": clv["segment"],
            "customers": clv["customers"].map(fmt.count),
            "mean CLV": [
                "suppressed" if s else fmt.money(v, c)
                for s, v, c in zip(small, clv["mean_clv"], clv["currency"], strict=True)
            ],  # fmt: skip
            "95% CI": ["–" if s else _clv_interval(row) for s, row in zip(small, clv.itertuples(), strict=True)],
        },
        index=["currency", "segment"],
    )


def revenue_table(analysis: RetentionAnalysis) -> Styler | pd.DataFrame:
    """Per currency: customers, repeat buyers, revenue and the repeat buyers' share of it with its interval."""
    revenue = analysis.repeat_revenue
    if revenue.empty:
        return _note("no orders in this market and period")
    return _styled(
        {
            "currency": revenue["currency"],
            "customers": revenue["customers"].map(fmt.count),
            "repeat buyers": revenue["repeat_buyers"].map(fmt.count),
            "revenue": [fmt.money(v, c) for v, c in zip(revenue["revenue"], revenue["currency"], strict=True)],
            "repeat buyers' share": revenue["share"].map(fmt.percent),
            "95% CI": _intervals(revenue, "share"),
        },
        index="currency",
    )


def _note(message: str) -> pd.DataFrame:
    """The one-cell table shown instead of an empty one."""
    return pd.DataFrame({"": [message]})


def _styled(columns: dict, index: str | list[str]) -> Styler:
    """The table of ``columns`` (already formatted), indexed by ``index`` and escaped for display."""
    return escaped_style(pd.DataFrame(columns).set_index(index))


def _intervals(frame: pd.DataFrame, column: str) -> list[str]:
    """``column``'s interval (``<column>_ci_low`` to ``<column>_ci_high``, fractions) per row, in %."""
    return [
        fmt.interval(lo, hi, label=False)
        for lo, hi in zip(frame[f"{column}_ci_low"], frame[f"{column}_ci_high"], strict=True)
    ]
