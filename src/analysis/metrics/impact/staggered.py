"""Staggered adoption: Callaway & Sant'Anna group-time effects, as R's ``did::att_gt`` computes them without covariates.

Each ATT(g, t) is a 2×2 difference of mean changes: the weighted mean change of cohort ``g`` (units first treated in
period ``g``) from a base period to ``t``, minus the same for its comparison units (never treated, or not yet treated
by ``max(t, base period)``). Its influence function per unit gives analytic standard errors clustered by unit (R's
``bstrap = FALSE, cband = FALSE``), the aggregations of :mod:`~analysis.metrics.impact.aggregation` (R's ``aggte``)
and the joint Wald pre-test of the pre-treatment cells (R's ``W`` and ``Wpval``).

Without covariates R's three estimation methods (``dr``, ``ipw``, ``reg``) all reduce to this difference of means, with
the same influence function.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2

from analysis.errors import ParameterError, one_of
from analysis.metrics.impact.aggregation import AggregatedEffect, CellArrays, aggregate_cells
from analysis.metrics.impact.staggered_panel import NO_COHORT, NO_COMPARISON_LEFT, StaggeredSetup, validated_panel
from analysis.metrics.impact.staggered_panel import TREATED_IN_FIRST_PERIOD as TREATED_IN_FIRST_PERIOD
from analysis.metrics.stats import normal_quantile

CONTROLS = ("never_treated", "not_yet_treated")
BASE_PERIODS = ("varying", "universal")

TOO_FEW_UNITS = "too few units (no treated unit with positive weight)"


@dataclass(frozen=True)
class PreTrendTest:
    """Joint Wald test that every pre-treatment ATT(g, t) is zero (R's ``W`` and ``Wpval`` in ``att_gt``).

    Attributes
    ----------
    statistic
        ``att' V⁻¹ att`` over the pre-treatment cells with the influence-function covariance ``V`` (NaN when it
        cannot be computed; see ``reason``).
    degrees_of_freedom
        The number of pre-treatment cells tested.
    p_value
        ``P(χ²(df) > statistic)``; a small value is evidence against parallel trends before treatment.
    reason
        Empty when the test was computed, otherwise why not (no pre-treatment cells, singular covariance).
    """

    statistic: float
    degrees_of_freedom: int
    p_value: float
    reason: str = ""


@dataclass(frozen=True, eq=False)
class StaggeredDiD:
    """Callaway & Sant'Anna group-time average treatment effects, built once by :func:`callaway_santanna`.

    Attributes
    ----------
    group_time
        One row per cohort and period, columns:

        - ``group``: the cohort, the period its units were first treated (as given).
        - ``time``: the period (as given).
        - ``event_time``: ``time - group`` (in the periods' own units when they are numbers, in periods otherwise).
        - ``att``: ATT(g, t) in outcome units; NaN when the cell cannot be estimated (see ``unestimable``). With a
          universal base period the cell ``(g, g - 1)`` is 0 by construction.
        - ``se``: its analytic standard error, clustered by unit (NaN for the universal base cell).
        - ``ci_low``, ``ci_high``: the pointwise ``1 - alpha`` normal interval.
        - ``post``: whether ``time >= group`` (a treatment effect; otherwise a pre-trend check).
        - ``n_treated``, ``n_control``: units in the cohort and in its comparison group for this cell.
    unestimable
        One row per cohort (``time`` missing) or cell that could not be estimated, columns ``group``, ``time``,
        ``reason``: treated in the first period, no comparison units left, too few units.
    control, base_period, alpha
        The settings used.
    n_units
        Units used (after dropping those treated in the first period).
    """

    group_time: pd.DataFrame
    unestimable: pd.DataFrame
    control: str
    base_period: str
    alpha: float
    n_units: int
    _cells: CellArrays = field(repr=False)
    _influence: np.ndarray = field(repr=False)

    def aggregate(
        self,
        kind: str = "simple",
        *,
        min_e: float | None = None,
        max_e: float | None = None,
        balance_e: float | None = None,
    ) -> AggregatedEffect:
        """Aggregate the group-time effects as R's ``did::aggte(type=kind)`` does, with analytic errors.

        Parameters
        ----------
        kind
            ``"simple"`` (post-treatment cells weighted by cohort size), ``"group"`` (per cohort), ``"dynamic"``
            (per event time, pre-periods included) or ``"calendar"`` (per period).
        min_e, max_e
            ``"dynamic"`` only: the event times kept (the overall effect averages those ``>= 0``).
        balance_e
            ``"dynamic"`` only: keep only cohorts observed at least ``balance_e`` periods after treatment, so every
            event time up to it averages the same cohorts.

        Returns
        -------
        AggregatedEffect
            ``effects`` (``att, se, ci_low, ci_high`` per part) and ``overall_att``, ``overall_se`` with interval.
            Cells that could not be estimated are left out, as R's ``na.rm = TRUE`` does.
        """
        return aggregate_cells(self._cells, kind, alpha=self.alpha, min_e=min_e, max_e=max_e, balance_e=balance_e)

    def pretest(self) -> PreTrendTest:
        """The joint Wald test of the pre-treatment cells (``t < g``) with their influence-function covariance."""
        cells = self._cells
        pre = np.flatnonzero(cells.time_rank < cells.group_rank)
        se = self.group_time.loc[self.group_time["att"].notna(), "se"].to_numpy()
        pre = pre[np.isfinite(se[pre])]
        if len(pre) == 0:
            return PreTrendTest(np.nan, 0, np.nan, "no pre-treatment cells with a standard error")
        influence = cells.influence[:, pre]
        n = influence.shape[0]
        covariance = influence.T @ influence / n**2
        if np.linalg.cond(covariance, p=1) * np.finfo(float).eps >= 1:
            return PreTrendTest(np.nan, len(pre), np.nan, "singular covariance of the pre-treatment cells")
        att = cells.att[pre]
        statistic = float(att @ np.linalg.solve(covariance, att))
        return PreTrendTest(statistic, len(pre), float(chi2.sf(statistic, len(pre))))


def callaway_santanna(
    panel: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    *,
    control: str = "never_treated",
    base_period: str = "varying",
    weights: str | None = None,
    alpha: float = 0.05,
) -> StaggeredDiD:
    """Group-time average treatment effects of a staggered adoption, as R's ``did::att_gt`` without covariates.

    Parameters
    ----------
    panel
        A balanced panel, one row per unit and period.
    outcome, unit, time
        Columns: the outcome, the unit identifier, the period (any sortable values: integers, dates).
    first_treated
        Column: the first period a unit is treated, constant within a unit; 0 or missing for never treated (R's
        convention). Cohorts first treated after the last period count as never treated; units treated in the first
        period have no pre-period and are dropped (named in ``unestimable``).
    control
        ``"never_treated"`` or ``"not_yet_treated"`` (never treated units and units first treated after
        ``max(t, base period)``). Without never-treated units, ``"not_yet_treated"`` drops the periods from the last
        cohort's first treatment on and uses that cohort only as a comparison, as R does.
    base_period
        ``"varying"`` (pre-periods compare ``t`` with ``t - 1``, post-periods with ``g - 1``) or ``"universal"``
        (always ``g - 1``).
    weights
        Optional column of unit-level sampling weights (constant within a unit), R's ``weightsname``.
    alpha
        Significance level of the intervals.

    Returns
    -------
    StaggeredDiD
        ``group_time``, ``unestimable``, ``aggregate(kind)`` and ``pretest()``.

    Raises
    ------
    ParameterError
        For an unknown ``control`` or ``base_period``, or ``alpha`` outside (0, 1).
    DataError
        For a missing column, an unbalanced panel, missing outcomes, duplicate unit-periods, a first-treated period
        or weight that changes within a unit, or no never-treated units with ``control="never_treated"``.
    """
    _check_choice("control", control, CONTROLS)
    _check_choice("base_period", base_period, BASE_PERIODS)
    normal_quantile(1 - alpha)
    frame = validated_panel(panel, outcome, unit, time, first_treated, weights)
    setup = StaggeredSetup.build(frame, unit, time, first_treated, control)
    return _estimate(setup, frame, outcome, unit, time, control, base_period, alpha)


def _check_choice(parameter: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ParameterError(
            f"{parameter}={value!r} is not allowed; use {one_of(valid)}",
            parameter=parameter,
            value=value,
            valid=valid,
        )


def _cell_plan(setup: StaggeredSetup, cohort, base_period: str) -> list[tuple[int, int]]:
    """(period index, base period index) per cell of one cohort; R skips the first period with a varying base."""
    periods = setup.periods
    g_rank = setup.rank[cohort]
    last_before = max(i for i, p in enumerate(periods) if setup.rank[p] < g_rank)
    plan = []
    for index in range(0 if base_period == "universal" else 1, len(periods)):
        post = setup.rank[periods[index]] >= g_rank
        base = last_before if (post or base_period == "universal") else index - 1
        plan.append((index, base))
    return plan


def _estimate(
    setup: StaggeredSetup,
    frame: pd.DataFrame,
    outcome: str,
    unit: str,
    time: str,
    control: str,
    base_period: str,
    alpha: float,
) -> StaggeredDiD:
    kept = frame[frame[unit].isin(setup.kept_units) & frame[time].isin(setup.periods)]
    wide = kept.pivot(index=unit, columns=time, values=outcome).loc[setup.kept_units, setup.periods].to_numpy(float)
    weight = kept.groupby(unit)["_weight"].first().loc[setup.kept_units].to_numpy(float)
    unit_rank = setup.unit_rank.loc[setup.kept_units].to_numpy()
    n = len(unit_rank)
    period_rank = np.array([setup.rank[p] for p in setup.periods])
    rows, columns, unestimable = [], [], list(setup.unestimable)
    for cohort in setup.cohorts:
        g_rank = setup.rank[cohort]
        treated = unit_rank == g_rank
        for index, base in _cell_plan(setup, cohort, base_period):
            if control == "never_treated":
                comparison = unit_rank == NO_COHORT
            else:
                later = max(period_rank[index], period_rank[base])
                comparison = (unit_rank == NO_COHORT) | ((unit_rank > later) & ~treated)
            period = setup.periods[index]
            change = wide[:, index] - wide[:, base]
            att, influence = _two_by_two(change, treated, comparison, weight)
            if index == base:
                att, influence = 0.0, np.zeros(n)
            elif np.isnan(att):
                reason = NO_COMPARISON_LEFT if not (weight * comparison).sum() > 0 else TOO_FEW_UNITS
                unestimable.append({"group": cohort, "time": period, "reason": reason})
            se = np.sqrt(np.sum(influence**2)) / n
            rows.append(
                {
                    "group": cohort,
                    "time": period,
                    "event_time": setup.axis[period] - setup.axis[cohort],
                    "att": att,
                    "se": se if se > 0 and np.isfinite(att) else np.nan,
                    "post": bool(period_rank[index] >= g_rank),
                    "n_treated": int(treated.sum()),
                    "n_control": int(comparison.sum()),
                    "_time_rank": period_rank[index],
                    "_group_rank": g_rank,
                }
            )
            columns.append(influence)
    table = pd.DataFrame(rows)
    influence = np.column_stack(columns)
    if (table["event_time"] % 1 == 0).all():
        table["event_time"] = table["event_time"].astype(int)
    z = normal_quantile(1 - alpha)
    table.insert(5, "ci_low", table["att"] - z * table["se"])
    table.insert(6, "ci_high", table["att"] + z * table["se"])
    usable = table["att"].notna().to_numpy()
    cells = CellArrays(
        att=table["att"].to_numpy(float)[usable],
        group=table["group"].to_numpy()[usable],
        time=table["time"].to_numpy()[usable],
        group_rank=table["_group_rank"].to_numpy()[usable],
        time_rank=table["_time_rank"].to_numpy()[usable],
        group_axis=np.array([setup.axis[g] for g in table["group"]])[usable],
        event_time=table["event_time"].to_numpy()[usable],
        influence=influence[:, usable],
        unit_weight=weight,
        unit_group_rank=unit_rank,
        first_axis=setup.axis[setup.periods[0]],
        last_axis=setup.axis[setup.periods[-1]],
    )
    return StaggeredDiD(
        group_time=table.drop(columns=["_time_rank", "_group_rank"]),
        unestimable=pd.DataFrame(unestimable, columns=["group", "time", "reason"]),
        control=control,
        base_period=base_period,
        alpha=alpha,
        n_units=n,
        _cells=cells,
        _influence=influence,
    )


def _two_by_two(
    change: np.ndarray, treated: np.ndarray, comparison: np.ndarray, weight: np.ndarray
) -> tuple[float, np.ndarray]:
    """ATT as the weighted mean change of the treated minus that of the comparison units, and its influence.

    The influence per unit is DRDID's ``reg_did_panel`` (intercept only) rescaled by ``n / n1`` as ``att_gt`` does,
    which simplifies to ``n (w D (ΔY - μ₁) / ΣwD - w C (ΔY - μ₀) / ΣwC)``; units in neither group contribute 0.
    """
    n = len(change)
    treated_weight = weight * treated
    comparison_weight = weight * comparison
    if not treated_weight.sum() > 0 or not comparison_weight.sum() > 0:
        return np.nan, np.zeros(n)
    treated_mean = np.sum(treated_weight * change) / treated_weight.sum()
    comparison_mean = np.sum(comparison_weight * change) / comparison_weight.sum()
    influence = n * (
        treated_weight * (change - treated_mean) / treated_weight.sum()
        - comparison_weight * (change - comparison_mean) / comparison_weight.sum()
    )
    return float(treated_mean - comparison_mean), np.where(treated | comparison, influence, 0.0)
