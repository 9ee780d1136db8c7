"""What each report of a run recorded about itself, read back from its executed notebook.

A notebook records its results (:func:`analysis.present.results.record_results`) as a display output of MIME type
:data:`~analysis.present.results.RESULTS_MIME`. The index and the executive summary read them here, from the
``.ipynb`` files of the run, never from the HTML pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from analysis.pipeline.render import notebook_title
from analysis.present.results import RESULTS_MIME, Results


@dataclass(frozen=True)
class ReportEntry:
    """One report of a run as the index and the summary show it.

    Attributes
    ----------
    notebook, market
        which report (market ``ALL`` for across-markets reports).
    status
        ``"ok"``, ``"failed"``, ``"interrupted"`` (as ``run.json`` says).
    html
        the report's page relative to the run's folder (``"data_overview/DE.html"``), None if none was written.
    title
        the notebook's first heading (its name when it has none or was not executed).
    results
        what the report recorded, None when it recorded nothing (failed before its last cell, or an older notebook).
    """

    notebook: str
    market: str
    status: str
    html: str | None
    title: str
    results: Results | None

    @property
    def headline(self) -> str:
        """The report's headline sentence, ``""`` when it recorded none."""
        return self.results.headline if self.results is not None else ""


def recorded_results(notebook: nbformat.NotebookNode) -> Results | None:
    """The last results record among ``notebook``'s outputs, or None (none recorded, or not readable)."""
    found = None
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("data", {}).get(RESULTS_MIME)
            if isinstance(record, dict):
                found = record
    if found is None:
        return None
    try:
        return Results.from_dict(found)
    except (KeyError, TypeError, ValueError):  # a record this version cannot read: the report still links
        return None


def report_entries(run_dir: Path, manifest: dict) -> list[ReportEntry]:
    """Every report listed in ``manifest`` (the run's ``run.json``) with its title and recorded results."""
    entries = []
    for result in manifest.get("results", []):
        title, results = result["notebook"], None
        if result.get("ipynb"):
            try:
                executed = nbformat.read(Path(run_dir) / result["ipynb"], as_version=4)
            except (OSError, ValueError):
                executed = None  # cut off or removed: the entry keeps its link and status
            if executed is not None:
                title = notebook_title(executed, default=title)
                results = recorded_results(executed)
        entries.append(
            ReportEntry(
                notebook=result["notebook"],
                market=result["market"],
                status=result.get("status", "failed"),
                html=result.get("html"),
                title=title,
                results=results,
            )
        )
    return entries
