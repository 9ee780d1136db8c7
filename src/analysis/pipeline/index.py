"""Index pages: one per run (notebook × market table) and ``reports/index.html`` (the run to read + every run).

Each run's page links its executive summary (``summary.html``, written beside it from the reports' recorded
results) first, then lists the reports by title, market name and headline. ``reports/index.html`` shows the
newest *complete run of the full plan* on top (every configured notebook and
market, finished ``ok`` or ``failed``), so a one-market re-run does not hide the full run; failing that, the
newest finished run. Below it, every run is listed with its status, start time and what it covered. Both pages
are built from the runs' ``run.json`` manifests, so they can be rebuilt at any time from what is on disk.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import quote

from analysis.pipeline.files import write_atomically
from analysis.pipeline.manifest import MANIFEST
from analysis.pipeline.markets import market_label, market_names
from analysis.pipeline.recorded import ReportEntry, report_entries
from analysis.pipeline.summary import SUMMARY, page_head, write_summary

INDEX = "index.html"
COMPLETE = ("ok", "failed")  # every planned report was attempted

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; font-size: 0.9em; }
dt { font-weight: 600; color: #57606a; } dd { margin: 0; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #d0d7de; padding: 0.4em 0.7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.status-ok { background: #dafbe1; } .status-failed, .status-interrupted { background: #ffebe9; }
.status-ok a { color: #116329; } .status-failed a, .status-interrupted a { color: #82071e; }
.status-running { background: #fff8c5; }
.seconds, .error, .notebook { display: block; font-size: 0.8em; color: #57606a; }
.headline { display: block; font-size: 0.85em; max-width: 28em; margin-top: 0.3em; }
.summary-link { font-size: 1.1em; font-weight: 600; }
"""


def read_manifests(reports_dir: Path) -> list[dict]:
    """Every run's manifest under ``reports_dir``, newest run first (run ids sort by time)."""
    manifests = []
    for path in Path(reports_dir).glob(f"*/{MANIFEST}"):
        try:
            manifests.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a run cut off while writing its manifest: listing the others matters more
    return sorted(manifests, key=lambda manifest: manifest.get("run_id", ""), reverse=True)


def write_indexes(reports_dir: Path, run_id: str, *, data_dir: Path | str | None = None) -> tuple[Path, Path]:
    """Write the run's ``summary.html`` and ``index.html``, and ``<reports_dir>/index.html``; return both indexes.

    ``data_dir`` is the run's data folder, whose ``markets`` table names the markets; when None, the folder
    ``run.json`` records (found when it lies inside the project). Markets keep their codes where no name is found.
    """
    reports_dir = Path(reports_dir)
    manifests = read_manifests(reports_dir)
    current = next(manifest for manifest in manifests if manifest["run_id"] == run_id)
    names = market_names(data_dir if data_dir is not None else current.get("config", {}).get("data_dir"))
    entries = report_entries(reports_dir / run_id, current)
    write_summary(reports_dir / run_id, current, entries, names)
    run_page = write_atomically(
        reports_dir / run_id / INDEX,
        index_page(current, manifests, link_prefix="", runs_prefix="../", entries=entries, names=names),
    )
    latest = run_to_show(manifests) or current
    if latest["run_id"] != run_id:
        entries = report_entries(reports_dir / latest["run_id"], latest)
    top_page = write_atomically(
        reports_dir / INDEX,
        index_page(
            latest,
            manifests,
            link_prefix=f"{quote(latest['run_id'])}/",
            runs_prefix="",
            entries=entries,
            names=names,
            summary=(reports_dir / latest["run_id"] / SUMMARY).exists(),
        ),
    )
    return run_page, top_page


def is_full_plan(manifest: dict) -> bool:
    """Whether the run covered every report of its configuration (older manifests: no selection was given)."""
    if "full_plan" in manifest:
        return bool(manifest["full_plan"])
    selection = manifest.get("selection") or {}
    return selection.get("markets") is None and selection.get("notebooks") is None


