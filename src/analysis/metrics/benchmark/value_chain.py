"""The value chain: KPIs grouped into the stages a customer and a seller go through, and where the client loses most.

A stage's score is the mean index to best of its KPIs (0..100, best = 100); its index gap is 100 minus that score.
The stage where the client loses most is the one with the client's lowest mean index (the largest gap to the
leaders); KPIs without a value for the client do not count.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from analysis.errors import ParameterError

STAGES = ("acquisition", "conversion", "fulfilment", "service", "retention")
DEFAULT_VALUE_CHAIN: dict[str, str] = {
    "conversion_rate": "acquisition",
    "market_share": "acquisition",
    "cart_abandonment_rate": "conversion",
    "order_fulfilment_days": "fulfilment",
    "csat": "service",
    "nps": "service",
    "repeat_customer_rate": "retention",
    "seller_retention_rate": "retention",
}


def stage_mapping(scorecard: pd.DataFrame, stages: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{kpi: stage}`` checked against the scorecard's KPIs: ``stages`` as given, or the default mapping.

    The default maps the KPIs of the demo's benchmarks (:data:`DEFAULT_VALUE_CHAIN`) and leaves others out; a given
    mapping must name only KPIs the scorecard holds.

    Raises
    ------
    ParameterError
        (parameter ``stages``) for a KPI the scorecard does not hold or an empty stage name.
    """
    kpis = sorted(scorecard["kpi"].unique())
    if not stages:
        return {kpi: stage for kpi, stage in DEFAULT_VALUE_CHAIN.items() if kpi in kpis}
    unknown = sorted(set(stages) - set(kpis))
    if unknown:
        raise ParameterError(
            f"the value-chain mapping names KPI(s) {unknown} that the benchmarks do not hold; KPIs: {kpis}",
            parameter="stages",
            value=unknown,
            valid=kpis,
        )
    unnamed = sorted(kpi for kpi, stage in stages.items() if not isinstance(stage, str) or not stage.strip())
    if unnamed:
        raise ParameterError(
            f"the value-chain mapping gives no stage for {unnamed}",
            parameter="stages",
            value=unnamed,
            valid="a stage name such as " + ", ".join(STAGES),
        )
    return dict(stages)


def value_chain_gaps(scorecard: pd.DataFrame, stages: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Each company's mean index to best and mean gap to the median per value-chain stage.

    Parameters
    ----------
    scorecard
        :func:`~analysis.metrics.benchmark.benchmark_scorecard`.
    stages
        ``{kpi: stage}``; None or empty: :data:`DEFAULT_VALUE_CHAIN`.

    Returns
    -------
    pandas.DataFrame
        One row per stage x company, stages in chain order (the default stages first, then others as named), the
        client first within a stage: ``stage``, ``company``, ``is_client``, ``kpis`` (the stage's KPIs, comma
        separated), ``kpis_with_value``, ``mean_index_to_best`` (0..100; NaN without a value),
        ``index_gap_to_best`` (100 - mean index), ``mean_gap_to_median_pct`` (fraction, positive = better than
        the median).
    """
    mapping = stage_mapping(scorecard, stages)
    order = [*STAGES, *sorted(set(mapping.values()) - set(STAGES))]
    order = [stage for stage in order if stage in mapping.values()]
    rows = scorecard[scorecard["kpi"].isin(mapping)].assign(stage=lambda frame: frame["kpi"].map(mapping))
    summary = (
        rows.groupby(["stage", "company", "is_client"])
        .agg(
            kpis_with_value=("value", "count"),
            mean_index_to_best=("index_to_best", "mean"),
            mean_gap_to_median_pct=("gap_to_median_pct", "mean"),
        )
        .reset_index()
    )
    names = {stage: ", ".join(sorted(kpi for kpi, s in mapping.items() if s == stage)) for stage in order}
    summary["kpis"] = summary["stage"].map(names)
    summary["index_gap_to_best"] = 100 - summary["mean_index_to_best"]
    summary["stage_order"] = summary["stage"].map({stage: position for position, stage in enumerate(order)})
    summary = summary.sort_values(["stage_order", "is_client", "company"], ascending=[True, False, True])
    columns = [
        "stage", "company", "is_client", "kpis", "kpis_with_value", "mean_index_to_best", "index_gap_to_best",
        "mean_gap_to_median_pct",
    ]  # fmt: skip
    return summary[columns].reset_index(drop=True)


def weakest_stage(value_chain: pd.DataFrame) -> str | None:
    """The stage where the client loses most: its lowest mean index to best (first in chain order on a tie)."""
    client = value_chain[value_chain["is_client"] & value_chain["mean_index_to_best"].notna()]
    if client.empty:
        return None
    return str(client.loc[client["mean_index_to_best"].idxmin(), "stage"])
