"""Index pages: one per run (notebook × market table) and ``reports/index.html`` (latest run + earlier runs).

Both are built from the runs' ``run.json`` manifests, so they can be rebuilt at any time from what is on disk.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import quote

from analysis.pipeline.files import write_atomically

MANIFEST = "run.json"
INDEX = "index.html"

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #1f2328; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; font-size: 0.9em; }
dt { font-weight: 600; color: #57606a; } dd { margin: 0; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #d0d7de; padding: 0.4em 0.7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.status-ok { background: #dafbe1; } .status-failed { background: #ffebe9; }
.status-ok a { color: #116329; } .status-failed a { color: #82071e; }
.seconds, .error { display: block; font-size: 0.8em; color: #57606a; }
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


def write_indexes(reports_dir: Path, run_id: str) -> tuple[Path, Path]:
    """Write ``<reports_dir>/<run_id>/index.html`` and ``<reports_dir>/index.html``; return both paths."""
    reports_dir = Path(reports_dir)
    manifests = read_manifests(reports_dir)
    current = next(manifest for manifest in manifests if manifest["run_id"] == run_id)
    run_page = write_atomically(
        reports_dir / run_id / INDEX, index_page(current, manifests, link_prefix="", runs_prefix="../")
    )
    finished = [manifest for manifest in manifests if manifest.get("status") != "running"]
    latest = finished[0] if finished else current
    top_page = write_atomically(
        reports_dir / INDEX,
        index_page(latest, manifests, link_prefix=f"{quote(latest['run_id'])}/", runs_prefix=""),
    )
    return run_page, top_page


def index_page(manifest: dict, all_runs: list[dict], *, link_prefix: str, runs_prefix: str) -> str:
    """HTML of the index for the run ``manifest``, with links to the other runs in ``all_runs``.

    Parameters
    ----------
    link_prefix
        path from the page to the run's folder (``""`` on the run's own page, ``"<run-id>/"`` at the top).
    runs_prefix
        path from the page to the reports folder holding every run.
    """
    run_id = manifest["run_id"]
    provenance = manifest.get("provenance", {})
    period = manifest.get("config", {}).get("period", {})
    summary = [
        ("Run", run_id),
        ("Status", manifest.get("status", "unknown")),
        ("Started (UTC)", provenance.get("started_at", "")),
        ("Seconds", manifest.get("seconds", "")),
        ("Period", f"{period.get('start', '?')} to {period.get('end', '?')}"),
        ("Code version (git)", _code_version(provenance)),
        ("Data fingerprint (sha256)", str(provenance.get("data_fingerprint", ""))[:12]),
    ]
    others = [other for other in all_runs if other["run_id"] != run_id]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<link rel="icon" href="data:,">',
            f"<title>Reports — run {_text(run_id)}</title>",
            f"<style>{PAGE_CSS}</style></head>",
            "<body><main>",
            f"<h1>Reports — run {_text(run_id)}</h1>",
            _definition_list(summary),
            results_table(manifest.get("results", []), link_prefix),
            "<h2>Earlier runs</h2>" if runs_prefix == "" else "<h2>Other runs</h2>",
            _runs_list(others, runs_prefix),
            f'<p><a href="{runs_prefix}{INDEX}">All runs</a></p>' if runs_prefix else "",
            "</main></body></html>",
        ]
    )


def results_table(results: list[dict], link_prefix: str) -> str:
    """A notebook × market table; each cell links the report and its notebook and shows status and seconds."""
    notebooks = list(dict.fromkeys(result["notebook"] for result in results))
    markets = list(dict.fromkeys(result["market"] for result in results))
    by_key = {(result["notebook"], result["market"]): result for result in results}
    header = "".join(f"<th scope='col'>{_text(market)}</th>" for market in markets)
    rows = []
    for notebook in notebooks:
        cells = "".join(_result_cell(by_key.get((notebook, market)), link_prefix) for market in markets)
        rows.append(f"<tr><th scope='row'>{_text(notebook)}</th>{cells}</tr>")
    body = "\n".join(rows) or "<tr><td>no reports</td></tr>"
    return f'<table class="results">\n<tr><th>notebook</th>{header}</tr>\n{body}\n</table>'


def _result_cell(result: dict | None, link_prefix: str) -> str:
    if result is None:
        return "<td></td>"
    status = result.get("status", "failed")
    label = _text(status)
    if result.get("html"):
        label = f'<a href="{_href(link_prefix, result["html"])}">{label}</a>'
    notebook_link = f' · <a href="{_href(link_prefix, result["ipynb"])}">ipynb</a>' if result.get("ipynb") else ""
    error = f'<span class="error">{_text(result["error"])}</span>' if result.get("error") else ""
    seconds = f'<span class="seconds">{float(result.get("seconds", 0)):.1f} s</span>'
    css_class = "status-ok" if status == "ok" else "status-failed"
    return f'<td class="{css_class}">{label}{notebook_link}{seconds}{error}</td>'


def _runs_list(runs: list[dict], runs_prefix: str) -> str:
    if not runs:
        return "<p>none</p>"
    items = []
    for run in runs:
        run_id = run["run_id"]
        failed = sum(1 for result in run.get("results", []) if result.get("status") != "ok")
        total = len(run.get("results", []))
        href = _href(runs_prefix, f"{run_id}/{INDEX}")
        items.append(
            f'<li><a href="{href}">{_text(run_id)}</a> — {_text(run.get("status", "unknown"))}, '
            f"{total - failed}/{total} ok</li>"
        )
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


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
