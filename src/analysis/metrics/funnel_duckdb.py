"""The ordered funnel on DuckDB without window functions: each unit's events in one list, walked by list functions.

The portable version in :mod:`analysis.metrics.funnel_chains` sorts the events once per step (one window pass per
step); at 100 million events that alone costs many times a scan of the data. On DuckDB the same depths come from one
hash aggregate and work inside each unit's own short list:

1. Each funnel event is packed into one ``BIGINT``, ``epoch_us * 16 + step`` (step: 0-based position in the funnel),
   and gathered per unit with ``list()``; ``list_sort`` then orders a unit's events by time and, at equal times, by
   step — the tie rule of :mod:`analysis.metrics.funnel_chains`.
2. Step 2. ClickHouse's rule extends a chain with the latest start before the event. Among a unit's step-1 and step-2
   events in time order, a step-2 event whose neighbour before it is a step-1 event takes that event as its start;
   a step-2 event after another step-2 event has the same start and a later time, so it adds nothing. The step-2
   events reached are therefore the neighbouring (step-1, step-2) pairs within the window: a ``list_zip`` of the
   list with itself shifted by one, filtered. No loop.
3. Steps 3 … k. A step-j event is reached when the latest step-(j-1) event reached before it carries a start within
   the window. Reached events are few next to the first two steps' events, so each step-j event looks that event up
   in the short, time-ordered list of the step before (a filter per event; quadratic only in a unit's own reached
   events).

The unit's breakdown values are those of its first step-1 event, ties at that time broken by the values themselves
(smallest first, missing values last), as in :func:`analysis.metrics.funnel_chains.first_touch`.

Only the ordered mode's depth is computed here; chain times, the other modes and other engines use the portable
version. Tests compare the two on random event logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import ibis.expr.types as ir

TIME = "event_time"
STEP_BITS = 4  # steps are packed into the low bits of each event: at most 16 steps
MAX_STEPS = 2**STEP_BITS
MASK = MAX_STEPS - 1


def supports(events: ir.Table, steps: Sequence[str]) -> bool:
    """Whether :func:`ordered_depths` can run ``events``: a DuckDB table, at most 16 steps, time in microseconds."""
    try:
        backend = events._find_backend(use_default=True)
    except Exception:  # noqa: BLE001 - an expression without a single backend: leave it to the portable version
        return False
    time_type = events.schema()[TIME]
    scale = getattr(time_type, "scale", None)
    return backend.name == "duckdb" and len(steps) <= MAX_STEPS and (scale is None or scale <= 6)


@contextmanager
def ordered_depths(
    events: ir.Table, steps: Sequence[str], window: timedelta, keys: Sequence[str], by: Sequence[str]
) -> Iterator[ir.Table]:
    """Per unit with a step-1 event: unit keys, ``by`` values (first touch), ``first_step_time`` and ``depth``.

    A context manager: the result is a temporary DuckDB view, dropped on exit.
    """
    keys, extra = list(keys), [column for column in by if column not in keys]
    source = events.filter(events.event_name.isin(list(steps)) & events[TIME].notnull())
    source = source.select(*keys, *extra, TIME, "event_name")
    backend = source._find_backend(use_default=True)
    backend._run_pre_execute_hooks(source)  # registers pandas frames wrapped as memtables
    name = f"_funnel_depths_{uuid.uuid4().hex}"
    window_us = round(window / timedelta(microseconds=1))
    zoned = getattr(events.schema()[TIME], "timezone", None) is not None
    body = _depths_sql(backend.compile(source), list(steps), window_us, keys, extra, zoned=zoned)
    backend.raw_sql(f"CREATE TEMP VIEW {_quote(name)} AS {body}")
    try:
        table = backend.table(name)
        first_step_time = table.first_step_time.cast(events[TIME].type())
        yield table.mutate(depth=table.depth.cast("int16"), first_step_time=first_step_time)
    finally:
        backend.raw_sql(f"DROP VIEW IF EXISTS {_quote(name)}")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _depths_sql(
    source_sql: str, steps: list[str], window_us: int, keys: list[str], extra: list[str], *, zoned: bool
) -> str:
    unit = ", ".join(_quote(key) for key in keys)
    step = "CASE event_name " + " ".join(f"WHEN {_literal(s)} THEN {i}" for i, s in enumerate(steps)) + " END"
    packed = f"epoch_us({_quote(TIME)}) * {MAX_STEPS} + _step"
    # the breakdown values of the first start: a struct's minimum orders by time, then by the values (nulls last)
    values = ", ".join([f"'t': {packed}", *(f"'b{i}': {_quote(c)}" for i, c in enumerate(extra))])
    if extra:
        first = f"min({{{values}}}) FILTER (WHERE _step = 0) AS _touch"
    else:
        first = f"min({packed}) FILTER (WHERE _step = 0) AS _start"
    shown = "".join(f", _touch.b{i} AS {_quote(column)}" for i, column in enumerate(extra))
    start = f"{'_touch.t' if extra else '_start'} >> {STEP_BITS}"
    first_time = f"to_timestamp(0) + to_microseconds({start})" if zoned else f"make_timestamp({start})"
    reached = " + ".join(["1", *(f"coalesce(len(_reached_{j}) > 0, false)::INTEGER" for j in range(1, len(steps)))])
    return f"""
WITH source AS ({source_sql}),
tagged AS (SELECT *, {step} AS _step FROM source),
units AS (
  SELECT {unit}, {first}, list({packed}) AS _events
  FROM tagged GROUP BY {unit}
),
split AS (
  SELECT *,
    list_sort(list_filter(_events, lambda x: x & {MASK} <= 1)) AS _first,
    list_sort(list_filter(_events, lambda x: x & {MASK} >= 2)) AS _later
  FROM units WHERE {"_touch" if extra else "_start"} IS NOT NULL
)
SELECT {unit}{shown}, {first_time} AS first_step_time, {reached} AS depth
FROM ({_reached_sql(len(steps), window_us)})
"""


def _reached_sql(k: int, window_us: int) -> str:
    """``split`` plus ``_reached_<j>``: each unit's events of 0-based step j that some chain reached (NULL if none).

    Every reached event is a pair ``[event, start event]`` (both packed), in time order, so the last reached event
    before a time carries the latest start. With the start packed as ``start * 16`` (step 0), an event of step j at
    time t is within the window of it when ``event - start <= window * 16 + j``.
    """
    # in the time-ordered steps 0 and 1, the difference of neighbours is 1 modulo 16 exactly for (step 0, step 1)
    step_two = (
        "list_filter(list_zip(_first[2:], _first[:-1]), lambda p: "
        f"(p[1] - p[2]) & {MASK} = 1 AND p[1] - p[2] <= {window_us * MAX_STEPS + 1})"
    )
    query = f"SELECT *, {step_two} AS _reached_1 FROM split"
    for j in range(2, k):
        candidates = (
            f"list_transform(list_filter(_later, lambda x: x & {MASK} = {j}), "
            f"lambda x: [x, list_filter(_reached_{j - 1}, lambda p: p[1] < x)[-1][2]])"
        )
        within = f"lambda p: p[1] - p[2] <= {window_us * MAX_STEPS + j}"  # NULL start: not reached
        reached = f"CASE WHEN len(_reached_{j - 1}) > 0 THEN list_filter({candidates}, {within}) END"
        query = f"SELECT *, {reached} AS _reached_{j} FROM ({query})"
    return query
