"""Google Analytics 4 BigQuery export → the workbook's events contract (see data/README.md for the mapping).

The export (newline-delimited JSON or Parquet, one file or a folder of them) is read by DuckDB with the nested
structs typed explicitly, so a 100-million-event export is never pulled into pandas; the result is an Ibis table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
import sqlglot.expressions as sge

from analysis.contract import CHANNELS, DEVICES, EVENT_NAMES, VARIANTS
from analysis.errors import DataFileError
from analysis.sources.connection import connect
from analysis.sources.formats.lookups import read_lookup

NO_SESSION = "no_session"  # events without a ga_session_id parameter (rare in exports; kept, not dropped)
UNKNOWN_MARKET = "ZZ"  # ISO 3166 user-assigned code: a country name missing from COUNTRY_CODES, or "(not set)"
UNKNOWN_SEGMENT = "unknown"
UNIX_EPOCH = ibis.timestamp("1970-01-01 00:00:00").cast("timestamp('UTC', 6)")

REQUIRED_COLUMNS = ("event_timestamp", "event_name", "user_pseudo_id")

_VALUE = "STRUCT(string_value VARCHAR, int_value BIGINT, float_value DOUBLE, double_value DOUBLE)"
_PARAMS = f"STRUCT(key VARCHAR, value {_VALUE})[]"
JSON_COLUMNS = {
    "event_date": "VARCHAR",
    "event_timestamp": "BIGINT",
    "event_name": "VARCHAR",
    "event_params": _PARAMS,
    "user_pseudo_id": "VARCHAR",
    "user_properties": _PARAMS,
    "geo": "STRUCT(country VARCHAR)",
    "device": "STRUCT(category VARCHAR)",
    "traffic_source": "STRUCT(medium VARCHAR, source VARCHAR)",
}

COUNTRIES_FILE = "ga4_country_codes.csv"

# GA4 reports the country's English name (``ga4_country``); the workbook's markets are ISO 3166-1 alpha-2 (``iso2``).
COUNTRY_CODES: dict[str, str] = {row["ga4_country"]: row["iso2"] for row in read_lookup(COUNTRIES_FILE)}

# traffic_source.medium (lower case) → contract channel; anything else is "other". A rule of this adapter, tied to
# the contract's channel vocabulary, rather than reference data: it stays in code, checked against the contract.
MEDIUM_CHANNELS: dict[str, str] = {
    "organic": "organic_search",
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paidsearch": "paid_search",
    "social": "social",
    "social-network": "social",
    "social-media": "social",
    "sm": "social",
    "email": "email",
    "e-mail": "email",
    "(none)": "direct",
    "referral": "referral",
}
assert set(MEDIUM_CHANNELS.values()) <= set(CHANNELS)


class Ga4ImportError(DataFileError):
    """A GA4 export that cannot be read; the message names the file and what is missing (``file``, ``value``)."""


@dataclass(frozen=True)
class Ga4Import:
    """The export as an events table, and what did not fit the contract's vocabularies.

    ``events``: Ibis table in the events contract, funnel vocabulary only (contract ``EVENT_NAMES``).
    ``unknown_event_names``: pandas frame ``event_name``, ``events`` (count) of the names left out, most first.
    ``unmapped_countries``: pandas frame ``country``, ``events`` of ``geo.country`` values mapped to ``ZZ``.
    ``unknown_devices``: pandas frame ``device``, ``events`` of ``device.category`` values outside the contract
    (kept as they are, so validation reports them).
    """

    events: ir.Table
    unknown_event_names: pd.DataFrame
    unmapped_countries: pd.DataFrame
    unknown_devices: pd.DataFrame


def _source(path: Path) -> tuple[str, str]:
    if path.is_dir():
        for fmt, patterns in (("parquet", ("*.parquet",)), ("json", ("*.json", "*.jsonl", "*.ndjson"))):
            if any(any(path.glob(pattern)) for pattern in patterns):
                return fmt, str(path / patterns[0]) if fmt == "parquet" else str(path / "*.json*")
        raise Ga4ImportError(
            f"{path}: folder holds no *.parquet or *.json GA4 export files",
            file=path,
            valid="*.parquet, *.json, *.jsonl or *.ndjson files",
        )
    if not path.exists():
        raise Ga4ImportError(f"{path}: no such GA4 export file", file=path)
    return ("parquet" if path.suffix == ".parquet" else "json"), str(path)


def _raw_table(path: Path, con) -> ir.Table:
    fmt, source = _source(path)
    try:
        if fmt == "json":
            return con.read_json(source, format="newline_delimited", columns=JSON_COLUMNS)
        raw = con.read_parquet(source)
    except Exception as error:
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise Ga4ImportError(
            f"{path}: cannot be read as a GA4 {fmt} export ({first_line})", file=path, valid=f"a GA4 {fmt} export"
        ) from error
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise Ga4ImportError(
            f"{path}: GA4 export lacks column(s) {missing}; found {list(raw.columns)}",
            file=path,
            column=missing[0],
            value=missing,
            valid=list(REQUIRED_COLUMNS),
        )
    # Parquet exports may lack optional records: add them as typed nulls so one mapping serves both formats.
    absent = {name: ibis.null(dtype) for name, dtype in _ibis_types().items() if name not in raw.columns}
    return raw.mutate(**absent) if absent else raw


def _ibis_types() -> dict[str, str]:
    value = "struct<string_value: string, int_value: int64, float_value: float64, double_value: float64>"
    params = f"array<struct<key: string, value: {value}>>"
    return {
        "event_params": params,
        "user_properties": params,
        "geo": "struct<country: string>",
        "device": "struct<category: string>",
        "traffic_source": "struct<medium: string, source: string>",
    }


def _param(records: ir.ArrayValue, key: str) -> ir.StringValue:
    """The value of ``key`` in a GA4 key/value record list, as a string (whichever of the value fields is set)."""
    found = records.filter(lambda record: record.key == key)[0].value
    return ibis.coalesce(
        found.string_value,
        found.int_value.cast("string"),
        found.double_value.cast("string"),
        found.float_value.cast("string"),
    )


def _mapped(column: ir.StringValue, mapping: dict[str, str], default) -> ir.StringValue:
    return column.cases(*mapping.items(), else_=default)


def read_ga4_export(path: Path | str, con=None) -> Ga4Import:
    """Read a GA4 BigQuery export into the events contract.

    Parameters
    ----------
    path
        A newline-delimited JSON or Parquet file as BigQuery exports it (``events_YYYYMMDD``), or a folder of them.
    con
        An Ibis DuckDB backend (:func:`analysis.sources.connect`); a new one when None.

    Returns
    -------
    Ga4Import
        ``events`` with the contract's columns ``event_time`` (UTC, from ``event_timestamp`` in microseconds),
        ``user_id`` (``user_pseudo_id``), ``session_id`` (``ga_session_id`` event parameter), ``market`` (ISO code
        of ``geo.country``), ``device`` (``device.category``), ``channel`` (from ``traffic_source.medium``),
        ``event_name``, ``segment`` (user property or event parameter ``segment``, else ``"unknown"``) and
        ``variant`` (user property or parameter ``variant`` when it is ``control``/``treatment``); plus the counts
        of what was left out or not mapped.
    """
    path = Path(path)
    con = con if con is not None else connect()
    raw = _raw_table(path, con)
    session = _param(raw.event_params, "ga_session_id")
    segment = ibis.coalesce(_param(raw.user_properties, "segment"), _param(raw.event_params, "segment"))
    variant = ibis.coalesce(_param(raw.user_properties, "variant"), _param(raw.event_params, "variant"))
    medium = raw.traffic_source.medium.lower().strip()
    mapped = raw.select(
        event_time=UNIX_EPOCH + raw.event_timestamp.as_interval("us"),
        user_id=raw.user_pseudo_id,
        session_id=session.fill_null(NO_SESSION),
        market=_mapped(raw.geo.country, COUNTRY_CODES, UNKNOWN_MARKET),
        device=raw.device.category.lower().fill_null("unknown"),
        channel=_mapped(medium, MEDIUM_CHANNELS, "other"),
        event_name=raw.event_name,
        segment=segment.fill_null(UNKNOWN_SEGMENT),
        variant=ibis.ifelse(variant.isin(list(VARIANTS)), variant, ibis.null("string")),
        _country=raw.geo.country.fill_null("(missing)"),
    )
    mapped = _as_view(con, mapped)
    in_vocabulary = mapped.event_name.isin(list(EVENT_NAMES))
    events = mapped.filter(in_vocabulary).drop("_country")
    return Ga4Import(
        events=events,
        unknown_event_names=_counts(mapped.filter(~in_vocabulary), "event_name"),
        unmapped_countries=_counts(mapped.filter(mapped.market == UNKNOWN_MARKET), "_country", "country"),
        unknown_devices=_counts(mapped.filter(~mapped.device.isin(list(DEVICES))), "device"),
    )


def _as_view(con, table: ir.Table) -> ir.Table:
    """``table`` as a temporary view on ``con`` whose SQL writes array lambdas in DuckDB's ``lambda x: ...`` form.

    Ibis 12 compiles array lambdas (here ``Array.filter``) to the old ``x -> ...`` form, which DuckDB 2.0 refuses
    unless ``lambda_syntax`` allows it. Rather than change the settings of the caller's connection, the query is
    rewritten through sqlglot (a ``Lambda`` with ``colon`` set). Created with ``raw_sql`` because ``Backend.sql()``
    and ``Table.sql()`` fail on Ibis 12 + DuckDB 2.0 (they call ``fetch_arrow_table``, which DuckDB 2.0 removed).
    The view is only a name for the query: nothing is read until a result is asked for.
    """
    if con.name != "duckdb":
        return table
    query = con.compiler.to_sqlglot(table)
    for node in query.find_all(sge.Lambda):
        node.set("colon", True)
    name = f"_ga4_events_{uuid.uuid4().hex}"
    view = sge.Create(
        this=sge.Table(this=sge.to_identifier(name)),
        kind="VIEW",
        expression=query,
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    )
    con.raw_sql(view.sql(dialect="duckdb"))
    return con.table(name)


def _counts(table: ir.Table, column: str, name: str | None = None) -> pd.DataFrame:
    counts = table.group_by(column).aggregate(events=table.count()).to_pandas()
    counts = counts.rename(columns={column: name or column})
    counts = counts.sort_values(["events", name or column], ascending=[False, True], kind="stable")
    return counts.reset_index(drop=True).astype({"events": "int64"})
