"""The phased entry plan and the tailoring notes of the market-entry report, and the words the whole report shares.

Split from :mod:`analysis.present.market_entry`, which re-exports everything here, so a notebook keeps one interface.
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.metrics.market_entry import MarketEntryAnalysis
from analysis.metrics.market_entry.distance import MIN_DISTANCE_DIMENSIONS
from analysis.present.findings import escaped_style
from analysis.present.labels import CRITERION_LABELS

HIGH, LOW = 60.0, 40.0  # Hofstede scores at or above / at or below these read as "high" / "low"

NO_DATA = "–"
HOFSTEDE_COUNT = 6  # dimensions in Hofstede's matrix
# What each wave of the phased entry plan means for the client.
WAVE_ACTIONS: dict[int, str] = {
    1: "enter first",
    2: "enter after wave 1, with local adaptation",
    3: "watch list",
}


def criterion_label(criterion: str) -> str:
    """The reader's name of a criterion (``present.labels.CRITERION_LABELS``); unknown codes spelled out."""
    return CRITERION_LABELS.get(criterion, criterion.replace("_", " ").capitalize())


def market_name(analysis: MarketEntryAnalysis, market: str) -> str:
    """``'United States (US)'``; the code alone where no name is known."""
    name = analysis.names.get(market, market)
    return market if name == market else f"{name} ({market})"


def top_k_label(analysis: MarketEntryAnalysis) -> str:
    """The header of the top-k share column: ``'In top 3 (share of draws)'``."""
    return f"In top {analysis.top_k} (share of draws)"


def plan_reason(market: str, placement: pd.Series, top_k: int, dimensions: int | None = None) -> str:
    """One sentence giving the reason for a market's wave, from its row of the phased entry plan.

    ``dimensions``: how many Hofstede dimensions the market's distance averages, when known; a market whose
    distance was computed on too few to be used is said so.
    """
    where = f"ranks #{int(placement['rank'])}" if pd.notna(placement["score"]) else "has too little data to score"
    if pd.isna(placement["distance"]) and dimensions and dimensions < MIN_DISTANCE_DIMENSIONS:
        culture = f"cultural distance on only {dimensions} of {HOFSTEDE_COUNT} Hofstede dimensions, so not used"
    elif pd.isna(placement["distance"]):
        culture = "no Hofstede scores, so cultural distance is unknown"
    else:
        side = "at or below" if placement["culturally_close"] else "above"
        culture = (
            f"cultural distance {placement['distance']:.2f} ({side} the median {placement['distance_threshold']:.2f})"
        )
    sure = "" if pd.isna(placement["p_top_k"]) else f"; top {top_k} in {placement['p_top_k']:.0%} of weight draws"
    return f"{market} {where}, {culture}{sure}: {WAVE_ACTIONS[int(placement['wave'])]}"


def plan_table(analysis: MarketEntryAnalysis) -> Styler:
    """The phased entry plan: wave, rank (integer), score, distance, top-k share and the reason for each
    placement, with human headers; ``–`` where a market has no score, distance or share."""
    plan = analysis.plan
    dimensions = analysis.distance["dimensions_measured"]
    top_k = top_k_label(analysis)
    table = plan[["wave", "rank", "score", "distance", "p_top_k"]].rename(
        columns={"wave": "Wave", "rank": "Rank", "score": "Score", "distance": "Cultural distance", "p_top_k": top_k}
    )
    table["Reason"] = [
        plan_reason(market, row, analysis.top_k, int(dimensions.get(market, 0))) for market, row in plan.iterrows()
    ]
    table.index.name = "Market"
    formats = {"Wave": "{:.0f}", "Rank": "{:.0f}", "Score": "{:.3f}", "Cultural distance": "{:.2f}", top_k: "{:.0%}"}
    return escaped_style(table, formats, na_rep=NO_DATA).set_caption(
        f"{NO_DATA}: no score (too little data), no usable cultural distance, or not in the weight draws."
    )


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


def tailoring_rules(analysis: MarketEntryAnalysis) -> pd.DataFrame:
    """The tailoring rules each market of the first two waves triggers, from Hofstede scores (rules of thumb,
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


def tailoring_notes(analysis: MarketEntryAnalysis) -> Styler:
    """The tailoring notes as the report shows them: every note in full (no column-width cut), market names and
    dimension names, scores as integers, ``–`` where a market has no Hofstede score."""
    rules = tailoring_rules(analysis)
    table = pd.DataFrame(
        {
            "Market": [market_name(analysis, str(m)) for m in rules["market"]],
            "Dimension": [criterion_label(d) if d else NO_DATA for d in rules["dimension"]],
            "Score": rules["score"],
            "Level": [level or NO_DATA for level in rules["level"]],
            "What to stress": rules["note"],
        }
    )
    return escaped_style(table, {"Score": "{:.0f}"}, na_rep=NO_DATA).hide(axis="index")
