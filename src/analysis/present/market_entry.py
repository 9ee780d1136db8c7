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
from analysis.present.findings import escaped_style
from analysis.present.theme import accent_colours

HIGH, LOW = 60.0, 40.0  # Hofstede scores at or above / at or below these read as "high" / "low"

# Narrow column labels for tables and what a market lacks when a criterion is missing for it.
CRITERION_LABELS: dict[str, str] = {
    "gdp_per_capita_ppp": "GDP/cap PPP",
    "political_stability": "stability",
    "internet_users_pct": "internet",
    "lpi_score": "LPI",
    "cultural_distance": "cult. dist.",
}
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
NO_DATA = "–"
CONTENDER_SHARE = 0.2  # a market outside the top k counts as a close contender from this share of weight draws
# What each wave of the phased entry plan means for the client.
WAVE_ACTIONS: dict[int, str] = {
    1: "enter first",
    2: "enter after wave 1, with local adaptation",
    3: "watch list",
}


def criterion_label(criterion: str) -> str:
    """Short column label for a criterion (Hofstede dimensions in capitals)."""
    return CRITERION_LABELS.get(criterion, criterion.upper() if len(criterion) == 3 else criterion)


def _best_first(ranking: pd.DataFrame) -> pd.DataFrame:
    """Markets in the order of the report: by rank, then by data coverage; unscored markets last."""
    return ranking.sort_values(["rank", "weight_coverage"], ascending=[True, False], na_position="last")


def _part_suffix(analysis: MarketEntryAnalysis) -> str:
    """The ranking's per-criterion columns: contributions (weighted sum) or gap shares (TOPSIS)."""
    return "_gap_share" if analysis.method == "topsis" else "_contribution"


def _text(value: float, fmt: str) -> str:
    return NO_DATA if pd.isna(value) else fmt.format(value)


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
    sentences = []
    for market, row in top.iterrows():
        p = robustness["p_top_k"].get(market, float("nan"))
        partial = "" if row["weight_coverage"] >= 0.999 else f" (scored on {row['weight_coverage']:.0%} of the weight)"
        sentences.append(
            f"{market} ranks #{int(row['rank'])} by {analysis.method}{partial}; it stays in the top {top_k} in "
            f"{p:.0%} of weight draws, so the recommendation is {robustness_phrase(p)}."
        )
    contenders = robustness.loc[(robustness["p_top_k"] >= CONTENDER_SHARE) & ~robustness.index.isin(top.index)]
    if not contenders.empty:
        names = ", ".join(f"{m} ({p:.0%})" for m, p in contenders["p_top_k"].items())
        sentences.append(f"Close contenders that enter the top {top_k} under other plausible weights: {names}.")
    for _, row in analysis.agreement.iterrows():
        sentences.append(
            f"{row['method_a']} and {row['method_b']} agree with Kendall's tau = {row['kendall_tau']:.2f} "
            f"over {row['markets']} markets."
        )
    plan = analysis.plan
    wave_one = plan.index[plan["wave"] == 1].tolist()
    sentences.append(
        f"Wave 1 (attractive, culturally close and robust): {', '.join(wave_one) if wave_one else 'none'}."
    )
    gap = data_gap_sentence(analysis)
    if gap:
        sentences.append(gap)
    return sentences


def data_gap_sentence(analysis: MarketEntryAnalysis) -> str | None:
    """One sentence naming the markets left unscored and the figures each lacks, grouped by what is missing.

    Returns ``None`` when every candidate is scored.
    """
    ranking, matrix = analysis.ranking, analysis.matrix
    unscored = ranking.index[ranking["score"].isna()]
    if len(unscored) == 0:
        return None
    groups: dict[tuple[str, ...], list[str]] = {}
    for market in unscored:
        lacking = tuple(c for c in matrix.columns if pd.isna(matrix.at[market, c]))
        groups.setdefault(lacking, []).append(str(market))
    clauses = []
    for lacking, markets in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        reasons = "; ".join(MISSING_FIGURE.get(c, f"no {c} figure") for c in lacking) or "no data"
        clauses.append(f"{', '.join(markets)}: {reasons}")
    return (
        f"Not scored, because their data cover less than {analysis.min_coverage:.0%} of the weight — "
        + " · ".join(clauses)
        + ". They are left out of the ranking rather than ranked on partial evidence."
    )


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
    return escaped_style(analysis.weights.rename(criterion_label).rename("weight").to_frame().T, "{:.0%}")


def ranking_table(analysis: MarketEntryAnalysis, *, include_unscored: bool = False) -> pd.DataFrame:
    """The ranked table for the report, as text: best market first (unscored markets last, if included).

    Columns: ``#`` (rank, integer), ``score`` (2 decimals), one column per criterion with its contribution
    to the score in points (weighted sum: the contributions add up to the score) or its share of the distance
    to the ideal market in % (TOPSIS), and ``data`` (share of the weight that had data, in %). Unscored
    markets show ``–`` for rank, score and contributions.
    """
    suffix = _part_suffix(analysis)
    ordered = _best_first(analysis.ranking)
    if not include_unscored:
        ordered = ordered.dropna(subset=["score"])
    table = pd.DataFrame(index=ordered.index)
    table["#"] = ordered["rank"].map(lambda r: NO_DATA if pd.isna(r) else f"{int(r)}")
    table["score"] = ordered["score"].map(lambda v: _text(v, "{:.2f}"))
    fmt = "{:.0%}" if suffix == "_gap_share" else "{:.2f}"
    for column in [c for c in ordered.columns if c.endswith(suffix)]:
        table[criterion_label(column.removesuffix(suffix))] = ordered[column].map(lambda v: _text(v, fmt))
    table["data"] = ordered["weight_coverage"].map("{:.0%}".format)
    table.index.name = "market"
    return table


def plot_score_decomposition(analysis: MarketEntryAnalysis) -> plt.Figure:
    """Stacked bars of each market's contributions (weighted sum) or gap shares (TOPSIS: where the distance to
    the ideal comes from), best market on top."""
    suffix = _part_suffix(analysis)
    ranking = analysis.ranking
    columns = [c for c in ranking.columns if c.endswith(suffix)]
    data = ranking.dropna(subset=["score"]).sort_values("score")[columns]
    data.columns = [c.removesuffix(suffix) for c in columns]
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(data))))
    data.plot.barh(stacked=True, ax=ax, color=accent_colours(len(columns)), width=0.8)
    ax.set_xlabel(
        "weighted score (contributions add up to the score)"
        if suffix == "_contribution"
        else "share of the distance to the ideal market, by criterion"
    )
    ax.set_ylabel("")
    ax.set_title(f"{analysis.method}: score by criterion")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def criterion_values_table(analysis: MarketEntryAnalysis) -> pd.DataFrame:
    """The raw criterion values behind the scores, as text with narrow labels; ``–`` where there is no figure.

    Markets in the order of the ranking table, unscored markets last.
    """
    matrix = analysis.matrix.loc[_best_first(analysis.ranking).index]
    table = pd.DataFrame(index=matrix.index)
    for column in matrix.columns:
        fmt = _VALUE_FORMATS.get(column, "{:.0f}")
        table[criterion_label(column)] = matrix[column].map(lambda v, f=fmt: _text(v, f))
    table.index.name = "market"
    return table


def plot_cultural_distance(analysis: MarketEntryAnalysis) -> plt.Figure:
    """Bar chart of each candidate's Kogut-Singh distance from the home market, labelled with the dimensions used."""
    home = analysis.home_market
    data = analysis.distance.drop(index=home, errors="ignore").dropna(subset=["distance"]).sort_values("distance")
    fig, ax = plt.subplots(figsize=(7, max(3, 0.28 * len(data))))
    ax.barh(data.index, data["distance"], color=accent_colours()[0])
    for y, (value, used) in enumerate(zip(data["distance"], data["dimensions_used"], strict=True)):
        ax.text(value, y, f" {used} dims", va="center", fontsize="x-small")
    ax.set_xlabel(f"Kogut-Singh cultural distance from {home}")
    fig.tight_layout()
    return fig


# Robustness ----------------------------------------------------------------------------------------------------


def robustness_table(analysis: MarketEntryAnalysis) -> Styler:
    """Top-k probability and rank spread under perturbed weights, most robust first."""
    return escaped_style(analysis.robustness, {"p_top_k": "{:.0%}", "mean_rank": "{:.1f}"})


