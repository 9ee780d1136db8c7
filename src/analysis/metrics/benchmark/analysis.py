"""The benchmarking analysis of one market (or ALL): scorecard, trends, composite, market share and value chain, and,
given the client's own tables, its recomputed KPIs and what closing a gap is worth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from analysis.contract import ALL_MARKETS
from analysis.errors import ParameterError
from analysis.metrics.benchmark.client_kpis import client_kpis, consistency_check
from analysis.metrics.benchmark.composite import composite_scores, kpi_weights, market_share_trend
from analysis.metrics.benchmark.gap_value import cost_of_gap
from analysis.metrics.benchmark.scorecard import benchmark_scorecard
from analysis.metrics.benchmark.table import check_period, comparison, quarter_of, quarter_ordinal
from analysis.metrics.benchmark.trends import BenchmarkTrends, benchmark_trends
from analysis.metrics.benchmark.value_chain import stage_mapping, value_chain_gaps, weakest_stage
from analysis.scope import Scope


@dataclass(frozen=True)
class BenchmarkAnalysis:
    """Everything the benchmarking notebook shows; each frame is documented where it is made.

    Attributes
    ----------
    client, market, period
        The company analysed, the market code (or ``ALL``) and the scorecard's quarter.
    companies
        The client first, then the peers compared.
    kpi_weights
        The composite's weights by KPI (summing to 1).
    stages
        ``{kpi: value-chain stage}`` used.
    top_k, n_simulations, seed
        The composite's sensitivity parameters.
    scope
        The date range that set the trend window (None: every quarter up to ``period``).
    scorecard
        :func:`~analysis.metrics.benchmark.benchmark_scorecard`.
    trends
        :func:`~analysis.metrics.benchmark.benchmark_trends` over the window (quarters up to ``period``).
    composite
        :func:`~analysis.metrics.benchmark.composite_scores`.
    market_share
        :func:`~analysis.metrics.benchmark.market_share_trend`.
    value_chain
        :func:`~analysis.metrics.benchmark.value_chain_gaps`; ``weakest_stage`` is the client's weakest stage.
    client_kpis, consistency, cost_of_gap
        From the client's own tables (``client_kpis``, ``consistency_check``, ``cost_of_gap`` of
        :mod:`analysis.metrics.benchmark.client_kpis` and :mod:`~analysis.metrics.benchmark.gap_value`); None when
        no tables were given. The consistency check compares with the client's benchmark rows averaged over the
        window's quarters. For ALL only ``client_kpis`` is filled: the benchmark values of ALL are unweighted means
        of markets and orders come in several currencies, so the check and the gap values are made per market.
    """

    client: str
    market: str
    period: str
    companies: tuple[str, ...]
    kpi_weights: pd.Series
    stages: dict[str, str]
    top_k: int
    n_simulations: int
    seed: int
    scope: Scope | None
    scorecard: pd.DataFrame
    trends: BenchmarkTrends
    composite: pd.DataFrame
    market_share: pd.DataFrame
    value_chain: pd.DataFrame
    weakest_stage: str | None
    client_kpis: pd.DataFrame | None = None
    consistency: pd.DataFrame | None = None
    cost_of_gap: pd.DataFrame | None = None

    @property
    def client_scorecard(self) -> pd.DataFrame:
        """The client's rows of the scorecard, indexed by KPI."""
        return self.scorecard[self.scorecard["is_client"]].set_index("kpi")


