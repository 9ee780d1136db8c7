"""The clickstream an analysis reads: the events table of a data directory, or a GA4 export read directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis

from analysis.contract import ALL_MARKETS
from analysis.errors import ParameterError
from analysis.sources.connection import connect
from analysis.sources.files import find_table_files, load_tables
from analysis.sources.formats.ga4 import Ga4Import, read_ga4_export
from analysis.sources.prepared import validate_data_dir
from analysis.sources.validate import ValidationReport, check_table


@dataclass
class EventsSource:
    """A validated events table, where it came from, the markets it may be asked about, and notes for the reader.

    ``con`` is the backend the events live on: further tables an analysis joins to them belong on it too.
    ``launches`` holds ``(market, launch day)`` of every initiative of the data folder that went live, for the
    charts to mark (empty without an ``initiatives`` table).
    """

    events: ibis.Table
    origin: str
    known_markets: list[str]
    notes: list[str] = field(default_factory=list)
    con: ibis.BaseBackend | None = None
    launches: list[tuple[str, date]] = field(default_factory=list)

    def check_market(self, market: str) -> None:
        """Raise a clear error for a market the source does not know (``ALL`` always passes).

        Raises
        ------
        ParameterError
            for a market outside ``known_markets`` (parameter ``market``).
        """
        if market != ALL_MARKETS and market not in self.known_markets:
            raise ParameterError(
                f"market {market!r} is not in {self.origin}; known markets: {self.known_markets}",
                parameter="market",
                value=market,
                valid=[ALL_MARKETS, *self.known_markets],
            )


def open_events(data_dir: Path | str, ga4_export: Path | str = "", con=None) -> EventsSource:
    """Open and validate the events of ``data_dir``, or of the GA4 export at ``ga4_export`` when it is given.

    Parameters
    ----------
    data_dir
        The folder of the workbook's tables (its ``events`` and ``markets``).
    ga4_export
        A GA4 BigQuery export (file or folder) to read instead of ``data_dir``'s events.
    con
        An Ibis backend from :func:`analysis.sources.connect` (used as it is: its settings are not changed); a new
        one, and only one, when None. Validation and reading share it; the result's ``con`` is it.

    Raises
    ------
    analysis.errors.ValidationError
        naming file, column and values when the events break the contract.
    """
    con = con if con is not None else connect()
    if ga4_export:
        imported = read_ga4_export(ga4_export, con)
        _ga4_report(imported, ga4_export).raise_if_invalid()
        markets = sorted(imported.events.select("market").distinct().to_pandas().market)
        return EventsSource(imported.events, f"the GA4 export {ga4_export}", markets, _ga4_notes(imported), con)
    validate_data_dir(data_dir, con, tables=["events"]).raise_if_invalid()
    tables = load_tables(data_dir, con, tables=["events", "markets"])
    markets = sorted(tables["markets"].market.to_pandas())
    origin = f"the markets table of {data_dir}"
    return EventsSource(tables["events"], origin, markets, con=con, launches=_launches(data_dir, con))


def _launches(data_dir: Path | str, con) -> list[tuple[str, date]]:
    """(market, launch day) of each initiative of ``data_dir`` that went live, in launch order."""
    if "initiatives" not in find_table_files(data_dir):
        return []
    initiatives = load_tables(data_dir, con, tables=["initiatives"])["initiatives"]
    live = initiatives.filter(initiatives.launch_date.notnull()).select("market", "launch_date").distinct()
    frame = live.order_by(["launch_date", "market"]).to_pandas()
    return [(str(market), day) for market, day in zip(frame["market"], frame["launch_date"], strict=True)]


def validate_ga4_export(path: Path | str, con=None) -> ValidationReport:
    """Check a GA4 export, once mapped, against the events contract (the same engine checks as a data directory).

    ``con``: an Ibis backend from :func:`analysis.sources.connect`, used as it is; a new one when None.
    """
    return _ga4_report(read_ga4_export(path, con), path)


def _ga4_report(imported: Ga4Import, path: Path | str) -> ValidationReport:
    report = ValidationReport(Path(path))
    report.rows["events"] = int(imported.events.count().to_pandas())
    report.files["events"] = str(path)
    report.violations.extend(check_table(imported.events, "events", str(path)))
    return report


def _ga4_notes(imported: Ga4Import) -> list[str]:
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
