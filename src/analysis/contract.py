"""The data contract: what each table of the workbook looks like.

One pandera declaration per table is the single source of truth. It is used two ways:

* on small pandas frames directly (``schema.validate(frame, lazy=True)``), e.g. by the demo-data generator;
* on large tables in the engine, by :mod:`analysis.sources.validate`, which reads the same declarations
  (column dtypes, nullability, ``isin`` / ``in_range`` / ``str_matches`` checks, keys) and turns them into
  Ibis aggregations, so that a 100-million-row table is never pulled into pandas to be checked.

Table-level facts pandera has no slot for (primary key, foreign keys, what a table is) live in each schema's
``metadata``. Rates and amounts follow the workbook's conventions: times are UTC, money is in the order's currency.

The schemas (``EVENTS`` ... ``INITIATIVES``, ``TABLES``, :func:`schema_for`) are built, and pandera imported, the first
time one is asked for; the table names and the facts above (:func:`key_of`, :func:`foreign_keys_of`,
:func:`time_column_of`) need neither, so importing this module stays cheap for a report that does not validate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import pandas as pd

from analysis.errors import ParameterError

if TYPE_CHECKING:  # pandera is imported when a schema is first needed (:func:`_schemas`): it costs a report ~0.5 s
    import pandera.pandas as pa

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


@dataclass(frozen=True)
class _Facts:
    """What pandera has no slot for, per table; it becomes the schema's description and ``metadata``."""

    description: str
    key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    time_column: str | None = None


_market_fk = ForeignKey(("market",), "markets", ("market",))

_FACTS: dict[str, _Facts] = {
    "events": _Facts(
        "Clickstream: one row per event, GA4 e-commerce vocabulary.",
        foreign_keys=(_market_fk,),
        time_column="event_time",
    ),
    "orders": _Facts(
        "Orders: one row per order.",
        key=("order_id",),
        foreign_keys=(_market_fk, ForeignKey(("seller_id",), "sellers", ("seller_id",))),
        time_column="order_time",
    ),
    "sellers": _Facts(
        "Sellers: one row per seller.", key=("seller_id",), foreign_keys=(_market_fk,), time_column="signup_date"
    ),
    "surveys": _Facts("Customer surveys: one row per response.", foreign_keys=(_market_fk,), time_column="survey_date"),
    "markets": _Facts("Reference: one row per market the workbook knows.", key=("market",)),
    "benchmarks": _Facts(
        "Competitive benchmarks: one KPI value per company, market and quarter.",
        key=("company", "market", "period", "kpi"),
        foreign_keys=(_market_fk,),
    ),
    "initiatives": _Facts(
        "Strategic initiatives: one row per initiative and market.",
        key=("initiative_id", "market"),
        foreign_keys=(_market_fk,),
        time_column="launch_date",
    ),
}

# The contract's tables, in the order of ``TABLES`` (known without building a schema).
TABLE_NAMES: tuple[str, ...] = tuple(_FACTS)

# Tables a data directory must provide; the others are optional and their analyses are skipped without them.
REQUIRED_TABLES: tuple[str, ...] = ("events", "markets")

# The module-level names of the schemas (``contract.EVENTS`` ...), built on first use by :func:`__getattr__`.
_SCHEMA_NAMES: dict[str, str] = {name.upper(): name for name in TABLE_NAMES}


def _text(*checks: pa.Check, nullable: bool = False, description: str = "") -> pa.Column:
    import pandera.pandas as pa

    return pa.Column(str, checks=list(checks), nullable=nullable, description=description)


def _one_of(values: tuple[str, ...], *, nullable: bool = False, description: str = "") -> pa.Column:
    import pandera.pandas as pa

    return _text(pa.Check.isin(list(values)), nullable=nullable, description=description)


def _market(description: str = "ISO 3166-1 alpha-2 market code, e.g. DE") -> pa.Column:
    import pandera.pandas as pa

    return _text(pa.Check.str_matches(ISO_ALPHA2), description=description)


def _utc_time(description: str) -> pa.Column:
    import pandera.pandas as pa

    return pa.Column(UTC_TIMESTAMP, nullable=False, description=description)


def _date(description: str, *, nullable: bool = False) -> pa.Column:
    import pandera.pandas as pa

    # Dates are stored as timestamps at midnight, no time zone (pandas has no plain date dtype).
    return pa.Column("datetime64[us]", nullable=nullable, description=description)


