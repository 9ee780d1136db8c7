"""The staggered-adoption panel checked and pre-processed as R's ``did::att_gt`` does, before any cell is estimated.

:func:`validated_panel` checks the columns; :meth:`StaggeredSetup.build` puts periods and cohorts on one ordered axis,
drops cohorts treated in the first period, takes never-treated units (and cohorts first treated after the panel) as
comparisons and, without never-treated units under ``not_yet_treated``, drops the last cohort and its periods, as R
does. What it drops is listed in ``unestimable`` with one of the reasons below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import DataError, one_of

TREATED_IN_FIRST_PERIOD = "treated in the first period (no pre-period): its units are dropped"
NO_COMPARISON_LEFT = "no comparison units left (every unit is treated by then)"

# The rank given to units that belong to no estimated cohort (never treated, or used only as a comparison).
NO_COHORT = -1


def validated_panel(
    panel: pd.DataFrame, outcome: str, unit: str, time: str, first_treated: str, weights: str | None
) -> pd.DataFrame:
    """The panel's columns (and ``_weight``, 1 without ``weights``), checked as R's ``att_gt`` needs them.

    Raises
    ------
    DataError
        For a missing column, a missing outcome, a repeated unit and period, a cohort or weight that changes within a
        unit, negative weights, or an unbalanced panel.
    """
    columns = [outcome, unit, time, first_treated] + ([weights] if weights is not None else [])
    for column in columns:
        if column not in panel.columns:
            raise DataError(
                f"the panel has no column {column!r}; it has {one_of(panel.columns)}",
                column=column,
                valid=list(panel.columns),
            )
    frame = panel[columns].copy()
    frame["_weight"] = 1.0 if weights is None else frame[weights].astype(float)
    if frame[outcome].isna().any():
        raise DataError(
            f"{frame[outcome].isna().sum()} rows have no {outcome!r}; drop those units or fill the outcome",
            column=outcome,
        )
    if frame.duplicated([unit, time]).any():
        raise DataError(
            f"{frame.duplicated([unit, time]).sum()} rows repeat a unit and period; the panel needs one row per "
            f"{unit!r} and {time!r}",
            column=time,
        )
    for column in [first_treated, "_weight"]:
        varying = frame.groupby(unit, sort=False)[column].nunique(dropna=False) > 1
        if varying.any():
            name = weights if column == "_weight" else first_treated
            raise DataError(
                f"{name!r} changes within {int(varying.sum())} units; it must be constant within a unit",
                column=name,
            )
    if (frame["_weight"] < 0).any() or not frame["_weight"].mean() > 0:
        raise DataError(f"weights {weights!r} must be non-negative with a positive mean", column=weights)
    periods = np.sort(frame[time].unique())
    seen = frame.groupby(unit, sort=False)[time].nunique()
    short = seen[seen < len(periods)]
    if len(short):
        observed = set(map(tuple, frame[[unit, time]].itertuples(index=False)))
        missing = sorted({p for u in short.index for p in periods if (u, p) not in observed})
        raise DataError(
            f"the panel is not balanced: {len(short)} of {len(seen)} units miss some of the {len(periods)} periods "
            f"(missing: {', '.join(map(str, missing[:5]))}{' …' if len(missing) > 5 else ''}); R's att_gt drops "
            "such units, do so explicitly or fill the periods",
            column=time,
            value=[str(p) for p in missing],
        )
    return frame


@dataclass(frozen=True)
class StaggeredSetup:
    """Periods, cohorts and units after R's pre-processing, on one ordered axis of periods and cohorts.

    Attributes
    ----------
    periods, cohorts
        The periods estimated and the cohorts (first treated periods) estimated, in order.
    rank
        Each period's and cohort's position on their common ordered axis.
    axis
        Each one's value on a numeric axis (the value itself when numeric, else its rank).
    unit_rank
        Per kept unit, its cohort's rank (:data:`NO_COHORT` for comparison-only units).
    kept_units
        The units kept.
    unestimable
        ``{"group", "time", "reason"}`` rows for what pre-processing dropped.
    """

    periods: list
    cohorts: list
    rank: dict
    axis: dict
    unit_rank: pd.Series
    kept_units: pd.Index
    unestimable: list[dict]

    @staticmethod
    def build(frame: pd.DataFrame, unit: str, time: str, first_treated: str, control: str) -> StaggeredSetup:
        """The setup of a :func:`validated_panel` frame for ``control`` (``never_treated`` or ``not_yet_treated``).

        Raises
        ------
        DataError
            Without never-treated units under ``never_treated``, or too few periods before the last cohort.
        """
        periods = sorted(frame[time].unique())
        by_unit = frame.groupby(unit, sort=True)[first_treated].first()
        never = by_unit.isna()
        if pd.api.types.is_numeric_dtype(by_unit):
            never |= by_unit == 0
        treated = by_unit[~never]
        never |= by_unit.index.isin(treated.index[(treated > periods[-1]).to_numpy()])
        unestimable: list[dict] = []
        early = sorted(by_unit[~never & (by_unit <= periods[0])].unique())
        unestimable += [{"group": g, "time": None, "reason": TREATED_IN_FIRST_PERIOD} for g in early]
        kept = by_unit[never | (by_unit > periods[0])]
        cohorts = sorted(kept[~never.loc[kept.index]].unique())
        if pd.api.types.is_integer_dtype(frame[time]) and all(float(g).is_integer() for g in cohorts):
            cohorts = [int(g) for g in cohorts]
        if not never.loc[kept.index].any():
            if control == "never_treated" or not cohorts:
                raise DataError(
                    "no never-treated units to compare with; use control='not_yet_treated' or add never-treated "
                    "units (first_treated 0 or missing)",
                    column=first_treated,
                    valid="at least one never-treated unit",
                )
            last = cohorts.pop()
            dropped = [p for p in periods if p >= last]
            periods = [p for p in periods if p < last]
            unestimable.append({"group": last, "time": None, "reason": NO_COMPARISON_LEFT})
            unestimable += [{"group": g, "time": p, "reason": NO_COMPARISON_LEFT} for g in cohorts for p in dropped]
            if len(periods) < 2 or not cohorts:
                raise DataError(
                    "not enough periods before the last cohort's first treatment to compare the others with it",
                    column=first_treated,
                )
        values = sorted(set(periods) | set(cohorts))
        rank = {value: position for position, value in enumerate(values)}
        numeric = all(isinstance(v, int | float | np.integer | np.floating) for v in values)
        axis = {value: (float(value) if numeric else float(rank[value])) for value in values}
        cohort_rank = {g: rank[g] for g in cohorts}
        unit_rank = kept.map(lambda g: cohort_rank.get(g, NO_COHORT)).where(~never.loc[kept.index], NO_COHORT)
        return StaggeredSetup(periods, cohorts, rank, axis, unit_rank.astype(int), kept.index, unestimable)
