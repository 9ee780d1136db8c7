"""Charts, tables and findings sentences for the data-overview notebook; every number comes from an OverviewAnalysis."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from analysis.metrics.overview import OverviewAnalysis
from analysis.present import formatting as fmt
from analysis.present.theme import small_multiples


def findings(analysis: OverviewAnalysis) -> list[str]:
    """The key findings: what data there is, its validity, the headline KPIs, then the initiatives in scope."""
    return overview_findings(analysis) + initiative_sentences(analysis.initiatives, analysis.scope.end)


def overview_findings(analysis: OverviewAnalysis) -> list[str]:
    """Plain sentences on what data there is, its validity and the headline KPIs, each estimate with its interval."""
    totals, kpis, change = analysis.totals, analysis.kpis, analysis.conversion_change
    sentences = [
        f"Scope: {analysis.scope.label}. {fmt.count(totals['events'])} events, "
        f"{fmt.count(totals['sessions'])} sessions and {fmt.count(totals['orders'])} orders are in scope."
    ]
    if analysis.validation is not None:
        problems = len(analysis.validation.violations)
        sentences.append(
            "All contract checks passed."
            if problems == 0
            else f"{problems} data problem(s) were found; read the Validation section before trusting any figure."
        )
    if totals["sessions"]:
        sentences.append(
            f"Overall {fmt.percent(totals['conversion_rate'], 2)} of sessions ended in a purchase "
            f"({fmt.count(totals['converting_sessions'])} of {fmt.count(totals['sessions'])})."
        )
    if len(kpis) >= 2 and not pd.isna(change["difference"]):
        low, high = change["difference_ci_low"], change["difference_ci_high"]
        direction = "rose" if low > 0 else "fell" if high < 0 else "did not change clearly"
        sentences.append(
            f"Conversion {direction} from {fmt.percent(change['early_rate'], 2)} in the first periods to "
            f"{fmt.percent(change['late_rate'], 2)} in the last ({fmt.points(change['difference'], 2)}, "
            f"{fmt.points_interval(low, high, digits=2)})."
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
    """The coverage frame formatted for reading: counts with separators, dates as days."""
    shown = analysis.coverage.copy()
    shown["rows"] = shown["rows"].map(fmt.count)
    for column in ("first", "last"):
        shown[column] = shown[column].dt.strftime("%Y-%m-%d").fillna("–")
    shown["markets"] = shown["markets"].map(lambda n: "–" if pd.isna(n) else f"{int(n)}")
    return shown.set_index("table")


def validation_summary(analysis: OverviewAnalysis) -> Markdown:
    """The validation report of :func:`analysis.sources.validate_data_dir` as readable Markdown."""
    report = analysis.validation
    if report is None:
        return Markdown("The data were not validated against the contract.")
    checked = ", ".join(f"{table} ({fmt.count(rows)} rows)" for table, rows in report.rows.items())
    if report.ok:
        return Markdown(f"All contract checks passed on {len(report.rows)} tables: {checked}.")
    problems = "\n".join(f"- {violation}" for violation in report.violations)
    return Markdown(f"**{len(report.violations)} problem(s)** in {report.data_dir}:\n\n{problems}")


def kpi_table(analysis: OverviewAnalysis) -> pd.DataFrame:
    """The KPI frame formatted for reading, one row per period."""
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
    """Small multiples of sessions, conversion (with its 95% band), orders, revenue and active sellers."""
    kpis = analysis.kpis
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
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure
