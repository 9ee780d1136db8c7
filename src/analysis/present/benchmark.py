"""Findings, tables and charts for the benchmarking notebook; every number comes from a :class:`BenchmarkAnalysis`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from analysis.contract import ALL_MARKETS
from analysis.metrics.benchmark import BenchmarkAnalysis
from analysis.present import formatting as fmt
from analysis.present.findings import escaped_style
from analysis.present.theme import BAR_COLOUR, HIGHLIGHT_COLOUR, REFERENCE_COLOUR, empty_figure, small_multiples

KPI_LABELS = {
    "conversion_rate": "conversion",
    "cart_abandonment_rate": "cart abandonment",
    "repeat_customer_rate": "repeat customers",
    "csat": "CSAT",
    "csat_top_two_box": "CSAT top-two box",
    "nps": "NPS",
    "market_share": "market share",
    "seller_retention_rate": "seller retention",
    "order_fulfilment_days": "fulfilment time",
}
INDEX_COLOURS = "RdYlGn"  # red (far from the best) .. green (the best) on the shared 0..100 index scale


def kpi_label(kpi: str) -> str:
    """The reader's name of a KPI: ``'conversion_rate'`` -> ``'conversion'``; unknown KPIs keep their name."""
    return KPI_LABELS.get(kpi, kpi.replace("_", " "))


def value_text(value: float, unit: str) -> str:
    """A KPI value in its unit: fractions as %, days with their unit, scores with two decimals."""
    if _missing(value):
        return "–"
    if unit == "fraction":
        return fmt.percent(value)
    if unit == "days":
        return f"{value:.1f} days"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"


def gap_text(gap: float, unit: str) -> str:
    """The size of a gap in the KPI's unit, unsigned: '1.4 pts', '0.6 days', '0.44'."""
    if _missing(gap):
        return "–"
    if unit == "fraction":
        return f"{abs(gap) * 100:.1f} pts"
    return f"{abs(gap):.1f} days" if unit == "days" else f"{abs(gap):,.2f}"


def slope_interval(low: float, high: float, unit: str) -> str:
    """The 95% interval of a slope in the KPI's unit (signed): '95% CI -0.2 to +0.6 pts a quarter'."""
    if _missing(low) or _missing(high):
        return "95% CI unavailable"
    scale, suffix = (100, " pts") if unit == "fraction" else (1, " days" if unit == "days" else "")
    return f"95% CI {low * scale:+.2f} to {high * scale:+.2f}{suffix} a quarter"


def ordinal(number: float) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    number = int(number)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def where(analysis: BenchmarkAnalysis) -> str:
    """'in DE' or 'across all markets (unweighted mean of market values)'."""
    return "across all markets" if analysis.market == ALL_MARKETS else f"in {analysis.market}"


def findings(analysis: BenchmarkAnalysis) -> list[str]:
    """Sentences a reviewer reads first: standing, each gap with its trend and interval, value chain, share, value."""
    client, card = analysis.client, analysis.client_scorecard
    rivals = len(analysis.companies) - 1
    sentences = [
        f"{client} against {rivals} rival(s) {where(analysis)} in {analysis.period}, on {len(card)} KPIs"
        + (
            " (each company's value is the unweighted mean of its market values)."
            if analysis.market == ALL_MARKETS
            else "."
        )
    ]
    sentences.append(composite_sentence(analysis))
    leads = card[card["rank"] == 1]
    if len(leads):
        sentences.append(f"{client} leads on " + ", ".join(kpi_label(kpi) for kpi in leads.index) + ".")
    trailing = card[(card["rank"] > 1)].sort_values("index_to_best")
    sentences.extend(gap_sentence(analysis, kpi) for kpi in trailing.index)
    if analysis.weakest_stage is not None:
        sentences.append(value_chain_sentence(analysis))
    share = market_share_sentence(analysis)
    if share:
        sentences.append(share)
    sentences.extend(missing_sentences(analysis))
    sentences.extend(own_data_sentences(analysis))
    return sentences


def composite_sentence(analysis: BenchmarkAnalysis) -> str:
    """The client's composite rank and how often it stays in the top k when the weights move."""
    composite = analysis.composite
    mine = composite[composite["is_client"]].iloc[0]
    scored = int(composite["rank"].notna().sum())
    weights = "equal weights" if analysis.kpi_weights.nunique() == 1 else "the chosen weights"
    if _missing(mine["rank"]):
        return f"{analysis.client} has too few KPIs for a composite score ({weights})."
    return (
        f"On the composite of {len(analysis.kpi_weights)} KPIs ({weights}, index to best), {analysis.client} ranks "
        f"{ordinal(mine['rank'])} of {scored} (score {mine['composite_score']:.0f} of 100); it ranks in the top "
        f"{analysis.top_k} in {fmt.percent(mine['p_top_k'], 0)} of {fmt.count(analysis.n_simulations)} weight draws "
        "around these weights."
    )


