"""Time to convert through a funnel: median, quartiles and histogram data, between consecutive steps and overall.

Durations are measured on the one chain per unit that defines the unit's depth in :func:`analysis.metrics.funnel.funnel`
(see :mod:`analysis.metrics.funnel.chains`): in ``ordered`` mode, the chain that ends at the first event where the unit
reaches its deepest step, built backwards so that each earlier step is the latest event of that step before the next
step's event from which the chain still fits the window (step 1 is thus the latest start that reaches that depth); in
``strict_order`` mode, the run of consecutive events ending at that first event. Durations are in whole seconds (each
timestamp truncated to the second, so every engine gives the same numbers), computed in the engine; quantiles are
interpolated (``quantile_cont`` on DuckDB).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from analysis.metrics.funnel.chains import unit_chains
from analysis.metrics.funnel.counts import FunnelError, check_funnel_arguments

OVERALL = "overall"
DEFAULT_BIN_EDGES = ("0s", "1min", "5min", "15min", "30min", "1h", "3h", "6h", "12h", "1D", "2D", "3D", "7D", "14D")


@dataclass(frozen=True)
class TimeToConvert:
    """Time-to-convert summary and histogram data of one funnel (see :func:`time_to_convert`)."""

    summary: pd.DataFrame
    histogram: pd.DataFrame


def time_to_convert(
    events: ir.Table | pd.DataFrame,
    steps: Sequence[str],
    window: timedelta | str,
    *,
    by: str | Sequence[str] | None = None,
    unit: str = "user",
    mode: str = "ordered",
    bins: int | Sequence[timedelta | str] | None = None,
) -> TimeToConvert:
    """How long units take from each step to the next, and from step 1 to the deepest step they reached.

    Parameters
    ----------
    events, steps, window, by, unit
        As for :func:`analysis.metrics.funnel.funnel`.
    mode
        ``"ordered"`` or ``"strict_order"`` (in ``"any_order"`` mode steps have no order, so no time between them).
    bins
        Histogram bins: ``None`` for a ladder of readable edges (0, 1 min, 5 min, 15 min, 30 min, 1 h, … up to the
        window), an ``int`` for that many equal-width bins from 0 to the window, or a sequence of edges (durations,
        increasing, starting at 0 and reaching the window). Bins include their lower edge; the last also its upper.

    Returns
    -------
    TimeToConvert
        ``summary``: one row per breakdown group and transition. Columns: the ``by`` columns; ``transition_index``
        (1 = step 1 → step 2, …, k-1 = the last pair, k = overall); ``from_step``; ``to_step`` (``"overall"`` for the
        overall row, which runs from step 1 to each unit's deepest step); ``units`` (units that made the transition;
        overall: units past step 1); ``q1_seconds``, ``median_seconds``, ``q3_seconds`` (float, seconds).
        ``histogram``: one row per breakdown group, transition and bin (empty bins included). Columns: the ``by``
        columns; ``transition_index``, ``from_step``, ``to_step``; ``bin_index`` (0-based); ``bin_start_seconds``,
        ``bin_end_seconds``; ``units``. Labels for reading (``"5min–15min"``, ``"3.5 min"``) are made by
        :mod:`analysis.present.formatting`.
    """
    if mode == "any_order":
        raise FunnelError(
            "mode='any_order' has no order between steps, so no time between them; use 'ordered'",
            parameter="mode",
            value=mode,
            valid=["ordered", "strict_order"],
        )
    table, steps, window, by_columns = check_funnel_arguments(events, steps, window, by, unit, mode)
    check_timed_steps(steps)
    edges = bin_edges(bins, window)
    with unit_chains(table, steps, window, by_columns, unit=unit, mode=mode, chain_times=True) as chains:
        # the durations feed two aggregates, each a union over the transitions: materialise the units' chains once
        cached = chains.select(*by_columns, "depth", **transition_seconds(chains, len(steps))).cache()
        try:
            return timing_from_seconds(cached, steps, by_columns, edges)
        finally:
            cached.release()


def check_timed_steps(steps: Sequence[str]) -> None:
    """Raise :class:`FunnelError` unless the funnel has the two or more steps a time to convert needs."""
    if len(steps) < 2:
        raise FunnelError(
            f"steps={steps!r}: time to convert needs at least two steps",
            parameter="steps",
            value=steps,
            valid="two or more event names",
        )


def transition_seconds(chains: ir.Table, k: int) -> dict[str, ir.IntegerValue]:
    """Per unit of ``chains`` (with ``depth`` and ``step_<m>_time``), the whole seconds of each transition of its chain.

    Returns
    -------
    dict
        ``{"_seconds_<i>": expression}`` for i = 1 … k: step i → step i+1 for i < k (meaningful when depth > i), and
        step 1 → the deepest step for i = k (null at depth 1). Timestamps are truncated to the second first.
    """
    seconds = {
        f"_seconds_{i}": _seconds(chains[f"step_{i + 1}_time"]) - _seconds(chains[f"step_{i}_time"])
        for i in range(1, k)
    }
    deepest = ibis.cases(*[(chains.depth == d, chains[f"step_{d}_time"]) for d in range(2, k + 1)])
    seconds[f"_seconds_{k}"] = _seconds(deepest) - _seconds(chains.step_1_time)
    return seconds


def timing_from_seconds(units: ir.Table, steps: Sequence[str], by: Sequence[str], edges: np.ndarray) -> TimeToConvert:
    """The :class:`TimeToConvert` of :func:`time_to_convert` from a per-unit table with the ``by`` columns, ``depth``
    and the :func:`transition_seconds` columns (read twice: materialise it first); ``edges`` from :func:`bin_edges`.
    """
    by_columns = list(by)
    durations = _durations(units, len(steps), by_columns)
    summary = _summary(durations, by_columns).to_pandas()
    counts = _binned(durations, by_columns, edges).to_pandas()
    labels = _transition_labels(steps)
    return TimeToConvert(
        summary=_ordered(summary, by_columns, labels), histogram=_histogram(counts, by_columns, labels, edges)
    )


def _seconds(timestamp: ir.TimestampValue) -> ir.IntegerValue:
    return timestamp.epoch_seconds().floor().cast("int64")


def _durations(units: ir.Table, k: int, by: list[str]) -> ir.Table:
    """Long table of (by…, transition_index, seconds), one row per unit and transition it made."""
    parts = []
    for i in range(1, k):
        made = units.filter(units.depth >= i + 1)
        parts.append(made.select(*by, transition_index=ibis.literal(i, "int16"), seconds=made[f"_seconds_{i}"]))
    past_first = units.filter(units.depth >= 2)
    overall = past_first[f"_seconds_{k}"]
    parts.append(past_first.select(*by, transition_index=ibis.literal(k, "int16"), seconds=overall))
    return ibis.union(*parts, distinct=False)


def _summary(durations: ir.Table, by: list[str]) -> ir.Table:
    seconds = durations.seconds
    return durations.group_by([*by, "transition_index"]).aggregate(
        units=durations.count(),
        q1_seconds=seconds.quantile(0.25),
        median_seconds=seconds.quantile(0.5),
        q3_seconds=seconds.quantile(0.75),
    )


def bin_edges(bins: int | Sequence[timedelta | str] | None, window: timedelta) -> np.ndarray:
    """Histogram edges in whole seconds, from 0 to at least the window (``bins`` as for :func:`time_to_convert`)."""
    top = int(np.ceil(window / timedelta(seconds=1)))
    if bins is None:
        ladder = [int(pd.Timedelta(edge).total_seconds()) for edge in DEFAULT_BIN_EDGES]
        return np.array([edge for edge in ladder if edge < top] + [top], dtype="int64")
    if isinstance(bins, int):
        if bins < 1:
            raise FunnelError(
                f"bins={bins!r} must be a positive number of bins", parameter="bins", value=bins, valid="an int >= 1"
            )
        return np.unique(np.round(np.linspace(0, top, bins + 1)).astype("int64"))
    try:
        edges = np.array([pd.Timedelta(edge).total_seconds() for edge in bins])
    except (ValueError, TypeError) as error:
        raise FunnelError(
            f"bins={bins!r} must be durations such as ['0s', '5min', '1h', '7D']",
            parameter="bins",
            value=bins,
            valid="durations such as ['0s', '5min', '1h', '7D']",
        ) from error
    if len(edges) < 2 or edges[0] != 0 or np.any(np.diff(edges) <= 0) or edges[-1] < top:
        raise FunnelError(
            f"bins={list(bins)!r} must be increasing durations from 0 up to at least the window ({window})",
            parameter="bins",
            value=list(bins),
            valid=f"increasing durations from 0 up to at least {window}",
        )
    return edges


def _binned(durations: ir.Table, by: list[str], edges: np.ndarray) -> ir.Table:
    seconds = durations.seconds
    inner = [(seconds < float(edge), index) for index, edge in enumerate(edges[1:-1])]
    bin_index = ibis.cases(*inner, else_=len(edges) - 2) if inner else ibis.literal(0)
    binned = durations.mutate(bin_index=bin_index.cast("int16"))
    return binned.group_by([*by, "transition_index", "bin_index"]).aggregate(units=binned.count())


def _transition_labels(steps: Sequence[str]) -> pd.DataFrame:
    k = len(steps)
    return pd.DataFrame(
        {
            "transition_index": np.arange(1, k + 1),
            "from_step": [*steps[:-1], steps[0]],
            "to_step": [*steps[1:], OVERALL],
        }
    )


def _ordered(summary: pd.DataFrame, by: list[str], labels: pd.DataFrame) -> pd.DataFrame:
    summary = summary.astype({"transition_index": "int64", "units": "int64"})
    table = summary.merge(labels, on="transition_index", how="left")
    table = table.sort_values([*by, "transition_index"], kind="stable").reset_index(drop=True)
    order = [*by, "transition_index", "from_step", "to_step", "units", "q1_seconds", "median_seconds", "q3_seconds"]
    return table[order]


def _histogram(counts: pd.DataFrame, by: list[str], labels: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    counts = counts.astype({"transition_index": "int64", "bin_index": "int64", "units": "int64"})
    bins = pd.DataFrame({"bin_index": np.arange(len(edges) - 1)})
    bins["bin_start_seconds"] = edges[:-1]
    bins["bin_end_seconds"] = edges[1:]
    groups = counts[[*by, "transition_index"]].drop_duplicates()
    grid = groups.merge(bins, how="cross").merge(labels, on="transition_index", how="left")
    table = grid.merge(counts, on=[*by, "transition_index", "bin_index"], how="left")
    table["units"] = table["units"].fillna(0).astype("int64")
    table = table.sort_values([*by, "transition_index", "bin_index"], kind="stable").reset_index(drop=True)
    order = ["transition_index", "from_step", "to_step", "bin_index", "bin_start_seconds", "bin_end_seconds"]
    return table[[*by, *order, "units"]]
