"""What each report records for the run's summary: its headline, KPIs (with their trend) and verdicts.

One helper per report and kind of record, called by the notebook's last cell (``record-results``) with the analysis
and the findings the report printed. Every text is one the report itself prints: a KPI's value and interval are
formatted by the same formatter as its finding, a headline is one of the findings (a funnel's or overview's without
its "Scope: …" opening), a change's verdict is the report's own sentence with the direction its test decided. A trend
is the series the report shows in a table or chart, each value as the report's table formats it. Nothing here
decides whether a change is real: that is read from the analysis' ``real`` columns, as the report reads them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.present import benchmark, experiment, impact, overview, retention
from analysis.present import formatting as fmt
from analysis.present.labels import kpi_label
from analysis.present.results import VERDICTS, Kpi, Verdict

SCOPE_PREFIX = re.compile(r"^Scope: [^.]*\. ")  # "Scope: DE, 01 Jan 2025 to 30 Jun 2026. " opening a finding
PERIOD_WORDS = {"week": "weekly", "month": "monthly", "quarter": "quarterly"}
CHANGE_SENTENCE_STARTS = ("Conversion rose from", "Conversion fell from", "Conversion moved from")
GAP_TRENDS = {"closing": "fall", "widening": "rise", "no clear trend": "none"}  # the gap to the leader's direction


def without_scope(sentence: str) -> str:
    """A finding without its "Scope: <market, period>. " opening (the summary names market and period already)."""
    return SCOPE_PREFIX.sub("", sentence, count=1)


def _starting(sentences: Sequence[str], *starts: str) -> str:
    """The first sentence that opens with one of ``starts``, or ``""``."""
    return next((sentence for sentence in sentences if sentence.startswith(starts)), "")


def _rate_kpi(name: str, label: str, rate: float, low: float, high: float, **rest: Any) -> Kpi:
    """A rate with its interval, both printed as the report prints them (percent)."""
    return Kpi(name, label, fmt.percent(rate), rate, low, high, fmt.interval(low, high), **rest)


def _percent_trend(periods: Sequence[str], rates: Sequence[float]) -> tuple[tuple[str, float, str], ...]:
    """A trend of rates: (period label, rate, rate as the report's table prints it) per period."""
    return tuple((period, rate, fmt.percent(rate)) for period, rate in zip(periods, rates, strict=True))


def _direction(real: Any, difference: float) -> str:
    """The report's call on a change: a real rise or fall by its test's ``real`` column, else ``"none"``."""
    if not bool(real):
        return "none"
    return "rise" if difference > 0 else "fall"


# funnel


def funnel_kpis(analysis: Any, sentences: Sequence[str] | None = None) -> list[Kpi]:
    """The funnel report's headline KPIs, as its findings print them.

    Conversion from the first to the last step with its Wilson 95% interval and its weekly trend (the weekly chart's
    points, by the week a unit started), and cart abandonment with its interval; none when no unit started the
    funnel. The funnel makes no call on the weekly trend, so no change is recorded. ``sentences`` is not needed
    (accepted for a uniform call).
    """
    if analysis.started == 0:
        return []
    last = analysis.overall.iloc[-1]
    weekly = analysis.weekly
    kpis = [
        _rate_kpi(
            "conversion_rate",
            kpi_label("conversion_rate"),
            last.conversion_from_first,
            last.conversion_from_first_ci_low,
            last.conversion_from_first_ci_high,
            trend=_percent_trend([f"{week:%Y-%m-%d}" for week in weekly["week"]], weekly["conversion"]),
            trend_label=f"weekly, by the week a {analysis.unit} started (the weekly chart)" if len(weekly) else "",
        )
    ]
    carts = analysis.abandonment_overall.iloc[0]
    if carts.trials:
        kpis.append(
            _rate_kpi(
                "cart_abandonment_rate",
                kpi_label("cart_abandonment_rate"),
                carts.rate,
                carts.rate_ci_low,
                carts.rate_ci_high,
            )
        )
    return kpis


def funnel_headline(analysis: Any, sentences: Sequence[str]) -> str:
    """The funnel's first finding (overall conversion, or why there is none) without its "Scope: …" opening."""
    return without_scope(sentences[0]) if sentences else ""


# data overview


def overview_kpis(analysis: Any, sentences: Sequence[str] | None = None) -> list[Kpi]:
    """The data overview's totals as its findings print them, each with its series from the KPI table.

    Orders, sessions, session conversion and revenue; each trend is the KPI table's column (one point per period,
    labelled and formatted as the table shows it). Session conversion carries the report's sentence on conversion's
    change (first against last periods) and the direction its test decided. ``sentences`` are the report's findings
    (computed when None).
    """
    if analysis.empty:
        return []
    sentences = overview.findings(analysis) if sentences is None else sentences
    totals, change = analysis.totals, analysis.conversion_change
    table = overview.kpi_table(analysis)
    series = analysis.kpis
    has_table = isinstance(table, pd.DataFrame)
    words = f"{PERIOD_WORDS.get(analysis.freq, analysis.freq)}, as in the KPI table"

    def trend(column: str, shown: str) -> dict[str, Any]:
        if not has_table or column not in series or shown not in table:
            return {}
        points = zip(table.index, series[column], table[shown], strict=True)
        return {"trend": tuple((str(label), value, str(text)) for label, value, text in points), "trend_label": words}

    kpis = [
        Kpi("orders", "Orders", fmt.count(totals["orders"]), totals["orders"], **trend("orders", "orders")),
        Kpi("sessions", "Sessions", fmt.count(totals["sessions"]), totals["sessions"], **trend("sessions", "sessions")),
    ]
    if totals["sessions"]:
        rate = totals["conversion_rate"]
        said = _starting(sentences, *CHANGE_SENTENCE_STARTS)
        kpis.append(
            Kpi(
                "session_conversion_rate",
                "Session conversion",
                fmt.percent(rate, 2),
                rate,
                **trend("conversion_rate", "conversion"),
                change=said,
                change_direction=_direction(change["real"], change["difference"]) if said else "",
            )
        )
    if totals["currency"] is not None:
        revenue = totals["revenue"]
        kpis.append(
            Kpi("revenue", "Revenue", fmt.money(revenue, totals["currency"]), revenue, **trend("revenue", "revenue"))
        )
    return kpis


def overview_headline(analysis: Any, sentences: Sequence[str]) -> str:
    """Conversion's change from the first to the last periods, as the overview says it; failing that, the
    overall session conversion; failing that, the first finding without its "Scope: …" opening."""
    chosen = _starting(sentences, *CHANGE_SENTENCE_STARTS) or _starting(sentences, "Overall ")
    return chosen or (without_scope(sentences[0]) if sentences else "")


# post-initiative results


def impact_verdicts(analysis: Any) -> list[Verdict]:
    """Each initiative KPI with a target: its effect (as the findings print it) and the verdict against the target."""
    return [
        Verdict(
            row["kpi"],
            kpi_label(row["kpi"]),
            row["verdict"],
            impact.effect_text(analysis, row),
            impact.target_text(row["target_low"], row["target_high"]),
        )
        for _, row in impact.in_kpi_order(analysis.effects).iterrows()
        if row["verdict"] in VERDICTS
    ]


# retention and value


def retention_kpis(analysis: Any, sentences: Sequence[str] | None = None) -> list[Kpi]:
    """Seller retention in the last complete quarter (with its Wilson interval) and the repeat-customer rate.

    Each as its finding prints it, with its quarterly series (complete quarters of the report's line, as the
    retention table and the repeat-rate chart show them) and the finding's verdict on its change: seller retention
    against the same quarter a year earlier, the repeat-customer rate from the first to the last quarter (both by
    the report's Holm-corrected test). ``sentences`` are the report's findings (computed when None).
    """
    sentences = retention.findings(analysis) if sentences is None else sentences
    market = analysis.headline_market
    kpis = []
    changes = analysis.retention_change
    rows = changes[changes["market"] == market]
    if not rows.empty:
        row = rows.iloc[0]
        line = analysis.seller_retention
        line = line[(line["market"] == market) & line["complete"]]
        said = _starting(sentences, "Seller retention ") if pd.notna(row["earlier_retention"]) else ""
        kpis.append(
            _rate_kpi(
                "seller_retention",
                "Seller retention, last complete quarter",
                row["retention"],
                row["retention_ci_low"],
                row["retention_ci_high"],
                trend=_percent_trend([str(quarter) for quarter in line["quarter"]], line["retention"]),
                trend_label="quarterly, complete quarters (the retention table)",
                change=said,
                change_direction=_direction(row["real"], row["difference"]) if said else "",
            )
        )
    trend = analysis.repeat_trend
    rows = trend[trend["market"] == market]
    if not rows.empty:
        row = rows.iloc[0]
        line = analysis.repeat_rate
        line = line[(line["market"] == market) & line["complete"]]
        said = _starting(sentences, "Repeat-customer rate ")
        kpis.append(
            Kpi(
                "repeat_customer_rate",
                kpi_label("repeat_customer_rate"),
                fmt.percent(row["last_rate"]),
                row["last_rate"],
                trend=_percent_trend([str(period) for period in line["period"]], line["rate"]),
                trend_label="quarterly, complete quarters (the repeat-rate chart)",
                change=said,
                change_direction=_direction(row["real"], row["difference"]) if said else "",
            )
        )
    return kpis


# experiment readout


def _primary_sentence(analysis: Any, sentences: Sequence[str]) -> str:
    return _starting(sentences, f"{experiment.metric_label(analysis.primary).capitalize()}: ")


def experiment_kpis(analysis: Any, sentences: Sequence[str] | None = None) -> list[Kpi]:
    """The primary metric's relative lift with its 95% interval, as the readout prints it, and the readout's call
    on it (a real lift or fall by the corrected test, or within the noise); none without an experiment.
    ``sentences`` are the report's findings (computed when None)."""
    if not analysis.has_experiment:
        return []
    sentences = experiment.findings(analysis) if sentences is None else sentences
    row = analysis.primary_row
    text, _, interval = experiment.lift_text(row).partition(" (")
    said = _primary_sentence(analysis, sentences)
    return [
        Kpi(
            f"{analysis.primary}_lift",
            f"{experiment.metric_label(analysis.primary).capitalize()} lift ({row['arm']} against {analysis.control})",
            text,
            row["relative_lift"],
            row["relative_lift_ci_low"],
            row["relative_lift_ci_high"],
            interval.removesuffix(")"),
            change=said,
            change_direction=_direction(row["real"], row["relative_lift"]) if said else "",
        )
    ]


def experiment_verdicts(analysis: Any, sentences: Sequence[str] | None = None) -> list[Verdict]:
    """The primary lift against the target, when the readout states one: met when its sentence says the whole
    interval exceeds or lies within the target, missed when it falls short, inconclusive when it overlaps.

    The verdict is the readout's own statement (read from its sentence, never judged again here); the estimate and
    the target are the texts the sentence prints. ``sentences`` are the report's findings (computed when None).
    """
    if not analysis.has_experiment or analysis.target_low is None:
        return []
    sentences = experiment.findings(analysis) if sentences is None else sentences
    said = _primary_sentence(analysis, sentences)
    _, found, statement = said.partition("; the target is ")
    target, _, ending = statement.removesuffix(".").partition(", ")
    if not found or ending not in experiment.TARGET_STATEMENTS:
        return []
    return [
        Verdict(
            analysis.primary,
            experiment.metric_label(analysis.primary).capitalize(),
            experiment.TARGET_STATEMENTS[ending],
            experiment.lift_text(analysis.primary_row),
            target,
        )
    ]


def experiment_headline(analysis: Any, sentences: Sequence[str]) -> str:
    """The primary metric's readout, unless the sample-ratio check failed (then its warning, the first finding)."""
    if analysis.has_experiment and not analysis.srm.flagged:
        chosen = _primary_sentence(analysis, sentences)
        if chosen:
            return chosen
    return sentences[0] if sentences else ""


# competitive benchmarking


def benchmark_kpis(analysis: Any, sentences: Sequence[str] | None = None) -> list[Kpi]:
    """The client's gap to the leader on conversion, as the findings print it (``"1.7 pts"``; ``"leads"`` when the
    client is the leader), with the gap per quarter and the report's call on its trend (the Holm-corrected slope:
    a narrowing gap falls, a widening one rises). None when the client has no conversion value. ``sentences`` is
    not needed (accepted for a uniform call)."""
    card = analysis.client_scorecard
    if "conversion_rate" not in card.index or pd.isna(card.loc["conversion_rate", "rank"]):
        return []
    row = card.loc["conversion_rate"]
    gaps = analysis.trends.gaps
    gaps = gaps[gaps["kpi"] == "conversion_rate"]
    leads = int(row["rank"]) == 1
    trends = analysis.trends.gap_trends
    found = trends[(trends["kpi"] == "conversion_rate") & (trends["reference"] == "leader")]
    said = "" if leads else benchmark.trend_clause(analysis, "conversion_rate", row["unit"])
    called = not found.empty and pd.notna(found.iloc[0]["slope"])
    return [
        Kpi(
            "conversion_gap_to_leader",
            f"Conversion: {analysis.client}'s gap to the leader",
            "leads" if leads else benchmark.gap_text(row["gap_to_best"], row["unit"]),
            abs(row["gap_to_best"]),
            trend=tuple(
                (str(period), abs(gap), benchmark.gap_text(gap, row["unit"]))
                for period, gap in zip(gaps["period"], gaps["gap_to_best"], strict=True)
            ),
            trend_label="quarterly gap to that quarter's leader (the benchmark trends)" if len(gaps) else "",
            change=said if called else "",
            change_direction=GAP_TRENDS.get(found.iloc[0]["trend"], "") if said and called else "",
        )
    ]


def benchmark_headline(analysis: Any, sentences: Sequence[str]) -> str:
    """The client's composite standing (rank, score and its robustness to the weights); the first finding when the
    report does not state it."""
    chosen = benchmark.composite_sentence(analysis)
    return chosen if chosen in sentences else (sentences[0] if sentences else "")
