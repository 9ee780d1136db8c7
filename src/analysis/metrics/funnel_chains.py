"""How far each unit (user or session) gets through a funnel: the engine-side half of
:mod:`analysis.metrics.funnel`.

Semantics follow ClickHouse's ``windowFunnel``: for each unit, the deepest step reached by a chain of events
step 1 → step 2 → … , each at or after the previous one, all within ``window`` of the chain's own step-1 event
(inclusive). Events are ordered by time; events at the same time are ordered by their step's position in the
funnel
(so a tie never hides a step), and events that are not funnel steps come after the steps at that time.

Everything here builds Ibis expressions; nothing is executed. The algorithms are a few passes of window
functions
over the unit's events, never self-joins across steps:

``ordered``
    ClickHouse's own rule, one pass per step: a step-j event extends the chain with the *latest start* among
    the
    chains that reached step j-1 before it (a later start leaves the most room in the window, so it is
    optimal). That
    latest start is a running ``max`` over the unit's events, which engines evaluate as a streaming window.
``strict_order``
    Each step must directly follow the previous one, no other event of the unit in between. One pass: ``lag``
    of the
    step index and time by 1 … k-1 events tells whether the k-1 events before a step-j event are steps j-1,
    j-2, … 1.
``any_order``
    Steps 1 … j may happen in any order within one window. One pass: at each event, the latest time of each
    step so
    far; steps 1 … j are all within ``window`` before that event when the oldest of those latest times is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import ibis
import ibis.expr.types as ir

MODES: tuple[str, ...] = ("ordered", "strict_order", "any_order")
UNIT_KEYS: dict[str, tuple[str, ...]] = {"user": ("user_id",), "session": ("user_id", "session_id")}

TIME = "event_time"
STEP = "_step"  # 0-based position of the event's step in the funnel; len(steps) for other events
START = "_chain_start"


def window_interval(window: timedelta) -> ir.IntervalScalar:
    """``window`` as an Ibis interval literal, in whole seconds when it has no fraction (portable to every
    engine).
    """
    microseconds = round(window / timedelta(microseconds=1))
    if microseconds % 1_000_000 == 0:
        return ibis.interval(seconds=microseconds // 1_000_000)
    return ibis.interval(microseconds=microseconds)


def step_index(event_name: ir.StringColumn, steps: Sequence[str]) -> ir.IntegerColumn:
    """0-based position of each event's name in ``steps``; ``len(steps)`` for events outside the funnel."""
    cases = [(event_name == name, index) for index, name in enumerate(steps)]
    return ibis.cases(*cases, else_=len(steps)).cast("int16")


def reached_rows(
    events: ir.Table,
    steps: Sequence[str],
    window: timedelta,
    *,
    unit: str = "user",
    mode: str = "ordered",
) -> ir.Table:
    """Events at which a unit reached a funnel level, with the start of the chain that got it there.

    Returns
    -------
    ibis.Table
        One row per event that completes a valid chain (plus, in ``any_order`` mode, every funnel event with
        its
        depth). Columns: the unit keys (``user_id`` [, ``session_id``]); ``event_time``; ``level`` (int, 1 =
        step 1:
        the deepest step reached at that event); ``start_1`` … ``start_k`` (timestamp; ``start_j`` is the
        step-1
        time of the chain that reaches step j at this event, null when this event does not reach step j).
    """
    keys = list(UNIT_KEYS[unit])
    interval = window_interval(window)
    k = len(steps)
    if mode == "strict_order":
        source = events.select(*keys, TIME, **{STEP: step_index(events.event_name, steps)})
        return _strict_order(source, keys, k, interval)
    funnel_events = events.filter(events.event_name.isin(list(steps)))
    source = funnel_events.select(*keys, TIME, **{STEP: step_index(funnel_events.event_name, steps)})
    if mode == "ordered":
        return _ordered(source, keys, k, interval)
    return _any_order(source, keys, k, interval)


def _running(keys: list[str], order: list[str]):
    return ibis.window(group_by=keys, order_by=order, preceding=None, following=0)


def _ordered(source: ir.Table, keys: list[str], k: int, interval) -> ir.Table:
    # After pass j, START holds, on every event of steps 0..j, the start of the latest chain that reached that
    # event's step at that event (null when none did). Step-0 events start their own chain.
    table = source.mutate(**{START: ibis.ifelse(source[STEP] == 0, source[TIME], ibis.null("timestamp"))})
    table = table.mutate(**{START: table[START].cast(source[TIME].type())})
    order = [TIME, STEP]
    for j in range(1, k):
        previous_start = ibis.ifelse(table[STEP] == j - 1, table[START], ibis.null(table[START].type()))
        latest = previous_start.max().over(_running(keys, order))
        extends = (table[STEP] == j) & latest.notnull() & (table[TIME] <= latest + interval)
        table = table.mutate(**{START: ibis.ifelse(extends, latest, table[START])})
    reached = table.filter(table[START].notnull())
    return _with_level_starts(reached, keys, k, level=reached[STEP] + 1, start=reached[START])


