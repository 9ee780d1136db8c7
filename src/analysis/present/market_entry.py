"""Tables, charts, tailoring notes and findings sentences for the market-entry notebook.

Every function takes the :class:`~analysis.metrics.market_entry.MarketEntryAnalysis` and only words, formats,
orders or draws what it holds: no new statistics here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown
from pandas.io.formats.style import Styler

from analysis.metrics.market_entry import MarketEntryAnalysis
from analysis.metrics.market_entry.distance import MIN_DISTANCE_DIMENSIONS
from analysis.present import formatting as fmt
from analysis.present.findings import escaped_style
from analysis.present.labels import METHOD_LABELS
from analysis.present.market_entry_plan import (  # noqa: F401  re-exported: the notebook reads one module
    HIGH,
    HOFSTEDE_COUNT,
    LOW,
    NO_DATA,
    WAVE_ACTIONS,
    criterion_label,
    market_name,
    plan_reason,
    plan_table,
    tailoring_notes,
    tailoring_rules,
    top_k_label,
)
from analysis.present.theme import accent_colours

# What a market lacks when a criterion is missing for it.
MISSING_FIGURE: dict[str, str] = {
    "gdp_per_capita_ppp": "no GDP per capita (PPP) figure bundled",
    "political_stability": "no political-stability (WGI) figure bundled",
    "internet_users_pct": "no internet-users figure bundled",
    "lpi_score": "no LPI 2023 figure bundled",
    "cultural_distance": "no Hofstede dimensions shared with the home market (no cultural distance)",
}
_VALUE_FORMATS: dict[str, str] = {
    "gdp_per_capita_ppp": "{:,.0f}",
    "political_stability": "{:+.2f}",
    "internet_users_pct": "{:.0f}%",
    "lpi_score": "{:.1f}",
    "cultural_distance": "{:.2f}",
}
CONTENDER_SHARE = 0.2  # a market outside the top k counts as a close contender from this share of weight draws


def _best_first(ranking: pd.DataFrame) -> pd.DataFrame:
    """Markets in the order of the report: by rank, then by data coverage; unscored markets last."""
    return ranking.sort_values(["rank", "weight_coverage"], ascending=[True, False], na_position="last")


def _part_suffix(analysis: MarketEntryAnalysis) -> str:
    """The ranking's per-criterion columns: contributions (weighted sum) or gap shares (TOPSIS)."""
    return "_gap_share" if analysis.method == "topsis" else "_contribution"


def method_label(method: str) -> str:
    """The reader's name of a scoring method: ``'weighted_sum'`` -> ``'weighted sum'``."""
    return METHOD_LABELS.get(method, method.replace("_", " "))


def _text(value: float, fmt: str) -> str:
    return NO_DATA if pd.isna(value) else fmt.format(value)


def _unused_distance(analysis: MarketEntryAnalysis) -> pd.Series:
    """Dimensions measured for the distances computed but not used (too few measured), by market."""
    distance = analysis.distance.drop(index=analysis.home_market, errors="ignore")
    return distance.loc[distance["distance"].notna() & ~distance["distance_used"], "dimensions_measured"]


# Findings ------------------------------------------------------------------------------------------------------


def robustness_phrase(p_top_k: float) -> str:
    """Words for how robust a top-k placement is."""
    if p_top_k >= 0.9:
        return "robust"
    if p_top_k >= 0.6:
        return "fairly robust"
    if p_top_k >= 0.3:
        return "fragile"
    return "unlikely"


def findings(analysis: MarketEntryAnalysis) -> list[str]:
    """Plain sentences for the top of the report: the recommendation, how sure it is, and data caveats."""
    top_k, robustness = analysis.top_k, analysis.robustness
    top = analysis.ranking.dropna(subset=["score"]).sort_values("rank").head(top_k)
    sentences = [home_sentence(analysis)]
    served = served_sentence(analysis)
    if served:
        sentences.append(served)
    method = method_label(analysis.method)
    for market, row in top.iterrows():
        p = robustness["p_top_k"].get(market, float("nan"))
        partial = "" if row["weight_coverage"] >= 0.999 else f" (scored on {row['weight_coverage']:.0%} of the weight)"
        sentences.append(
            f"{market} ranks #{int(row['rank'])} by {method}{partial}; it stays in the top {top_k} in "
            f"{p:.0%} of weight draws, so the recommendation is {robustness_phrase(p)}."
        )
    contenders = robustness.loc[(robustness["p_top_k"] >= CONTENDER_SHARE) & ~robustness.index.isin(top.index)]
    if not contenders.empty:
        names = ", ".join(f"{m} ({p:.0%})" for m, p in contenders["p_top_k"].items())
        sentences.append(f"Close contenders that enter the top {top_k} under other plausible weights: {names}.")
    for _, row in analysis.agreement.iterrows():
        sentences.append(
            f"The {method_label(row['method_a'])} and {method_label(row['method_b'])} rankings agree with "
            f"Kendall's tau = {row['kendall_tau']:.2f} "
            f"over {row['markets']} markets."
        )
    plan = analysis.plan
    wave_one = plan.index[plan["wave"] == 1].tolist()
    sentences.append(
        f"Wave 1 (attractive, culturally close and robust): {', '.join(wave_one) if wave_one else 'none'}."
    )
    caveat = distance_caveat_sentence(analysis)
    if caveat:
        sentences.append(caveat)
    gap = data_gap_sentence(analysis)
    if gap:
        sentences.append(gap)
    return sentences


