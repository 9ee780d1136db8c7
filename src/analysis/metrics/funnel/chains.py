"""How far each unit (user or session) gets through a funnel: the engine-side half of :mod:`analysis.metrics.funnel`.

Semantics follow ClickHouse's ``windowFunnel``: for each unit, the deepest step reached by a chain of events step 1 →
step 2 → … , each at or after the previous one, all within ``window`` of the chain's own step-1 event (inclusive).
Events are ordered by time; events at the same time are ordered by their step's position in the funnel (so a tie never
hides a step), and events that are not funnel steps come after the steps at that time.

Everything here is Ibis expressions, so the same code runs on DuckDB and Spark; only the ordered mode executes as it
goes, materialising its passes. On DuckDB, every mode's depths and chain times come instead from list paths
(:mod:`analysis.metrics.funnel.duckdb_path` for the ordered depths, :mod:`analysis.metrics.funnel.duckdb_chains` for
the rest), which give the same results several times faster (tests compare them with this version). The algorithms
here are window functions over each unit's events, never self-joins across steps:

``ordered``
    ClickHouse's own rule: a step-j event extends the chain with the *latest start* among the chains that reached step
    j-1 before it (a later start leaves the most room in the window, so it is optimal). That latest start is a running
    ``max`` over the unit's events. Pass j needs only the step-j events and the step-(j-1) events that were reached
    (carrying their start) of units that have a step-j event; each pass's result is materialised (Ibis ``cache``,
    released at the end) and feeds the next, so only the first pass sorts many events.
``strict_order``
    Each step must directly follow the previous one, no other event of the unit in between. One pass over all the
    unit's events: ``lag`` of the step index and time by 1 … k-1 events tells whether the events before a step-j event
    are steps j-1, j-2, … 1.
``any_order``
    Steps 1 … j may happen in any order within one window. One pass over the funnel events: at each event, the latest
    time of each step so far; steps 1 … j are all within ``window`` before that event when the oldest of those is.

The chain that defines a unit's depth (used for time to convert) is, in ``ordered`` mode, the one that ends at the
first event where the unit reaches its deepest step, built backwards: each earlier step is the latest event of that
step before the next step's event from which the chain still fits the window (so step 1 is the latest start that
works). In ``strict_order`` mode it is the run of consecutive events ending at that first event.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import ibis
import ibis.expr.types as ir

from analysis.errors import ParameterError
from analysis.metrics.funnel import duckdb_chains, duckdb_path

MODES: tuple[str, ...] = ("ordered", "strict_order", "any_order")
UNIT_KEYS: dict[str, tuple[str, ...]] = {"user": ("user_id",), "session": ("user_id", "session_id")}

TIME = "event_time"
STEP = "_step"  # 0-based position of the event's step in the funnel; len(steps) for other events
LEVEL = "_level"  # 1-based deepest step reached at an event


def _at(index: int) -> str:
    """Column holding the time of the chain's step ``index`` (0-based) on a reached event."""
    return f"_at_{index}"


