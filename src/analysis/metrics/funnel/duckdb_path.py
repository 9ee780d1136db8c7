"""The ordered funnel on DuckDB without window functions: each unit's events in one list, walked by list functions.

The portable version in :mod:`analysis.metrics.funnel.chains` sorts the events once per step (one window pass per
step); at 100 million events that alone costs many times a scan of the data. On DuckDB the same depths come from one
hash aggregate and work inside each unit's own short list:

1. Each funnel event is packed into one ``BIGINT``, ``epoch_us * 16 + step`` (step: 0-based position in the funnel),
   and gathered per unit with ``list()``; ``list_sort`` then orders a unit's events by time and, at equal times, by
   step — the tie rule of :mod:`analysis.metrics.funnel.chains`. ``list()`` keeps the order rows are read in, so
   when a file is sorted by unit and time (as the demo data and many exports are) most lists arrive in order: one
   pass checks that and skips the sort, which costs about twice the check even on sorted input.
2. Step 2. ClickHouse's rule extends a chain with the latest start before the event. Among a unit's step-1 and step-2
   events in time order, a step-2 event whose neighbour before it is a step-1 event takes that event as its start;
   a step-2 event after another step-2 event has the same start and a later time, so it adds nothing. The step-2
   events reached are therefore the neighbouring (step-1, step-2) pairs within the window: a ``list_zip`` of the
   list with itself shifted by one, filtered. No loop.
3. Steps 3 … k. A step-j event is reached when the latest step-(j-1) event reached before it carries a start within
   the window. Reached events are few next to the first two steps' events, so each step-j event looks that event up
   in the short, time-ordered list of the step before (a filter per event; quadratic only in a unit's own reached
   events).

The unit's breakdown values are those of its first step-1 event; when several start at that first time, each
breakdown column takes the smallest of their values, missing last, on its own (the rule of
:func:`analysis.metrics.funnel.chains.first_touch`: a column's value never depends on which other columns are asked).
When every breakdown column is text, integer or boolean with at most 16 distinct values (segments, devices, channels,
markets), one small query first lists those values; each is then coded by its rank, and a column's first touch is the
minimum of one 128-bit integer, the packed start shifted left with the value's code in the low bits. Otherwise it is
the minimum of a struct (start, value): exact too, but it costs about twice as much, since a struct's minimum keeps a
sort key per unit.

Only the ordered mode's depth is computed here; chain times, the other modes and other engines use the portable
version. Tests compare the two on random event logs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import ibis
import ibis.expr.types as ir
import sqlglot.expressions as sge

TIME = "event_time"
STEP_BITS = 4  # steps are packed into the low bits of each event: at most 16 steps
MAX_STEPS = 2**STEP_BITS
MASK = MAX_STEPS - 1
BIGINT_MAX = 2**63 - 1
MAX_CODED_VALUES = 16  # more distinct values in a column: the struct minimum (coding is a linear search per row)


def supports(events: ir.Table, steps: Sequence[str]) -> bool:
    """Whether :func:`ordered_depths` can run ``events``: a DuckDB table, at most 16 steps, time in microseconds."""
    try:
        backend = ibis.get_backend(events)
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

    def body(source_sql: str, touch: _Touch, window_us: int, zoned: bool) -> str:
        return _depths_sql(source_sql, list(steps), window_us, list(keys), touch, zoned=zoned)

    with unit_view(events, window, keys, by, body) as table:
        yield table


@contextmanager
def unit_view(events: ir.Table, window: timedelta, keys: Sequence[str], by: Sequence[str], body) -> Iterator[ir.Table]:
    """The per-unit query ``body(source_sql, touch, window_us, zoned)`` as a temporary DuckDB view (dropped on exit).

    ``source_sql`` selects the unit keys, the breakdown columns, ``event_time`` and ``event_name`` of the events with a
    time. The view's ``depth`` becomes ``int16``, and ``first_step_time``, every ``step_<m>_time`` and the breakdown
    columns take the events table's types.
    """
    keys, extra = list(keys), [column for column in by if column not in keys]
    source = events.filter(events[TIME].notnull()).select(*keys, *extra, TIME, "event_name")
    backend = ibis.get_backend(source)
    # The view's SQL names the source's tables; a pandas frame wrapped as an Ibis memtable becomes a DuckDB table
    # only when Ibis first runs an expression over it (and stays one), so an empty slice is run first.
    backend.to_pyarrow(source.limit(0))
    name = f"_funnel_units_{uuid.uuid4().hex}"
    window_us = round(window / timedelta(microseconds=1))
    zoned = getattr(events.schema()[TIME], "timezone", None) is not None
    sql = body(backend.compile(source), _first_touch(events, extra), window_us, zoned)
    # raw_sql: Backend.sql() and Table.sql() fail on Ibis 12 + DuckDB 2.0 (they call fetch_arrow_table, which
    # DuckDB 2.0 removed), so the query becomes a temporary view that Ibis then reads as a table.
    backend.raw_sql(f"CREATE TEMP VIEW {_identifier(name)} AS {sql}")
    try:
        table = backend.table(name)
        time_type = events[TIME].type()
        columns = {column: table[column].cast(events[column].type()) for column in extra}
        times = {column: table[column].cast(time_type) for column in table.columns if column.endswith("_time")}
        yield table.mutate(depth=table.depth.cast("int16"), **times, **columns)
    finally:
        backend.drop_view(name, force=True)


def timestamp_sql(microseconds: str, *, zoned: bool) -> str:
    """SQL of the timestamp ``microseconds`` after the epoch (with a time zone when ``zoned``)."""
    return f"to_timestamp(0) + to_microseconds({microseconds})" if zoned else f"make_timestamp({microseconds})"


def _identifier(name: str) -> str:
    """``name`` as a quoted DuckDB identifier."""
    return sge.to_identifier(name, quoted=True).sql(dialect="duckdb")


def _literal(value: str | int | bool) -> str:
    """``value`` as a DuckDB literal: quoted text, a number, ``TRUE`` or ``FALSE``."""
    return sge.convert(value).sql(dialect="duckdb")


@dataclass(frozen=True)
class _Touch:
    """How the aggregate finds each unit's first start and its breakdown values (see the module docstring).

    ``values`` holds, per breakdown column, its distinct non-null values in ascending order as SQL literals; ``None``
    when the struct minimum is used instead. Each breakdown column ``i`` has its own aggregate ``_touch_<i>``: the
    minimum over the unit's starts of (packed start, value), so the start is the first one and the value the smallest
    at that time (missing last) whichever other columns are asked; without breakdowns ``_touch`` is the first start.
    """

    columns: list[str]
    values: list[list[str]] | None

    def aggregate(self, packed: str) -> str:
        """The aggregate columns (``NULL`` for a unit without a start)."""
        if not self.columns:
            return f"min({packed}) FILTER (WHERE _step = 0) AS _touch"
        if self.values is None:
            return ", ".join(
                f"min({{'t': {packed}, 'b': {_identifier(column)}}}) FILTER (WHERE _step = 0) AS _touch_{i}"
                for i, column in enumerate(self.columns)
            )
        # times before 1970 pack to negative numbers, which DuckDB refuses to shift left: multiply instead
        return ", ".join(
            f"min(CASE WHEN _step = 0 THEN ({packed})::HUGEINT * {2 ** _code_bits(values)} | "
            f"coalesce(list_position([{', '.join(values)}], {_identifier(column)}) - 1, {len(values)}) END) "
            f"AS _touch_{i}"
            for i, (column, values) in enumerate(zip(self.columns, self.values, strict=True))
        )

    def start(self) -> str:
        """The packed first start, from the aggregate columns."""
        if not self.columns:
            return "_touch"
        if self.values is None:
            return "_touch_0.t"
        return f"(_touch_0 >> {_code_bits(self.values[0])})::BIGINT"

    def shown(self) -> list[str]:
        """The breakdown columns, from the aggregate columns."""
        if self.values is None:
            return [f"_touch_{i}.b AS {_identifier(column)}" for i, column in enumerate(self.columns)]
        return [
            f"[{', '.join([*values, 'NULL'])}][(_touch_{i} & {(1 << _code_bits(values)) - 1})::BIGINT + 1] "
            f"AS {_identifier(column)}"
            for i, (column, values) in enumerate(zip(self.columns, self.values, strict=True))
        ]


def _code_bits(values: list[str]) -> int:
    """Bits for a column's codes: 0 … len(values) - 1 for its values and len(values) for a missing one."""
    return len(values).bit_length()


