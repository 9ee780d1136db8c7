"""Per-unit experiment metrics, computed in the engine: one row per randomisation unit (the user).

Everything here is an Ibis expression over the ``events`` and ``orders`` contract tables, so the same code runs on
DuckDB and Spark and the events are read once; only small frames (sufficient statistics by arm and day) come back.

A user is in the experiment when one of their events in the experiment's date range carries a ``variant``; their
exposure starts at their first such event (their first session on or after the experiment start). Sessions are
counted from the events in range that carry the variant; orders from the ``orders`` table from exposure on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from analysis.errors import ParameterError

ARM = "variant"
UNIT = "user_id"
# (per-unit column, what it counts), in output order; the pre-period columns carry the prefix "pre_".
COUNT_COLUMNS: tuple[str, ...] = (
    "converted",
    "sessions",
    "purchasing_sessions",
    "carts",
    "abandoned_carts",
    "purchases",
    "orders",
    "revenue",
)
PRE_PREFIX = "pre_"


def experiment_units(
    events: ir.Table,
    orders: ir.Table | None,
    *,
    start: date,
    end: date,
    market: str | None = None,
    pre_days: int = 28,
) -> ir.Table:
    """One row per user in the experiment: their arm, where they came from, and what they did after exposure.

    Parameters
    ----------
    events, orders
        The contract tables (Ibis, any backend). ``orders`` may be None: order columns are then 0.
    start, end
        The experiment's first and last day (inclusive, UTC).
    market
        Only this market's events and orders (None: every market).
    pre_days
        Length of the pre-period before ``start`` whose behaviour is the CUPED covariate (0: no pre-period).

    Returns
    -------
    ibis.Table
        One row per user. Columns:

        - ``user_id``: the randomisation unit;
        - ``variant``: the user's arm (their first exposed event's);
        - ``first_exposure``: time of their first event in range carrying a variant (UTC);
        - ``segment``, ``device``, ``channel``: at first exposure;
        - ``converted``: 1 when any exposed session holds a purchase, else 0;
        - ``sessions``: exposed sessions; ``purchasing_sessions``: those with a purchase event;
        - ``carts``: sessions with an add_to_cart; ``abandoned_carts``: of those, sessions without a purchase;
        - ``purchases``: purchase events; ``orders``: orders placed from exposure to the end of the range;
        - ``revenue``: their amount (the orders' currency: the market's when one market is analysed);
        - ``pre_converted``, ``pre_sessions``, ``pre_purchasing_sessions``, ``pre_carts``, ``pre_abandoned_carts``,
          ``pre_purchases``, ``pre_orders``, ``pre_revenue``: the same over the ``pre_days`` days before ``start``
          (all events of the market, with or without a variant).

        Counts are int64 (0 when nothing happened), revenue float64.
    """
    if pre_days < 0:
        raise ParameterError(
            f"pre_days {pre_days!r} must be 0 or more", parameter="pre_days", value=pre_days, valid="an integer >= 0"
        )
    if market is not None:
        events = events.filter(events.market == market)
        orders = None if orders is None else orders.filter(orders.market == market)
    # One read of the events for the test period and the pre-period: the exposed events in range and every event of
    # the pre-period, grouped by session once and by user once, with conditional aggregates for each period.
    pre_start = start - timedelta(days=pre_days)
    start_at, end_at = _moment(events.event_time, start), _moment(events.event_time, end + timedelta(days=1))
    pre_at = _moment(events.event_time, pre_start)
    window = events.filter(
        (events.event_time >= pre_at)
        & (events.event_time < end_at)
        & ((events.event_time < start_at) | events[ARM].notnull())
    )
    exposed, before = window.event_time >= start_at, window.event_time < start_at
    purchase, cart = window.event_name == "purchase", window.event_name == "add_to_cart"
    first = {
        name: window[name].argmin(window.event_time, where=exposed) for name in (ARM, "segment", "device", "channel")
    }
    sessions = window.group_by([UNIT, "session_id"]).aggregate(
        exposed_at=window.event_time.min(where=exposed),
        **first,
        **_session_flags(exposed, purchase, cart, ""),
        **_session_flags(before, purchase, cart, PRE_PREFIX),
    )
    at = sessions.exposed_at
    aggregates = {
        "first_exposure": at.min(),
        **{name: sessions[name].argmin(at, where=at.notnull()) for name in first},
    }
    for prefix in ("", PRE_PREFIX):
        visited, purchased, carted = (sessions[f"{prefix}{flag}"] for flag in ("visited", "purchased", "carted"))
        aggregates |= {
            f"{prefix}converted": purchased.max(),
            f"{prefix}sessions": visited.sum(),
            f"{prefix}purchasing_sessions": purchased.sum(),
            f"{prefix}carts": carted.sum(),
            f"{prefix}abandoned_carts": (carted * (1 - purchased)).sum(),
            f"{prefix}purchases": sessions[f"{prefix}purchases"].sum(),
        }
    units = sessions.group_by(UNIT).aggregate(**aggregates)
    units = units.filter(units.first_exposure.notnull())
    if orders is not None:
        order_start = _moment(orders.order_time, pre_start)
        order_mid = _moment(orders.order_time, start)
        order_end = _moment(orders.order_time, end + timedelta(days=1))
        kept = orders.filter((orders.order_time >= order_start) & (orders.order_time < order_end))
        kept = kept.select(UNIT, "order_time", "amount")
        joined = kept.join(units.select(UNIT, "first_exposure"), UNIT)
        spent = joined.order_time >= joined.first_exposure
        pre = joined.order_time < order_mid
        spending = joined.group_by(UNIT).aggregate(
            orders=spent.cast("int64").sum(),
            revenue=joined.amount.cast("float64").sum(where=spent),
            pre_orders=pre.cast("int64").sum(),
            pre_revenue=joined.amount.cast("float64").sum(where=pre),
        )
        units = _attach(units, spending)
    filled = {}
    for prefix in ("", PRE_PREFIX):
        for column in COUNT_COLUMNS:
            name = prefix + column
            zero = ibis.literal(0.0) if column == "revenue" else ibis.literal(0, "int64")
            kind = "float64" if column == "revenue" else "int64"
            filled[name] = units[name].cast(kind).coalesce(zero) if name in units.columns else zero
    return units.select(UNIT, ARM, "first_exposure", "segment", "device", "channel", **filled)


def _session_flags(period: ir.BooleanColumn, purchase: ir.BooleanColumn, cart: ir.BooleanColumn, prefix: str) -> dict:
    """Per session, over its events in ``period``: visited, purchased and carted (0/1) and the purchase events."""
    return {
        f"{prefix}visited": period.cast("int64").max(),
        f"{prefix}purchased": (period & purchase).cast("int64").max(),
        f"{prefix}carted": (period & cart).cast("int64").max(),
        f"{prefix}purchases": (period & purchase).cast("int64").sum(),
    }


def _attach(units: ir.Table, per_user: ir.Table) -> ir.Table:
    joined = units.left_join(per_user, units[UNIT] == per_user[UNIT])
    return joined.select([c for c in joined.columns if c != f"{UNIT}_right"])


def _moment(column: ir.Column, day: date) -> object:
    """Midnight UTC of ``day`` as a literal comparable with ``column`` (tz-aware or naive)."""
    moment = datetime.combine(day, datetime.min.time())
    if column.type().is_timestamp() and column.type().timezone:
        return pd.Timestamp(moment, tz="UTC")
    return moment


def daily_ratio_statistics(
    units: ir.Table,
    events: ir.Table,
    *,
    start: date,
    end: date,
    ratios: dict[str, tuple[str, str]],
) -> pd.DataFrame:
    """Per arm and day, what each day adds to the sufficient statistics of session-level ratio metrics.

    Summed over the days up to ``d`` (``cumsum`` by arm), the rows give each metric's sufficient statistics as if the
    experiment had been read on day ``d``: every user exposed by then, with their sessions up to then. A user's
    running totals ``X(d)`` change only on days they visit, so ``ΣX(d)²`` is a sum of the increments
    ``X(d)² − X(d−1)²`` of the days so far (and likewise ``ΣY²`` and ``ΣXY``), which the engine computes in one pass.

    Parameters
    ----------
    units
        :func:`experiment_units` (its ``user_id``, ``variant``).
    events
        The events table, already limited to the experiment's market.
    start, end
        The experiment's first and last day (inclusive).
    ratios
        ``{metric: (numerator, denominator)}`` among ``sessions``, ``purchasing_sessions``, ``carts`` and
        ``abandoned_carts``.

    Returns
    -------
    pandas.DataFrame
        One row per arm and day with activity, sorted. Columns: ``variant``; ``day`` (date); ``new_units`` (users
        first exposed that day); and per metric ``m``: ``m_sum_x``, ``m_sum_y``, ``m_sum_xx``, ``m_sum_yy``,
        ``m_sum_xy`` (the day's increments of Σ numerator, Σ denominator, their squares and product over users).
    """
    start_at, end_at = _moment(events.event_time, start), _moment(events.event_time, end + timedelta(days=1))
    exposed = events.filter(events[ARM].notnull() & (events.event_time >= start_at) & (events.event_time < end_at))
    exposed = exposed.mutate(day=exposed.event_time.date())
    is_purchase = (exposed.event_name == "purchase").cast("int64")
    is_cart = (exposed.event_name == "add_to_cart").cast("int64")
    sessions = exposed.group_by([UNIT, "session_id", "day"]).aggregate(
        purchased=is_purchase.max(), carted=is_cart.max()
    )
    daily = sessions.group_by([UNIT, "day"]).aggregate(
        sessions=sessions.count().cast("int64"),
        purchasing_sessions=sessions.purchased.sum().cast("int64"),
        carts=sessions.carted.sum().cast("int64"),
        abandoned_carts=(sessions.carted * (1 - sessions.purchased)).sum().cast("int64"),
    )
    daily = daily.join(units.select(UNIT, ARM), UNIT)
    running = ibis.cumulative_window(group_by=daily[UNIT], order_by=daily.day)
    columns = sorted({"sessions", *(column for pair in ratios.values() for column in pair)})
    daily = daily.mutate(**{f"running_{c}": daily[c].sum().over(running) for c in columns})
    increments = {"new_units": (daily.running_sessions == daily.sessions).cast("int64")}
    for metric, (numerator, denominator) in ratios.items():
        x, y = daily[f"running_{numerator}"], daily[f"running_{denominator}"]
        dx, dy = daily[numerator], daily[denominator]
        increments[f"{metric}_sum_x"] = dx
        increments[f"{metric}_sum_y"] = dy
        increments[f"{metric}_sum_xx"] = x * x - (x - dx) * (x - dx)
        increments[f"{metric}_sum_yy"] = y * y - (y - dy) * (y - dy)
        increments[f"{metric}_sum_xy"] = x * y - (x - dx) * (y - dy)
    rows = daily.mutate(**increments)
    summed = rows.group_by([ARM, "day"]).aggregate(**{name: rows[name].sum().cast("int64") for name in increments})
    frame = summed.to_pandas().sort_values([ARM, "day"], ignore_index=True)
    frame["day"] = pd.to_datetime(frame["day"])
    return frame
