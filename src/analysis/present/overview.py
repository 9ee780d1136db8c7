"""Charts, tables and findings sentences for the data-overview notebook; every number comes from an OverviewAnalysis."""

from __future__ import annotations

from datetime import date

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown

from analysis.contract import ALL_MARKETS
from analysis.metrics.overview import OverviewAnalysis
from analysis.present import formatting as fmt
from analysis.present.findings import escape
from analysis.present.theme import mark_launches, small_multiples


def findings(analysis: OverviewAnalysis) -> list[str]:
    """The key findings: what data there is, its validity, the headline KPIs, then the initiatives in scope.

    A scope without events gives one finding that says so (and how many events lie outside the period), then the
    validation status; nothing else can be stated.
    """
    if analysis.empty:
        return [no_events_sentence(analysis), *validation_sentences(analysis)]
    return overview_findings(analysis) + initiative_sentences(analysis.initiatives, analysis.scope.end)


def no_events_sentence(analysis: OverviewAnalysis) -> str:
    """'No events for DE between 1 Jan 2025 and 30 Jun 2026.', with the events the period leaves out, if any."""
    scope = analysis.scope
    where = "any market" if scope.market == ALL_MARKETS else scope.market
    sentence = f"No events for {where} between {_day(scope.start)} and {_day(scope.end)}."
    outside = analysis.events_outside_period
    if outside:
        sentence += f" {fmt.count(outside)} events{_of(scope.market)} fall outside this period."
    elif scope.market != ALL_MARKETS:
        sentence += f" The data hold no events for {where} at all."
    return sentence


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _of(market: str) -> str:
    return "" if market == ALL_MARKETS else f" of {market}"


def validation_sentences(analysis: OverviewAnalysis) -> list[str]:
    """Whether the data met the contract, and how many warnings they drew (nothing when they were not validated)."""
    report = analysis.validation
    if report is None:
        return []
    if report.violations:
        problems = len(report.violations)
        return [f"{problems} data problem(s) were found; read the Validation section before trusting any figure."]
    if report.warnings:
        return [f"All contract checks passed, with {len(report.warnings)} warning(s); see the Validation section."]
    return ["All contract checks passed."]


def overview_findings(analysis: OverviewAnalysis) -> list[str]:
    """Plain sentences on what data there is, its validity and the headline KPIs, each estimate with its interval."""
    totals, kpis, change = analysis.totals, analysis.kpis, analysis.conversion_change
    sentences = [
        f"Scope: {analysis.scope.label}. {fmt.count(totals['events'])} events, "
        f"{fmt.count(totals['sessions'])} sessions and {fmt.count(totals['orders'])} orders are in scope."
    ]
    if analysis.events_outside_period:
        sentences.append(
            f"{fmt.count(analysis.events_outside_period)} events{_of(analysis.scope.market)} fall outside the period "
            "and are left out of every figure below."
        )
    sentences += validation_sentences(analysis)
    if totals["sessions"]:
        sentences.append(
            f"Overall {fmt.percent(totals['conversion_rate'], 2)} of sessions ended in a purchase "
            f"({fmt.count(totals['converting_sessions'])} of {fmt.count(totals['sessions'])})."
        )
    if len(kpis) >= 2 and not pd.isna(change["difference"]):
        low, high = change["difference_ci_low"], change["difference_ci_high"]
        rose = change["difference"] > 0
        direction = ("rose" if rose else "fell") if change["real"] else "moved"
        sentences.append(
            f"Conversion {direction} from {fmt.percent(change['early_rate'], 2)} in the first periods to "
            f"{fmt.percent(change['late_rate'], 2)} in the last ({fmt.points(change['difference'], 2)}, "
            f"{fmt.points_interval(low, high, digits=2)}, {fmt.p_text(change['p_value'])})"
            + ("." if change["real"] else ", within the noise.")
        )
    if totals["currency"] is not None:
        sentences.append(f"Revenue in scope: {fmt.money(totals['revenue'], totals['currency'])}.")
    return sentences


def initiative_sentences(initiatives: pd.DataFrame, scope_end) -> list[str]:
    """Which initiatives went live in scope and when, with their targets; their effect is another notebook's job."""
    sentences = []
    for (name, kpi, low, high), rows in initiatives.groupby(["name", "target_kpi", "target_low", "target_high"]):
        live = rows[rows.launch_date.notna() & (rows.launch_date <= pd.Timestamp(scope_end))]
        target = f"target {kpi} {low:+.0%} to {high:+.0%}"
        if live.empty:
            sentences.append(f"Initiative '{name}' ({target}) had not launched here by the end of the period.")
            continue
        launches = ", ".join(f"{row.market} {row.launch_date:%d %b %Y}" for row in live.itertuples())
        sentences.append(
            f"Initiative '{name}' ({target}) went live in {launches}; a change after launch mixes its effect with "
            "the trend, so compare with untreated markets before crediting it."
        )
    return sentences


