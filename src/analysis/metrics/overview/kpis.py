"""What data there is and the headline KPIs over time: the reviewer's first page.

Every function takes Ibis tables (from :func:`analysis.sources.load_tables`), filters them in the engine and returns a
small tidy pandas frame.
"""

from __future__ import annotations

import ibis
import pandas as pd

from analysis import contract
from analysis.contract import ALL_MARKETS
from analysis.errors import ParameterError
from analysis.metrics.stats import is_real, newcombe_interval, two_proportion_z_test, wilson_interval
from analysis.scope import Scope

__all__ = [
    "FREQUENCIES",
    "TABLES_USED",
    "conversion_change",
    "initiatives_in_scope",
    "kpis_over_time",
    "scope_totals",
    "table_coverage",
]

# The overview cannot be trusted if one of these breaks the contract.
TABLES_USED = ("events", "orders", "sellers", "markets")
FREQUENCIES = {"week": "W", "month": "M", "quarter": "Q"}


def table_coverage(tables: dict[str, ibis.Table], scope: Scope) -> pd.DataFrame:
    """Rows, first and last date, and markets covered, per table, within ``scope``; and the rows left outside it.

    Returns
    -------
    DataFrame with one row per table and columns

    table
        The contract table's name.
    rows
        Rows in scope (int).
    outside_period
        Rows of the scope's market(s) whose time falls outside the period, so the report leaves them out (int; NA
        for tables not limited by date: reference tables, and sellers, which are in scope while active).
    first, last
        Earliest and latest time in scope (NaT for tables without a time column, or without rows in scope).
    markets
        Distinct markets in scope (NaN for tables without a market column).
    """
    rows = []
    for name, table in tables.items():
        in_scope = scope.apply(table, name)
        measures = {"rows": in_scope.count()}
        time_column = contract.time_column_of(name)
        if time_column:
            measures |= {"first": in_scope[time_column].min(), "last": in_scope[time_column].max()}
        if "market" in in_scope.columns:
            measures["markets"] = in_scope.market.nunique()
        result = in_scope.aggregate(**measures).execute().iloc[0].to_dict()
        result["outside_period"] = _outside_period(table, name, scope, int(result["rows"]))
        rows.append({"table": name, **result})
    frame = pd.DataFrame(rows, columns=["table", "rows", "outside_period", "first", "last", "markets"])
    frame["rows"] = frame["rows"].astype("int64")
    frame["outside_period"] = frame["outside_period"].astype("Int64")
    for column in ("first", "last"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
    return frame


def _outside_period(table: ibis.Table, name: str, scope: Scope, in_scope: int):
    """Rows of the scope's market(s) that the period leaves out (None where the period does not apply)."""
    if not contract.time_column_of(name) or name == "sellers":  # as Scope.apply: sellers are not limited by date
        return None
    if scope.market != ALL_MARKETS and "market" in table.columns:
        table = table.filter(table.market == scope.market)
    return int(table.count().execute()) - in_scope


def kpis_over_time(tables: dict[str, ibis.Table], scope: Scope, freq: str = "month") -> pd.DataFrame:
    """Headline KPIs per period: sessions, conversion, orders, revenue and active sellers.

    Parameters
    ----------
    freq
        ``week``, ``month`` or ``quarter``.

    Returns
    -------
    One row per period (``period``: its first day) with ``sessions``, ``converting_sessions``, ``conversion_rate``
    (fraction of sessions with a purchase) and its Wilson 95% interval ``conversion_ci_low``/``conversion_ci_high``,
    ``users``, ``orders``, ``revenue`` (sum of order amounts; ``currency`` says in what, ``"mixed"`` when the scope
    spans several currencies and revenue is left empty), and ``active_sellers`` (sellers signed up by the period's
    end and active at or after its start).
    """
    if freq not in FREQUENCIES:
        raise ParameterError(
            f"freq {freq!r} is not one of {sorted(FREQUENCIES)}",
            parameter="freq",
            value=freq,
            valid=sorted(FREQUENCIES),
        )
    unit = FREQUENCIES[freq]
    # An empty scope gives a frame with every documented column and no rows.
    frame = _sessions_per_period(scope.apply(tables["events"], "events"), unit)
    if "orders" in tables:
        frame = frame.merge(_orders_per_period(scope.apply(tables["orders"], "orders"), unit), "outer", on="period")
    if "sellers" in tables:
        frame = frame.merge(_active_sellers(scope.apply(tables["sellers"], "sellers"), frame.period, freq), "left")
    low, high = wilson_interval(frame.converting_sessions, frame.sessions)
    frame["conversion_rate"] = frame.converting_sessions / frame.sessions
    frame["conversion_ci_low"], frame["conversion_ci_high"] = low, high
    return frame.sort_values("period").reset_index(drop=True)


def _sessions_per_period(events: ibis.Table, unit: str) -> pd.DataFrame:
    sessions = events.group_by("user_id", "session_id").aggregate(
        started=events.event_time.min(),
        converted=(events.event_name == "purchase").any(),
    )
    per_period = sessions.group_by(period=sessions.started.truncate(unit)).aggregate(
        sessions=sessions.count(),
        converting_sessions=sessions.converted.cast("int64").sum(),
        users=sessions.user_id.nunique(),
    )
    frame = per_period.execute()
    frame["period"] = _naive(frame.period)
    return frame.astype({"sessions": "int64", "converting_sessions": "int64", "users": "int64"})


def _orders_per_period(orders: ibis.Table, unit: str) -> pd.DataFrame:
    per_period = orders.group_by(period=orders.order_time.truncate(unit)).aggregate(
        orders=orders.count(),
        revenue=orders.amount.sum(),
        currencies=orders.currency.nunique(),
        currency=orders.currency.max(),
    )
    frame = per_period.execute()
    frame["period"] = _naive(frame.period)
    mixed = frame.pop("currencies") > 1
    frame.loc[mixed, "currency"] = "mixed"
    frame.loc[mixed, "revenue"] = float("nan")
    return frame


def _active_sellers(sellers: ibis.Table, periods: pd.Series, freq: str) -> pd.DataFrame:
    bounds = pd.DataFrame({"period": pd.to_datetime(sorted(periods.dropna().unique()))})
    if bounds.empty:
        return pd.DataFrame({"period": bounds.period, "active_sellers": pd.Series(dtype="int64")})
    offset = {
        "week": pd.DateOffset(weeks=1),
        "month": pd.DateOffset(months=1),
        "quarter": pd.DateOffset(months=3),
    }
    bounds["period_end"] = bounds.period + offset[freq]
    window = ibis.memtable(bounds)
    active = sellers.cross_join(window).filter(
        (sellers.signup_date < window.period_end) & (sellers.last_active_date >= window.period)
    )
    frame = active.group_by("period").aggregate(active_sellers=active.count()).execute()
    frame["period"] = _naive(frame.period)
    return bounds[["period"]].merge(frame, "left").fillna({"active_sellers": 0})


def _naive(moments: pd.Series) -> pd.Series:
    moments = pd.to_datetime(moments)
    return moments.dt.tz_localize(None) if moments.dt.tz is not None else moments


def conversion_change(kpis: pd.DataFrame, periods: int = 3) -> dict[str, float]:
    """Conversion in the first vs the last ``periods`` periods, with a Newcombe 95% interval for the difference.

    With fewer than ``2 * periods`` periods each end takes half of them (rounded down), so the two ends never share a
    period. Returns a dict with ``early_rate``, ``late_rate``, ``difference`` (late − early, fraction points),
    ``difference_ci_low``/``difference_ci_high``, ``p_value`` (two-sided two-proportion z-test; one pre-planned
    comparison, so uncorrected) and ``real`` (:func:`analysis.metrics.stats.is_real` of that p-value); every value is
    NaN (``real`` False) when either end has no sessions.
    """
    periods = min(periods, len(kpis) // 2)
    early, late = kpis.head(periods), kpis.tail(periods)
    counts = [late.converting_sessions.sum(), early.converting_sessions.sum()]
    sizes = [late.sessions.sum(), early.sessions.sum()]
    if not (sizes[0] > 0 and sizes[1] > 0):
        keys = ("early_rate", "late_rate", "difference", "difference_ci_low", "difference_ci_high", "p_value")
        return {**dict.fromkeys(keys, float("nan")), "real": False}
    low, high = newcombe_interval(counts[0], sizes[0], counts[1], sizes[1])
    _, p_value = two_proportion_z_test(counts[0], sizes[0], counts[1], sizes[1])
    return {
        "p_value": float(p_value),
        "real": bool(is_real(p_value)),
        "early_rate": counts[1] / sizes[1],
        "late_rate": counts[0] / sizes[0],
        "difference": counts[0] / sizes[0] - counts[1] / sizes[1],
        "difference_ci_low": float(low),
        "difference_ci_high": float(high),
    }


def scope_totals(coverage: pd.DataFrame, kpis: pd.DataFrame) -> dict:
    """The scope's totals over all periods, as the findings state them.

    Returns a dict with ``events`` and ``orders`` (rows in scope, 0 without the table), ``sessions``,
    ``converting_sessions``, ``conversion_rate`` (fraction; NaN without sessions), ``revenue`` (sum over periods) and
    ``currency`` (the one currency of every period, or None when there is no revenue or it is ``mixed``).
    """
    rows = coverage.set_index("table")["rows"]
    sessions, converting = int(kpis.sessions.sum()), int(kpis.converting_sessions.sum())
    currencies = kpis.currency.dropna().unique() if "currency" in kpis else []
    single = len(currencies) == 1 and currencies[0] != "mixed"
    return {
        "events": int(rows.get("events", 0)),
        "orders": int(rows.get("orders", 0)),
        "sessions": sessions,
        "converting_sessions": converting,
        "conversion_rate": converting / sessions if sessions else float("nan"),
        "revenue": kpis.revenue.sum() if "revenue" in kpis else float("nan"),
        "currency": currencies[0] if single else None,
    }


def initiatives_in_scope(tables: dict[str, ibis.Table], scope: Scope) -> pd.DataFrame:
    """The initiatives planned for the scope's market(s), launched or not (empty frame without the table).

    Returns
    -------
    DataFrame with the ``initiatives`` contract columns, one row per initiative and market, sorted by launch date
    (never-launched last); ``launch_date`` is NaT where the initiative has not gone live.
    """
    columns = list(contract.schema_for("initiatives").columns)
    if "initiatives" not in tables:
        return pd.DataFrame(columns=columns)
    table = tables["initiatives"]
    if scope.market != ALL_MARKETS:
        table = table.filter(table.market == scope.market)
    frame = table.select(*columns).execute()
    frame["launch_date"] = pd.to_datetime(frame["launch_date"])
    return frame.sort_values(["launch_date", "market"], na_position="last", kind="stable").reset_index(drop=True)
