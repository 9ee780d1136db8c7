"""Post-initiative results of one market (or ALL): per KPI the effect, its interval, the design and the verdict.

The result's shape is fixed here first so the presenters can be written beside the estimators;
:func:`analyse_impact` fills it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

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
        One row per market of the data: ``market``, ``launch_date`` (NaT: never launched), ``randomised`` (bool: an
        A/B test ran there, so its effect is read from the experiment), ``in_scope`` (bool).
    effects
        One row per KPI of :data:`KPIS` (in that order), for the scope (the market, or all treated markets for ALL):

        - ``kpi``: the KPI's code; ``period``: the panel's period (``week``/``month``/``quarter``);
        - ``design``: one of :data:`DESIGNS`; ``inference``: what the interval comes from (e.g.
          ``"session-sampling bootstrap"``, ``"experiment (delta method)"``, ``"HAC"``);
        - ``treated_markets``, ``comparison_markets``: how many markets were treated / served as comparison;
        - ``baseline``: the counterfactual level (the treated markets' post-launch level without the initiative);
        - ``effect``, ``effect_ci_low``, ``effect_ci_high``: the absolute effect (ATT, in the KPI's units);
        - ``relative``, ``relative_ci_low``, ``relative_ci_high``: the effect over ``baseline`` (0.175 = +17.5%);
        - ``p_value``: of "no effect" under the same inference as the interval; ``real``: ``stats.is_real(p_value)``;
        - ``few_cluster_p_value``, ``few_cluster_method``: the wild-cluster-bootstrap (Webb) p-value of the TWFE
          estimate over markets, shown beside (NaN where not computed, e.g. randomised);
        - ``target_low``, ``target_high``: the target range (relative; NaN without one), ``target_source``
          (``"initiatives"``, ``"case study"`` or ``""``);
        - ``verdict``: ``met``, ``missed``, ``inconclusive`` or ``""`` without target; ``position``: ``below``,
          ``within``, ``above`` or ``""``;
        - ``note``: a short code for a caveat (e.g. ``"intention_to_treat"`` for GB's survey-based KPIs, where half
          the market's users were treated; ``"partly_treated_periods"``), ``""`` when none.
    market_effects
        The forest plot: one row per KPI and treated market: ``kpi``, ``market``, ``design``, ``effect``,
        ``effect_ci_low``, ``effect_ci_high``, ``relative``, ``relative_ci_low``, ``relative_ci_high``.
    event_study
        One row per KPI and event time (periods since launch, negative before): ``kpi``, ``event_time``, ``att``,
        ``att_ci_low``, ``att_ci_high``, ``relative``, ``cohorts`` (how many launches contribute).
    pre_trends
        One row per KPI estimated by DiD: ``kpi``, ``statistic``, ``degrees_of_freedom``, ``p_value`` (joint test
        that every pre-launch effect is zero), ``parallel`` (bool: ``not is_real(p_value)``).
    twfe
        One row per KPI estimated by DiD: ``kpi``, ``twfe_effect``, ``twfe_ci_low``, ``twfe_ci_high``,
        ``twfe_p_value`` (CRV1 by market), ``few_cluster_p_value``, ``did_effect`` (Callaway–Sant'Anna, same
        scope), ``disagree`` (bool: the TWFE estimate falls outside the Callaway–Sant'Anna interval).
    series
        The KPI over time for the charts: ``kpi``, ``market``, ``period_start``, ``value``, ``denominator``
        (sessions, answers, customers or sellers at risk), ``treated`` (bool), ``launch_date``.
    interrupted
        Where a market had no comparison (single-market designs): ``kpi``, ``method`` (``"segmented"`` or
        ``"structural"``), ``period_start``, ``actual``, ``counterfactual``, ``counterfactual_ci_low``,
        ``counterfactual_ci_high``; empty otherwise.
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
