"""The clickstream an analysis reads: the events table of a data directory, or a GA4 export read directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ibis

from analysis.sources.connection import connect
from analysis.sources.files import load_tables
from analysis.sources.formats.ga4 import read_ga4_export
from analysis.sources.validate import ValidationReport, check_table, validate_data_dir


@dataclass
class EventsSource:
    """A validated events table, where it came from, the markets it may be asked about, and notes for the reader."""

    events: ibis.Table
    origin: str
    known_markets: list[str]
    notes: list[str] = field(default_factory=list)

    def check_market(self, market: str) -> None:
        """Raise a clear error for a market the source does not know (``ALL`` always passes)."""
        if market != "ALL" and market not in self.known_markets:
            raise ValueError(f"market {market!r} is not in {self.origin}; known markets: {self.known_markets}")


def open_events(data_dir: Path | str, ga4_export: Path | str = "") -> EventsSource:
    """Open and validate the events of ``data_dir``, or of the GA4 export at ``ga4_export`` when it is given.

    Raises :class:`analysis.sources.DataFileError` naming file, column and values when the events break the contract.
    """
    if ga4_export:
        report = validate_ga4_export(ga4_export)
        report.raise_if_invalid()
        imported = read_ga4_export(ga4_export)
        markets = sorted(imported.events.select("market").distinct().to_pandas().market)
        return EventsSource(imported.events, f"the GA4 export {ga4_export}", markets, _ga4_notes(imported))
    validate_data_dir(data_dir, tables=["events"]).raise_if_invalid()
    tables = load_tables(data_dir, tables=["events", "markets"])
    markets = sorted(tables["markets"].market.to_pandas())
    return EventsSource(tables["events"], f"the markets table of {data_dir}", markets)


def validate_ga4_export(path: Path | str) -> ValidationReport:
    """Check a GA4 export, once mapped, against the events contract (the same engine checks as a data directory)."""
    con = connect()
    imported = read_ga4_export(path, con)
    report = ValidationReport(Path(path))
    report.rows["events"] = int(imported.events.count().to_pandas())
    report.files["events"] = str(path)
    report.violations.extend(check_table(imported.events, "events", str(path)))
    return report


def _ga4_notes(imported) -> list[str]:
    notes = []
    unknown = imported.unknown_event_names
    if len(unknown):
        listed = ", ".join(f"{row.event_name} ({row.events:,})" for row in unknown.head(8).itertuples())
        notes.append(f"GA4 events outside the funnel vocabulary were left out: {listed}.")
    unmapped = imported.unmapped_countries
    if len(unmapped):
        listed = ", ".join(f"{row.country} ({row.events:,})" for row in unmapped.head(8).itertuples())
        notes.append(f"Countries without an ISO code mapping were counted as market ZZ: {listed}.")
    return notes
