"""The data contract: what each table of the workbook looks like.

One pandera declaration per table is the single source of truth. It is used two ways:

* on small pandas frames directly (``schema.validate(frame, lazy=True)``), e.g. by the demo-data generator;
* on large tables in the engine, by :mod:`analysis.sources.validate`, which reads the same declarations
  (column dtypes, nullability, ``isin`` / ``in_range`` / ``str_matches`` checks, keys) and turns them into
  Ibis aggregations, so that a 100-million-row table is never pulled into pandas to be checked.

Table-level facts pandera has no slot for (primary key, foreign keys, what a table is) live in each schema's
``metadata``. Rates and amounts follow the workbook's conventions: times are UTC, money is in the order's currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from analysis.errors import ParameterError

# GA4's recommended e-commerce events, in funnel order.
EVENT_NAMES: tuple[str, ...] = (
    "session_start",
    "page_view",
    "view_item",
    "add_to_cart",
    "begin_checkout",
    "add_payment_info",
    "purchase",
)
DEVICES: tuple[str, ...] = ("desktop", "mobile", "tablet")
CHANNELS: tuple[str, ...] = (
    "organic_search",
    "paid_search",
    "social",
    "email",
    "direct",
    "referral",
    "other",
)
VARIANTS: tuple[str, ...] = ("control", "treatment")
SELLER_STATUSES: tuple[str, ...] = ("active", "churned")
KPI_DIRECTIONS: tuple[str, ...] = ("higher", "lower")

ISO_ALPHA2 = r"^[A-Z]{2}$"
# Customer-level identifiers: never quoted in any deliverable (validation counts bad values here, never shows them).
IDENTIFIER_COLUMNS: frozenset[str] = frozenset({"user_id", "session_id", "order_id", "seller_id"})
ALL_MARKETS = "ALL"  # the market parameter's value for "every market at once"
HOFSTEDE_DIMENSIONS: tuple[str, ...] = ("pdi", "idv", "mas", "uai", "lto", "ivr")  # Hofstede's six, in his order
ISO_4217 = r"^[A-Z]{3}$"
QUARTER = r"^\d{4}Q[1-4]$"

UTC_TIMESTAMP = pd.DatetimeTZDtype("us", "UTC")  # microseconds: pandas 3, parquet and DuckDB all use them


@dataclass(frozen=True)
class ForeignKey:
    """``columns`` of this table must appear in ``ref_table``'s ``ref_columns`` (when that table is loaded)."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


def _text(*checks: pa.Check, nullable: bool = False, description: str = "") -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=nullable, description=description)


def _one_of(values: tuple[str, ...], *, nullable: bool = False, description: str = "") -> pa.Column:
    return _text(pa.Check.isin(list(values)), nullable=nullable, description=description)


def _market(description: str = "ISO 3166-1 alpha-2 market code, e.g. DE") -> pa.Column:
    return _text(pa.Check.str_matches(ISO_ALPHA2), description=description)


def _utc_time(description: str) -> pa.Column:
    return pa.Column(UTC_TIMESTAMP, nullable=False, description=description)


def _date(description: str, *, nullable: bool = False) -> pa.Column:
    # Dates are stored as timestamps at midnight, no time zone (pandas has no plain date dtype).
    return pa.Column("datetime64[us]", nullable=nullable, description=description)


def _table(
    name: str,
    description: str,
    columns: dict[str, pa.Column],
    *,
    key: tuple[str, ...] = (),
    foreign_keys: tuple[ForeignKey, ...] = (),
    time_column: str | None = None,
) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        columns,
        name=name,
        description=description,
        strict=False,  # extra columns are allowed: clients' extracts carry more than we need
        coerce=False,
        unique=list(key) or None,
        metadata={"key": key, "foreign_keys": foreign_keys, "time_column": time_column},
    )


_market_fk = ForeignKey(("market",), "markets", ("market",))

EVENTS = _table(
    "events",
    "Clickstream: one row per event, GA4 e-commerce vocabulary.",
    {
        "event_time": _utc_time("when the event happened (UTC)"),
        "user_id": _text(description="pseudonymous user identifier"),
        "session_id": _text(description="session identifier, unique within a user"),
        "market": _market(),
        "device": _one_of(DEVICES, description="device category"),
        "channel": _one_of(CHANNELS, description="acquisition channel of the session"),
        "event_name": _one_of(EVENT_NAMES, description="GA4 e-commerce event name"),
        "segment": _text(description="customer personality segment"),
        "variant": _one_of(VARIANTS, nullable=True, description="A/B test arm; empty outside an experiment"),
    },
    foreign_keys=(_market_fk,),
    time_column="event_time",
)

ORDERS = _table(
    "orders",
    "Orders: one row per order.",
    {
        "order_id": _text(description="order identifier"),
        "user_id": _text(description="buyer"),
        "seller_id": _text(description="seller"),
        "market": _market("buyer's market"),
        "order_time": _utc_time("when the order was placed (UTC)"),
        "amount": pa.Column(float, pa.Check.gt(0), description="order value in `currency`"),
        "currency": _text(pa.Check.str_matches(ISO_4217), description="ISO 4217 currency code"),
    },
    key=("order_id",),
    foreign_keys=(_market_fk, ForeignKey(("seller_id",), "sellers", ("seller_id",))),
    time_column="order_time",
)

