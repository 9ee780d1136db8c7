"""Post-initiative results of one market (or ALL): per KPI the effect, its interval, the design and the verdict.

The result's shape is fixed here first so the presenters can be written beside the estimators;
:func:`analyse_impact` fills it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import DataError, ParameterError
from analysis.metrics.experiment import analyse_experiment
from analysis.metrics.impact.calendar import initiative_rows
from analysis.metrics.impact.design import SOURCES, kpi_panels, launch_table
from analysis.metrics.impact.estimation import (
    BOOTSTRAP,
    ESTIMATE_KEYS,
    ITT,
    LEFT_OUT,
    NOT_IN_PANEL,
    PARTLY,
    KpiPanel,
    KpiResult,
    MarketEffect,
    bootstrap_values,
    did_estimate,
    event_rows,
    market_effect,
    pre_trend_row,
    twfe_row,
)
from analysis.metrics.impact.relative import targets_for, with_target
from analysis.metrics.stats import is_real
from analysis.scope import Scope

# The KPIs the post-initiative readout knows, in the order the findings list them: (panel period, direction).
# "higher"/"lower" is the good direction; targets for a "lower" KPI are negative (−25% to −30%).
KPIS: dict[str, tuple[str, str]] = {
    "conversion_rate": ("month", "higher"),
    "cart_abandonment_rate": ("month", "lower"),
    "csat_top2": ("month", "higher"),
    "nps": ("month", "higher"),
    "repeat_customer_rate": ("quarter", "higher"),
    "seller_churn_hazard": ("month", "lower"),
}
# The case studies' target ranges (relative change), used where the initiatives table gives none for a KPI.
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "conversion_rate": (0.15, 0.20),
    "cart_abandonment_rate": (-0.25, -0.30),
    "csat_top2": (0.40, 0.40),
    "repeat_customer_rate": (0.10, 0.15),
}
DESIGNS = ("randomised", "staggered_did", "interrupted_time_series", "not_launched", "not_estimable")


@dataclass(frozen=True)
class ImpactAnalysis:
    """Everything the post-initiative notebook shows; each frame is documented here, one column per line.

    Attributes
    ----------
    scope
        The market (or ALL) and period asked for.
    initiative_id, initiative_name
        The initiative read (from the ``initiatives`` table).
    alpha
        The significance level of every interval (0.05: 95% intervals).
    launches
        One row per market of the data: ``market``, ``name`` (from the ``markets`` table; the code without one),
        ``launch_date`` (NaT: never launched), ``randomised`` (bool: an A/B test ran there, so its effect is read
        from the experiment), ``in_scope`` (bool).
    effects
        One row per KPI of :data:`KPIS` (in that order), for the scope (the market, or all treated markets for ALL):

        - ``kpi``: the KPI's code; ``period``: the panel's period (``week``/``month``/``quarter``);
        - ``design``: one of :data:`DESIGNS`; ``inference``: what the interval comes from (e.g.
          ``"session-sampling bootstrap"``, ``"experiment (delta method)"``, ``"HAC"``);
        - ``treated_markets``, ``comparison_markets``: how many markets were treated / served as comparison;
        - ``baseline``: the counterfactual level (the treated markets' post-launch level without the initiative);
        - ``effect``, ``effect_ci_low``, ``effect_ci_high``: the absolute effect (ATT, in the KPI's units); for DiD
          the average over **fully treated** post-launch periods: the group-time cells are R's ``did``'s, but a
          period a launch falls inside (event time 0 of that cohort) is left out of the aggregation;
        - ``relative``, ``relative_ci_low``, ``relative_ci_high``: the effect over ``baseline`` (0.175 = +17.5%);
        - ``p_value``: of "no effect" under the same inference as the interval; ``real``: ``stats.is_real(p_value)``;
        - ``few_cluster_p_value``, ``few_cluster_method``: the wild-cluster-bootstrap (Webb) p-value of the TWFE
          estimate over markets, shown beside (NaN where not computed, e.g. randomised);
        - ``target_low``, ``target_high``: the target range (relative; NaN without one), ``target_source``
          (``"initiatives"``, ``"case study"`` or ``""``);
        - ``verdict``: ``met``, ``missed``, ``inconclusive`` or ``""`` without target; ``position``: ``below``,
          ``within``, ``above`` or ``""``;
        - ``note``: short codes for caveats, comma-separated, ``""`` when none: ``"intention_to_treat"`` (a
          randomised market's own KPI without arms, where only the treatment arm was treated);
          ``"randomised_market_left_out"`` (ALL's CSAT, NPS or repeat-customer effect without the randomised
          market, whose market-level effect is diluted; it stays in the seller churn hazard, treated market-wide);
          ``"partly_treated_periods"`` (a launch fell inside its first period: event time 0 left out of the effect).
    market_effects
        The forest plot: one row per KPI and treated market: ``kpi``, ``market``, ``design``, ``effect``,
        ``effect_ci_low``, ``effect_ci_high``, ``relative``, ``relative_ci_low``, ``relative_ci_high``.
    event_study
        One row per KPI and event time (periods since launch, negative before): ``kpi``, ``event_time``, ``att``,
        ``att_ci_low``, ``att_ci_high``, ``relative``, ``cohorts`` (how many launches contribute),
        ``partly_treated`` (bool: event time 0 where a launch fell inside the period; shown here, left out of
        ``effects`` and ``market_effects``).
    pre_trends
        One row per KPI estimated by DiD: ``kpi``, ``statistic``, ``degrees_of_freedom``, ``p_value`` (joint test
        that every pre-launch effect is zero), ``parallel`` (bool: ``not is_real(p_value)``).
    twfe
        One row per KPI estimated by DiD: ``kpi``, ``twfe_effect``, ``twfe_ci_low``, ``twfe_ci_high``,
        ``twfe_p_value`` (CRV1 by market), ``few_cluster_p_value``, ``did_effect`` (Callaway–Sant'Anna, same
        scope), ``disagree`` (bool: the TWFE estimate falls outside the Callaway–Sant'Anna interval). The regression
        drops each cohort's partly treated first period (the market-period rows where a launch fell inside the
        period), as the Callaway–Sant'Anna effect leaves that event time 0 out, so both estimate the same thing.
    series
        The KPI over time for the charts: ``kpi``, ``market``, ``period_start``, ``value``, ``denominator``
        (sessions, answers, customers or sellers at risk), ``treated`` (bool), ``launch_date``.
    interrupted
        Where a market had no comparison (single-market designs): ``kpi``, ``method`` (``"segmented"`` or
        ``"structural"``), ``period_start``, ``actual``, ``counterfactual``, ``counterfactual_ci_low``,
        ``counterfactual_ci_high``; empty otherwise. A partly treated launch period is drawn but left out of both
        fits and of the effect (the segmented regression's trend keeps its place in time).
    unestimable
        ``kpi``, ``market``, ``reason``: what could not be estimated, and why.
    """

    scope: Scope
    initiative_id: str | None
    initiative_name: str | None
    alpha: float
    launches: pd.DataFrame
    effects: pd.DataFrame
    market_effects: pd.DataFrame
    event_study: pd.DataFrame
    pre_trends: pd.DataFrame
    twfe: pd.DataFrame
    series: pd.DataFrame
    interrupted: pd.DataFrame
    unestimable: pd.DataFrame


EFFECT_COLUMNS = [
    "kpi", "period", "design", "inference", "treated_markets", "comparison_markets", "baseline", "effect",
    "effect_ci_low", "effect_ci_high", "relative", "relative_ci_low", "relative_ci_high", "p_value", "real",
    "few_cluster_p_value", "few_cluster_method", "target_low", "target_high", "target_source", "verdict", "position",
    "note",
]  # fmt: skip
MARKET_COLUMNS = [
    "kpi", "market", "design", "effect", "effect_ci_low", "effect_ci_high", "relative", "relative_ci_low",
    "relative_ci_high",
]  # fmt: skip
EVENT_COLUMNS = ["kpi", "event_time", "att", "att_ci_low", "att_ci_high", "relative", "cohorts", "partly_treated"]
PRE_TREND_COLUMNS = ["kpi", "statistic", "degrees_of_freedom", "p_value", "parallel"]
TWFE_COLUMNS = [
    "kpi", "twfe_effect", "twfe_ci_low", "twfe_ci_high", "twfe_p_value", "few_cluster_p_value", "did_effect",
    "disagree",
]  # fmt: skip
SERIES_COLUMNS = ["kpi", "market", "period_start", "value", "denominator", "treated", "launch_date"]
INTERRUPTED_COLUMNS = [
    "kpi", "method", "period_start", "actual", "counterfactual", "counterfactual_ci_low", "counterfactual_ci_high",
]  # fmt: skip
UNESTIMABLE_COLUMNS = ["kpi", "market", "reason"]
DRAWS = 400
SEED = 20251001
FEW_CLUSTER_DRAWS = 999


def analyse_impact(
    tables: Mapping[str, ir.Table],
    scope: Scope,
    *,
    initiative_id: str | None = None,
    targets: Mapping[str, tuple[float, float]] | None = None,
    comparison_markets: Sequence[str] | None = None,
    alpha: float = 0.05,
    draws: int = DRAWS,
    seed: int = SEED,
) -> ImpactAnalysis:
    """The post-initiative readout of ``scope``'s market (or ALL): per KPI the effect, interval, design and verdict.

    Designs and per-market effects are chosen as :mod:`~analysis.metrics.impact.estimation` says. The interval
    behind ``effect_ci_*``, ``relative_ci_*``, ``p_value``, ``real`` and the verdict is, for DiD, the
    **session-sampling parametric bootstrap** (:mod:`~analysis.metrics.impact.sampling`: each market-period rate
    redrawn from its counts, Callaway & Sant'Anna re-run per draw, percentile intervals; the relative interval from
    the same draws), not R's analytic influence-function SE, which misses a one-market cohort's own noise. Beside it,
    ``few_cluster_p_value`` is the Webb wild-cluster-bootstrap p-value of the TWFE effect over markets (what
    market-level shocks would do). For a randomised market's session KPIs the experiment readout's relative lift
    and its delta-method interval are the effect; for a market without comparison, the segmented regression (HAC).

    Parameters
    ----------
    tables
        The contract tables (:func:`analysis.sources.load_tables`): ``events`` and ``initiatives`` needed;
        ``surveys``, ``orders``, ``sellers`` used when present. Every market is read (the others are comparisons).
    scope
        The market (or ``ALL``) and the dates of the panels.
    initiative_id
        Which initiative; None takes the only one.
    targets
        ``{kpi: (low, high)}`` relative target ranges overriding the initiatives table's and the case study's.
    comparison_markets
        The markets allowed as comparisons besides the scope's treated markets; None: every market of the data;
        ``[]``: none, so a single market is read as an interrupted time series.
    alpha
        Significance level of every interval (and of ``is_real``, which must then be the plan's level too).
    draws, seed
        Bootstrap draws per KPI and the random seed (same seed, same intervals).
    """
    check_parameters(scope, alpha, draws, targets)
    initiative = selected_initiative(tables, initiative_id)
    panels, dropped, randomised = kpi_panels(tables, scope, initiative_id=initiative["id"], kpis=KPIS)
    markets = sorted(set().union(*(set(panel["market"]) for panel in panels.values())))
    launches = launch_table(initiative["rows"], markets, scope, randomised, market_names(tables))
    in_scope = [m for m in randomised if scope.market in ("ALL", m)]
    experiments = {m: read_experiment(tables, scope, m, alpha) for m in sorted(in_scope)}
    options = {"alpha": alpha, "draws": draws, "seed": seed, "comparison_markets": comparison_markets}
    results = [estimate_kpi(kpi, panels.get(kpi), scope, randomised, experiments, launches, **options) for kpi in KPIS]
    target_of = targets_for(initiative["rows"], targets, DEFAULT_TARGETS)
    effects = pd.DataFrame([with_target(result.effect, target_of(result.effect["kpi"])) for result in results])
    series = pd.concat([series_rows(kpi, panel) for kpi, panel in panels.items()], ignore_index=True)
    unestimable = pd.concat([dropped, *(frame(r.unestimable, UNESTIMABLE_COLUMNS) for r in results)])
    return ImpactAnalysis(
        scope=scope,
        initiative_id=initiative["id"],
        initiative_name=initiative["name"],
        alpha=alpha,
        launches=launches,
        effects=effects[EFFECT_COLUMNS],
        market_effects=frame([row for r in results for row in r.markets], MARKET_COLUMNS),
        event_study=frame([row for r in results for row in r.events], EVENT_COLUMNS),
        pre_trends=frame([r.pre_trend for r in results if r.pre_trend], PRE_TREND_COLUMNS),
        twfe=frame([r.twfe for r in results if r.twfe], TWFE_COLUMNS),
        series=series[SERIES_COLUMNS] if not series.empty else frame([], SERIES_COLUMNS),
        interrupted=frame([row for r in results for row in r.interrupted], INTERRUPTED_COLUMNS),
        unestimable=unestimable.drop_duplicates(["kpi", "market"]).reset_index(drop=True),
    )


def estimate_kpi(
    kpi: str,
    panel: pd.DataFrame | None,
    scope: Scope,
    randomised: set[str],
    experiments: dict[str, pd.DataFrame],
    launches: pd.DataFrame,
    *,
    alpha: float,
    draws: int,
    seed: int,
    comparison_markets: Sequence[str] | None,
) -> KpiResult:
    """One KPI's effect for the scope, its markets' effects, event study, pre-trend test, TWFE and ITS rows."""
    row = {"kpi": kpi, "period": KPIS[kpi][0], "design": "not_estimable", "inference": "", "note": ""}
    row |= {"treated_markets": 0, "comparison_markets": 0, "few_cluster_p_value": np.nan, "few_cluster_method": ""}
    row |= dict.fromkeys(ESTIMATE_KEYS, np.nan)
    if panel is None or panel.empty:
        return KpiResult(row, unestimable=[{"kpi": kpi, "market": scope.market, "reason": NOT_IN_PANEL}])
    arms = randomised if SOURCES[kpi].session_based else set()
    launch = launches.set_index("market")["launch_date"]
    did_frame = panel[~panel["market"].isin(arms)]
    firsts = did_frame.groupby("market")["first_treated_period"].first()
    launched = [m for m in firsts.index if pd.notna(launch.get(m, pd.NaT))]
    wanted = [m for m in launch.index if pd.notna(launch[m]) and scope.market in ("ALL", m)]
    if comparison_markets is not None:
        did_frame = did_frame[did_frame["market"].isin(set(comparison_markets) | set(wanted))]
    offset = list(KPIS).index(kpi)
    data = KpiPanel.of(did_frame, kpi, draws=draws, seed=seed + offset) if not did_frame.empty else None
    result = KpiResult(row)
    own = {
        m: market_effect(m, data, kpi, arms, experiments, launch.get(m, pd.NaT), alpha, verify=scope.market == m)
        for m in wanted
    }
    for market, effect in own.items():
        if effect.design in ("not_estimable",):
            result.unestimable.append({"kpi": kpi, "market": market, "reason": effect.reason})
        if effect.values:
            result.markets.append({"kpi": kpi, "market": market, "design": effect.design} | effect.values)
    if scope.market != "ALL":
        chosen = own.get(scope.market) or MarketEffect("not_launched")
        estimate, market, left_out = chosen.estimate, scope.market, []
        result.interrupted = chosen.interrupted
    else:
        # a KPI treated per user, without arms: the randomised market's diluted effect stays out of ALL's average
        left_out = sorted(set(randomised) - arms) if SOURCES[kpi].per_user and data is not None else []
        left_out = [m for m in left_out if m in data.markets] if left_out else []
        pooled = data.subset([m for m in data.markets if m not in left_out]) if left_out else data
        chosen, market = _all_markets(kpi, pooled, [m for m in launched if m not in left_out], own, alpha, result), None
        estimate = chosen.estimate
    row |= {"design": chosen.design, "inference": chosen.inference} | chosen.values
    if estimate is not None:
        row["inference"] = BOOTSTRAP.format(draws=draws)
        row["treated_markets"], row["comparison_markets"] = len(estimate.treated), len(estimate.comparisons)
        diluted = set(estimate.treated) & randomised if SOURCES[kpi].per_user else set()
        notes = [ITT] if diluted else []
        notes += [LEFT_OUT] if left_out else []
        row["note"] = ",".join(notes + ([PARTLY] if set(estimate.treated) & estimate.panel.partly else []))
        result.events = event_rows(kpi, estimate, alpha)
        result.pre_trend = pre_trend_row(kpi, estimate, lambda p: is_real(p, alpha=alpha))
        result.twfe = twfe_row(kpi, estimate, market, seed=seed)
        if result.twfe is not None:
            row["few_cluster_p_value"] = result.twfe["few_cluster_p_value"]
            row["few_cluster_method"] = result.twfe.pop("few_cluster_method")
    elif chosen.design == "randomised":
        row["treated_markets"] = 1
    row["real"] = bool(is_real(row["p_value"], alpha=alpha)) if np.isfinite(row["p_value"]) else False
    return result


def _all_markets(
    kpi: str, data: KpiPanel | None, launched: list[str], own: dict, alpha: float, result: KpiResult
) -> MarketEffect:
    """ALL's effect: the "simple" aggregation over every treated market of the DiD panel (randomised ones aside)."""
    if data is not None and any(m in data.markets and data.first_of(m) > 1 for m in launched):
        if len(data.markets) == 1:
            effect = own[data.markets[0]]
            result.interrupted = effect.interrupted
            return effect
        try:
            estimate = did_estimate(data, alpha=alpha, verify=True)
        except DataError as error:
            result.unestimable.append({"kpi": kpi, "market": "ALL", "reason": str(error)})
            return MarketEffect("not_estimable", reason=str(error))
        return MarketEffect("staggered_did", bootstrap_values(estimate.effect), estimate=estimate)
    randomised = [effect for effect in own.values() if effect.design == "randomised"]
    if len(randomised) == 1:
        return randomised[0]
    if not own or all(effect.design == "not_launched" for effect in own.values()):
        return MarketEffect("not_launched")
    return MarketEffect("not_estimable", reason="no launch inside the panel can be estimated")


def check_parameters(scope: Scope, alpha: float, draws: int, targets) -> None:
    """Raise a :class:`ParameterError` for an alpha outside (0, 1), too few draws, or a target for an unknown KPI."""
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha={alpha!r} is not in (0, 1)", parameter="alpha", value=alpha, valid="(0, 1)")
    if int(draws) < 100:
        raise ParameterError(f"draws={draws!r} is too few", parameter="draws", value=draws, valid="at least 100")
    unknown = sorted(set(targets or {}) - set(KPIS))
    if unknown:
        raise ParameterError(
            f"targets for unknown KPIs {unknown}", parameter="targets", value=unknown, valid=list(KPIS)
        )


def selected_initiative(tables: Mapping[str, ir.Table], initiative_id: str | None) -> dict:
    """The initiative's id, name and rows (one per market) from the ``initiatives`` table."""
    if "initiatives" not in tables or "events" not in tables:
        raise DataError(
            "the post-initiative readout needs the events and initiatives tables", valid=["events", "initiatives"]
        )
    rows = initiative_rows(tables["initiatives"].execute(), initiative_id)
    name = str(rows["name"].iloc[0]) if "name" in rows else None
    return {"id": str(rows["initiative_id"].iloc[0]), "name": name, "rows": rows}


def market_names(tables: Mapping[str, ir.Table]) -> dict[str, str]:
    """``{market: name}`` from the ``markets`` table (empty without one, or without a ``name`` column)."""
    if "markets" not in tables or "name" not in tables["markets"].columns:
        return {}
    markets = tables["markets"].select("market", "name").execute().dropna()
    return dict(zip(markets["market"].astype(str), markets["name"].astype(str), strict=True))


def read_experiment(tables: Mapping[str, ir.Table], scope: Scope, market: str, alpha: float) -> pd.DataFrame:
    """The randomised market's experiment readout over the scope's dates."""
    return analyse_experiment(tables, Scope(market, scope.start, scope.end), alpha=alpha).readout


def series_rows(kpi: str, panel: pd.DataFrame) -> pd.DataFrame:
    """The KPI over time per market for the charts."""
    rows = panel[["market", "period_start", "value", "denominator", "treated", "launch_date"]].copy()
    rows.insert(0, "kpi", kpi)
    return rows


def frame(rows: list[dict] | pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows as a frame with exactly ``columns`` (empty frames keep them)."""
    table = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    return table.reindex(columns=columns).reset_index(drop=True)