def _table(name: str, columns: dict[str, pa.Column]) -> pa.DataFrameSchema:
    import pandera.pandas as pa

    facts = _FACTS[name]
    return pa.DataFrameSchema(
        columns,
        name=name,
        description=facts.description,
        strict=False,  # extra columns are allowed: clients' extracts carry more than we need
        coerce=False,
        unique=list(facts.key) or None,
        metadata={"key": facts.key, "foreign_keys": facts.foreign_keys, "time_column": facts.time_column},
    )


@cache
def _schemas() -> dict[str, pa.DataFrameSchema]:
    """Every table's pandera declaration, built (and pandera imported) once, on first use."""
    import pandera.pandas as pa

    columns: dict[str, dict[str, pa.Column]] = {
        "events": {
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
        "orders": {
            "order_id": _text(description="order identifier"),
            "user_id": _text(description="buyer"),
            "seller_id": _text(description="seller"),
            "market": _market("buyer's market"),
            "order_time": _utc_time("when the order was placed (UTC)"),
            "amount": pa.Column(float, pa.Check.gt(0), description="order value in `currency`"),
            "currency": _text(pa.Check.str_matches(ISO_4217), description="ISO 4217 currency code"),
        },
        "sellers": {
            "seller_id": _text(description="seller identifier"),
            "market": _market("seller's home market"),
            "signup_date": _date("day the seller joined"),
            "last_active_date": _date("last day with a listing or sale"),
            "status": _one_of(SELLER_STATUSES, description="churned = no activity for 90 days"),
        },
        "surveys": {
            "user_id": _text(description="respondent"),
            "survey_date": _date("day of the response"),
            "market": _market(),
            "csat": pa.Column("Int64", pa.Check.in_range(1, 5), nullable=True, description="satisfaction, 1-5"),
            "nps": pa.Column(
                "Int64", pa.Check.in_range(0, 10), nullable=True, description="likelihood to recommend, 0-10"
            ),
        },
        "markets": {
            "market": _market(),
            "name": _text(description="English short name"),
            "region": _text(description="world region"),
            "currency": _text(pa.Check.str_matches(ISO_4217), description="ISO 4217 currency code"),
        },
        "benchmarks": {
            "company": _text(description="company name; the client is one of them"),
            "market": _market(),
            "period": _text(pa.Check.str_matches(QUARTER), description="calendar quarter, e.g. 2025Q3"),
            "kpi": _text(description="KPI name, e.g. conversion_rate"),
            "value": pa.Column(float, description="KPI value in `unit`"),
            "unit": _text(description="fraction, score, currency code, days ..."),
            "direction": _one_of(KPI_DIRECTIONS, description="whether higher or lower values are better"),
        },
        "initiatives": {
            "initiative_id": _text(description="initiative identifier"),
            "name": _text(description="short name"),
            "market": _market(),
            "launch_date": _date("day the initiative went live in the market; empty if it never did", nullable=True),
            "target_kpi": _text(description="KPI the initiative is meant to move"),
            "target_low": pa.Column(float, description="lower end of the target relative change (0.15 = +15%)"),
            "target_high": pa.Column(float, description="upper end of the target relative change"),
        },
    }
    return {name: _table(name, columns[name]) for name in TABLE_NAMES}


def __getattr__(name: str):
    """``TABLES`` (every table's pandera schema by name) and ``EVENTS`` ... ``INITIATIVES``, built on first use."""
    if name == "TABLES":
        return _schemas()
    if name in _SCHEMA_NAMES:
        return _schemas()[_SCHEMA_NAMES[name]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _known(table: str) -> str:
    if table not in _FACTS:
        raise ParameterError(
            f"unknown table {table!r}; the contract declares {sorted(TABLE_NAMES)}",
            parameter="table",
            value=table,
            valid=sorted(TABLE_NAMES),
        )
    return table


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
    return _schemas()[_known(table)]


def key_of(table: str) -> tuple[str, ...]:
    """Columns that identify a row of ``table`` (empty when rows have no natural key)."""
    return _FACTS[_known(table)].key


def foreign_keys_of(table: str) -> tuple[ForeignKey, ...]:
    """The references from ``table`` to other tables' keys, as declared in its schema."""
    return _FACTS[_known(table)].foreign_keys


def time_column_of(table: str) -> str | None:
    """The column that places a row of ``table`` in time (None for reference tables such as markets)."""
    return _FACTS[_known(table)].time_column