def run_to_show(manifests: list[dict]) -> dict | None:
    """The run ``reports/index.html`` opens with: the newest complete run of the full plan, else the newest
    finished run, else None. ``manifests`` are newest first."""
    complete = [m for m in manifests if m.get("status") in COMPLETE and is_full_plan(m)]
    finished = [m for m in manifests if m.get("status") not in ("running", None)]
    return (complete or finished or [None])[0]


def coverage(manifest: dict) -> str:
    """What a run covered, for a reader: ``3 notebooks × 8 markets (full plan)`` or ``data_overview × DE``."""
    plan = manifest.get("plan")
    if plan is None:  # older manifests: from the results
        results = manifest.get("results", [])
        plan = {
            "notebooks": list(dict.fromkeys(r["notebook"] for r in results)),
            "markets": list(dict.fromkeys(r["market"] for r in results)),
        }
    notebooks, markets = plan.get("notebooks", []), plan.get("markets", [])
    if is_full_plan(manifest):
        return f"{_count(notebooks, 'notebook')} × {_count(markets, 'market')} (full plan)"
    return f"{', '.join(notebooks) or 'no notebook'} × {', '.join(markets) or 'no market'}"


def _count(names: list[str], noun: str) -> str:
    return f"{len(names)} {noun}{'' if len(names) == 1 else 's'}"


def index_page(
    manifest: dict,
    all_runs: list[dict],
    *,
    link_prefix: str,
    runs_prefix: str,
    entries: list[ReportEntry] | None = None,
    names: dict[str, str] | None = None,
    summary: bool = True,
) -> str:
    """HTML of the index for the run ``manifest``, with links to the other runs in ``all_runs``.

    Parameters
    ----------
    link_prefix
        path from the page to the run's folder (``""`` on the run's own page, ``"<run-id>/"`` at the top).
    runs_prefix
        path from the page to the reports folder holding every run.
    entries
        the run's reports with their titles and recorded headlines; without them rows show notebook names.
    names
        market code -> name for the column heads; codes where it has none.
    summary
        whether the run has an executive summary to link (first, above everything else).
    """
    run_id = manifest["run_id"]
    provenance = manifest.get("provenance", {})
    period = manifest.get("config", {}).get("period", {})
    facts = [
        ("Run", run_id),
        ("Status", manifest.get("status", "unknown")),
        ("Covered", coverage(manifest)),
        ("Started (UTC)", provenance.get("started_at", "")),
        ("Seconds", manifest.get("seconds", "")),
        ("Period", f"{period.get('start', '?')} to {period.get('end', '?')}"),
        ("Code version (git)", _code_version(provenance)),
        ("Data fingerprint (sha256)", str(provenance.get("data_fingerprint", ""))[:12]),
    ]
    others = all_runs if runs_prefix == "" else [other for other in all_runs if other["run_id"] != run_id]
    return "\n".join(
        [
            *page_head(f"Reports — run {run_id}", PAGE_CSS),
            "<body><main>",
            f"<h1>Reports — run {_text(run_id)}</h1>",
            f'<p class="summary-link"><a href="{_href(link_prefix, SUMMARY)}">Executive summary</a></p>'
            if summary
            else "",
            _definition_list(facts),
            results_table(manifest.get("results", []), link_prefix, entries=entries, names=names),
            "<h2>All runs</h2>" if runs_prefix == "" else "<h2>Other runs</h2>",
            _runs_list(others, runs_prefix),
            f'<p><a href="{runs_prefix}{INDEX}">All runs</a></p>' if runs_prefix else "",
            "</main></body></html>",
        ]
    )


