"""DuckDB list paths for chain times and the ``strict_order`` and ``any_order`` modes (see :mod:`.duckdb_path`).

Each unit's events are gathered into one time-ordered list of packed ``BIGINT`` (``epoch_us * 16 + step``) by
:func:`analysis.metrics.funnel.duckdb_path.units_sql`, then walked by list functions; the results equal the portable
window-function versions of :mod:`analysis.metrics.funnel.chains` (tests compare the two on random event logs).

``ordered`` with chain times
    Every step-2 event takes the latest step-1 event before it as its start (a lookup in the unit's short list of
    starts); a chain is the list of its packed events. A step-j event extends the last chain reached at step j-1
    before it, if that chain's start is within the window. Reached chains are in time order and each of their times
    is non-decreasing along the list, so the last one before an event carries the latest start *and* the latest time
    of every earlier step: exactly the running maxima of the portable version. The chain of the unit is the first
    one reached at its deepest step.
``strict_order``
    The list holds every event of the unit (other events packed with step ``len(steps)``); a step-j event at
    position i reaches step j+1 when the j events before it are steps j-1 … 0 and the step-0 event is within the
    window. The chain is the run of events ending at the first position of the deepest level.
``any_order``
    Steps 1 … j are reached at an event when each occurs at or before it and within the window before it; per event,
    the bit-or of ``1 << step`` over the events of that stretch of the list says which steps occur.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import ibis.expr.types as ir

from analysis.metrics.funnel.duckdb_path import (
    MASK,
    MAX_STEPS,
    STEP_BITS,
    _identifier,
    _Touch,
    supports,
    timestamp_sql,
    unit_view,
    units_sql,
)

MODES = ("ordered", "strict_order", "any_order")


def supports_mode(events: ir.Table, steps: Sequence[str], mode: str, chain_times: bool) -> bool:
    """Whether :func:`unit_chains` can run this call on ``events`` (``strict_order`` also packs other events)."""
    if mode not in MODES or (chain_times and mode == "any_order"):
        return False
    limit = MAX_STEPS - 1 if mode == "strict_order" else MAX_STEPS
    return len(steps) <= limit and supports(events, steps)


@contextmanager
def unit_chains(
    events: ir.Table,
    steps: Sequence[str],
    window: timedelta,
    keys: Sequence[str],
    by: Sequence[str],
    *,
    mode: str,
    chain_times: bool,
) -> Iterator[ir.Table]:
    """Per unit with a step-1 event: keys, ``by`` values (first touch), ``first_step_time``, ``depth`` and, with
    ``chain_times``, ``step_1_time`` … ``step_<k>_time``, as :func:`analysis.metrics.funnel.chains.unit_chains`.

    A context manager: the result is a temporary DuckDB view, dropped on exit.
    """
    steps, keys = list(steps), list(keys)

    def body(source_sql: str, touch: _Touch, window_us: int, zoned: bool) -> str:
        units = units_sql(source_sql, steps, keys, touch, every_event=mode == "strict_order")
        if mode == "ordered":
            walked = _ordered_sql(len(steps), window_us)
        elif mode == "strict_order":
            walked = _strict_sql(len(steps), window_us)
        else:
            walked = _any_order_sql(len(steps), window_us)
        unit = ", ".join(_identifier(key) for key in keys)
        shown = "".join(f", {column}" for column in touch.shown())
        start = f"{touch.start()} >> {STEP_BITS}"
        times = ""
        if chain_times:
            # at depth 1 the ordered mode has no chain: step 1 is the first start
            first = f"coalesce(_chain[1], {touch.start()})"
            packed = [first, *(f"_chain[{m + 1}]" for m in range(1, len(steps)))]
            times = "".join(
                f", {timestamp_sql(f'{value} >> {STEP_BITS}', zoned=zoned)} AS step_{m + 1}_time"
                for m, value in enumerate(packed)
            )
        return f"""{units}