def home_sentence(analysis: MarketEntryAnalysis) -> str:
    """The home market, named: where the client is and where cultural distance is measured from."""
    return (
        f"Home market: {market_name(analysis, analysis.home_market)}; cultural distance is measured from it, and "
        f"{len(analysis.candidates)} candidate markets are scored."
    )


def served_sentence(analysis: MarketEntryAnalysis) -> str | None:
    """The markets left out of the candidates because the client already serves them; ``None`` when none was."""
    if analysis.served.empty:
        return None
    names = ", ".join(market_name(analysis, str(market)) for market in analysis.served.index)
    return f"Already served (the data's markets table), so shown apart and not scored as entry candidates: {names}."


def distance_caveat_sentence(analysis: MarketEntryAnalysis) -> str | None:
    """The markets whose cultural distance rests on too few Hofstede dimensions to be used; ``None`` when none."""
    unused = _unused_distance(analysis)
    if unused.empty or "cultural_distance" not in analysis.weights.index:
        return None
    clauses = ", ".join(f"{market_name(analysis, str(m))} on {n} of {HOFSTEDE_COUNT}" for m, n in unused.items())
    return (
        f"Cultural distance is not used where it rests on fewer than {MIN_DISTANCE_DIMENSIONS} of Hofstede's "
        f"{HOFSTEDE_COUNT} dimensions ({clauses}): those markets count it as missing, which lowers their data "
        "coverage, and none of them counts as culturally close."
    )


def data_gap_sentence(analysis: MarketEntryAnalysis) -> str | None:
    """One sentence naming the markets left unscored and the figures each lacks, grouped by what is missing.

    Returns ``None`` when every candidate is scored.
    """
    ranking, matrix = analysis.ranking, analysis.matrix
    unscored = ranking.index[ranking["score"].isna()]
    if len(unscored) == 0:
        return None
    groups: dict[tuple[str, ...], list[str]] = {}
    unused = _unused_distance(analysis)
    for market in unscored:
        lacking = tuple(
            f"few:{unused[market]}" if c == "cultural_distance" and market in unused.index else c
            for c in matrix.columns
            if pd.isna(matrix.at[market, c])
        )
        groups.setdefault(lacking, []).append(str(market))
    clauses = []
    for lacking, markets in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        reasons = "; ".join(_missing_reason(c) for c in lacking) or "no data"
        clauses.append(f"{', '.join(markets)}: {reasons}")
    return (
        f"Not scored, because their data cover less than {analysis.min_coverage:.0%} of the weight — "
        + " · ".join(clauses)
        + ". They are left out of the ranking rather than ranked on partial evidence."
    )


def _missing_reason(criterion: str) -> str:
    if criterion.startswith("few:"):
        used = criterion.removeprefix("few:")
        return (
            f"cultural distance on only {used} of Hofstede's {HOFSTEDE_COUNT} dimensions (at least "
            f"{MIN_DISTANCE_DIMENSIONS} needed)"
        )
    return MISSING_FIGURE.get(criterion, f"no {criterion_label(criterion)} figure")


# Weights and ranking -------------------------------------------------------------------------------------------


def weights_note(analysis: MarketEntryAnalysis) -> Markdown | None:
    """Where the weights came from when they are AHP weights, with the consistency ratio; ``None`` otherwise."""
    if analysis.ahp is None:
        return None
    return Markdown(
        f"Weights from AHP judgements; consistency ratio {analysis.ahp.consistency_ratio:.3f} (acceptable up to 0.10)."
    )


def weights_table(analysis: MarketEntryAnalysis) -> Styler:
    """The criteria's weights in one row, as percentages, with narrow labels."""
    return escaped_style(analysis.weights.rename(criterion_label).rename("Weight").to_frame().T, "{:.0%}")


