"""One market-entry scenario end to end: weights, cultural distance, scores, robustness and the phased plan.

The notebook passes its parameters here and only shows the result; every step is a function of
:mod:`analysis.metrics.market_entry` or :mod:`analysis.metrics.market_entry.sensitivity`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.contract import HOFSTEDE_DIMENSIONS
from analysis.metrics.market_entry import scoring as me
from analysis.metrics.market_entry import sensitivity as mes


@dataclass
class EntryScenario:
    """Everything the market-entry notebook shows.

    ``weights``/``benefit``: the validated criteria; ``ahp``: the AHP result when weights came from judgements.
    ``distance``: Kogut-Singh distance of every reference market from ``home_market``. ``matrix``: candidates ×
    criteria, raw values. ``ranking``/``other_ranking``: :func:`score_markets` by ``method`` and by the other
    method. ``robustness``: :func:`top_k_probability`; ``swings``: :func:`weight_swings`; ``agreement``:
    :func:`method_agreement`; ``plan``: :func:`phased_entry_plan`.
    """

    home_market: str
    candidates: list[str]
    method: str
    other_method: str
    weights: pd.Series
    benefit: dict[str, bool]
    ahp: me.AhpResult | None
    distance: pd.DataFrame
    matrix: pd.DataFrame
    ranking: pd.DataFrame
    other_ranking: pd.DataFrame
    robustness: pd.DataFrame
    swings: pd.DataFrame
    agreement: pd.DataFrame
    plan: pd.DataFrame


def score_scenario(
    reference: pd.DataFrame,
    *,
    home_market: str,
    candidate_markets: Sequence[str],
    criteria: Mapping[str, tuple[str, float]],
    ahp_judgements: Mapping[str, float] | None = None,
    method: str = "weighted_sum",
    normalisation: str = "minmax",
    min_coverage: float = 0.8,
    top_k: int = 3,
    n_simulations: int = 1000,
    concentration: float = 50.0,
    swing: float = 0.10,
    seed: int = 0,
) -> EntryScenario:
    """Score ``candidate_markets`` (all reference markets but the home one when empty) for entry from ``home_market``.

    ``reference`` is :func:`analysis.sources.reference.read_market_reference`: one row per market (ISO alpha-2),
    Hofstede's dimensions and the PEST indicators as columns.
    """
    candidates = list(candidate_markets) or [market for market in reference.index if market != home_market]
    unknown = sorted(set([*candidates, home_market]) - set(reference.index))
    if unknown:
        raise ValueError(f"markets {unknown} are not in the reference data; known: {sorted(reference.index)}")
    ahp = None
    if ahp_judgements:
        criteria, ahp = me.weights_from_judgements(criteria, ahp_judgements)
    weights, benefit = me.criteria_from_mapping(criteria)
    distance = me.kogut_singh_distance(reference[list(HOFSTEDE_DIMENSIONS)], home_market)
    values = reference.join(distance["distance"].rename("cultural_distance"))
    missing = sorted(set(weights.index) - set(values.columns))
    if missing:
        raise ValueError(f"criteria {missing} are not reference columns; known: {sorted(values.columns)}")
    matrix = values.loc[candidates, list(weights.index)]
    options = {"min_coverage": min_coverage} | ({"normalisation": normalisation} if method == "weighted_sum" else {})
    other = "topsis" if method == "weighted_sum" else "weighted_sum"
    ranking = me.score_markets(matrix, weights, benefit, method, **options)
    other_ranking = me.score_markets(matrix, weights, benefit, other, min_coverage=min_coverage)
    robustness = mes.top_k_probability(
        matrix,
        weights,
        benefit,
        method=method,
        top_k=top_k,
        n_simulations=n_simulations,
        concentration=concentration,
        seed=seed,
        **options,
    )
    return EntryScenario(
        home_market=home_market,
        candidates=candidates,
        method=method,
        other_method=other,
        weights=weights,
        benefit=benefit,
        ahp=ahp,
        distance=distance,
        matrix=matrix,
        ranking=ranking,
        other_ranking=other_ranking,
        robustness=robustness,
        swings=mes.weight_swings(matrix, weights, benefit, method=method, swing=swing, **options),
        agreement=mes.method_agreement({method: ranking["rank"], other: other_ranking["rank"]}),
        plan=mes.phased_entry_plan(ranking, distance.loc[candidates], top_k=top_k, robustness=robustness),
    )
