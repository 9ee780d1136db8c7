"""One KPI's post-initiative estimate for a scope: the design chosen per market and the effect under it.

Design per market (said in ``design``): ``randomised`` where an A/B test ran and the KPI is measured on sessions
(the experiment readout's lift is the effect); ``staggered_did`` (Callaway & Sant'Anna, not-yet-treated
comparisons, varying base period, markets as units) otherwise; ``interrupted_time_series`` when no comparison market
is left; ``not_launched`` for a market that never launched; ``not_estimable`` with the reason. A randomised market
leaves the session KPIs' DiD panel altogether (its readout measures it); its survey, order and seller KPIs carry no
arm, so in its own readout it enters their DiD as a treated market (``intention_to_treat``: only its treatment
arm was treated). ALL's effect of such a KPI leaves the randomised market out (``randomised_market_left_out``): its
diluted effect would pull the average towards zero. The seller churn hazard is treated market-wide (sellers have
no arm), so the randomised market stays in it.

A market's own effect is its cohort's Callaway & Sant'Anna effect, with the other markets of the same cohort left
out; ALL's is the "simple" aggregation over every treated market. Intervals: the session-sampling bootstrap of
:mod:`~analysis.metrics.impact.sampling`.

A cohort's partly treated first period (a launch inside it) is left out the same way by every estimator, so they
estimate the same thing: Callaway & Sant'Anna leave its ``(g, g)`` cell out of the "simple" and "group" effects, the
TWFE beside them drops those market-period rows from its panel (:func:`twfe_frame`), and the interrupted time series
leaves the launch period out of its fit and average (:func:`interrupted_rows`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.errors import DataError
from analysis.metrics.impact.design import SOURCES
from analysis.metrics.impact.interrupted import interrupted_time_series, structural_counterfactual
from analysis.metrics.impact.sampling import (
    BootstrapEffect,
    bootstrap_effect,
    check_against,
    did_maps,
    fully_treated_att,
    pre_trend_wald,
    rate_draws,
)
from analysis.metrics.impact.staggered import callaway_santanna

BOOTSTRAP = "session-sampling bootstrap ({draws} draws, percentile)"
EXPERIMENT = "experiment (delta method)"
HAC = "segmented regression (HAC)"
NO_COMPARISON = "no comparison market"
PARTLY = "partly_treated_periods"
ITT = "intention_to_treat"
LEFT_OUT = "randomised_market_left_out"


@dataclass
class KpiPanel:
    """A KPI's DiD panel as arrays: markets × periods of rates, their redraws, and each market's first period."""

    markets: list[str]
    periods: list[pd.Timestamp]
    rates: np.ndarray
    draws: np.ndarray
    first_treated: np.ndarray
    partly: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, panel: pd.DataFrame, kpi: str, *, draws: int, seed: int) -> KpiPanel:
        """The arrays of a balanced panel (from :func:`~analysis.metrics.impact.design.kpi_panels`)."""
        markets = sorted(panel["market"].unique())
        periods = sorted(panel["period_start"].unique())
        ordered = panel.sort_values(["market", "period_start"])
        shape = (len(markets), len(periods))
        rates = ordered["value"].to_numpy(float).reshape(shape)
        source = SOURCES[kpi]
        redrawn = rate_draws(
            ordered["denominator"].to_numpy(),
            rates,
            draws=draws,
            seed=seed,
            kind=source.kind,
            promoters=ordered["promoters"].to_numpy(),
            detractors=ordered["detractors"].to_numpy(),
        )
        first = ordered.groupby("market")["first_treated_period"].first().loc[markets].to_numpy(int)
        partly = set(ordered.loc[ordered["partly_treated"], "market"])
        return cls(markets, periods, rates, redrawn.reshape(draws, *shape), first, partly)

    def subset(self, markets: list[str]) -> KpiPanel:
        """The same panel restricted to ``markets`` (in this panel's order)."""
        keep = [i for i, m in enumerate(self.markets) if m in markets]
        return KpiPanel(
            [self.markets[i] for i in keep],
            self.periods,
            self.rates[keep],
            self.draws[:, keep],
            self.first_treated[keep],
            self.partly & set(markets),
        )

    def partly_cohorts(self) -> set[int]:
        """Cohorts (first treated periods) whose first period is partly treated for one of their markets or more."""
        return {self.first_of(m) for m in self.partly if m in self.markets and self.first_of(m) > 1}

    def first_of(self, market: str) -> int:
        """The market's first treated period (0: never in this panel)."""
        return int(self.first_treated[self.markets.index(market)])


@dataclass
class Estimate:
    """A DiD estimate: the effect with its bootstrap interval, the maps behind it and the markets it used."""

    effect: BootstrapEffect
    maps: object
    panel: KpiPanel
    treated: list[str]
    comparisons: list[str]


def did_estimate(panel: KpiPanel, *, alpha: float, cohort: int | None = None, verify: bool = False) -> Estimate:
    """Callaway & Sant'Anna over ``panel`` (all cohorts, or one ``cohort``) with its bootstrap interval.

    With ``verify`` the linear maps are checked against :func:`~analysis.metrics.impact.staggered.callaway_santanna`
    on the observed rates (the scope's estimate of each KPI is), so the bootstrap re-runs exactly that estimator.

    Raises
    ------
    DataError
        when no cohort can be estimated (no comparison market left, or no launch inside the panel).
    """
    first = panel.first_treated.copy()
    # with one cohort the others keep their timing: comparisons until they launch
    estimable = first == cohort if cohort is not None else first > 1
    partly = panel.partly_cohorts()
    maps = did_maps(first, len(panel.periods), only=cohort, partly=partly)
    flat = panel.draws.reshape(panel.draws.shape[0], -1)
    effect = bootstrap_effect(maps.simple, maps.simple_level, panel.rates, flat, alpha)
    treated = [m for m, f, e in zip(panel.markets, first, estimable, strict=True) if e and f in maps.group]
    comparisons = [m for m, f in zip(panel.markets, first, strict=True) if f == 0 or f > len(panel.periods)]
    if not verify:
        return Estimate(effect, maps, panel, treated, comparisons)
    frame = pd.DataFrame(
        {
            "market": np.repeat(panel.markets, len(panel.periods)),
            "time": np.tile(np.arange(1, len(panel.periods) + 1), len(panel.markets)),
            "value": panel.rates.ravel(),
            "first": np.repeat(first, len(panel.periods)),
        }
    )
    reference = callaway_santanna(frame, "value", "market", "time", "first", control="not_yet_treated")
    sizes = {int(g): int((first == g).sum()) for g in np.unique(first)}
    check_against(maps, panel.rates, fully_treated_att(reference.group_time, sizes, partly, only=cohort))
    return Estimate(effect, maps, panel, treated, comparisons)


def event_rows(kpi: str, estimate: Estimate, alpha: float) -> list[dict]:
    """The dynamic aggregation per event time with percentile intervals from the same draws.

    Event time 0 is kept even where it is partly treated (flagged ``partly_treated``; the "simple" and "group"
    effects leave it out).
    """
    flat = estimate.panel.draws.reshape(estimate.panel.draws.shape[0], -1)
    rows = []
    for e, coefficients in estimate.maps.dynamic.items():
        part = bootstrap_effect(coefficients, estimate.maps.dynamic_level[e], estimate.panel.rates, flat, alpha)
        rows.append(
            {
                "kpi": kpi,
                "event_time": int(e),
                "att": part.effect,
                "att_ci_low": part.effect_ci_low,
                "att_ci_high": part.effect_ci_high,
                "relative": part.relative,
                "cohorts": int(estimate.maps.dynamic_cohorts[e]),
                "partly_treated": bool(e == 0 and estimate.maps.left_out),
            }
        )
    return rows


def pre_trend_row(kpi: str, estimate: Estimate, is_real) -> dict:
    """The joint Wald test of the pre-launch event-time effects with their bootstrap covariance."""
    flat = estimate.panel.draws.reshape(estimate.panel.draws.shape[0], -1)
    statistic, df, p_value = pre_trend_wald(estimate.maps, estimate.panel.rates, flat)
    parallel = bool(not is_real(p_value)) if np.isfinite(p_value) else True
    return {"kpi": kpi, "statistic": statistic, "degrees_of_freedom": df, "p_value": p_value, "parallel": parallel}


def interrupted_rows(kpi: str, panel: KpiPanel, market: str) -> tuple[dict, list[dict]]:
    """Segmented regression (HAC) for the effect, with the structural counterfactual shown beside it.

    A partly treated launch period is left out of both fits' effects (still drawn in the rows).

    Raises
    ------
    DataError
        when the market has too few periods before or after its launch.
    """
    index = panel.markets.index(market)
    series = pd.Series(panel.rates[index], index=pd.DatetimeIndex(panel.periods))
    launch = panel.periods[panel.first_of(market) - 1]
    partly = [launch] if market in panel.partly else []  # the launch period mixes sessions before and after
    segmented = interrupted_time_series(series, launch, leave_out=partly)
    rows = _band_rows(kpi, "segmented", segmented.frame, panel.periods)
    try:
        structural = structural_counterfactual(series, launch, leave_out=partly)
        rows += _band_rows(kpi, "structural", structural.frame, panel.periods)
    except (DataError, ValueError, np.linalg.LinAlgError):
        pass  # the structural model is shown where it fits; the effect is the segmented regression's
    effect = {
        "effect": segmented.effect,
        "effect_ci_low": segmented.effect_ci_low,
        "effect_ci_high": segmented.effect_ci_high,
        "relative": segmented.relative_effect,
        "relative_ci_low": segmented.relative_ci_low,
        "relative_ci_high": segmented.relative_ci_high,
        "baseline": float(np.mean(segmented.frame.loc[segmented.frame["post"], "counterfactual"])),
        "p_value": _normal_p(segmented.effect, segmented.effect_se),
    }
    return effect, rows


def _band_rows(kpi: str, method: str, frame: pd.DataFrame, periods: list) -> list[dict]:
    starts = pd.to_datetime(frame["period"]) if "period" in frame else pd.to_datetime(pd.Series(periods))
    return [
        {
            "kpi": kpi,
            "method": method,
            "period_start": start,
            "actual": row.actual,
            "counterfactual": row.counterfactual,
            "counterfactual_ci_low": row.counterfactual_ci_low,
            "counterfactual_ci_high": row.counterfactual_ci_high,
        }
        for start, row in zip(starts, frame.itertuples(index=False), strict=True)
    ]


def _normal_p(effect: float, se: float) -> float:
    from scipy.stats import norm

    return float(2 * norm.sf(abs(effect / se))) if se > 0 else np.nan


EXPERIMENT_METRICS = {"conversion_rate": "session_conversion", "cart_abandonment_rate": "cart_abandonment"}
NOT_IN_PANEL = "not in this KPI's panel"
LAUNCHED_AFTER = "launched after the panel's last period"
LAUNCHED_BEFORE = "launched in or before the panel's first period: no pre-launch period"
NO_EXPERIMENT = "no experiment readout for this KPI"
ESTIMATE_KEYS = [
    "baseline", "effect", "effect_ci_low", "effect_ci_high", "relative", "relative_ci_low", "relative_ci_high",
    "p_value",
]  # fmt: skip


@dataclass
class KpiResult:
    """One KPI's rows for each frame of :class:`~analysis.metrics.impact.analysis.ImpactAnalysis`."""

    effect: dict
    markets: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    pre_trend: dict | None = None
    twfe: dict | None = None
    interrupted: list[dict] = field(default_factory=list)
    unestimable: list[dict] = field(default_factory=list)


@dataclass
class MarketEffect:
    """How one market's effect was estimated, and the numbers (:data:`ESTIMATE_KEYS`) when it was."""

    design: str
    values: dict = field(default_factory=dict)
    reason: str = ""
    estimate: Estimate | None = None
    interrupted: list[dict] = field(default_factory=list)
    inference: str = ""


def experiment_values(readout: pd.DataFrame, kpi: str) -> dict | None:
    """The experiment readout's row for a session KPI as effect values (lift over the control arm's mean)."""
    rows = readout[readout["metric"] == EXPERIMENT_METRICS.get(kpi)]
    if rows.empty:
        return None
    row = rows.iloc[0]
    return {
        "baseline": float(row["control_mean"]),
        "effect": float(row["difference"]),
        "effect_ci_low": float(row["difference_ci_low"]),
        "effect_ci_high": float(row["difference_ci_high"]),
        "relative": float(row["relative_lift"]),
        "relative_ci_low": float(row["relative_lift_ci_low"]),
        "relative_ci_high": float(row["relative_lift_ci_high"]),
        "p_value": float(row["p_value"]),
    }


def bootstrap_values(effect: BootstrapEffect) -> dict:
    """A bootstrap effect as effect values."""
    return {key: getattr(effect, key) for key in ESTIMATE_KEYS}


def market_effect(
    market: str,
    data: KpiPanel | None,
    kpi: str,
    arms: set[str],
    experiments: dict,
    launch,
    alpha: float,
    *,
    verify: bool = False,
) -> MarketEffect:
    """One market's own effect: randomised, its cohort's DiD (its cohort-mates left out), ITS, or why not."""
    if market in arms:
        values = experiment_values(experiments[market], kpi) if market in experiments else None
        if values is None:
            return MarketEffect("not_estimable", reason=NO_EXPERIMENT)
        return MarketEffect("randomised", values, inference=EXPERIMENT)
    if pd.isna(launch):
        return MarketEffect("not_launched")
    if data is None or market not in data.markets:
        return MarketEffect("not_estimable", reason=NOT_IN_PANEL)
    first = data.first_of(market)
    if first == 0:
        return MarketEffect("not_estimable", reason=LAUNCHED_AFTER)
    if first == 1:
        return MarketEffect("not_estimable", reason=LAUNCHED_BEFORE)
    own = data.subset([m for m in data.markets if m == market or data.first_of(m) != first])
    if len(own.markets) == 1:
        try:
            values, rows = interrupted_rows(kpi, own, market)
        except DataError as error:
            return MarketEffect("not_estimable", reason=str(error))
        return MarketEffect("interrupted_time_series", values, interrupted=rows, inference=HAC)
    try:
        estimate = did_estimate(own, alpha=alpha, cohort=first, verify=verify)
    except DataError as error:
        return MarketEffect("not_estimable", reason=str(error))
    return MarketEffect("staggered_did", bootstrap_values(estimate.effect), estimate=estimate)


def twfe_frame(panel: KpiPanel, partly: Collection[int] = ()) -> pd.DataFrame:
    """The TWFE regression's long panel: ``market``, ``time`` (1, 2, …), ``value``, ``treated`` (0/1).

    The rows ``(market, g)`` of the markets whose first treated period ``g`` is one of the ``partly`` cohorts are
    dropped: the launch fell inside that period, so it is neither treated nor untreated, and the Callaway &
    Sant'Anna aggregation beside it leaves the same cells out. The panel is then unbalanced, which the regression
    (and the wild cluster bootstrap) accept.
    """
    periods = np.arange(1, len(panel.periods) + 1)
    first = np.repeat(panel.first_treated, len(periods))
    time = np.tile(periods, len(panel.markets))
    frame = pd.DataFrame(
        {
            "market": np.repeat(panel.markets, len(periods)),
            "time": time,
            "value": panel.rates.ravel(),
            "treated": ((first > 0) & (time >= first)).astype(int),
        }
    )
    partly_first = (time == first) & np.isin(first, [int(g) for g in partly])
    return frame[~partly_first].reset_index(drop=True)


def twfe_row(kpi: str, estimate: Estimate, market: str | None, *, seed: int) -> dict | None:
    """TWFE (CRV1 by market) and its Webb wild-cluster-bootstrap p-value beside the Callaway & Sant'Anna effect.

    For one market the regression compares it with the panel's never-launched markets (all markets when none). The
    partly treated first periods the Callaway & Sant'Anna effect leaves out are dropped (:func:`twfe_frame`).
    """
    from analysis.metrics.impact.inference import wild_cluster_bootstrap
    from analysis.metrics.impact.twfe import twfe_did

    panel, partly = estimate.panel, estimate.panel.partly_cohorts()
    if market is not None:
        never = [m for m in panel.markets if panel.first_of(m) == 0]
        panel = panel.subset([market, *never]) if never else panel
    frame = twfe_frame(panel, partly)
    if frame["treated"].nunique() < 2 or len(panel.markets) < 3:
        return None
    try:
        twfe = twfe_did(frame, "value", "market", "time", "treated")
        few = wild_cluster_bootstrap(frame, "value", "market", "time", "treated", draws=999, seed=seed)
    except (DataError, ValueError, np.linalg.LinAlgError):
        return None
    effect = estimate.effect
    return {
        "kpi": kpi,
        "twfe_effect": twfe.estimate,
        "twfe_ci_low": twfe.ci_low,
        "twfe_ci_high": twfe.ci_high,
        "twfe_p_value": twfe.p_value,
        "few_cluster_p_value": few.p_value,
        "few_cluster_method": few.method,
        "did_effect": effect.effect,
        "disagree": bool(not effect.effect_ci_low <= twfe.estimate <= effect.effect_ci_high),
    }
