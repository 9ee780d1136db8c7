"""The funnel analysis of one scope: funnels, cart abandonment, and each group against the rest per breakdown
(Holm-corrected tests: the only comparison a finding may call real).

It composes :mod:`analysis.metrics.funnel` so the engine runs each funnel once, broken down by every breakdown
column together; each single breakdown is then a sum over the others. This is exact because a unit's breakdown
values are those of its first step-1 event (first touch), so every unit sits in exactly one combination, and because
at tied first starts each column takes its own smallest value (:func:`analysis.metrics.funnel.chains.first_touch`),
so a column's value does not depend on the others asked: each breakdown equals ``funnel(by=column)``. The
weekly trend and the time to convert are groupings of the same per-unit result, so each unit's chains are walked
once per analysis (cart abandonment, a different two-step funnel, walks its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import ibis.expr.types as ir
import pandas as pd

from analysis.metrics.funnel.chains import unit_chains
from analysis.metrics.funnel.counts import (
    as_events_table,
    cart_abandonment,
    check_funnel_arguments,
    compare_funnel_groups,
    depth_counts,
    funnel_from_depth_counts,
    start_week,
    weekly_from_units,
)
from analysis.metrics.funnel.timing import (
    TimeToConvert,
    bin_edges,
    check_timed_steps,
    timing_from_seconds,
    transition_seconds,
)
from analysis.metrics.stats import group_vs_rest
from analysis.scope import Scope


@dataclass(frozen=True)
class FunnelAnalysis:
    """Everything the funnel notebook shows; each frame is documented where it is made.

    Attributes
    ----------
    scope
        The market and period analysed (None when the events were limited before the call).
    steps, window, unit, mode, min_group_size
        The parameters of the analysis (``window`` as a ``timedelta``).
    overall
        :func:`funnel` without breakdown.
    weekly
        :func:`weekly_conversion`.
    abandonment_overall
        One row, everyone's cart abandonment (:func:`group_vs_rest` columns: ``successes`` = abandoned carts,
        ``trials`` = units with a cart, ``rate`` = abandonment rate; not tested).
    timing
        :func:`time_to_convert` (None in ``any_order`` mode, where steps have no order).
    by_breakdown
        ``{column: funnel by that column}``.
    conversion_tests
        ``{column: each group's conversion (step 1 → last step) against the rest}`` (:func:`group_vs_rest`).
    abandonment
        ``{column: each group's cart-abandonment rate against the rest}`` (:func:`group_vs_rest`).
    events_in_scope
        How many events the scope holds, counted only when no unit reached the first step (so a report can say
        whether there were no events at all or none that start the funnel); None otherwise.
    """

    scope: Scope | None
    steps: tuple[str, ...]
    window: timedelta
    unit: str
    mode: str
    min_group_size: int
    overall: pd.DataFrame
    weekly: pd.DataFrame
    abandonment_overall: pd.DataFrame
    timing: TimeToConvert | None
    by_breakdown: dict[str, pd.DataFrame]
    conversion_tests: dict[str, pd.DataFrame]
    abandonment: dict[str, pd.DataFrame]
    events_in_scope: int | None = None

    @property
    def started(self) -> int:
        """How many units reached the first step (0: nothing to analyse)."""
        return int(self.overall["units"].iloc[0]) if len(self.overall) else 0


def analyse_funnel(
    events: ir.Table | pd.DataFrame,
    scope: Scope | None,
    steps: Sequence[str],
    window: timedelta | str,
    *,
    breakdowns: Sequence[str] = (),
    unit: str = "user",
    mode: str = "ordered",
    min_group_size: int = 100,
) -> FunnelAnalysis:
    """Run the funnel analysis of ``events`` within ``scope``.

    Parameters
    ----------
    events
        The events table (contract ``EVENTS``): an Ibis table on any backend, or a pandas frame.
    scope
        The market and period to analyse; None when ``events`` are already limited to the scope.
    steps, window, unit, mode
        As for :func:`analysis.metrics.funnel.funnel`.
    breakdowns
        Event columns to break conversion and cart abandonment down by (first touch).
    min_group_size
        Groups with fewer units are flagged ``too_small``: not tested.
    """
    steps, breakdowns = list(steps), list(breakdowns)
    if scope is not None:
        events = scope.apply(as_events_table(events), "events")
    table, steps, window, breakdowns = check_funnel_arguments(events, steps, window, breakdowns, unit, mode)
    detailed, weekly, timing = _unit_results(table, steps, window, breakdowns, unit, mode)
    overall = marginal_funnel(detailed, [], steps)
    common = {
        "scope": scope,
        "steps": tuple(steps),
        "window": window,
        "unit": unit,
        "mode": mode,
        "min_group_size": min_group_size,
        "overall": overall,
        "weekly": weekly,
    }
    if not overall["units"].iloc[0]:  # nothing starts the funnel: say whether the scope holds any events at all
        return FunnelAnalysis(
            **common,
            abandonment_overall=pd.DataFrame(),
            timing=None,
            by_breakdown={},
            conversion_tests={},
            abandonment={},
            events_in_scope=int(table.count().execute()),
        )
    if mode != "any_order":
        check_timed_steps(steps)
    carts = cart_abandonment(table, window, by=breakdowns or None, unit=unit)
    by_breakdown = {column: marginal_funnel(detailed, [column], steps) for column in breakdowns}
    return FunnelAnalysis(
        **common,
        abandonment_overall=_abandonment_vs_rest(carts, [], 1),
        timing=timing,
        by_breakdown=by_breakdown,
        conversion_tests={
            column: compare_funnel_groups(frame, column, min_group_size=min_group_size)
            for column, frame in by_breakdown.items()
        },
        abandonment={column: _abandonment_vs_rest(carts, [column], min_group_size) for column in breakdowns},
    )


def _unit_results(
    events: ir.Table, steps: list[str], window: timedelta, breakdowns: list[str], unit: str, mode: str
) -> tuple[pd.DataFrame, pd.DataFrame, TimeToConvert | None]:
    """The detailed funnel, the weekly trend and the time to convert, grouped from one pass over the units.

    Each unit's depth, first-touch breakdown values, start week and (outside ``any_order``) transition seconds are
    computed once and materialised (released on return); :func:`funnel`, :func:`weekly_conversion` and
    :func:`time_to_convert` would each run the units' chains again. The timing is None when it is not defined.
    """
    timed = mode != "any_order" and len(steps) >= 2
    with unit_chains(events, steps, window, breakdowns, unit=unit, mode=mode, chain_times=timed) as chains:
        seconds = transition_seconds(chains, len(steps)) if timed else {}
        units = chains.select(*breakdowns, "depth", week=start_week(chains), **seconds).cache()
        try:
            detailed = funnel_from_depth_counts(depth_counts(units, breakdowns), steps, breakdowns)
            weekly = weekly_from_units(units, len(steps), [])
            timing = timing_from_seconds(units, steps, [], bin_edges(None, window)) if timed else None
        finally:
            units.release()
    return detailed, weekly, timing


def marginal_funnel(detailed: pd.DataFrame, by: list[str], steps: list[str]) -> pd.DataFrame:
    """The :func:`funnel` table by ``by`` from one computed by more columns (summing units over the others)."""
    summed = detailed.groupby([*by, "step_index"], dropna=False, sort=True)["units"].sum().reset_index()
    for column in by:  # a groupby gives missing keys as float NaN: keep the column's type and missing marker
        values = summed[column].astype(detailed[column].dtype)
        summed[column] = values.where(values.notna(), None) if values.dtype == object else values
    following = summed.groupby(by, dropna=False)["units"].shift(-1) if by else summed["units"].shift(-1)
    # units reaching step d but not d+1 have depth d; the last step keeps everyone who reached it
    depth_counts = summed.assign(units=summed["units"] - following.fillna(0)).rename(columns={"step_index": "depth"})
    return funnel_from_depth_counts(depth_counts, steps, by)


def _abandonment_vs_rest(carts: pd.DataFrame, by: list[str], min_group_size: int) -> pd.DataFrame:
    frame = carts.assign(_all="everyone") if not by else carts
    return group_vs_rest(frame, by or ["_all"], "abandoned", "units_with_cart", min_group_size=min_group_size)