def agreement_table(analysis: MarketEntryAnalysis) -> Styler:
    """Kendall's tau between the two methods' rankings."""
    return escaped_style(analysis.agreement, precision=3)


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
    for column, colour, label in (("score_low", palette[3], "less weight"), ("score_high", palette[0], "more weight")):
        ax.barh(data["criterion"], data[column] - base, left=base, color=colour, label=label)
    ax.axvline(base, color="black", linewidth=0.8)
    ax.set_xlabel(f"score of {market}")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


# Phased entry plan and tailoring -------------------------------------------------------------------------------


def plan_reason(market: str, placement: pd.Series, top_k: int) -> str:
    """One sentence giving the reason for a market's wave, from its row of the phased entry plan."""
    where = f"ranks #{int(placement['rank'])}" if pd.notna(placement["score"]) else "has too little data to score"
    if pd.isna(placement["distance"]):
        culture = "no Hofstede scores, so cultural distance is unknown"
    else:
        side = "at or below" if placement["culturally_close"] else "above"
        culture = (
            f"cultural distance {placement['distance']:.2f} ({side} the median {placement['distance_threshold']:.2f})"
        )
    sure = "" if pd.isna(placement["p_top_k"]) else f"; top {top_k} in {placement['p_top_k']:.0%} of weight draws"
    return f"{market} {where}, {culture}{sure}: {WAVE_ACTIONS[int(placement['wave'])]}"


def plan_table(analysis: MarketEntryAnalysis) -> Styler:
    """The phased entry plan: wave, rank, score, distance, top-k share and the reason for each placement."""
    plan = analysis.plan
    table = plan[["wave", "rank", "score", "distance", "p_top_k"]].copy()
    table["reason"] = [plan_reason(market, row, analysis.top_k) for market, row in plan.iterrows()]
    return escaped_style(table, {"score": "{:.3f}", "distance": "{:.2f}", "p_top_k": "{:.0%}"})


# (dimension, high or low, what to stress in the offer and the marketing)
_TAILORING_RULES: tuple[tuple[str, str, str], ...] = (
    (
        "uai",
        "high",
        "stress guarantees, free returns, trusted local payment methods and clear delivery dates",
    ),
    ("uai", "low", "lead with novelty and new sellers; a light returns message is enough"),
    ("idv", "low", "use social proof: reviews, community picks, group and referral offers"),
    ("idv", "high", "personalise: individual recommendations, self-expression, own-style collections"),
    ("pdi", "high", "show authority: expert curation, brand endorsements, formal customer service"),
    ("mas", "high", "signal achievement: best-sellers, rankings, premium and performance claims"),
    ("mas", "low", "signal care: maker stories, sustainability, quality of life"),
    ("lto", "high", "reward patience: loyalty programmes, durability, value over time"),
    ("lto", "low", "be immediate: time-limited deals, fast delivery, tradition and heritage cues"),
    ("ivr", "high", "sell enjoyment: leisure, gifting, treat-yourself moments"),
    ("ivr", "low", "sell usefulness: practical value, savings, restraint"),
)


def tailoring_notes(analysis: MarketEntryAnalysis) -> pd.DataFrame:
    """Tailoring notes for the markets of the first two waves, from Hofstede scores (rules of thumb,
    thresholds ``HIGH``/``LOW``).

    Returns one row per market and triggered rule: ``market``, ``dimension``, ``score``, ``level`` and
    ``note``. Markets without Hofstede scores get one row saying so.
    """
    rows = []
    for market, scores in analysis.tailoring_scores.iterrows():
        if scores.isna().all():
            rows.append({"market": market, "dimension": "", "score": float("nan"), "level": "", "note": "no data"})
            continue
        for dimension, level, note in _TAILORING_RULES:
            value = scores.get(dimension)
            if pd.isna(value):
                continue
            if (level == "high" and value >= HIGH) or (level == "low" and value <= LOW):
                rows.append({"market": market, "dimension": dimension, "score": value, "level": level, "note": note})
    return pd.DataFrame(rows, columns=["market", "dimension", "score", "level", "note"])