def results_table(
    results: list[dict],
    link_prefix: str,
    *,
    entries: list[ReportEntry] | None = None,
    names: dict[str, str] | None = None,
) -> str:
    """A report × market table: rows are the reports' titles (notebook names beneath), columns the market names;
    each cell links the report and its notebook and shows status, seconds and the report's recorded headline."""
    names = names or {}
    notebooks = list(dict.fromkeys(result["notebook"] for result in results))
    markets = list(dict.fromkeys(result["market"] for result in results))
    by_key = {(result["notebook"], result["market"]): result for result in results}
    by_entry = {(entry.notebook, entry.market): entry for entry in entries or []}
    titles = {entry.notebook: entry.title for entry in entries or [] if entry.title != entry.notebook}
    header = "".join(f"<th scope='col'>{_text(market_label(market, names))}</th>" for market in markets)
    rows = []
    for notebook in notebooks:
        cells = "".join(
            _result_cell(by_key.get((notebook, market)), link_prefix, by_entry.get((notebook, market)))
            for market in markets
        )
        title = _text(notebook)
        if notebook in titles:
            title = f"{_text(titles[notebook])}<span class='notebook'>{title}</span>"
        rows.append(f"<tr><th scope='row'>{title}</th>{cells}</tr>")
    body = "\n".join(rows) or "<tr><td>no reports</td></tr>"
    return f'<table class="results">\n<tr><th>report</th>{header}</tr>\n{body}\n</table>'


def _result_cell(result: dict | None, link_prefix: str, entry: ReportEntry | None = None) -> str:
    if result is None:
        return "<td></td>"
    status = result.get("status", "failed")
    label = _text(status)
    if result.get("html"):
        label = f'<a href="{_href(link_prefix, result["html"])}">{label}</a>'
    notebook_link = f' · <a href="{_href(link_prefix, result["ipynb"])}">ipynb</a>' if result.get("ipynb") else ""
    error = f'<span class="error">{_text(result["error"])}</span>' if result.get("error") else ""
    seconds = f'<span class="seconds">{float(result.get("seconds", 0)):.1f} s</span>'
    headline = f'<span class="headline">{_text(entry.headline)}</span>' if entry and entry.headline else ""
    css_class = "status-ok" if status == "ok" else "status-failed" if status == "failed" else "status-interrupted"
    return f'<td class="{css_class}">{label}{notebook_link}{seconds}{headline}{error}</td>'


def _runs_list(runs: list[dict], runs_prefix: str) -> str:
    if not runs:
        return "<p>none</p>"
    rows = []
    for run in runs:
        run_id = run["run_id"]
        status = run.get("status", "unknown")
        done = sum(1 for result in run.get("results", []) if result.get("status") == "ok")
        total = (run.get("plan") or {}).get("reports", len(run.get("results", [])))
        href = _href(runs_prefix, f"{run_id}/{INDEX}")
        started = (run.get("provenance") or {}).get("started_at", "")
        rows.append(
            f'<tr class="status-{_text(status)}"><td><a href="{href}">{_text(run_id)}</a></td>'
            f"<td>{_text(status)}</td><td>{_text(started)}</td><td>{_text(coverage(run))}</td>"
            f"<td>{done}/{total} ok</td></tr>"
        )
    header = "<tr><th>run</th><th>status</th><th>started (UTC)</th><th>covered</th><th>reports</th></tr>"
    return f'<table class="runs">\n{header}\n' + "\n".join(rows) + "\n</table>"


def _definition_list(rows: list[tuple[str, object]]) -> str:
    items = "".join(f"<dt>{_text(label)}</dt><dd>{_text(value)}</dd>" for label, value in rows)
    return f"<dl>{items}</dl>"


def _code_version(provenance: dict) -> str:
    commit = provenance.get("git_commit", "unknown")
    return f"{commit} (dirty)" if provenance.get("git_dirty") else commit


def _href(prefix: str, relative: str) -> str:
    return html.escape(prefix + quote(relative), quote=True)


def _text(value: object) -> str:
    return html.escape(str(value))