def ranking_table(analysis: MarketEntryAnalysis, *, include_unscored: bool = False) -> pd.DataFrame:
    """The ranked table for the report, as text: best market first (unscored markets last, if included).

    Columns: ``Rank`` (integer), ``Score`` (2 decimals), one column per criterion (its label) with its
    contribution to the score in points (weighted sum: the contributions add up to the score) or its share of
    the distance to the ideal market in % (TOPSIS), ``Data coverage`` (share of the weight that had data, in %)
    and, when cultural distance is a criterion, ``Hofstede dimensions`` (how many the distance averages; flagged
    "not used" below ``MIN_DISTANCE_DIMENSIONS``). Unscored markets show ``–`` for rank, score and contributions.
    """
    suffix = _part_suffix(analysis)
    ordered = _best_first(analysis.ranking)
    if not include_unscored:
        ordered = ordered.dropna(subset=["score"])
    table = pd.DataFrame(index=ordered.index)
    table["Rank"] = ordered["rank"].map(lambda r: NO_DATA if pd.isna(r) else f"{int(r)}")
    table["Score"] = ordered["score"].map(lambda v: _text(v, "{:.2f}"))
    fmt = "{:.0%}" if suffix == "_gap_share" else "{:.2f}"
    for column in [c for c in ordered.columns if c.endswith(suffix)]:
        table[criterion_label(column.removesuffix(suffix))] = ordered[column].map(lambda v: _text(v, fmt))
    table["Data coverage"] = ordered["weight_coverage"].map("{:.0%}".format)
    if "cultural_distance" in analysis.weights.index and "distance_dimensions" in ordered.columns:
        table["Hofstede dimensions"] = ordered["distance_dimensions"].map(_dimensions_text)
    table.index.name = "Market"
    return table


def _dimensions_text(used: int) -> str:
    if used == 0:
        return "none"
    flag = "" if used >= MIN_DISTANCE_DIMENSIONS else " (too few: distance not used)"
    return f"{int(used)} of {HOFSTEDE_COUNT}{flag}"


def plot_score_decomposition(analysis: MarketEntryAnalysis) -> plt.Figure:
    """Stacked bars of each market's contributions (weighted sum) or gap shares (TOPSIS: where the distance to
    the ideal comes from), best market on top."""
    suffix = _part_suffix(analysis)
    ranking = analysis.ranking
    columns = [c for c in ranking.columns if c.endswith(suffix)]
    data = ranking.dropna(subset=["score"]).sort_values("score")[columns]
    data.columns = [criterion_label(c.removesuffix(suffix)) for c in columns]
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(data))))
    data.plot.barh(stacked=True, ax=ax, color=accent_colours(len(columns)), width=0.8)
    ax.set_xlabel(
        "weighted score (contributions add up to the score)"
        if suffix == "_contribution"
        else "share of the distance to the ideal market, by criterion"
    )
    ax.set_ylabel("")
    ax.set_title(f"{method_label(analysis.method)}: score by criterion")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def criterion_values_table(analysis: MarketEntryAnalysis) -> pd.DataFrame:
    """The raw criterion values behind the scores, as text with narrow labels; ``–`` where there is no figure.

    Markets in the order of the ranking table, unscored markets last. A cultural distance on too few Hofstede
    dimensions shows as ``– (n of 6 dimensions)``: computed, but not used.
    """
    matrix = analysis.matrix.loc[_best_first(analysis.ranking).index]
    table = pd.DataFrame(index=matrix.index)
    for column in matrix.columns:
        fmt = _VALUE_FORMATS.get(column, "{:.0f}")
        table[criterion_label(column)] = matrix[column].map(lambda v, f=fmt: _text(v, f))
    if "cultural_distance" in matrix.columns:
        for market, used in _unused_distance(analysis).items():
            if market in table.index:
                table.loc[market, criterion_label("cultural_distance")] = (
                    f"{NO_DATA} ({used} of {HOFSTEDE_COUNT} dimensions)"
                )
    table.index.name = "Market"
    return table


