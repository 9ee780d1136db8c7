"""Customer-journey funnels: where customers drop off, for whom, and whether a difference is real.

The public functions take the events table (an Ibis table in the events contract, or a pandas frame) and return small
tidy pandas frames. The per-unit work runs in the engine (see :mod:`analysis.metrics.funnel.chains` for the algorithms
and the exact semantics, which follow ClickHouse's ``windowFunnel``, and :mod:`analysis.metrics.funnel.duckdb_path`
for the faster path DuckDB takes in the ordered mode); only the counts per breakdown group and step come back to
pandas, where the intervals and tests are computed (with :mod:`analysis.metrics.stats`). Time to convert is in
:mod:`analysis.metrics.funnel.timing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.errors import ParameterError
from analysis.metrics.funnel.chains import MODES, UNIT_KEYS, unit_chains
from analysis.metrics.stats import DEFAULT_MIN_GROUP_SIZE, group_vs_rest, wilson_interval

__all__ = [
    "FunnelError",
    "as_events_table",
    "cart_abandonment",
    "check_funnel_arguments",
    "compare_funnel_groups",
    "conversion_window",
    "depth_counts",
    "funnel",
    "funnel_from_depth_counts",
    "group_vs_rest",
    "start_week",
    "weekly_conversion",
    "weekly_from_units",
]


class FunnelError(ParameterError):
    """A funnel call whose parameters do not fit the events table; the message names parameter and values.

    Carries ``parameter``, the offending ``value`` and the ``valid`` values as attributes too.
    """


def conversion_window(window: timedelta | str | pd.Timedelta) -> timedelta:
    """The conversion window as a ``timedelta``: accepts a ``timedelta`` or a string such as ``"7D"``, ``"12h"``."""
    try:
        value = pd.Timedelta(window)
    except (ValueError, TypeError) as error:
        raise FunnelError(
            f"window={window!r} is not a duration; give a timedelta or a string such as '7D', '12h', '30min'",
            parameter="window",
            value=window,
            valid="a positive duration such as '7D', '12h', '30min'",
        ) from error
    if pd.isna(value) or value <= pd.Timedelta(0):
        raise FunnelError(
            f"window={window!r} must be a positive duration such as '7D'",
            parameter="window",
            value=window,
            valid="a positive duration such as '7D'",
        )
    return value.to_pytimedelta()


def as_events_table(events: ir.Table | pd.DataFrame) -> ir.Table:
    """An Ibis table for ``events``: pandas frames are wrapped with ``ibis.memtable`` (run on DuckDB)."""
    if isinstance(events, pd.DataFrame):
        table = ibis.memtable(events)
        # an empty object column has no type; give the contract's so the engine can materialise it
        untyped = {name: "timestamp" if name == "event_time" else "string" for name, t in table.schema().items()}
        untyped = {name: dtype for name, dtype in untyped.items() if table.schema()[name].is_null()}
        return table.cast(untyped) if untyped else table
    if isinstance(events, ir.Table):
        return events
    raise FunnelError(
        f"events must be an Ibis table or a pandas DataFrame, not {type(events).__name__}",
        parameter="events",
        value=type(events).__name__,
        valid="an Ibis table or a pandas DataFrame",
    )


def check_funnel_arguments(
    events: ir.Table | pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | str,
    by: str | Sequence[str] | None,
    unit: str,
    mode: str,
) -> tuple[ir.Table, list[str], timedelta, list[str]]:
    """The arguments shared by the funnel functions, checked: ``(events table, steps, window, by columns)``.

    Raises :class:`FunnelError` naming the parameter, its value and what would be valid.
    """
    table = as_events_table(events)
    if isinstance(steps, str) or not steps or not all(isinstance(step, str) for step in steps):
        raise FunnelError(
            f"steps={steps!r} must be a list of event names, e.g. ['view_item', 'purchase']",
            parameter="steps",
            value=steps,
            valid="a list of event names",
        )
    steps = list(steps)
    repeated = sorted({step for step in steps if steps.count(step) > 1})
    if repeated:
        raise FunnelError(
            f"steps={steps!r} name {repeated} more than once; each step must be a distinct event",
            parameter="steps",
            value=repeated,
            valid="distinct event names",
        )
    if unit not in UNIT_KEYS:
        raise FunnelError(
            f"unit={unit!r} is not one of {sorted(UNIT_KEYS)}", parameter="unit", value=unit, valid=sorted(UNIT_KEYS)
        )
    if mode not in MODES:
        raise FunnelError(f"mode={mode!r} is not one of {list(MODES)}", parameter="mode", value=mode, valid=list(MODES))
    by_columns = [] if by is None else [by] if isinstance(by, str) else list(by)
    needed = ["event_time", "event_name", *UNIT_KEYS[unit], *by_columns]
    missing = [column for column in dict.fromkeys(needed) if column not in table.columns]
    if missing:
        raise FunnelError(
            f"events table has no column(s) {missing} (needed for unit={unit!r}, by={by_columns}); "
            f"its columns are {list(table.columns)}",
            parameter="by" if set(missing) <= set(by_columns) else "events",
            column=missing[0],
            value=missing,
            valid=list(table.columns),
        )
    return table, steps, conversion_window(window), by_columns


def funnel(
    events: ir.Table | pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | str,
    *,
    by: str | Sequence[str] | None = None,
    unit: str = "user",
    mode: str = "ordered",
) -> pd.DataFrame:
    """How many units reach each step of a funnel, with conversion rates and their Wilson 95% intervals.

    Parameters
    ----------
    events
        The events table (contract ``EVENTS``): an Ibis table on any backend, or a pandas frame.
    steps
        Event names of the funnel in order, e.g. ``["session_start", "view_item", "add_to_cart", "purchase"]``.
    window
        Conversion window, inclusive: an event exactly ``window`` after its chain's step-1 event still counts.
        A ``timedelta`` or a string such as ``"7D"``.
    by
        Breakdown column(s); each unit is counted under the values of its first step-1 event (first touch). When
        several step-1 events share that first time, each column takes the smallest of their values on its own
        (missing only when all are missing), so a unit's value in one column is the same whatever other columns
        are asked.
    unit
        ``"user"`` or ``"session"`` (a session is ``user_id`` + ``session_id``).
    mode
        ``"ordered"`` (other events may come between steps), ``"strict_order"`` (each step directly follows the
        previous one, like GA4's "directly followed by") or ``"any_order"`` (steps in any order within the window).

    Returns
    -------
    pandas.DataFrame
        One row per breakdown group and step, sorted by group then step. Columns: the ``by`` columns; ``step_index``
        (1 = first step); ``step`` (event name); ``units`` (units reaching the step); ``conversion_from_first`` (units /
        units at step 1) with ``conversion_from_first_ci_low`` / ``_ci_high``; ``conversion_from_previous`` (units /
        units at the previous step; 1.0 at step 1) with ``conversion_from_previous_ci_low`` / ``_ci_high``;
        ``dropped`` (units that reached the previous step but not this one; 0 at step 1). Rates are fractions.
    """
    table, steps, window, by_columns = check_funnel_arguments(events, steps, window, by, unit, mode)
    with unit_chains(table, steps, window, by_columns, unit=unit, mode=mode) as depths:
        counts = depth_counts(depths, by_columns)
    return funnel_from_depth_counts(counts, steps, by_columns)


def depth_counts(units: ir.Table, by: Sequence[str]) -> pd.DataFrame:
    """Units per breakdown group and deepest step, from a per-unit table with the ``by`` columns and ``depth``.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns; ``depth`` (1 … number of steps); ``units`` (units of that group whose deepest step it is).
    """
    by = list(by)
    return units.group_by([*by, "depth"]).aggregate(units=units.count()).to_pandas()


def funnel_from_depth_counts(counts: pd.DataFrame, steps: Sequence[str], by: Sequence[str]) -> pd.DataFrame:
    """The funnel table of :func:`funnel` from counts of units per breakdown group and deepest step reached.

    ``counts`` has the ``by`` columns, ``depth`` (1 … len(steps)) and ``units``.
    """
    by = list(by)
    k = len(steps)
    counts = counts.astype({"depth": int, "units": "int64"})
    groups = (counts[by].drop_duplicates() if by else pd.DataFrame(index=[0])).reset_index(drop=True)
    # groups are numbered: a breakdown column whose values are all missing comes out of a groupby as float NaN,
    # which pandas refuses to merge with the column's own (object) NaN
    groups["_group"] = np.arange(len(groups))
    grid = groups.merge(pd.DataFrame({"step_index": np.arange(1, k + 1)}), how="cross")
    coded = counts.merge(groups, on=by, how="left") if by else counts.assign(_group=0)
    reached = grid[["_group", "step_index"]].merge(coded[["_group", "depth", "units"]], on="_group")
    reached = reached[reached["depth"] >= reached["step_index"]]
    units = reached.groupby(["_group", "step_index"])["units"].sum()
    table = grid.merge(units.rename("units").reset_index(), on=["_group", "step_index"], how="left")
    table = table.drop(columns="_group")
    table["units"] = table["units"].fillna(0).astype("int64")
    table = table.sort_values([*by, "step_index"], kind="stable").reset_index(drop=True)
    table.insert(len(by) + 1, "step", [steps[i - 1] for i in table["step_index"]])
    grouped = table.groupby(by, dropna=False, sort=False)["units"] if by else table["units"]
    first = grouped.transform("first") if by else pd.Series(table["units"].iloc[0], index=table.index)
    previous = grouped.shift(1) if by else table["units"].shift(1)
    previous = previous.fillna(table["units"]).astype("int64")
    for name, base in (("conversion_from_first", first), ("conversion_from_previous", previous)):
        with np.errstate(invalid="ignore", divide="ignore"):
            table[name] = np.where(base > 0, table["units"] / base.where(base > 0, 1), np.nan)
        table[f"{name}_ci_low"], table[f"{name}_ci_high"] = wilson_interval(table["units"], base)
    table["dropped"] = (previous - table["units"]).astype("int64")
    return table


def weekly_conversion(
    events: ir.Table | pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | str,
    *,
    by: str | Sequence[str] | None = None,
    unit: str = "user",
    mode: str = "ordered",
) -> pd.DataFrame:
    """Conversion through the whole funnel by the week of each unit's first step-1 event.

    Returns
    -------
    pandas.DataFrame
        One row per breakdown group and week. Columns: the ``by`` columns; ``week`` (Monday 00:00 UTC of the week,
        timestamp); ``units`` (units whose first step-1 event fell in that week); ``converted`` (of those, units that
        reached the last step, in any attempt); ``conversion`` with ``conversion_ci_low`` / ``conversion_ci_high``
        (Wilson 95%).
    """
    table, steps, window, by_columns = check_funnel_arguments(events, steps, window, by, unit, mode)
    with unit_chains(table, steps, window, by_columns, unit=unit, mode=mode) as depths:
        return weekly_from_units(depths.mutate(week=start_week(depths)), len(steps), by_columns)


def start_week(units: ir.Table) -> ir.TimestampValue:
    """The week (Monday 00:00 UTC) of each unit's first step-1 event, from ``first_step_time``."""
    return units.first_step_time.truncate("W")


def weekly_from_units(units: ir.Table, k: int, by: Sequence[str]) -> pd.DataFrame:
    """The table of :func:`weekly_conversion` from a per-unit table with the ``by`` columns, ``week`` and ``depth``.

    ``k`` is the number of steps: a unit converted when its depth is ``k``.
    """
    by_columns = list(by)
    weekly = units.group_by([*by_columns, "week"]).aggregate(units=units.count(), converted=(units.depth == k).sum())
    frame = weekly.to_pandas()
    frame = frame.sort_values([*by_columns, "week"], kind="stable").reset_index(drop=True)
    frame = frame.astype({"units": "int64", "converted": "int64"})
    frame["conversion"] = frame["converted"] / frame["units"]
    frame["conversion_ci_low"], frame["conversion_ci_high"] = wilson_interval(frame["converted"], frame["units"])
    return frame


def cart_abandonment(
    events: ir.Table | pd.DataFrame,
    window: timedelta | str,
    *,
    by: str | Sequence[str] | None = None,
    unit: str = "user",
    cart_step: str = "add_to_cart",
    purchase_step: str = "purchase",
) -> pd.DataFrame:
    """Share of units that added to cart and did not purchase within ``window`` of an add-to-cart.

    A unit counts as converted when any of its add-to-cart events is followed (at or after it) by a purchase within
    the window; breakdown values are those of its first add-to-cart event.

    Returns
    -------
    pandas.DataFrame
        One row per breakdown group. Columns: the ``by`` columns; ``units_with_cart``; ``abandoned``;
        ``abandonment_rate`` (fraction) with ``abandonment_rate_ci_low`` / ``abandonment_rate_ci_high`` (Wilson 95%).
    """
    table = funnel(events, [cart_step, purchase_step], window, by=by, unit=unit, mode="ordered")
    by_columns = [] if by is None else [by] if isinstance(by, str) else list(by)
    carts = table[table["step_index"] == 1].reset_index(drop=True)
    purchases = table[table["step_index"] == 2].reset_index(drop=True)
    frame = carts[by_columns].copy()
    frame["units_with_cart"] = carts["units"].to_numpy()
    frame["abandoned"] = (carts["units"] - purchases["units"]).to_numpy()
    frame["abandonment_rate"] = frame["abandoned"] / frame["units_with_cart"]
    low, high = wilson_interval(frame["abandoned"], frame["units_with_cart"])
    frame["abandonment_rate_ci_low"], frame["abandonment_rate_ci_high"] = low, high
    return frame


def compare_funnel_groups(
    funnel_table: pd.DataFrame,
    by: str | Sequence[str],
    *,
    step: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Conversion from step 1 to ``step`` (default: the last step) of each breakdown group against the rest.

    ``funnel_table`` is the output of :func:`funnel` with the same ``by``. Output as :func:`group_vs_rest`, where
    trials are the units at step 1 and successes the units reaching ``step``.
    """
    by_columns = [by] if isinstance(by, str) else list(by)
    steps = list(dict.fromkeys(funnel_table["step"]))
    target = steps[-1] if step is None else step
    if target not in steps:
        raise FunnelError(
            f"step={target!r} is not a step of this funnel table; its steps are {steps}",
            parameter="step",
            value=target,
            valid=steps,
        )
    firsts = funnel_table[funnel_table["step_index"] == 1].set_index(by_columns)["units"]
    reached = funnel_table[funnel_table["step"] == target].set_index(by_columns)["units"]
    pairs = pd.DataFrame({"entered": firsts, "converted": reached}).reset_index()
    return group_vs_rest(pairs, by_columns, "converted", "entered", min_group_size=min_group_size)
