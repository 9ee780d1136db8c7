"""One market-entry analysis end to end: weights, cultural distance, scores, robustness and the phased plan.

The notebook passes its parameters to :func:`analyse_market_entry` and shows the :class:`MarketEntryAnalysis`
it returns through :mod:`analysis.present.market_entry`; every number and every choice of what to show is made
here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.contract import HOFSTEDE_DIMENSIONS
from analysis.errors import ParameterError
from analysis.metrics.market_entry.distance import MIN_DISTANCE_DIMENSIONS, kogut_singh_distance
from analysis.metrics.market_entry.plan import phased_entry_plan
from analysis.metrics.market_entry.scoring import score_markets
from analysis.metrics.market_entry.sensitivity import method_agreement, top_k_probability, weight_swings
from analysis.metrics.market_entry.weights import AhpResult, criteria_from_mapping, weights_from_judgements

TAILORED_WAVES = 2  # tailoring notes are written for the markets of waves 1 and 2


@dataclass(frozen=True)
class MarketEntryAnalysis:
    """Everything the market-entry notebook shows, computed once.

    Attributes
    ----------
    home_market, candidates
        Where the client is, and the markets scored (in the order given, or reference order).
    names
        The reader's name of every market shown (candidates, served markets and the home market), from the
        reference's ``name`` column; the code itself where the reference has no name.
    served
        Markets the client already serves (the data's markets table) other than the home market, left out of the
        candidates (``include_served=False``), in the order given: their raw criterion values (the columns of
        ``matrix``), ``distance`` and ``dimensions_measured`` (Kogut-Singh from the home market). Empty when none was
        left out.
    method, other_method
        The scoring method chosen and the other one, shown for agreement.
    normalisation, min_coverage, top_k
        The parameters the scores and the recommendation were made with.
    weights, benefit
        The validated criteria: weights normalised to sum to 1, and ``True`` for a benefit, ``False`` for a cost.
    ahp
        The AHP result when the weights came from pairwise judgements, else ``None``.
    distance
        Kogut-Singh distance from ``home_market`` (:func:`kogut_singh_distance`, variances over the whole
        reference) for the candidates and the home market, in that order: ``distance``, ``dimensions_used``
        (dimensions averaged: scored for both markets and varying over the reference), ``dimensions_measured``
        (of Hofstede's six, how many are scored for both the market and the home market) and ``distance_used``
        (``True`` when a distance exists and at least ``MIN_DISTANCE_DIMENSIONS`` dimensions are measured; a
        distance on fewer is not used as a figure: no ``cultural_distance`` value, no weight coverage, not
        "culturally close").
    matrix
        Candidates x criteria, raw values (NaN where no figure is bundled, and ``cultural_distance`` NaN where the
        distance is not used), in candidate order.
    ranking, other_ranking
        :func:`score_markets` by ``method`` and by ``other_method``, in candidate order; ``ranking`` also carries
        ``distance_dimensions``: ``dimensions_measured`` of ``distance`` (0 without any Hofstede score).
    robustness
        :func:`top_k_probability`; ``swings``: :func:`weight_swings`; ``agreement``: :func:`method_agreement`.
    plan
        :func:`phased_entry_plan`.
    top_market
        The best-ranked market (the first one listed among equals), whose tornado chart is shown; ``None`` when no
        market could be scored.
    tailoring_scores
        Hofstede's dimensions for the markets of waves 1 and 2, in plan order: what the tailoring notes read.
    """

    home_market: str
    candidates: tuple[str, ...]
    names: dict[str, str]
    served: pd.DataFrame
    method: str
    other_method: str
    normalisation: str
    min_coverage: float
    top_k: int
    weights: pd.Series
    benefit: dict[str, bool]
    ahp: AhpResult | None
    distance: pd.DataFrame
    matrix: pd.DataFrame
    ranking: pd.DataFrame
    other_ranking: pd.DataFrame
    robustness: pd.DataFrame
    swings: pd.DataFrame
    agreement: pd.DataFrame
    plan: pd.DataFrame
    top_market: str | None
    tailoring_scores: pd.DataFrame


def analyse_market_entry(
    reference: pd.DataFrame,
    *,
    home_market: str,
    candidate_markets: Sequence[str],
    criteria: Mapping[str, tuple[str, float]],
    served_markets: Sequence[str] = (),
    include_served: bool = False,
    ahp_judgements: Mapping[str, float] | None = None,
    method: str = "weighted_sum",
    normalisation: str = "minmax",
    min_coverage: float = 0.8,
    top_k: int = 3,
    n_simulations: int = 1000,
    concentration: float = 50.0,
    swing: float = 0.10,
    seed: int = 0,
) -> MarketEntryAnalysis:
    """Score ``candidate_markets`` for entry from ``home_market``, test the ranking and plan the entry.

    Parameters
    ----------
    reference
        :func:`analysis.sources.reference.read_market_reference`: one row per market (ISO alpha-2), Hofstede's
        dimensions and the PEST indicators as columns.
    home_market
        Where the client is; cultural distance is measured from it.
    candidate_markets
        Markets to score; empty: every reference market but the home one (and the served ones, below).
    served_markets, include_served
        Markets the client already serves (the data's markets table; codes in the reference or not). Unless
        ``include_served``, they are left out of the candidates, listed or not, and shown apart (``served``).
    criteria
        ``{criterion: (direction, weight)}``: a reference column or ``cultural_distance``, ``"benefit"`` or
        ``"cost"``, a weight >= 0.
    ahp_judgements
        Optional ``{"a|b": v}`` pairwise judgements (:func:`weights_from_judgements`); they replace the weights.
    method, normalisation, min_coverage
        Scoring method (``"weighted_sum"`` or ``"topsis"``), normalisation (weighted sum only) and the share of
        the weight a market's data must cover to be scored.
    top_k, n_simulations, concentration, swing, seed
        Size of a recommendation, and the robustness checks (:func:`top_k_probability`, :func:`weight_swings`).

    Raises
    ------
    ParameterError
        A market is not in the reference, a criterion is not a reference column, or the weights, judgements,
        method or normalisation are not valid.
    """
    listed = list(candidate_markets) or [market for market in reference.index if market != home_market]
    served = [] if include_served else [m for m in dict.fromkeys(served_markets) if m != home_market]
    candidates = [market for market in listed if market not in served and market != home_market]
    unknown = sorted(set([*candidates, home_market]) - set(reference.index))
    if unknown:
        raise ParameterError(
            f"markets {unknown} are not in the reference data; known: {sorted(reference.index)}",
            parameter="home_market" if home_market in unknown else "candidate_markets",
            value=unknown,
            valid=sorted(reference.index),
        )
    if not candidates:
        raise ParameterError(
            f"no candidate market left: {listed} are the home market or already served ({served}); list others, "
            "or set include_served",
            parameter="candidate_markets",
            value=listed,
            valid=sorted(set(reference.index) - {home_market, *served}),
        )
    ahp = None
    if ahp_judgements:
        criteria, ahp = weights_from_judgements(criteria, ahp_judgements)
    weights, benefit = criteria_from_mapping(criteria)
    distance = kogut_singh_distance(reference[list(HOFSTEDE_DIMENSIONS)], home_market)
    scores = reference[list(HOFSTEDE_DIMENSIONS)]
    distance["dimensions_measured"] = (scores.notna() & scores.loc[home_market].notna()).sum(axis=1).astype(int)
    distance["distance_used"] = distance["distance"].notna() & (
        distance["dimensions_measured"] >= MIN_DISTANCE_DIMENSIONS
    )
    used_distance = distance["distance"].where(distance["distance_used"])
    values = reference.join(used_distance.rename("cultural_distance"))
    missing = sorted(set(weights.index) - set(values.columns))
    if missing:
        raise ParameterError(
            f"criteria {missing} are not reference columns; known: {sorted(values.columns)}",
            parameter="criteria",
            value=missing,
            valid=sorted(values.columns),
        )
    matrix = values.loc[candidates, list(weights.index)]
    options = {"min_coverage": min_coverage} | ({"normalisation": normalisation} if method == "weighted_sum" else {})
    other = "topsis" if method == "weighted_sum" else "weighted_sum"
    ranking = score_markets(matrix, weights, benefit, method, **options)
    ranking["distance_dimensions"] = distance["dimensions_measured"].reindex(ranking.index)
    other_ranking = score_markets(matrix, weights, benefit, other, min_coverage=min_coverage)
    robustness = top_k_probability(
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
    plan = phased_entry_plan(
        ranking, distance.loc[candidates].assign(distance=used_distance), top_k=top_k, robustness=robustness
    )
    served_in_reference = [market for market in served if market in reference.index]
    served_frame = values.reindex(served_in_reference)[list(weights.index)].join(
        distance[["distance", "dimensions_measured"]]
    )
    shown = [*candidates, *served, home_market]
    names = reference["name"] if "name" in reference.columns else pd.Series(dtype=str)
    tailored = plan.index[plan["wave"] <= TAILORED_WAVES]
    return MarketEntryAnalysis(
        home_market=home_market,
        candidates=tuple(candidates),
        names={market: str(names.get(market, market)) for market in shown},
        served=served_frame,
        method=method,
        other_method=other,
        normalisation=normalisation,
        min_coverage=min_coverage,
        top_k=top_k,
        weights=weights,
        benefit=benefit,
        ahp=ahp,
        distance=distance.loc[[*candidates, home_market]],
        matrix=matrix,
        ranking=ranking,
        other_ranking=other_ranking,
        robustness=robustness,
        swings=weight_swings(matrix, weights, benefit, method=method, swing=swing, **options),
        agreement=method_agreement({method: ranking["rank"], other: other_ranking["rank"]}),
        plan=plan,
        top_market=ranking["rank"].idxmin() if ranking["rank"].notna().any() else None,
        tailoring_scores=reference.loc[tailored, list(HOFSTEDE_DIMENSIONS)],
    )