def gap_sentence(analysis: BenchmarkAnalysis, kpi: str) -> str:
    """'Craftly trails GlobalBazaar on conversion by 1.4 pts (index 91, 2nd of 5); …' with the gap's trend."""
    row = analysis.client_scorecard.loc[kpi]
    card = analysis.scorecard[analysis.scorecard["kpi"] == kpi]
    leader = card.loc[card["rank"] == 1, "company"].sort_values().iloc[0]
    ranked = int(card["rank"].notna().sum())
    best = row["value"] - row["gap_to_best"] * (-1.0 if row["direction"] == "lower" else 1.0)
    sentence = (
        f"{analysis.client} trails {leader} on {kpi_label(kpi)} by {gap_text(row['gap_to_best'], row['unit'])} "
        f"(index {row['index_to_best']:.0f}, {ordinal(row['rank'])} of {ranked}; "
        f"{value_text(row['value'], row['unit'])} against {value_text(best, row['unit'])})"
    )
    return sentence + "; " + trend_clause(analysis, kpi, row["unit"]) + "."


def trend_clause(analysis: BenchmarkAnalysis, kpi: str, unit: str) -> str:
    """What the gap to the leader did over the window, decided by the same Holm-corrected test as the table."""
    trends = analysis.trends.gap_trends
    found = trends[(trends["kpi"] == kpi) & (trends["reference"] == "leader")]
    if found.empty or _missing(found.iloc[0]["slope"]):
        return "too few quarters to tell whether the gap moves"
    trend = found.iloc[0]
    since = f"since {trend['first_period']}"
    interval = slope_interval(trend["slope_ci_low"], trend["slope_ci_high"], unit)
    if trend["trend"] == "no clear trend":
        return f"no clear trend in the gap {since} ({interval}; Holm p = {_p(trend['p_value_holm'])})"
    return (
        f"the gap has {'narrowed' if trend['trend'] == 'closing' else 'widened'} by "
        f"{gap_text(trend['slope'], unit)} a quarter {since} ({interval}; Holm p = {_p(trend['p_value_holm'])})"
    )


def value_chain_sentence(analysis: BenchmarkAnalysis) -> str:
    """The stage where the client loses most, with its mean index and the KPIs behind it."""
    chain = analysis.value_chain
    row = chain[chain["is_client"] & (chain["stage"] == analysis.weakest_stage)].iloc[0]
    return (
        f"The value-chain stage where {analysis.client} loses most is {analysis.weakest_stage}: mean index "
        f"{row['mean_index_to_best']:.0f} of 100 ({', '.join(kpi_label(kpi) for kpi in row['kpis'].split(', '))})."
    )


def market_share_sentence(analysis: BenchmarkAnalysis) -> str | None:
    """The client's latest market share and its change over the window."""
    shares = analysis.market_share[analysis.market_share["is_client"]]
    if shares.empty:
        return None
    first, last = shares.iloc[0], shares.iloc[-1]
    return (
        f"{analysis.client}'s market share is {fmt.percent(last['share'])} in {last['period']}, "
        f"{fmt.points(last['change_since_start'], 2)} since {first['period']}."
    )


def missing_sentences(analysis: BenchmarkAnalysis) -> list[str]:
    """One sentence per company lacking KPIs: they are left out of those rankings, not read as zero."""
    missing = analysis.scorecard[analysis.scorecard["value"].isna()]
    return [
        f"{company} has no value for {', '.join(kpi_label(k) for k in group['kpi'])} in {analysis.period}; it is "
        "left out of those rankings."
        for company, group in missing.groupby("company", sort=True)
    ]