def served_table(analysis: MarketEntryAnalysis) -> Styler | None:
    """The markets the client already serves, shown apart: their figures and cultural distance, not scored.

    ``None`` when no market was left out of the candidates as served.
    """
    served = analysis.served
    if served.empty:
        return None
    table = pd.DataFrame(index=pd.Index([analysis.names.get(m, m) for m in served.index], name="Market served"))
    for column in [c for c in served.columns if c not in ("distance", "dimensions_measured", "cultural_distance")]:
        fmt = _VALUE_FORMATS.get(column, "{:.0f}")
        table[criterion_label(column)] = [_text(v, fmt) for v in served[column]]
    table[f"Cultural distance from {analysis.home_market}"] = [
        _text(d, "{:.2f}") + ("" if n >= MIN_DISTANCE_DIMENSIONS else f" ({n} of {HOFSTEDE_COUNT} dimensions)")
        for d, n in zip(served["distance"], served["dimensions_measured"], strict=True)
    ]
    return escaped_style(table).set_caption(
        "Already served (the data's markets table): not entry candidates. –: no figure bundled."
    )


def plot_cultural_distance(analysis: MarketEntryAnalysis) -> plt.Figure:
    """Bar chart of each candidate's Kogut-Singh distance from the home market, labelled with the dimensions used."""
    home = analysis.home_market
    data = analysis.distance.drop(index=home, errors="ignore").dropna(subset=["distance"]).sort_values("distance")
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(data))))
    palette = accent_colours()
    colours = [palette[0] if used else palette[3] for used in data["distance_used"]]
    ax.barh(data.index, data["distance"], color=colours)
    for y, (value, used) in enumerate(zip(data["distance"], data["dimensions_measured"], strict=True)):
        flag = "" if used >= MIN_DISTANCE_DIMENSIONS else ", too few: not used"
        ax.text(value, y, f" {used} of {HOFSTEDE_COUNT} dims{flag}", va="center", fontsize="x-small")
    ax.set_xlabel(f"Kogut-Singh cultural distance from {home}")
    fig.tight_layout()
    return fig


# Robustness ----------------------------------------------------------------------------------------------------


def robustness_table(analysis: MarketEntryAnalysis) -> Styler:
    """Top-k share and rank spread under perturbed weights, most robust first: ranks as integers (the 5th and 95th
    percentiles rounded), the share in %, ``–`` for an unscored market."""
    columns = {
        "base_rank": "Rank",
        "p_top_k": top_k_label(analysis),
        "mean_rank": "Mean rank",
        "rank_p05": "Rank, 5th percentile",
        "rank_p95": "Rank, 95th percentile",
    }
    table = analysis.robustness[list(columns)].rename(columns=columns).rename_axis("Market")
    formats = {label: "{:.0f}" for label in columns.values()} | {
        top_k_label(analysis): "{:.0%}",
        "Mean rank": "{:.1f}",
    }
    return escaped_style(table, formats, na_rep=NO_DATA).set_caption(
        f"{NO_DATA}: not scored (too little data), so not ranked in the weight draws."
    )


def agreement_table(analysis: MarketEntryAnalysis) -> Styler:
    """Kendall's tau between the two methods' rankings, with its p-value (``< 0.001`` below that)."""
    agreement = analysis.agreement
    table = pd.DataFrame(
        {
            "Method": agreement["method_a"].map(method_label),
            "Compared with": agreement["method_b"].map(method_label),
            "Kendall's tau": agreement["kendall_tau"].map(lambda v: _text(v, "{:.3f}")),
            "p-value": agreement["p_value"].map(fmt.p_value),
            "Markets": agreement["markets"].map(str),
        }
    )
    return escaped_style(table.set_index("Method"))


def plot_top_k_probability(analysis: MarketEntryAnalysis) -> plt.Figure:
    """Bars of P(rank <= top_k) under perturbed weights, for markets with a non-zero probability."""
    robustness = analysis.robustness
    data = robustness.loc[robustness["p_top_k"] > 0].sort_values("p_top_k")
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.3 * len(data))))
    ax.barh(data.index, data["p_top_k"], color=accent_colours()[2])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel(f"share of weight draws in which the market ranks in the top {analysis.top_k}")
    fig.tight_layout()
    return fig


def plot_tornado(analysis: MarketEntryAnalysis) -> plt.Figure | None:
    """Tornado chart for the top market: its score when each criterion's weight swings down and up.

    ``None`` when no market could be scored.
    """
    market = analysis.top_market
    if market is None:
        return None
    data = analysis.swings.loc[analysis.swings["market"] == market].sort_values("score_range")
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.5 * len(data))))
    base = data["score_base"].iloc[0]
    palette = accent_colours()
    labels = data["criterion"].map(criterion_label)
    for column, colour, label in (("score_low", palette[3], "less weight"), ("score_high", palette[0], "more weight")):
        ax.barh(labels, data[column] - base, left=base, color=colour, label=label)
    ax.axvline(base, color="black", linewidth=0.8)
    ax.set_xlabel(f"score of {market}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