def window_interval(window: timedelta) -> ir.IntervalScalar:
    """``window`` as an Ibis interval literal, in whole seconds when it has no fraction (portable to every engine)."""
    microseconds = round(window / timedelta(microseconds=1))
    if microseconds % 1_000_000 == 0:
        return ibis.interval(seconds=microseconds // 1_000_000)
    return ibis.interval(microseconds=microseconds)


def step_index(event_name: ir.StringColumn, steps: Sequence[str]) -> ir.IntegerColumn:
    """0-based position of each event's name in ``steps``; ``len(steps)`` for events outside the funnel."""
    cases = [(event_name == name, index) for index, name in enumerate(steps)]
    return ibis.cases(*cases, else_=len(steps)).cast("int16")


def _running(keys: list[str]):
    return ibis.window(group_by=keys, order_by=[TIME, STEP], preceding=None, following=0)


class _Materialiser:
    """Caches intermediate tables (Ibis ``cache``: a temporary table on DuckDB, a persisted frame on Spark)."""

    def __init__(self) -> None:
        self.tables: list[ir.Table] = []

    def __call__(self, table: ir.Table) -> ir.Table:
        cached = table.cache()
        self.tables.append(cached)
        return cached

    def release(self) -> None:
        for table in self.tables:
            table.release()
        self.tables.clear()


def _ordered(
    events: ir.Table, steps: Sequence[str], keys: list[str], interval, chain_times: bool, materialise: _Materialiser
) -> ir.Table:
    """Reached events of the ordered mode: unit keys, ``event_time``, level and the chain's ``_at_*`` times."""
    k = len(steps)
    nothing = ibis.null(events[TIME].type())

    # steps 3 … k are rare next to the first two: one scan keeps them for all the later passes
    later = events.filter(events.event_name.isin(list(steps[2:])))
    later = materialise(later.select(*keys, TIME, **{STEP: step_index(later.event_name, steps)})) if k > 2 else None
    passes, carry = [], None
    for j in range(1, k):
        # only the start (or, for time to convert, the whole chain so far) travels with a reached event
        carried = [_at(m) for m in range(j)] if chain_times else [_at(0)]
        if j == 1:
            # a step-1 event starts its own chain (two filtered scans measured faster than one at 100M events)
            starts = events.filter(events.event_name == steps[0])
            starts = starts.select(*keys, TIME, **{STEP: ibis.literal(0, "int16"), _at(0): starts[TIME]})
            views = events.filter(events.event_name == steps[1])
            views = views.select(*keys, TIME, **{STEP: ibis.literal(1, "int16"), _at(0): nothing})
            both = starts.union(views, distinct=False)
        else:
            arriving = later.filter(later[STEP] == j)
            previous = carry.semi_join(arriving, keys).select(*keys, TIME, STEP, *carried)
            # cached tables may report a more precise timestamp type; set operations need identical schemas
            arriving = arriving.mutate(**{column: nothing for column in carried}).cast(previous.schema())
            both = previous.union(arriving, distinct=False)
        latest = {
            column: ibis.ifelse(both[STEP] == j - 1, both[column], nothing).max().over(_running(keys))
            for column in carried
        }
        both = both.mutate(**{f"_latest{column}": value for column, value in latest.items()})
        start = both[f"_latest{_at(0)}"]
        reached = both.filter((both[STEP] == j) & start.notnull() & (both[TIME] <= start + interval))
        chain = {column: reached[f"_latest{column}"] for column in carried}
        if chain_times:
            chain[_at(j)] = reached[TIME]
        carry = materialise(reached.select(*keys, TIME, STEP, **chain))
        passes.append(carry)
    if not passes:  # a one-step funnel: nothing beyond the start to reach
        passes = [events.filter(ibis.literal(False)).select(*keys, TIME)]
    return _levels(passes, keys, k, chain_times, nothing)


def _levels(passes: list[ir.Table], keys: list[str], k: int, chain_times: bool, nothing) -> ir.Table:
    shaped = []
    time_type = passes[0][TIME].type()
    for j, reached in enumerate(passes, start=1):
        chain = {_at(m): (reached[_at(m)] if _at(m) in reached.columns else nothing).cast(time_type) for m in range(k)}
        shaped.append(
            reached.select(*keys, TIME, **{LEVEL: ibis.literal(j + 1, "int16")}, **(chain if chain_times else {}))
        )
    return ibis.union(*shaped, distinct=False)


def _strict_order(events: ir.Table, steps: Sequence[str], keys: list[str], interval) -> ir.Table:
    k = len(steps)
    source = events.select(*keys, TIME, **{STEP: step_index(events.event_name, steps)})
    window = ibis.window(group_by=keys, order_by=[TIME, STEP])
    lagged_steps = {i: source[STEP].lag(i).over(window) for i in range(1, k)}
    lagged_times = {i: source[TIME].lag(i).over(window) for i in range(1, k)}
    nothing = ibis.null(source[TIME].type())
    valid = {
        j: (source[STEP] == j)
        & ibis.and_(*[lagged_steps[i] == j - i for i in range(1, j + 1)])
        & (source[TIME] <= lagged_times[j] + interval)
        for j in range(1, k)
    }
    level = ibis.cases((source[STEP] == 0, 1), *[(valid[j], j + 1) for j in range(1, k)], else_=0)
    table = source.mutate(**{LEVEL: level.cast("int16")})
    # the chain ending at a level-L event: the L-1 events before it, then itself
    table = table.mutate(
        **{
            _at(m): ibis.cases(
                *[(table[LEVEL] == m + 1 + i, lagged_times[i]) for i in range(1, k - m)],
                (table[LEVEL] == m + 1, table[TIME]),
                else_=nothing,
            )
            for m in range(k)
        }
    )
    return table.filter(table[LEVEL] > 0)


def _any_order(events: ir.Table, steps: Sequence[str], keys: list[str], interval) -> ir.Table:
    k = len(steps)
    funnel_events = events.filter(events.event_name.isin(list(steps)))
    source = funnel_events.select(*keys, TIME, **{STEP: step_index(funnel_events.event_name, steps)})
    window = _running(keys)
    nothing = ibis.null(source[TIME].type())
    latest = {i: ibis.ifelse(source[STEP] == i, source[TIME], nothing).max().over(window) for i in range(k)}
    table = source.mutate(**{f"_latest_{i}": latest[i] for i in range(k)})
    inside = [table[f"_latest_{j}"].notnull() & (table[TIME] <= table[f"_latest_{j}"] + interval) for j in range(k)]
    level = sum(ibis.and_(*inside[: j + 1]).cast("int16") for j in range(k))
    table = table.mutate(**{LEVEL: level})
    return table.filter(table[LEVEL] > 0).select(*keys, TIME, LEVEL)


def first_touch(events: ir.Table, first_step: str, by: Sequence[str], *, unit: str = "user") -> ir.Table:
    """Each unit's first event of the funnel's first step, with its breakdown values (the unit's first touch).

    When several step-1 events share the unit's first time, each ``by`` column takes the smallest of their values on
    its own, a missing value only when all are missing. A column's value therefore never depends on the other ``by``
    columns (a breakdown summed from the funnel by several columns equals the funnel by that column alone), and every
    engine picks the same values.

    Returns
    -------
    ibis.Table
        Unit keys, ``first_step_time`` (timestamp of that event) and the ``by`` columns.
    """
    keys = list(UNIT_KEYS[unit])
    extra = [column for column in by if column not in keys]
    starts = events.filter(events.event_name == first_step)
    firsts = starts.group_by(keys).aggregate(first_step_time=starts[TIME].min())
    if not extra:
        return firsts
    # a hash aggregate and join rather than a window over every start; only ties at the first time are reduced
    at_first = starts.join(firsts, [*keys, starts[TIME] == firsts.first_step_time]).select(
        *keys, *extra, "first_step_time"
    )
    touched = at_first.group_by([*keys, "first_step_time"]).aggregate(
        **{column: at_first[column].min() for column in extra}
    )
    return touched.select(*keys, *extra, "first_step_time")


@contextmanager
def unit_chains(
    events: ir.Table,
    steps: Sequence[str],
    window: timedelta,
    by: Sequence[str] = (),
    *,
    unit: str = "user",
    mode: str = "ordered",
    chain_times: bool = False,
    portable: bool = False,
) -> Iterator[ir.Table]:
    """One row per unit that had a step-1 event: its first-touch breakdown values and the deepest step reached.

    A context manager: intermediate results are materialised in the engine and released on exit, so use the table
    inside the ``with`` block.

    Yields
    ------
    ibis.Table
        Unit keys, the ``by`` columns (first touch: values of the unit's first step-1 event, ties as in
        :func:`first_touch`), ``first_step_time`` and ``depth`` (int,
        1 … len(steps): the deepest step reached by any chain within the window). With ``chain_times`` (``ordered`` and
        ``strict_order`` modes), also ``step_1_time`` … ``step_<k>_time``: the times of the chain that defines the depth
        (see the module docstring); null beyond the depth, and ``step_1_time`` is ``first_step_time`` at depth 1.

    On DuckDB the ordered mode's depths come from :mod:`analysis.metrics.funnel.duckdb_path`, and chain times and
    the other modes from :mod:`analysis.metrics.funnel.duckdb_chains` (same results, much faster);
    ``portable=True`` forces the window-function version used on every other engine.
    """
    keys = list(UNIT_KEYS[unit])
    shown = [*keys, *[column for column in by if column not in keys], "first_step_time", "depth"]
    if mode == "ordered" and not chain_times and not portable and duckdb_path.supports(events, steps):
        with duckdb_path.ordered_depths(events, steps, window, keys, by) as depths:
            yield depths.select(*shown)
        return
    if not portable and duckdb_chains.supports_mode(events, steps, mode, chain_times):
        times = [f"step_{m + 1}_time" for m in range(len(steps))] if chain_times else []
        with duckdb_chains.unit_chains(events, steps, window, keys, by, mode=mode, chain_times=chain_times) as chains:
            yield chains.select(*shown, *times)
        return
    interval = window_interval(window)
    k = len(steps)
    if chain_times and mode == "any_order":
        raise ParameterError(
            "chain times are defined for mode='ordered' and 'strict_order' only",
            parameter="mode",
            value=mode,
            valid=("ordered", "strict_order"),
        )
    materialise = _Materialiser()
    try:
        if mode == "ordered":
            reached = _ordered(events, steps, keys, interval, chain_times, materialise)
        elif mode == "strict_order":
            reached = _strict_order(events, steps, keys, interval)
        else:
            reached = _any_order(events, steps, keys, interval)
        deepest = reached.group_by(keys).aggregate(depth=reached[LEVEL].max())
        if chain_times:
            at_depth = reached.join(deepest, keys)
            at_depth = at_depth.filter(at_depth[LEVEL] == at_depth.depth)
            # chains ending at the same (first) time carry the same times; the first by time is that chain
            deepest = at_depth.group_by([*keys, "depth"]).aggregate(
                **{_at(m): at_depth[_at(m)].argmin(at_depth[TIME]) for m in range(k)}
            )
        touch = first_touch(events, steps[0], by, unit=unit)
        joined = touch.join(deepest, keys, how="left")
        columns = {"depth": joined.depth.fill_null(1).cast("int16")}
        if chain_times:
            columns["step_1_time"] = joined[_at(0)].fill_null(joined.first_step_time)
            columns.update({f"step_{m + 1}_time": joined[_at(m)] for m in range(1, k)})
        yield joined.select(*keys, *[column for column in by if column not in keys], "first_step_time", **columns)
    finally:
        materialise.release()