def own_data_sentences(analysis: BenchmarkAnalysis) -> list[str]:
    """Where the benchmark file disagrees with the client's own data, and what closing gaps is worth."""
    sentences = []
    if analysis.client_kpis is not None and analysis.market == ALL_MARKETS:
        sentences.append(
            "The check of the benchmark rows against the client's own data, and the value of closing a gap, are made "
            "per market (markets differ in weight and currency): see the market reports."
        )
    if analysis.consistency is not None and len(analysis.consistency):
        check = analysis.consistency
        off = check[~check["agrees"]]
        if off.empty:
            sentences.append(
                f"{analysis.client}'s own data agree with its benchmark rows on all {len(check)} KPIs recomputed "
                "(each benchmark value inside the 95% interval of its own data)."
            )
        else:
            named = "; ".join(
                f"{kpi_label(r.kpi)}: benchmark {r.benchmark_value:.4g}, own data {r.own_value:.4g} "
                f"({fmt.interval(r.own_value_ci_low, r.own_value_ci_high, as_percent=False, digits=3)})"
                for r in off.itertuples()
            )
            sentences.append(
                f"The benchmark rows disagree with {analysis.client}'s own data beyond the interval on {named}."
            )
    if analysis.cost_of_gap is not None and len(analysis.cost_of_gap):
        cost = analysis.cost_of_gap
        level = cost[cost["gap_to_median"] >= 0]
        if len(level):
            sentences.append(
                f"{analysis.client} is at or above the peer median on "
                f"{', '.join(kpi_label(kpi) for kpi in level['kpi'])}: no gap there to value."
            )
        for row in cost[cost["gap_to_median"] < 0].itertuples():
            sentences.append(
                f"Closing half the gap to the peer median on {kpi_label(row.kpi)} is worth "
                f"{money_range(row.value_per_quarter_low, row.value_per_quarter_high, row.currency)} a quarter "
                f"{where(analysis)} (central estimate {fmt.money(row.value_per_quarter, row.currency)})."
            )
    return sentences


def money_range(low: float, high: float, currency: str) -> str:
    """'EUR 40,100–55,300'; '–' when either end is missing."""
    if _missing(low) or _missing(high):
        return "–"
    return f"{currency} {low:,.0f}–{high:,.0f}"


def scorecard_table(analysis: BenchmarkAnalysis) -> Styler:
    """KPIs down, companies across (client first), each value coloured by its index to best on one 0..100 scale."""
    card = analysis.scorecard
    order = list(analysis.companies)
    kpis = sorted(card["kpi"].unique(), key=kpi_label)
    texts = card.assign(text=[value_text(v, u) for v, u in zip(card["value"], card["unit"], strict=True)])
    values = texts.pivot(index="kpi", columns="company", values="text").loc[kpis, order]
    index = card.pivot(index="kpi", columns="company", values="index_to_best").loc[kpis, order]
    mine = analysis.client_scorecard.loc[kpis]
    table = values.copy()
    table[f"{analysis.client} rank"] = [
        "–" if _missing(r) else f"{int(r)} of {int(n)}"
        for r, n in zip(mine["rank"], card.groupby("kpi")["rank"].count().loc[kpis], strict=True)
    ]
    table["quartile"] = ["–" if _missing(q) else f"Q{int(q)}" for q in mine["quartile"]]
    table["index"] = [fmt.count(i) for i in mine["index_to_best"]]
    table.index = [kpi_label(kpi) for kpi in kpis]
    gradient = index.to_numpy(dtype=float)
    return escaped_style(table).background_gradient(
        cmap=INDEX_COLOURS, vmin=0, vmax=100, gmap=gradient, axis=None, subset=order
    )


def plot_ranked_bars(analysis: BenchmarkAnalysis):
    """One panel per KPI: companies best first, the client highlighted, each bar labelled with its value."""
    card = analysis.scorecard[analysis.scorecard["value"].notna()]
    kpis = sorted(card["kpi"].unique(), key=kpi_label)
    if not kpis:
        return empty_figure("No KPI values to rank.")
    figure, axes = small_multiples(len(kpis), columns=2, height=2.3)
    for axis in axes:
        axis.xaxis.set_tick_params(labelbottom=True)
    for axis, kpi in zip(axes, kpis, strict=True):
        rows = card[card["kpi"] == kpi].sort_values("rank", ascending=False)
        colours = [HIGHLIGHT_COLOUR if is_client else BAR_COLOUR for is_client in rows["is_client"]]
        axis.barh(rows["company"], rows["index_to_best"], color=colours)
        for position, row in enumerate(rows.itertuples()):
            axis.annotate(value_text(row.value, row.unit), (row.index_to_best, position), xytext=(3, 0),
                          textcoords="offset points", va="center", fontsize=8)  # fmt: skip
        direction = "lower is better" if rows["direction"].iloc[0] == "lower" else "higher is better"
        axis.set_title(f"{kpi_label(kpi)} ({direction})")
        axis.set_xlim(0, 125)
    figure.suptitle(f"Index to best (best = 100), {analysis.period}; {analysis.client} in red")
    figure.tight_layout()
    return figure