def _first_touch(events: ir.Table, columns: list[str]) -> _Touch:
    """Codes for the breakdown values when every column is text, integer or boolean with few distinct values.

    One query per column fetches at most ``MAX_CODED_VALUES + 1`` values, so a column with millions of values (a
    session id, say) costs one distinct-count pass and no transfer before the struct minimum takes over.
    """
    types = [events.schema()[column] for column in columns]
    if not columns or not all(t.is_string() or t.is_integer() or t.is_boolean() for t in types):
        return _Touch(columns, None)
    values = []
    for column in columns:
        present = events.select(column).filter(events[column].notnull()).distinct()
        found = present.order_by(column).limit(MAX_CODED_VALUES + 1).to_pyarrow()[column].to_pylist()
        if len(found) > MAX_CODED_VALUES:
            return _Touch(columns, None)
        values.append([_literal(value) for value in found])
    return _Touch(columns, values)


def units_sql(source_sql: str, steps: list[str], keys: list[str], touch: _Touch, *, every_event: bool = False) -> str:
    """``WITH`` clauses ending in ``ordered``: per unit with a start, its ``_touch`` columns and ``_events``, its packed
    events.

    Packed events are ``epoch_us * 16 + step`` in time order (ties by step). Only funnel events are kept, unless
    ``every_event``: then the other events are kept too, packed with step ``len(steps)``.
    """
    unit = ", ".join(_identifier(key) for key in keys)
    step = f"list_position([{', '.join(_literal(s) for s in steps)}], event_name) - 1"
    if every_event:
        step = f"coalesce({step}, {len(steps)})"
    packed = f"epoch_us({_identifier(TIME)}) * {MAX_STEPS} + _step"
    # one pass: the running value stays the latest event while the list is in order, and the largest BIGINT after
    in_order = (
        f"list_reduce(_events, lambda a, x: CASE WHEN x >= a THEN x ELSE {BIGINT_MAX} END, {-BIGINT_MAX}) "
        f"< {BIGINT_MAX}"
    )
    return f"""
WITH source AS ({source_sql}),
tagged AS (SELECT * FROM (SELECT *, {step} AS _step FROM source) WHERE _step IS NOT NULL),
units AS (
  SELECT {unit}, {touch.aggregate(packed)}, list({packed}) AS _events
  FROM tagged GROUP BY {unit}
),
ordered AS (
  SELECT * EXCLUDE (_events), CASE WHEN {in_order} THEN _events ELSE list_sort(_events) END AS _events
  FROM units WHERE {touch.start()} IS NOT NULL
)"""


