"""Executed notebooks as self-contained HTML reports: code hidden, charts embedded, provenance on top."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from analysis.pipeline.provenance import Provenance

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "report.html.j2"
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)

HEADER_CSS = """
.workbook-header { font-family: var(--jp-ui-font-family, sans-serif); margin: 0 0 1.5em;
  padding: 1em 1.25em; border-bottom: 2px solid #d0d7de; background: #f6f8fa; }
.workbook-header h1 { margin: 0 0 0.5em; font-size: 1.6em; }
.workbook-header dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; margin: 0;
  font-size: 0.9em; }
.workbook-header dt { font-weight: 600; color: #57606a; }
.workbook-header dd { margin: 0; }
.workbook-header code { font-size: 0.95em; }
.workbook-failed { margin: 0.75em 0 0; padding: 0.6em 0.9em; border-left: 4px solid #cf222e;
  background: #ffebe9; color: #82071e; }
.workbook-failing-cell { margin: 0.5em 0 0; font-size: 0.9em; }
.workbook-failing-cell pre { margin: 0.3em 0 0; padding: 0.6em 0.9em; background: #fff; border: 1px solid #d0d7de;
  overflow-x: auto; }
"""


@dataclass(frozen=True)
class ReportHeader:
    """What the top of a report says about it.

    Attributes
    ----------
    title
        the notebook's first markdown heading (its file name when it has none).
    notebook, market
        which notebook, for which market (``ALL`` for run-once notebooks).
    period
        ``"2025-01-01 to 2026-06-30"``.
    parameters
        every parameter the notebook was executed with.
    provenance
        run time, git commit, data fingerprint and package versions of the run.
    failure
        ``"ValueError: no orders (cell 4)"`` when the notebook failed, else None.
    failing_cell
        the source of the cell that failed, shown under the failure (the report hides code otherwise).
    extra
        further rows for the header, label to value.
    """

    title: str
    notebook: str
    market: str
    period: str
    parameters: dict[str, Any]
    provenance: Provenance
    failure: str | None = None
    failing_cell: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def notebook_title(notebook: nbformat.NotebookNode, default: str) -> str:
    """Text of the first markdown heading in ``notebook``, or ``default`` if there is none."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = HEADING.search(cell.source)
            if match:
                return match.group("text")
    return default


def _without_first_heading(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` minus the heading the report header already shows as its title (a copy)."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and HEADING.search(cell.source):
            cell.source = HEADING.sub("", cell.source, count=1).strip("\n")
            break
    return notebook


def header_html(header: ReportHeader) -> str:
    """The provenance header as an HTML fragment; every value is escaped."""
    provenance = header.provenance
    packages = ", ".join(f"{name} {version}" for name, version in provenance.packages.items())
    parameters = ", ".join(f"{name}={value!r}" for name, value in header.parameters.items())
    rows = [
        ("Notebook", header.notebook),
        ("Market", header.market),
        ("Period", header.period),
        ("Run at (UTC)", provenance.started_at),
        ("Parameters", parameters),
        ("Code version (git)", provenance.code_version),
        ("Data fingerprint (sha256)", provenance.short_fingerprint),
        ("Packages", packages),
        *header.extra.items(),
    ]
    items = "\n".join(
        f'  <dt>{html.escape(label)}</dt><dd data-field="{html.escape(label)}">{html.escape(str(value))}</dd>'
        for label, value in rows
    )
    failure = (
        f'<p class="workbook-failed" role="alert">This report failed: {html.escape(header.failure)}</p>'
        if header.failure
        else ""
    )
    if header.failure and header.failing_cell:
        failure += (
            '\n<details class="workbook-failing-cell" open><summary>The cell that failed</summary>'
            f"<pre><code>{html.escape(header.failing_cell)}</code></pre></details>"
        )
    return (
        f'<header class="workbook-header">\n<h1>{html.escape(header.title)}</h1>\n'
        f"<dl>\n{items}\n</dl>\n{failure}\n</header>"
    )


@functools.cache
def report_exporter() -> HTMLExporter:
    """The HTML exporter for reports (built once per process: loading templates takes a while)."""
    return HTMLExporter(
        template_name="lab",
        extra_template_paths=[str(TEMPLATES_DIR)],
        template_file=REPORT_TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def render_report(notebook: nbformat.NotebookNode, header: ReportHeader) -> str:
    """``notebook`` (executed) as a self-contained HTML page without code, opening with ``header``.

    Images stay embedded as data URIs; the page loads no script, style or font from the network.
    """
    notebook = _without_first_heading(notebook)  # a copy: the changes below must not leak into the .ipynb
    notebook.metadata["title"] = f"{header.title} — {header.market}"
    resources = {"workbook_header": header_html(header), "workbook_css": HEADER_CSS}
    body, _ = report_exporter().from_notebook_node(notebook, resources=resources)
    return body


def error_notebook(ename: str, evalue: str, details: str = "") -> nbformat.NotebookNode:
    """A one-cell notebook showing an error, for a report whose notebook could not be executed at all."""
    output = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", details])
    output.traceback = [line for line in output.traceback if line]
    cell = nbformat.v4.new_code_cell(source="", outputs=[output])
    return nbformat.v4.new_notebook(cells=[cell])
