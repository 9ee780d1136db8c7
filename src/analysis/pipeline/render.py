"""Executed notebooks as self-contained HTML reports: code hidden, charts embedded, provenance on top.

Each report opens with links back to its run's executive summary and index, its title and market name, the
provenance header and a table of contents built from its section headings. Printed, headings stay with what follows
them and every page carries the report and market in a running header. The results a notebook records for the
pipeline (:mod:`analysis.present.results`) are data, not part of the page: they are left out.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter

from analysis.pipeline.markets import market_label, market_names
from analysis.pipeline.provenance import Provenance
from analysis.present.results import RESULTS_MIME

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATE = "report.html.j2"
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)
# A section heading as nbconvert renders it: an id, the heading's HTML, then its anchor link.
RENDERED_HEADING = re.compile(r'<h(?P<level>[23]) id="(?P<id>[^"]+)">(?P<inner>.*?)<a class="anchor-link"', re.DOTALL)
TAG = re.compile(r"<[^>]*>")
CONTENTS_PLACEHOLDER = "<!-- workbook-contents -->"
# Where a report sits: <run>/<notebook>/<market>.html, beside the run's summary.html and index.html one level up.
SUMMARY_LINK, INDEX_LINK = "../summary.html", "../index.html"

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
.workbook-nav { margin: 0 0 0.75em; font-size: 0.9em; }
.workbook-nav a { margin-right: 1.25em; }
.workbook-subtitle { margin: -0.3em 0 0.6em; font-size: 1.15em; color: #57606a; }
.workbook-contents { margin: 1em 0 0; font-size: 0.9em; }
.workbook-contents ol { margin: 0.3em 0 0; padding-left: 1.5em; }
.workbook-contents li.level-3 { margin-left: 1.5em; list-style: circle; }
@media print {
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  .jp-OutputArea-output img, .jp-OutputArea-output table, figure { break-inside: avoid; }
  .workbook-nav { display: none; }
  a { color: inherit; text-decoration: none; }
}
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
    market_name
        the market's name (``"Germany"``); when None, looked up in the ``markets`` table of the ``data_dir``
        parameter (a folder inside the project), else the code is shown.
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
    market_name: str | None = None

    @property
    def market_label(self) -> str:
        """The market as the reader names it: ``"Germany"``, ``"All markets"``, or the code when nothing names it."""
        if self.market_name:
            return self.market_name
        data_dir = self.parameters.get("data_dir")
        return market_label(self.market, market_names(data_dir if isinstance(data_dir, str) else None))


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
    market = header.market_label
    rows = [
        ("Notebook", header.notebook),
        ("Market", header.market if market == header.market else f"{market} ({header.market})"),
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
    navigation = (
        f'<nav class="workbook-nav" aria-label="Run"><a href="{SUMMARY_LINK}">← Executive summary</a>'
        f'<a href="{INDEX_LINK}">Every report of this run</a></nav>'
    )
    return (
        f'<header class="workbook-header">\n{navigation}\n<h1>{html.escape(header.title)}</h1>\n'
        f'<p class="workbook-subtitle">{html.escape(market)}</p>\n'
        f"<dl>\n{items}\n</dl>\n{failure}\n{CONTENTS_PLACEHOLDER}\n</header>"
    )


def contents_html(page: str) -> str:
    """A table of contents of ``page`` (rendered): its section headings (levels 2 and 3) linked by their ids.

    Only text is kept from each heading (markup removed, then escaped again); ``""`` when there is no heading.
    """
    items: list[tuple[int, str, str]] = []
    for match in RENDERED_HEADING.finditer(page):
        text = html.unescape(TAG.sub("", match.group("inner"))).strip()
        if text:
            items.append((int(match.group("level")), match.group("id"), html.escape(text)))
    if not items:
        return ""
    entries = "".join(f'<li class="level-{level}"><a href="#{anchor}">{text}</a></li>' for level, anchor, text in items)
    return f'<nav class="workbook-contents" aria-label="Contents"><strong>Contents</strong><ol>{entries}</ol></nav>'


def print_css(header: ReportHeader) -> str:
    """The running header of printed pages (report and market, top left; page number, top right)."""
    running = _css_string(f"{header.title} — {header.market_label}")
    return (
        f'@page {{ margin: 18mm 14mm; @top-left {{ content: "{running}"; font-size: 8pt; color: #57606a; }}\n'
        "  @top-right { content: counter(page); font-size: 8pt; color: #57606a; } }"
    )


def _css_string(text: str) -> str:
    """``text`` inside a CSS string: every character but letters, digits and spaces as a hex escape, so neither a
    quote nor ``</style>`` in a market name can end the string or the style element."""
    return "".join(
        character if character.isalnum() or character == " " else f"\\{ord(character):x} " for character in text
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
    notebook = _without_recorded_results(_without_first_heading(notebook))  # a copy: the .ipynb keeps both
    notebook.metadata["title"] = f"{header.title} — {header.market_label}"
    resources = {"workbook_header": header_html(header), "workbook_css": HEADER_CSS + print_css(header)}
    body, _ = report_exporter().from_notebook_node(notebook, resources=resources)
    return body.replace(CONTENTS_PLACEHOLDER, contents_html(body), 1)


def _without_recorded_results(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``notebook`` (a copy already) without the results it recorded for the pipeline, and without the cells that
    held nothing else: they would show as empty space."""
    kept = []
    for cell in notebook.cells:
        outputs = cell.get("outputs", [])
        if any(RESULTS_MIME in output.get("data", {}) for output in outputs):
            cell.outputs = [output for output in outputs if RESULTS_MIME not in output.get("data", {})]
            if not cell.outputs:
                continue
        kept.append(cell)
    notebook.cells = kept
    return notebook


def error_notebook(ename: str, evalue: str, details: str = "") -> nbformat.NotebookNode:
    """A one-cell notebook showing an error, for a report whose notebook could not be executed at all."""
    output = nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}", details])
    output.traceback = [line for line in output.traceback if line]
    cell = nbformat.v4.new_code_cell(source="", outputs=[output])
    return nbformat.v4.new_notebook(cells=[cell])