def plot_radar(analysis: BenchmarkAnalysis):
    """Every company's index to best on every KPI, one shared 0..100 scale; the client drawn thick."""
    card = analysis.scorecard
    index = card.pivot(index="company", columns="kpi", values="index_to_best")
    index = index.loc[list(analysis.companies), index.notna().any()]
    if index.shape[1] < 3:
        return empty_figure("A radar needs at least three KPIs with values.")
    angles = np.linspace(0, 2 * np.pi, index.shape[1], endpoint=False)
    closed = np.append(angles, angles[0])
    figure, axis = plt.subplots(figsize=(7, 6), subplot_kw={"polar": True})
    for company, values in index.iterrows():
        points = np.append(values.to_numpy(dtype=float), values.iloc[0])
        is_client = company == analysis.client
        axis.plot(closed, points, linewidth=2.8 if is_client else 1.0, label=company,
                  color=HIGHLIGHT_COLOUR if is_client else None, zorder=3 if is_client else 2)  # fmt: skip
    axis.set_xticks(angles, [kpi_label(kpi) for kpi in index.columns], fontsize=9)
    axis.set_ylim(0, 100)
    axis.set_yticks([25, 50, 75, 100], ["25", "50", "75", "100"], fontsize=7, color=REFERENCE_COLOUR)
    axis.set_title(f"Index to best (best = 100), {where(analysis)}, {analysis.period}", pad=20)
    axis.legend(loc="upper right", bbox_to_anchor=(1.35, 1.1), fontsize=8)
    return figure


def plot_quadrant(analysis: BenchmarkAnalysis, x_kpi: str = "conversion_rate", y_kpi: str = "csat"):
    """Companies on two KPIs with the median of each as a dashed line; better is to the right and up."""
    card = analysis.scorecard
    values = card.pivot(index="company", columns="kpi", values="value")
    if x_kpi not in values or y_kpi not in values or values[[x_kpi, y_kpi]].dropna().empty:
        return empty_figure(f"No values for both {kpi_label(x_kpi)} and {kpi_label(y_kpi)}.")
    both = values[[x_kpi, y_kpi]].dropna()
    units = card.drop_duplicates("kpi").set_index("kpi")
    figure, axis = plt.subplots(figsize=(7, 5))
    for company, (x, y) in both.iterrows():
        is_client = company == analysis.client
        axis.scatter(x, y, s=90 if is_client else 50, color=HIGHLIGHT_COLOUR if is_client else BAR_COLOUR, zorder=3)
        axis.annotate(company, (x, y), xytext=(5, 5), textcoords="offset points", fontsize=9)
    axis.axvline(both[x_kpi].median(), linestyle="--", color=REFERENCE_COLOUR, linewidth=1)
    axis.axhline(both[y_kpi].median(), linestyle="--", color=REFERENCE_COLOUR, linewidth=1)
    for kpi, setter, limits in (
        (x_kpi, axis.set_xlabel, axis.invert_xaxis),
        (y_kpi, axis.set_ylabel, axis.invert_yaxis),
    ):
        lower = units.loc[kpi, "direction"] == "lower"
        setter(f"{kpi_label(kpi)} ({'lower' if lower else 'higher'} is better{', axis reversed' if lower else ''})")
        if lower:
            limits()
    if units.loc[x_kpi, "unit"] == "fraction":
        axis.xaxis.set_major_formatter(lambda value, _: fmt.percent(value, 0))
    if units.loc[y_kpi, "unit"] == "fraction":
        axis.yaxis.set_major_formatter(lambda value, _: fmt.percent(value, 0))
    axis.set_title(f"{kpi_label(x_kpi)} and {kpi_label(y_kpi)}, {analysis.period} (dashed: medians)")
    figure.tight_layout()
    return figure