SELLERS = _table(
    "sellers",
    "Sellers: one row per seller.",
    {
        "seller_id": _text(description="seller identifier"),
        "market": _market("seller's home market"),
        "signup_date": _date("day the seller joined"),
        "last_active_date": _date("last day with a listing or sale"),
        "status": _one_of(SELLER_STATUSES, description="churned = no activity for 90 days"),
    },
    key=("seller_id",),
    foreign_keys=(_market_fk,),
    time_column="signup_date",
)

SURVEYS = _table(
    "surveys",
    "Customer surveys: one row per response.",
    {
        "user_id": _text(description="respondent"),
        "survey_date": _date("day of the response"),
        "market": _market(),
        "csat": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True, description="satisfaction, 1-5"),
        "nps": pa.Column("Int64", pa.Check.in_range(0, 10), nullable=True, description="likelihood to recommend, 0-10"),
    },
    foreign_keys=(_market_fk,),
    time_column="survey_date",
)

MARKETS = _table(
    "markets",
    "Reference: one row per market the workbook knows.",
    {
        "market": _market(),
        "name": _text(description="English short name"),
        "region": _text(description="world region"),
        "currency": _text(pa.Check.str_matches(ISO_4217), description="ISO 4217 currency code"),
    },
    key=("market",),
)

BENCHMARKS = _table(
    "benchmarks",
    "Competitive benchmarks: one KPI value per company, market and quarter.",
    {
        "company": _text(description="company name; the client is one of them"),
        "market": _market(),
        "period": _text(pa.Check.str_matches(QUARTER), description="calendar quarter, e.g. 2025Q3"),
        "kpi": _text(description="KPI name, e.g. conversion_rate"),
        "value": pa.Column(float, description="KPI value in `unit`"),
        "unit": _text(description="fraction, score, currency code, days ..."),
        "direction": _one_of(KPI_DIRECTIONS, description="whether higher or lower values are better"),
    },
    key=("company", "market", "period", "kpi"),
    foreign_keys=(_market_fk,),
)

INITIATIVES = _table(
    "initiatives",
    "Strategic initiatives: one row per initiative and market.",
    {
        "initiative_id": _text(description="initiative identifier"),
        "name": _text(description="short name"),
        "market": _market(),
        "launch_date": _date("day the initiative went live in the market; empty if it never did", nullable=True),
        "target_kpi": _text(description="KPI the initiative is meant to move"),
        "target_low": pa.Column(float, description="lower end of the target relative change (0.15 = +15%)"),
        "target_high": pa.Column(float, description="upper end of the target relative change"),
    },
    key=("initiative_id", "market"),
    foreign_keys=(_market_fk,),
    time_column="launch_date",
)

TABLES: dict[str, pa.DataFrameSchema] = {
    schema.name: schema for schema in (EVENTS, ORDERS, SELLERS, SURVEYS, MARKETS, BENCHMARKS, INITIATIVES)
}

# Tables a data directory must provide; the others are optional and their analyses are skipped without them.
REQUIRED_TABLES: tuple[str, ...] = ("events", "markets")


def is_identifier(column: str | None) -> bool:
    """Whether ``column`` (or any column of a ``"a, b"`` list of them) holds customer-level identifiers."""
    return column is not None and any(name.strip() in IDENTIFIER_COLUMNS for name in column.split(","))


def normalise_market(value: str) -> str:
    """The market-code rule: a market parameter is an ISO 3166-1 alpha-2 code or ``ALL``, in any case.

    Returns the code in capitals; raises ``ParameterError`` (parameter ``market``) for anything else.
    """
    code = str(value).strip().upper()
    if code != ALL_MARKETS and not re.fullmatch(ISO_ALPHA2, code):
        raise ParameterError(
            f"market {value!r} is not an ISO 3166-1 alpha-2 code such as 'DE', nor {ALL_MARKETS!r}",
            parameter="market",
            value=value,
            valid=f"two letters (ISO 3166-1 alpha-2) or {ALL_MARKETS!r}",
        )
    return code


def schema_for(table: str) -> pa.DataFrameSchema:
    """The declaration of ``table``; a clear error names the known tables otherwise."""
    try:
        return TABLES[table]
    except KeyError:
        raise ParameterError(
            f"unknown table {table!r}; the contract declares {sorted(TABLES)}",
            parameter="table",
            value=table,
            valid=sorted(TABLES),
        ) from None


def key_of(table: str) -> tuple[str, ...]:
    """Columns that identify a row of ``table`` (empty when rows have no natural key)."""
    return schema_for(table).metadata["key"]


def foreign_keys_of(table: str) -> tuple[ForeignKey, ...]:
    """The references from ``table`` to other tables' keys, as declared in its schema."""
    return schema_for(table).metadata["foreign_keys"]


def time_column_of(table: str) -> str | None:
    """The column that places a row of ``table`` in time (None for reference tables such as markets)."""
    return schema_for(table).metadata["time_column"]
