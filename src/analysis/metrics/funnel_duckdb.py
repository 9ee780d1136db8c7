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
3. Steps 3 … k. The reached step-2 events, each carrying its start, are merged in time order with the later steps'
   events (``list_grade_up``) and folded with ``list_reduce`` over ClickHouse's state: for each step, the latest start
   of a chain that reached it. Only units that reached step 2 and have a later step's event are folded.

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
NO_START = -(2**62)  # the fold's "no chain reached this step yet"; below any real start minus any window


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
    body = _depths_sql(backend.compile(source), list(steps), window_us, keys, extra)
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


def _depths_sql(source_sql: str, steps: list[str], window_us: int, keys: list[str], extra: list[str]) -> str:
    k = len(steps)
    unit = ", ".join(_quote(key) for key in keys)
    step = "CASE event_name " + " ".join(f"WHEN {_literal(s)} THEN {i}" for i, s in enumerate(steps)) + " END"
    touch = ", ".join([f"'t': {_quote(TIME)}", *(f"'b{i}': {_quote(c)}" for i, c in enumerate(extra))])
    shown = ", ".join(f"_touch.b{i} AS {_quote(column)}" for i, column in enumerate(extra))
    return f"""
WITH source AS ({source_sql}),
tagged AS (SELECT *, {step} AS _step FROM source),
units AS (
  SELECT {unit}, min({{{touch}}}) FILTER (WHERE _step = 0) AS _touch,
    list_sort(list(epoch_us({_quote(TIME)}) * {MAX_STEPS} + _step)) AS _events
  FROM tagged GROUP BY {unit}
),
first_two AS (
  SELECT {unit}, _touch, list_filter(_events, lambda x: x & {MAX_STEPS - 1} >= 2) AS _later,
    {_second_step_sql(window_us)} AS _reached
  FROM (
    SELECT *, list_filter(_events, lambda x: x & {MAX_STEPS - 1} <= 1) AS _first FROM units WHERE _touch IS NOT NULL
  )
),
folded AS (SELECT *, {_fold_sql(k, window_us)} AS _state FROM first_two)
SELECT {unit}{", " + shown if shown else ""}, _touch.t AS first_step_time, {_depth_sql(k)} AS depth
FROM folded
"""


def _second_step_sql(window_us: int) -> str:
    """Reached step-2 events as ``[event, start event]`` pairs: neighbours (step 1, step 2) within the window."""
    mask, shift = MAX_STEPS - 1, STEP_BITS
    return (
        "list_filter(list_zip(_first[2:], _first[:-1]), lambda p: "
        f"p[1] & {mask} = 1 AND p[2] & {mask} = 0 AND (p[1] >> {shift}) - (p[2] >> {shift}) <= {window_us})"
    )


def _fold_sql(k: int, window_us: int) -> str:
    """The fold's final state for units that reached step 2 and have a later step's event; NULL for the others."""
    if k <= 2:
        return "NULL"
    # reached step-2 events become (start << 4 | 1), later steps' events stay as they are; merged in time order
    merged = (
        "list_select(list_concat(list_transform(_reached, lambda p: p[2] + 1), _later), "
        "list_grade_up(list_concat(list_transform(_reached, lambda p: p[1]), _later)))"
    )
    fold = f"list_reduce({merged}, {_fold_lambda(k, window_us)}, {_fold_start(k)})"
    return f"CASE WHEN len(_reached) > 0 AND len(_later) > 0 THEN {fold} END"


def _depth_sql(k: int) -> str:
    """1 for having started, one more for each further step some chain reached."""
    if k == 1:
        return "1"
    deeper = [f"coalesce(_state.s{j} > {NO_START}, false)::INTEGER" for j in range(2, k)]
    return " + ".join(["1", "(len(_reached) > 0)::INTEGER", *deeper])


def _fold_start(k: int) -> str:
    return "{" + ", ".join(f"'s{j}': ({NO_START})::BIGINT" for j in range(1, k)) + "}"


def _fold_lambda(k: int, window_us: int) -> str:
    """ClickHouse's state update; field ``s<j>`` is the latest start of a chain reaching 0-based step ``j``."""
    mask, shift = MAX_STEPS - 1, STEP_BITS
    fields = [f"'s1': CASE WHEN x & {mask} = 1 THEN x >> {shift} ELSE acc.s1 END"]
    for j in range(2, k):
        extends = f"x & {mask} = {j} AND acc.s{j - 1} >= (x >> {shift}) - {window_us}"
        fields.append(f"'s{j}': CASE WHEN {extends} THEN acc.s{j - 1} ELSE acc.s{j} END")
    return "lambda acc, x: {" + ", ".join(fields) + "}"
