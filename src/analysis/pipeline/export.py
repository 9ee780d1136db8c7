"""A finished run as the exports see it: its reports' recorded results, tables and charts, read from the run folder.

``workbook export RUN --xlsx --pptx`` writes an Excel workbook of every table of a run
(:mod:`analysis.pipeline.export_xlsx`) and a PowerPoint deck of its findings (:mod:`analysis.pipeline.export_pptx`).
Both read the run from its folder, as the index and the summary do: ``run.json``, and in each executed notebook what
it recorded (:mod:`analysis.present.results`), the tables it displayed and the charts it drew
(:mod:`analysis.present.capture`; charts written beside the report by :mod:`analysis.pipeline.charts`). Nothing is
recomputed: every number is the one the report holds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat

from analysis.errors import ParameterError, ReportError
from analysis.pipeline.manifest import MANIFEST
from analysis.pipeline.markets import market_label, market_names
from analysis.pipeline.recorded import recorded_results
from analysis.pipeline.render import HEADING, notebook_title
from analysis.present.capture import CHART_MIME, TABLE_MIME
from analysis.present.results import Results

LATEST = "latest"
PACKAGE = "ecommerce-strategy-workbook"


class ExportError(ReportError):
    """A run cannot be exported: it has no executed notebook, or none of its reports recorded results."""


@dataclass(frozen=True)
class ReportTable:
    """One table a report displayed, as recorded (:func:`analysis.present.capture.table_record`).

    Attributes
    ----------
    title
        the nearest markdown heading above the table in the notebook (the report's title when there is none).
    columns
        column labels as displayed (the index's first, ``index_columns`` of them).
    index_columns
        how many leading columns are the table's index.
    rows
        one list per row: numbers, booleans, strings, or None for a missing value.
    """

    title: str
    columns: tuple[str, ...]
    index_columns: int
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class ExportedReport:
    """One executed report of a run.

    Attributes
    ----------
    notebook, market
        which report (``ALL`` for an across-markets report); ``market_name`` the reader's name of the market.
    title
        the notebook's first heading.
    results
        what the report recorded; None when it recorded nothing.
    tables
        the tables it displayed, in report order.
    charts
        PNG bytes of each chart, in report order: the 300-dpi file beside the report, else the chart's recorded
        copy, else the report's inline image.
    """

    notebook: str
    market: str
    market_name: str
    title: str
    results: Results | None
    tables: tuple[ReportTable, ...]
    charts: tuple[bytes, ...]


@dataclass(frozen=True)
class ExportedRun:
    """A run's facts and its executed reports, in plan order.

    Attributes
    ----------
    run_id, run_dir
        the run and its folder.
    manifest
        the run's ``run.json``.
    reports
        every report with an executed notebook.
    names
        market code -> name, from the run's data folder (empty when it cannot be read: codes are shown).
    """

    run_id: str
    run_dir: Path
    manifest: dict
    reports: tuple[ExportedReport, ...]
    names: dict[str, str] = field(default_factory=dict)

    @property
    def period(self) -> str:
        """``"2025-01-01 to 2026-06-30"``."""
        period = self.manifest.get("config", {}).get("period", {})
        return f"{period.get('start', '?')} to {period.get('end', '?')}"

    @property
    def fingerprint(self) -> str:
        """The data fingerprint as reports show it (its first 12 hex digits)."""
        return str(self.manifest.get("provenance", {}).get("data_fingerprint", "unknown"))[:12]

    @property
    def markets(self) -> list[str]:
        """The markets of the run's reports, by name, in plan order."""
        return list(dict.fromkeys(report.market_name for report in self.reports))

    def provenance_rows(self) -> list[tuple[str, str]]:
        """What the run was made from, as label and text: never a path of the machine (the data folder by name)."""
        manifest, provenance = self.manifest, self.manifest.get("provenance", {})
        config = manifest.get("config", {})
        data = str(config.get("data_dir") or "unknown").replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        commit = provenance.get("git_commit", "unknown")
        return [
            ("Run", self.run_id),
            ("Created (UTC)", str(provenance.get("started_at", "unknown"))),
            ("Status", str(manifest.get("status", "unknown"))),
            ("Period", self.period),
            ("Data folder", data),
            ("Data fingerprint (sha256)", str(provenance.get("data_fingerprint", "unknown"))),
            ("Engine", str(config.get("engine") or "duckdb")),
            ("Notebooks", ", ".join(manifest.get("plan", {}).get("notebooks", []))),
            ("Markets", ", ".join(manifest.get("plan", {}).get("markets", []))),
            ("Code version (git)", f"{commit} (dirty)" if provenance.get("git_dirty") else str(commit)),
            ("Workbook version", workbook_version()),
        ]


def workbook_version() -> str:
    """The installed workbook package's version (``"unknown"`` when it is not installed)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


def find_run(run: str | Path, reports_dir: Path) -> Path:
    """The folder of ``run``: a run id under ``reports_dir``, ``"latest"`` (its newest run), or a run's folder.

    Raises
    ------
    ParameterError
        if no such run exists (the message lists the newest runs there are).
    """
    reports_dir = Path(reports_dir)
    runs = sorted((path.parent for path in reports_dir.glob(f"*/{MANIFEST}")), key=lambda path: path.name)
    if str(run) == LATEST and runs:
        return runs[-1]
    for candidate in (Path(run), reports_dir / str(run)):
        if (candidate / MANIFEST).is_file():
            return candidate
    newest = [path.name for path in reversed(runs[-5:])]
    known = f"; runs there: {', '.join(newest)}" if newest else "; there is no run there"
    raise ParameterError(
        f"run {str(run)!r}: no run of that id or folder under {reports_dir.name}/{known} (or 'latest')",
        parameter="run",
        value=str(run),
        valid=[*newest, LATEST] if newest else None,
    )


def export_run(
    run: str | Path, reports_dir: Path, *, xlsx: bool = True, pptx: bool = True, out: Path | None = None
) -> list[Path]:
    """Write the run's Excel workbook and/or PowerPoint deck, ``<run id>.xlsx`` and ``.pptx``; return their paths.

    Parameters
    ----------
    run
        a run id under ``reports_dir``, ``"latest"``, or a run's folder (see :func:`find_run`).
    reports_dir
        the reports folder.
    xlsx, pptx
        which files to write.
    out
        the folder to write them to (made if missing); the run's own folder when None.

    Raises
    ------
    ParameterError
        if there is no such run.
    ExportError
        if the run has nothing to export (see :func:`read_run`).
    """
    from analysis.pipeline.export_pptx import write_pptx
    from analysis.pipeline.export_xlsx import write_xlsx

    exported = read_run(find_run(run, reports_dir))
    folder = Path(out) if out is not None else exported.run_dir
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if xlsx:
        written.append(write_xlsx(exported, folder / f"{exported.run_id}.xlsx"))
    if pptx:
        written.append(write_pptx(exported, folder / f"{exported.run_id}.pptx"))
    return written


def read_run(run_dir: Path) -> ExportedRun:
    """The run in ``run_dir`` with every executed report's results, tables and charts.

    Raises
    ------
    ExportError
        if the run has no executed notebook, or none of its reports recorded results.
    """
    import json

    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    names = market_names(manifest.get("config", {}).get("data_dir"))
    reports = []
    for entry in manifest.get("results", []):
        path = run_dir / entry["ipynb"] if entry.get("ipynb") else None
        try:
            notebook = nbformat.read(path, as_version=4) if path is not None else None
        except (OSError, ValueError):
            notebook = None  # cut off or removed: the other reports still export
        if notebook is not None:
            reports.append(_report(notebook, path, entry, names))
    run_id = str(manifest.get("run_id", run_dir.name))
    if not reports:
        raise ExportError(
            f"run {run_id}: no executed notebook to export (did the run start any report?)", file=run_dir.name
        )
    if all(report.results is None for report in reports):
        raise ExportError(
            f"run {run_id}: none of its {len(reports)} report(s) recorded results (failed runs, or notebooks from "
            "before results were recorded): run the reports again",
            file=run_dir.name,
        )
    return ExportedRun(run_id, run_dir, manifest, tuple(reports), names)


def _report(notebook: nbformat.NotebookNode, path: Path, entry: dict, names: dict[str, str]) -> ExportedReport:
    title = notebook_title(notebook, default=entry["notebook"])
    return ExportedReport(
        notebook=entry["notebook"],
        market=entry["market"],
        market_name=market_label(entry["market"], names),
        title=title,
        results=recorded_results(notebook),
        tables=tuple(_tables(notebook, title)),
        charts=tuple(_charts(notebook, path.parent)),
    )


def _tables(notebook: nbformat.NotebookNode, title: str) -> list[ReportTable]:
    tables, heading = [], title
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found = HEADING.findall(cell.source)
            heading = found[-1] if found else heading
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(TABLE_MIME)
            if isinstance(record, dict) and isinstance(record.get("columns"), list):
                rows = tuple(tuple(row) for row in record.get("rows", []))
                columns = tuple(str(column) for column in record["columns"])
                tables.append(ReportTable(heading, columns, int(record.get("index_columns", 0)), rows))
    return tables


def _charts(notebook: nbformat.NotebookNode, folder: Path) -> list[bytes]:
    charts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            files = output.get("metadata", {}).get(CHART_MIME, {}).get("files", [])
            png = next((folder / name for name in files if name.endswith(".png")), None)
            record = output.get("data", {}).get(CHART_MIME)
            if png is not None and png.is_file():
                charts.append(png.read_bytes())
            elif isinstance(record, dict) and record.get("png"):
                charts.append(base64.b64decode(record["png"]))
            elif output.get("data", {}).get("image/png"):
                charts.append(base64.b64decode(output["data"]["image/png"]))
    return charts
