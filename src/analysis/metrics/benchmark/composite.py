"""One score per company from its KPIs, how robust its rank is to the weights, and market share over time.

The composite score is the weighted mean of a company's KPIs on the index-to-best scale (0..100, the best = 100).
Its sensitivity reuses the market-entry robustness check
(:func:`analysis.metrics.market_entry.sensitivity.top_k_probability`): weights drawn from a Dirichlet centred on the
chosen ones, the share of draws in which each company ranks in the top k. That check min-max rescales each criterion;
an anchor row with index 0 on every KPI makes its rescaling exactly index / 100 (the best company is at 100, so the
maximum is 100 and the minimum 0), and the anchor, last in every draw, never moves anyone's rank. A KPI a company
lacks is left out of its score with the other weights re-normalised (the market-entry rule); a company whose KPIs
cover less than ``min_coverage`` of the weight gets no score.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.market_entry.scoring import weighted_sum
from analysis.metrics.market_entry.sensitivity import top_k_probability
from analysis.metrics.market_entry.weights import validate_weights

MARKET_SHARE = "market_share"
_ANCHOR = "\x00index floor"  # a company name no data can hold


def kpi_weights(kpis: list[str], weights: Mapping[str, float] | None) -> pd.Series:
    """The weights of the composite, normalised to sum to 1: equal over ``kpis`` when ``weights`` is None or empty.

    KPIs left out of a given ``weights`` get weight 0.

    Raises
    ------
    ParameterError
        (parameter ``weights``) for a KPI the scorecard does not hold, or a negative, non-finite or all-zero weight.
    """
    if not weights:
        return pd.Series(1.0 / len(kpis), index=kpis)
    unknown = sorted(set(weights) - set(kpis))
    if unknown:
        raise ParameterError(
            f"weights name KPI(s) {unknown} that the benchmarks do not hold; KPIs: {kpis}",
            parameter="weights",
            value=unknown,
            valid=kpis,
        )
    return validate_weights(pd.Series({kpi: float(weights.get(kpi, 0.0)) for kpi in kpis}))


def composite_scores(
    scorecard: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    *,
    top_k: int = 1,
    n_simulations: int = 1000,
    concentration: float = 50.0,
    min_coverage: float = 0.5,
    seed: int = 0,
) -> pd.DataFrame:
    """Composite score of each company (weighted mean index to best) and the probability it ranks in the top k.

    Parameters
    ----------
    scorecard
        :func:`~analysis.metrics.benchmark.benchmark_scorecard`.
    weights
        ``{kpi: weight >= 0}``; None or empty: equal weights over every KPI of the scorecard.
    top_k, n_simulations, concentration, seed
        As for :func:`analysis.metrics.market_entry.sensitivity.top_k_probability`.
    min_coverage
        Share of the weight a company's KPIs must cover for it to be scored.

    Returns
    -------
    pandas.DataFrame
        One row per company, best first: ``company``, ``is_client``, ``composite_score`` (0..100), ``rank`` (1 =
        best, ties share the best rank; NaN when not scored), ``kpis_used``, ``weight_coverage`` (share of the
        weight with a value), ``p_top_k`` (share of weight draws in which it ranks <= ``top_k``), ``mean_rank``,
        ``rank_p05``, ``rank_p95`` (5th and 95th percentiles of its rank over the draws).
    """
    matrix = scorecard.pivot(index="company", columns="kpi", values="index_to_best")
    matrix = matrix.loc[:, matrix.notna().any()]
    weights = kpi_weights(list(matrix.columns), weights)
    anchored = pd.concat([matrix, pd.DataFrame(0.0, index=[_ANCHOR], columns=matrix.columns)])
    benefit = dict.fromkeys(matrix.columns, True)
    options = {"normalisation": "minmax", "min_coverage": min_coverage}
    base = weighted_sum(anchored, weights, benefit, **options).drop(index=_ANCHOR)
    robust = top_k_probability(
        anchored, weights, benefit, top_k=top_k, n_simulations=n_simulations, concentration=concentration, seed=seed,
        **options,
    ).drop(index=_ANCHOR, errors="ignore")  # fmt: skip
    client = scorecard.loc[scorecard["is_client"], "company"].iloc[0]
    frame = pd.DataFrame(
        {
            "company": base.index,
            "is_client": base.index == client,
            "composite_score": base["score"].to_numpy() * 100,
            "rank": base["rank"].to_numpy(),
            "kpis_used": base["criteria_used"].to_numpy(),
            "weight_coverage": base["weight_coverage"].to_numpy(),
        }
    )
    frame = frame.merge(
        robust[["p_top_k", "mean_rank", "rank_p05", "rank_p95"]], left_on="company", right_index=True, how="left"
    )
    return frame.sort_values(["rank", "company"], na_position="last", ignore_index=True)


def market_share_trend(series: pd.DataFrame) -> pd.DataFrame:
    """Each company's market share per quarter and its change, from :attr:`BenchmarkTrends.series`.

    For ALL, a share is the unweighted mean of the company's market shares (the table holds no market sizes).

    Returns
    -------
    pandas.DataFrame
        One row per company x quarter: ``company``, ``is_client``, ``period``, ``share`` (fraction),
        ``change_qoq`` and ``change_yoy`` (fraction points against the quarter before / four before; NaN without
        it), ``change_since_start`` (against the company's first quarter of the window). Empty when the table
        has no ``market_share`` KPI.
    """
    shares = series[series["kpi"] == MARKET_SHARE]
    first = shares.groupby("company")["value"].transform("first")
    return pd.DataFrame(
        {
            "company": shares["company"],
            "is_client": shares["is_client"],
            "period": shares["period"],
            "share": shares["value"],
            "change_qoq": shares["qoq_change"],
            "change_yoy": shares["yoy_change"],
            "change_since_start": shares["value"] - first,
        }
    ).reset_index(drop=True)


def share_change(shares: pd.DataFrame) -> pd.DataFrame:
    """Each company's share in the first and last quarter and its change, the largest share first.

    Returns
    -------
    pandas.DataFrame
        ``company``, ``is_client``, ``first_period``, ``last_period``, ``first_share``, ``last_share``,
        ``change`` (fraction points).
    """
    ordered = shares.groupby(["company", "is_client"], sort=False)
    summary = ordered.agg(
        first_period=("period", "first"),
        last_period=("period", "last"),
        first_share=("share", "first"),
        last_share=("share", "last"),
    ).reset_index()
    summary["change"] = summary["last_share"] - summary["first_share"]
    return summary.sort_values("last_share", ascending=False, ignore_index=True)