def plot_trends(analysis: BenchmarkAnalysis):
    """One panel per KPI: each company's value indexed to its first quarter (= 100), the client in red.

    Every panel has the same index scale, so a 1-point wobble in one KPI does not look like a 20-point jump in another.
    """
    series = analysis.trends.series
    kpis = sorted(series["kpi"].unique(), key=kpi_label)
    if not kpis or len(analysis.trends.quarters) < 2:
        return empty_figure("Fewer than two quarters: no trend to draw.")
    figure, axes = small_multiples(len(kpis), columns=2, height=2.4)
    for axis, kpi in zip(axes, kpis, strict=True):
        for company, rows in series[series["kpi"] == kpi].groupby("company"):
            is_client = company == analysis.client
            axis.plot(rows["period"], rows["indexed"], marker="o", markersize=3, label=company,
                      linewidth=2.4 if is_client else 1.0, color=HIGHLIGHT_COLOUR if is_client else None)  # fmt: skip
        axis.axhline(100, color=REFERENCE_COLOUR, linewidth=0.8, linestyle=":")
        axis.set_title(kpi_label(kpi))
        axis.tick_params(axis="x", rotation=45, labelsize=8)
    low, high = series["indexed"].min(), series["indexed"].max()
    margin = max(high - low, 1.0) * 0.05
    for axis in axes:
        axis.set_ylim(low - margin, high + margin)
    axes[0].legend(fontsize=7, ncol=2)
    figure.suptitle(f"KPIs indexed to {analysis.trends.quarters[0]} = 100 ({analysis.client} in red)")
    figure.tight_layout()
    return figure


def plot_market_share(analysis: BenchmarkAnalysis):
    """Each company's market share per quarter, the client in red."""
    shares = analysis.market_share
    if shares.empty:
        return empty_figure("The benchmarks hold no market_share KPI.")
    figure, axis = plt.subplots(figsize=(9, 3.6))
    for company, rows in shares.groupby("company"):
        is_client = company == analysis.client
        axis.plot(rows["period"], rows["share"], marker="o", markersize=3, label=company,
                  linewidth=2.4 if is_client else 1.0, color=HIGHLIGHT_COLOUR if is_client else None)  # fmt: skip
    axis.yaxis.set_major_formatter(lambda value, _: fmt.percent(value, 0))
    axis.set_ylabel("market share")
    axis.set_title(f"Market share {where(analysis)}")
    axis.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    figure.tight_layout()
    return figure


def gap_trend_table(analysis: BenchmarkAnalysis) -> pd.DataFrame:
    """The client's gaps to the leader and the median: latest gap, slope a quarter with its 95% CI, Holm p, verdict."""
    trends = analysis.trends.gap_trends
    units = analysis.scorecard.drop_duplicates("kpi").set_index("kpi")["unit"]
    return pd.DataFrame(
        {
            "KPI": trends["kpi"].map(kpi_label),
            "gap to": trends["reference"],
            "latest gap": [
                ("ahead by " if g > 0 else "behind by " if g < 0 else "level ") + gap_text(g, units[k]) * (g != 0)
                for g, k in zip(trends["latest_gap"], trends["kpi"], strict=True)
            ],
            "change a quarter (95% CI)": [
                slope_interval(lo, hi, units[k]).removeprefix("95% CI ")
                for lo, hi, k in zip(trends["slope_ci_low"], trends["slope_ci_high"], trends["kpi"], strict=True)
            ],
            "p (Holm)": trends["p_value_holm"].map(_p),
            "trend": trends["trend"],
        }
    ).set_index(["KPI", "gap to"])


def composite_table(analysis: BenchmarkAnalysis) -> Styler:
    """Composite score, rank and the share of weight draws in which each company ranks in the top k."""
    table = analysis.composite.set_index("company")[["composite_score", "rank", "p_top_k", "rank_p05", "rank_p95"]]
    table = table.rename(columns={"composite_score": "score (0-100)", "p_top_k": f"P(top {analysis.top_k})",
                                  "rank_p05": "rank, 5th pct", "rank_p95": "rank, 95th pct"})  # fmt: skip
    return escaped_style(table, {"score (0-100)": "{:.0f}", "rank": "{:.0f}", f"P(top {analysis.top_k})": "{:.0%}",
                                 "rank, 5th pct": "{:.0f}", "rank, 95th pct": "{:.0f}"}, na_rep="–")  # fmt: skip


def value_chain_table(analysis: BenchmarkAnalysis) -> Styler:
    """Stages down, companies across: mean index to best per stage, coloured on the shared 0..100 scale."""
    chain = analysis.value_chain
    if chain.empty:
        return escaped_style(pd.DataFrame({"note": ["No KPI maps to a value-chain stage."]}))
    table = chain.pivot(index="stage", columns="company", values="mean_index_to_best")
    stages = list(dict.fromkeys(chain["stage"]))
    table = table.loc[stages, list(analysis.companies)]
    kpis = chain.drop_duplicates("stage").set_index("stage")["kpis"]
    table.index = [f"{stage} ({kpis[stage]})" for stage in stages]
    return escaped_style(table, "{:.0f}", na_rep="–").background_gradient(
        cmap=INDEX_COLOURS, vmin=0, vmax=100, axis=None
    )


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _p(p_value: float) -> str:
    return fmt.p_value(p_value)
