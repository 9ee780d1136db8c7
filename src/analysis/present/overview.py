"""Charts, tables and findings sentences for the data-overview notebook (numbers come from metrics.overview)."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from analysis.present import formatting as fmt
from analysis.present.findings import findings_markdown  # noqa: F401  (re-exported for the notebook)
from analysis.present.theme import small_multiples


def overview_findings(
    scope_label: str, coverage: pd.DataFrame, kpis: pd.DataFrame, change: dict, problems: int
) -> list[str]:
    """Plain sentences on what data there is, its validity and the headline KPIs, each estimate with its interval."""
    rows = coverage.set_index("table")["rows"]
    sentences = [
        f"Scope: {scope_label}. {fmt.count(rows.get('events', 0))} events, "
        f"{fmt.count(kpis.sessions.sum())} sessions and {fmt.count(rows.get('orders', 0))} orders are in scope.",
        "All contract checks passed."
        if problems == 0
        else f"**{problems} data problem(s)** were found; read the Validation section before trusting any figure.",
    ]
    sessions, converting = kpis.sessions.sum(), kpis.converting_sessions.sum()
    if sessions:
        overall = converting / sessions
        sentences.append(
            f"Overall {fmt.percent(overall, 2)} of sessions ended in a purchase "
            f"({fmt.count(converting)} of {fmt.count(sessions)})."
        )
    if len(kpis) >= 2 and not pd.isna(change["difference"]):
        direction = "rose" if change["ci_low"] > 0 else "fell" if change["ci_high"] < 0 else "did not change clearly"
        sentences.append(
            f"Conversion {direction} from {fmt.percent(change['early_rate'], 2)} in the first periods to "
            f"{fmt.percent(change['late_rate'], 2)} in the last ({fmt.points(change['difference'], 2)}, "
            f"{fmt.points_interval(change['ci_low'], change['ci_high'], digits=2)})."
        )
    if "revenue" in kpis and kpis.currency.nunique() == 1 and kpis.currency.iloc[0] != "mixed":
        sentences.append(f"Revenue in scope: {fmt.money(kpis.revenue.sum(), kpis.currency.iloc[0])}.")
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


def coverage_table(coverage: pd.DataFrame) -> pd.DataFrame:
    """The coverage frame formatted for reading: counts with separators, dates as days."""
    shown = coverage.copy()
    shown["rows"] = shown["rows"].map(fmt.count)
    for column in ("first", "last"):
        shown[column] = shown[column].dt.strftime("%Y-%m-%d").fillna("–")
    shown["markets"] = shown["markets"].map(lambda n: "–" if pd.isna(n) else f"{int(n)}")
    return shown.set_index("table")


def validation_summary(report) -> Markdown:
    """The validation report of :func:`analysis.sources.validate_data_dir` as readable Markdown."""
    checked = ", ".join(f"{table} ({fmt.count(rows)} rows)" for table, rows in report.rows.items())
    if report.ok:
        return Markdown(f"All contract checks passed on {len(report.rows)} tables: {checked}.")
    problems = "\n".join(f"- {violation}" for violation in report.violations)
    return Markdown(f"**{len(report.violations)} problem(s)** in {report.data_dir}:\n\n{problems}")


def kpi_table(kpis: pd.DataFrame) -> pd.DataFrame:
    """The KPI frame formatted for reading, one row per period."""
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


def plot_kpis(kpis: pd.DataFrame):
    """Small multiples of sessions, conversion (with its 95% band), orders, revenue and active sellers."""
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