def coverage_table(analysis: OverviewAnalysis) -> pd.DataFrame:
    """The coverage frame formatted for reading: counts with separators, dates as days, '–' where nothing applies."""
    shown = analysis.coverage.copy()
    shown["rows"] = shown["rows"].map(fmt.count)
    shown["outside_period"] = shown["outside_period"].map(lambda n: "–" if pd.isna(n) else fmt.count(n))
    for column in ("first", "last"):
        shown[column] = shown[column].dt.strftime("%Y-%m-%d").fillna("–")
    shown["markets"] = shown["markets"].map(lambda n: "–" if pd.isna(n) else f"{int(n)}")
    return shown.rename(columns={"outside_period": "outside period"}).set_index("table")


def validation_summary(analysis: OverviewAnalysis) -> Markdown:
    """The validation report of :func:`analysis.sources.validate_data_dir` as readable Markdown.

    Files are named relative to the data folder, the folder by its name; every problem is escaped (it may quote a
    value from the data; identifiers are never among them, validation withholds them).
    """
    report = analysis.validation
    if report is None:
        return Markdown("The data were not validated against the contract.")
    folder = escape(report.data_dir.name)
    checked = ", ".join(f"{escape(table)} ({fmt.count(rows)} rows)" for table, rows in report.rows.items())
    if report.ok:
        parts = [f"All contract checks passed on {len(report.rows)} tables of the data folder {folder}: {checked}."]
    else:
        listed = "\n".join(f"- {escape(v.describe(report.data_dir))}" for v in report.violations)
        parts = [f"**{len(report.violations)} problem(s)** in the data folder {folder}:\n\n{listed}"]
    if report.warnings:
        listed = "\n".join(f"- {escape(w.describe(report.data_dir))}" for w in report.warnings)
        parts.append(f"**{len(report.warnings)} warning(s)**:\n\n{listed}")
    if report.cached and report.validated_at is not None:
        parts.append(
            f"Checked once for the run at {report.validated_at:%Y-%m-%d %H:%M} UTC; the files have not changed since."
        )
    return Markdown("\n\n".join(parts))


def kpi_table(analysis: OverviewAnalysis) -> pd.DataFrame | Markdown:
    """The KPI frame formatted for reading, one row per period; a sentence saying so when there is no period."""
    if analysis.kpis.empty:
        return Markdown(escape(f"No periods to show: {no_events_sentence(analysis)}"))
    kpis = analysis.kpis
    shown = pd.DataFrame({"period": kpis.period.dt.strftime("%Y-%m-%d")})
    shown["sessions"] = kpis.sessions.map(fmt.count)
    shown["conversion"] = kpis.conversion_rate.map(lambda rate: fmt.percent(rate, 2))
    shown["95% CI"] = [
        fmt.interval(lo, hi, digits=2, label=False)
        for lo, hi in zip(kpis.conversion_ci_low, kpis.conversion_ci_high, strict=True)
    ]
    if "orders" in kpis:
        shown["orders"] = kpis.orders.map(fmt.count)
        shown["revenue"] = [fmt.money(amount, cur) for amount, cur in zip(kpis.revenue, kpis.currency, strict=True)]
    if "active_sellers" in kpis:
        shown["active sellers"] = kpis.active_sellers.map(fmt.count)
    return shown.set_index("period")


def plot_kpis(analysis: OverviewAnalysis):
    """Small multiples of sessions, conversion (with its 95% band), orders, revenue and active sellers.

    Without periods to plot the figure is one empty panel that says why, so the report never shows a blank chart.
    """
    kpis = analysis.kpis
    if kpis.empty:
        figure, axis = plt.subplots(figsize=(9, 2))
        axis.text(0.5, 0.5, f"Nothing to plot. {no_events_sentence(analysis)}", ha="center", va="center", wrap=True)
        axis.set_axis_off()
        return figure
    panels = [("sessions", "Sessions"), ("conversion_rate", "Conversion rate (95% CI)"), ("orders", "Orders")]
    if "revenue" in kpis and kpis.revenue.notna().any():
        panels.append(("revenue", f"Revenue ({kpis.currency.dropna().iloc[0]})"))
    if "active_sellers" in kpis:
        panels.append(("active_sellers", "Active sellers"))
    panels = [(column, title) for column, title in panels if column in kpis]
    figure, axes = small_multiples(len(panels))
    for axis, (column, title) in zip(axes, panels, strict=True):
        axis.plot(kpis.period, kpis[column], marker="o", markersize=3)
        if column == "conversion_rate":
            axis.fill_between(kpis.period, kpis.conversion_ci_low, kpis.conversion_ci_high, alpha=0.25)
            axis.yaxis.set_major_formatter(lambda value, _: fmt.percent(value))
        axis.set_title(title)
        axis.set_ylim(bottom=0)
        launches = zip(analysis.initiatives["market"], analysis.initiatives["launch_date"], strict=True)
        mark_launches(axis, launches, kpis.period.min(), kpis.period.max())
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