def _depths_sql(
    source_sql: str, steps: list[str], window_us: int, keys: list[str], touch: _Touch, *, zoned: bool
) -> str:
    unit = ", ".join(_identifier(key) for key in keys)
    shown = "".join(f", {column}" for column in touch.shown())
    first_time = timestamp_sql(f"{touch.start()} >> {STEP_BITS}", zoned=zoned)
    reached = " + ".join(["1", *(f"coalesce(len(_reached_{j}) > 0, false)::INTEGER" for j in range(1, len(steps)))])
    return f"""{units_sql(source_sql, steps, keys, touch)},
split AS (
  SELECT *,
    list_filter(_events, lambda x: x & {MASK} <= 1) AS _first,
    list_filter(_events, lambda x: x & {MASK} >= 2) AS _later
  FROM ordered
)
SELECT {unit}{shown}, {first_time} AS first_step_time, {reached} AS depth
FROM ({_reached_sql(len(steps), window_us)})
"""


def _reached_sql(k: int, window_us: int) -> str:
    """``split`` plus ``_reached_<j>``: each unit's events of 0-based step j that some chain reached (NULL if none).

    Every reached event is a pair ``(start event, event)`` (both packed), in time order, so the last reached event
    before a time carries the latest start. With the start packed as ``start * 16`` (step 0), an event of step j at
    time t is within the window of it when ``event - start <= window * 16 + j``.
    """
    # in the time-ordered steps 0 and 1, the difference of neighbours is 1 modulo 16 exactly for (step 0, step 1);
    # zipping with the list shifted by one pairs each event with the next (the last with NULL, which fails the test)
    step_two = (
        "list_filter(list_zip(_first, _first[2:]), lambda p: "
        f"(p[2] - p[1]) & {MASK} = 1 AND p[2] - p[1] <= {window_us * MAX_STEPS + 1})"
    )
    query = f"SELECT *, {step_two} AS _reached_1 FROM split"
    for j in range(2, k):
        candidates = (
            f"list_transform(list_filter(_later, lambda x: x & {MASK} = {j}), "
            f"lambda x: row(list_filter(_reached_{j - 1}, lambda p: p[2] < x)[-1][1], x))"
        )
        within = f"lambda p: p[2] - p[1] <= {window_us * MAX_STEPS + j}"  # NULL start: not reached
        reached = f"CASE WHEN len(_reached_{j - 1}) > 0 THEN list_filter({candidates}, {within}) END"
        query = f"SELECT *, {reached} AS _reached_{j} FROM ({query})"
    return query