def analyse_benchmark(
    benchmarks: ir.Table | pd.DataFrame,
    *,
    client: str,
    market: str = ALL_MARKETS,
    period: str | None = None,
    peers: Sequence[str] | None = None,
    weights: Mapping[str, float] | None = None,
    stages: Mapping[str, str] | None = None,
    top_k: int = 1,
    n_simulations: int = 1000,
    seed: int = 0,
    tables: dict[str, ir.Table] | None = None,
    scope: Scope | None = None,
) -> BenchmarkAnalysis:
    """Benchmark ``client`` against its peers in ``market`` (or ALL) at ``period`` and over the quarters before.

    Parameters
    ----------
    benchmarks
        The ``benchmarks`` contract table (Ibis table on any engine, or a pandas frame).
    client, market, period, peers
        As for :func:`~analysis.metrics.benchmark.benchmark_scorecard`; with a ``scope``, ``period`` defaults to the
        latest quarter that starts within it.
    weights
        ``{kpi: weight}`` of the composite score; None or empty: equal weights.
    stages
        ``{kpi: stage}`` of the value chain; None or empty: the default mapping.
    top_k, n_simulations, seed
        The composite's sensitivity to its weights (probability of ranking in the top ``top_k``).
    tables, scope
        The client's own contract tables (:func:`analysis.sources.load_tables`) and the date range: with both, the
        client's KPIs are recomputed, checked against its benchmark rows and the gaps valued. ``scope`` alone sets
        the trend window to the quarters overlapping it.
    """
    period, quarters = _window(benchmarks, client, market, peers, scope, period)
    scorecard = benchmark_scorecard(benchmarks, client=client, market=market, period=period, peers=peers)
    market = scorecard["market"].iloc[0]
    companies = (client, *sorted(set(scorecard["company"]) - {client}))
    trends = benchmark_trends(benchmarks, client=client, market=market, peers=peers, start=quarters[0], end=period)
    composite = composite_scores(scorecard, weights, top_k=top_k, n_simulations=n_simulations, seed=seed)
    value_chain = value_chain_gaps(scorecard, stages)
    own, consistency, cost = _client_side(tables, scope, scorecard, trends, client)
    return BenchmarkAnalysis(
        client=client,
        market=market,
        period=period,
        companies=companies,
        kpi_weights=kpi_weights(sorted(composite_kpis(scorecard)), weights),
        stages=stage_mapping(scorecard, stages),
        top_k=top_k,
        n_simulations=n_simulations,
        seed=seed,
        scope=scope,
        scorecard=scorecard,
        trends=trends,
        composite=composite,
        market_share=market_share_trend(trends.series),
        value_chain=value_chain,
        weakest_stage=weakest_stage(value_chain),
        client_kpis=own,
        consistency=consistency,
        cost_of_gap=cost,
    )


def composite_kpis(scorecard: pd.DataFrame) -> list[str]:
    """The KPIs the composite can weigh: those with a value for at least one company."""
    return list(scorecard.loc[scorecard["value"].notna(), "kpi"].unique())


def _window(benchmarks, client, market, peers, scope: Scope | None, period: str | None) -> tuple[str, list[str]]:
    """The scorecard's quarter and the trend window: the quarters overlapping ``scope`` (all when None) up to it."""
    quarters = list(comparison(benchmarks, client=client, market=market, peers=peers).quarters)
    if period:
        check_period(period, quarters)
    if scope is not None:
        first, last = quarter_ordinal(quarter_of(scope.start)), quarter_ordinal(quarter_of(scope.end))
        inside = [q for q in quarters if first <= quarter_ordinal(q) <= last]
        if not inside:
            raise ParameterError(
                f"no benchmark quarter overlaps {scope.start} to {scope.end}; quarters with rows: {quarters}",
                parameter="start_date",
                value=str(scope.start),
                valid=f"a date range overlapping {quarters[0]} to {quarters[-1]}",
            )
        quarters = inside
    if period:
        quarters = [q for q in quarters if quarter_ordinal(q) <= quarter_ordinal(period)] or [period]
    return period or quarters[-1], quarters


def _client_side(tables, scope, scorecard, trends, client):
    """Own KPIs, their consistency with the benchmark rows and the value of the gaps (None without tables)."""
    if tables is None or scope is None:
        return None, None, None
    own = client_kpis(tables, scope)
    if scope.market == ALL_MARKETS:
        # benchmark values for ALL are unweighted means of markets and orders are in several currencies: the
        # check and the value of a gap are only meaningful per market
        return own, None, None
    mine = trends.series[trends.series["company"] == client]
    benchmark_rows = mine.groupby("kpi", as_index=False).agg(value=("value", "mean"), unit=("unit", "first"))
    consistency = consistency_check(own, benchmark_rows)
    cost = cost_of_gap(tables, scope, scorecard, client=client)
    return own, consistency, cost