def _strict_order(source: ir.Table, keys: list[str], k: int, interval) -> ir.Table:
    window = ibis.window(group_by=keys, order_by=[TIME, STEP])
    lagged_steps = {i: source[STEP].lag(i).over(window) for i in range(1, k)}
    lagged_times = {i: source[TIME].lag(i).over(window) for i in range(1, k)}
    chain_start = ibis.cases(
        (source[STEP] == 0, source[TIME]),
        *[
            (
                (source[STEP] == j)
                & ibis.and_(*[lagged_steps[i] == j - i for i in range(1, j + 1)])
                & (source[TIME] <= lagged_times[j] + interval),
                lagged_times[j],
            )
            for j in range(1, k)
        ],
        else_=ibis.null(source[TIME].type()),
    )
    table = source.mutate(**{START: chain_start})
    reached = table.filter(table[START].notnull())
    return _with_level_starts(reached, keys, k, level=reached[STEP] + 1, start=reached[START])


def _any_order(source: ir.Table, keys: list[str], k: int, interval) -> ir.Table:
    window = _running(keys, [TIME, STEP])
    nothing = ibis.null(source[TIME].type())
    latest = {i: ibis.ifelse(source[STEP] == i, source[TIME], nothing).max().over(window) for i in range(k)}
    table = source.mutate(**{f"_latest_{i}": latest[i] for i in range(k)})
    # start of the window holding steps 1..j at this event: the oldest of their latest times
    starts, inside = [], []
    for j in range(k):
        this = table[f"_latest_{j}"]
        inside.append(this.notnull() & (table[TIME] <= this + interval))
        starts.append(this if j == 0 else ibis.least(starts[-1], this))
    level = sum(ibis.and_(*inside[: j + 1]).cast("int16") for j in range(k))
    start_columns = {f"start_{j + 1}": ibis.ifelse(level >= j + 1, starts[j], nothing) for j in range(k)}
    table = table.mutate(level=level, **start_columns)
    return table.filter(table.level > 0).select(*keys, TIME, "level", *start_columns)


def _with_level_starts(reached: ir.Table, keys: list[str], k: int, *, level, start) -> ir.Table:
    nothing = ibis.null(reached[TIME].type())
    return reached.select(
        *keys,
        TIME,
        level=level.cast("int16"),
        **{f"start_{j}": ibis.ifelse(level == j, start, nothing) for j in range(1, k + 1)},
    )


def first_touch(events: ir.Table, first_step: str, by: Sequence[str], *, unit: str = "user") -> ir.Table:
    """Each unit's first event of the funnel's first step, with its breakdown values.

    Ties at the first timestamp are broken by the breakdown values themselves (smallest first), so every
    engine
    picks the same row.

    Returns
    -------
    ibis.Table
        Unit keys, ``first_step_time`` (timestamp of that event) and the ``by`` columns.
    """
    keys = list(UNIT_KEYS[unit])
    starts = events.filter(events.event_name == first_step)
    order = [TIME, *[column for column in by if column not in keys]]
    rank = ibis.row_number().over(group_by=keys, order_by=order)
    starts = starts.mutate(_rank=rank)
    first = starts.filter(starts._rank == 0)
    extra = [column for column in by if column not in keys]
    return first.select(*keys, *extra, first_step_time=first[TIME])


def unit_depths(
    events: ir.Table,
    steps: Sequence[str],
    window: timedelta,
    by: Sequence[str] = (),
    *,
    unit: str = "user",
    mode: str = "ordered",
) -> ir.Table:
    """One row per unit that had a step-1 event: its first-touch breakdown values and the deepest step
    reached.

    Returns
    -------
    ibis.Table
        Unit keys, the ``by`` columns (values of the unit's first step-1 event), ``first_step_time`` and
        ``depth``
        (int, 1 … len(steps): the deepest step reached by any chain within the window).
    """
    keys = list(UNIT_KEYS[unit])
    reached = reached_rows(events, steps, window, unit=unit, mode=mode)
    deepest = reached.group_by(keys).aggregate(depth=reached.level.max())
    touch = first_touch(events, steps[0], by, unit=unit)
    joined = touch.join(deepest, keys, how="left")
    return joined.select(
        *keys,
        *[column for column in by if column not in keys],
        "first_step_time",
        depth=joined.depth.fill_null(1).cast("int16"),
    )