SELECT {unit}{shown}, {timestamp_sql(start, zoned=zoned)} AS first_step_time, _depth AS depth{times}
FROM ({walked})
"""

    with unit_view(events, window, keys, by, body) as table:
        yield table


def _ordered_sql(k: int, window_us: int) -> str:
    """From ``ordered``: ``_depth`` and ``_chain`` (packed events of the unit's chain; NULL at depth 1)."""
    split = f"""SELECT *,
    list_filter(_events, lambda x: x & {MASK} = 0) AS _starts,
    list_filter(_events, lambda x: x & {MASK} = 1) AS _views,
    list_filter(_events, lambda x: x & {MASK} >= 2) AS _later
  FROM ordered"""
    starts = "list_transform(_views, lambda v: [list_filter(_starts, lambda s: s < v)[-1], v])"
    within = f"lambda c: c[2] - c[1] <= {window_us * MAX_STEPS + 1}"
    query = f"SELECT *, list_filter({starts}, {within}) AS _reached_1 FROM ({split})"
    for j in range(2, k):
        extended = (
            f"list_transform(list_filter(_later, lambda x: x & {MASK} = {j}), "
            f"lambda x: list_append(list_filter(_reached_{j - 1}, lambda c: c[-1] < x)[-1], x))"
        )
        within = f"lambda c: len(c) = {j + 1} AND c[{j + 1}] - c[1] <= {window_us * MAX_STEPS + j}"
        reached = f"CASE WHEN len(_reached_{j - 1}) > 0 THEN list_filter({extended}, {within}) END"
        query = f"SELECT *, {reached} AS _reached_{j} FROM ({query})"
    if k == 1:
        return "SELECT *, 1 AS _depth, NULL::BIGINT[] AS _chain FROM ordered"
    depth = " + ".join(["1", *(f"coalesce(len(_reached_{j}) > 0, false)::INTEGER" for j in range(1, k))])
    chain = " ".join(f"WHEN len(_reached_{j}) > 0 THEN _reached_{j}[1]" for j in range(k - 1, 0, -1))
    return f"SELECT *, {depth} AS _depth, CASE {chain} END AS _chain FROM ({query})"


def _strict_sql(k: int, window_us: int) -> str:
    """From ``ordered`` (every event): ``_depth`` and ``_chain`` (the run of packed events ending at the first
    event of the deepest level)."""
    cases = []
    for j in range(1, k):
        before = " AND ".join(f"_events[i - {m}] & {MASK} = {j - m}" for m in range(1, j + 1))
        within = f"(x >> {STEP_BITS}) - (_events[i - {j}] >> {STEP_BITS}) <= {window_us}"
        cases.append(f"WHEN x & {MASK} = {j} AND i > {j} AND {before} AND {within} THEN {j + 1}")
    level = f"CASE WHEN x & {MASK} = 0 THEN 1 {' '.join(cases)} ELSE 0 END"
    return f"""SELECT *, list_slice(_events, _end - _depth + 1, _end) AS _chain FROM (
  SELECT *, list_position(_levels, _depth) AS _end FROM (
    SELECT *, list_max(_levels) AS _depth FROM (
      SELECT *, list_transform(_events, lambda x, i: {level}) AS _levels FROM ordered)))"""


def _any_order_sql(k: int, window_us: int) -> str:
    """From ``ordered``: ``_depth``, the longest prefix of steps that all occur within the window before an event."""
    # the events at or before the i-th that are within the window before it
    stretch = (
        f"list_filter(list_slice(_events, 1, i), lambda y: (y >> {STEP_BITS}) >= (x >> {STEP_BITS}) - {window_us})"
    )
    seen = f"list_aggregate(list_transform({stretch}, lambda y: 1 << (y & {MASK})), 'bit_or')"
    levels = " ".join(f"WHEN s & {2 ** (j + 1) - 1} = {2 ** (j + 1) - 1} THEN {j + 1}" for j in range(k - 1, -1, -1))
    return f"""SELECT *, list_max(list_transform(_seen, lambda s: CASE {levels} ELSE 0 END)) AS _depth
  FROM (SELECT *, list_transform(_events, lambda x, i: {seen}) AS _seen FROM ordered)"""
