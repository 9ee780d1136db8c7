"""The executive summary of a run (``reports/<run-id>/summary.html``): the page a client reads first.

Built from what each report recorded (:mod:`analysis.pipeline.recorded`), it shows the KPI scorecard (markets ×
KPIs, as each report prints the value), every initiative KPI's verdict against its target, and per market the
headline KPIs with their trend and the top findings of each report, each linked to the report that holds the
evidence. The page computes and formats nothing of its own: every number is the text its report printed, a trend is
drawn from the series the report recorded (an inline SVG sparkline with its first and last values as printed), and a
change is called only as the report called it. It is self-contained (no script, no request), every string from the
data is escaped, and a verdict is said in words as well as colour.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from analysis.pipeline.files import write_atomically
from analysis.pipeline.markets import market_label
from analysis.pipeline.recorded import ReportEntry
from analysis.present.results import Kpi, Verdict, restates_headline

SUMMARY = "summary.html"
RUN_INDEX = "index.html"
TOP_FINDINGS = 3  # findings per report in a market's section
VERDICT_SIGNS = {"met": "✓ met", "missed": "✗ missed", "inconclusive": "? inconclusive"}
CHANGE_SIGNS = {"rise": "↑ real rise", "fall": "↓ real fall", "none": "→ within the noise"}  # the report's call
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 28, 3  # px of a sparkline and the margin keeping its line inside

SUMMARY_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em; color: #1f2328;
  max-width: 75em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
nav a { margin-right: 1em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; font-size: 0.9em; }
dt { font-weight: 600; color: #57606a; } dd { margin: 0; }
table { border-collapse: collapse; margin-top: 0.5em; }
th, td { border: 1px solid #d0d7de; padding: 0.4em 0.7em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.interval, .source, .status { display: block; font-size: 0.8em; color: #57606a; }
.verdict { font-weight: 600; padding: 0.1em 0.4em; border-radius: 0.3em; white-space: nowrap; }
.verdict-met { background: #dafbe1; color: #116329; }
.verdict-missed { background: #ffebe9; color: #82071e; }
.verdict-inconclusive { background: #eaeef2; color: #424a53; }
.headline { font-weight: 600; }
.kpis li { margin: 0.3em 0; }
.trend-line { display: block; }
.sparkline { vertical-align: middle; margin-right: 0.4em; }
.sparkline polyline { fill: none; stroke: #0969da; stroke-width: 1.5; }
.sparkline circle { fill: #0969da; }
.trend { font-size: 0.8em; color: #57606a; }
.change { font-size: 0.8em; font-weight: 600; padding: 0.05em 0.3em; border-radius: 0.3em; white-space: nowrap; }
.change-rise, .change-fall { background: #ddf4ff; color: #0a3069; }
.change-none { background: #eaeef2; color: #424a53; }
@media print {
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  table, li { break-inside: avoid; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def write_summary(run_dir: Path, manifest: dict, entries: list[ReportEntry], names: Mapping[str, str]) -> Path:
    """Write ``<run_dir>/summary.html`` for the run of ``manifest`` and return its path.

    Parameters
    ----------
    run_dir
        the run's folder (reports are linked relative to it).
    manifest
        the run's ``run.json``.
    entries
        the run's reports with what they recorded (:func:`analysis.pipeline.recorded.report_entries`).
    names
        market code -> name (:func:`analysis.pipeline.markets.market_names`); codes are shown where it has none.
    """
    return write_atomically(Path(run_dir) / SUMMARY, summary_page(manifest, entries, names))


def summary_page(manifest: dict, entries: list[ReportEntry], names: Mapping[str, str]) -> str:
    """HTML of the executive summary (see the module docstring); every string from a report is escaped."""
    run_id = manifest["run_id"]
    period = manifest.get("config", {}).get("period", {})
    provenance = manifest.get("provenance", {})
    markets = _markets(manifest, entries)
    facts = [
        ("Run", run_id),
        ("Status", manifest.get("status", "unknown")),
        ("Period", f"{period.get('start', '?')} to {period.get('end', '?')}"),
        ("Markets", ", ".join(market_label(market, names) for market in markets) or "none"),
        ("Data fingerprint (sha256)", str(provenance.get("data_fingerprint", ""))[:12]),
    ]
    contents = [("scorecard", "KPI scorecard"), ("verdicts", "Initiative KPIs against their targets")]
    contents += [(_market_anchor(market), market_label(market, names)) for market in markets]
    return "\n".join(
        [
            *page_head(f"Executive summary — run {run_id}", SUMMARY_CSS),
            "<body><main>",
            f'<nav><a href="{RUN_INDEX}">Every report of this run</a><a href="../{RUN_INDEX}">All runs</a></nav>',
            f"<h1>Executive summary — run {_text(run_id)}</h1>",
            "<dl>" + "".join(f"<dt>{_text(k)}</dt><dd>{_text(v)}</dd>" for k, v in facts) + "</dl>",
            '<nav aria-label="Contents"><ul>'
            + "".join(f'<li><a href="#{anchor}">{_text(label)}</a></li>' for anchor, label in contents)
            + "</ul></nav>",
            '<h2 id="scorecard">KPI scorecard</h2>',
            scorecard_table(entries, markets, names),
            '<h2 id="verdicts">Initiative KPIs against their targets</h2>',
            verdicts_table(_verdicts(entries), names),
            *(market_section(market, entries, names) for market in markets),
            "</main></body></html>",
        ]
    )


def scorecard_table(entries: list[ReportEntry], markets: list[str], names: Mapping[str, str]) -> str:
    """Markets as columns, one row per (report, KPI): each cell the value and interval as its report prints them."""
    rows: dict[tuple[str, str], dict[str, tuple[Kpi, ReportEntry]]] = {}
    row_labels: dict[tuple[str, str], tuple[str, str]] = {}
    for entry in entries:
        for kpi in entry.results.kpis if entry.results else ():
            key = (entry.notebook, kpi.name)
            rows.setdefault(key, {})[kpi.market or entry.market] = (kpi, entry)
            row_labels.setdefault(key, (kpi.label, entry.title))
    if not rows:
        return "<p>No report recorded a KPI.</p>"
    header = "".join(f'<th scope="col">{_text(market_label(market, names))}</th>' for market in markets)
    body = []
    for key, cells in rows.items():
        label, source = row_labels[key]
        row_head = f'<th scope="row">{_text(label)}<span class="source">{_text(source)}</span></th>'
        body.append(f"<tr>{row_head}{''.join(_kpi_cell(cells.get(market)) for market in markets)}</tr>")
    return f'<table class="scorecard">\n<tr><th>KPI</th>{header}</tr>\n' + "\n".join(body) + "\n</table>"


def verdicts_table(verdicts: list[tuple[Verdict, ReportEntry, str]], names: Mapping[str, str]) -> str:
    """One row per verdict: market, KPI, estimate, target and the verdict in words and colour, linked to its report."""
    if not verdicts:
        return "<p>No report recorded a KPI target.</p>"
    rows = [
        f"<tr><td>{_text(market_label(market, names))}</td><td>{_link(entry, verdict.label)}</td>"
        f"<td>{_text(verdict.estimate)}</td><td>{_text(verdict.target)}</td><td>{verdict_badge(verdict.verdict)}</td></tr>"
        for verdict, entry, market in verdicts
    ]
    header = "<tr><th>market</th><th>KPI</th><th>estimate</th><th>target</th><th>verdict</th></tr>"
    return f'<table class="verdicts">\n{header}\n' + "\n".join(rows) + "\n</table>"


def verdict_badge(verdict: str) -> str:
    """A verdict in words and colour: ``<span class="verdict verdict-met">✓ met</span>``."""
    return f'<span class="verdict verdict-{_text(verdict)}">{_text(VERDICT_SIGNS.get(verdict, verdict))}</span>'


def market_section(market: str, entries: list[ReportEntry], names: Mapping[str, str]) -> str:
    """A market's headline KPIs, its verdicts and each of its reports' headline and top findings, linked."""
    own = [entry for entry in entries if entry.market == market]
    kpis = [
        f"<li>{_link(entry, kpi.label)}: {_text(kpi.text)}{_interval(kpi)}{kpi_trend(kpi)}</li>"
        for entry in entries
        for kpi in (entry.results.kpis if entry.results else ())
        if (kpi.market or entry.market) == market
    ]
    verdicts = [item for item in _verdicts(entries) if item[2] == market]
    parts = [f'<section><h2 id="{_market_anchor(market)}">{_text(market_label(market, names))}</h2>']
    if kpis:
        parts.append('<h3>Headline KPIs</h3><ul class="kpis">' + "".join(kpis) + "</ul>")
    if verdicts:
        parts.append("<h3>Against target</h3>" + verdicts_table(verdicts, names))
    for entry in own:
        parts.append(f"<h3>{_link(entry, entry.title)}</h3>")
        if entry.status != "ok":
            parts.append(f'<p class="status">This report {_text(entry.status)}; see the report for why.</p>')
        if entry.headline:
            parts.append(f'<p class="headline">{_text(entry.headline)}</p>')
        # the headline may be a finding without its "Scope: …" opening: that finding is not shown twice
        findings = [f for f in (entry.results.findings if entry.results else ()) if not _is_headline(f, entry)]
        if findings[:TOP_FINDINGS]:
            parts.append("<ul>" + "".join(f"<li>{_text(f)}</li>" for f in findings[:TOP_FINDINGS]) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def kpi_trend(kpi: Kpi) -> str:
    """A KPI's recorded trend and the report's call on its change: a sparkline, the first and last values as the
    report printed them, and the call in words; ``""`` when the report recorded neither."""
    parts = []
    points = [point for point in kpi.trend if point[1] is not None]
    if points:
        (first_label, _, first_text), (last_label, _, last_text) = points[0], points[-1]
        ends = f"{first_label}: {first_text} → {last_label}: {last_text}"
        what = f"{kpi.label}, {kpi.trend_label}" if kpi.trend_label else kpi.label
        parts.append(sparkline(kpi.trend, f"{what}: {ends} ({len(points)} points)"))
        parts.append(f'<span class="trend">{_text(ends)}</span>')
    if kpi.change_direction in CHANGE_SIGNS:
        sign = CHANGE_SIGNS[kpi.change_direction]
        parts.append(
            f' <span class="change change-{kpi.change_direction}" title="{_text(kpi.change)}">{_text(sign)}</span>'
        )
    return f'<span class="trend-line">{"".join(parts)}</span>' if parts else ""


def sparkline(points: tuple[tuple[str, float | None, str], ...], title: str) -> str:
    """An inline SVG line of the points' values (oldest left, the range of the values top to bottom), broken where a
    value is missing, its last point marked; ``title`` (escaped) is its accessible name. ``""`` without values."""
    values = [value for _, value, _ in points if value is not None]
    if not values:
        return ""
    low, high = min(values), max(values)
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        if high == low:
            return SPARK_HEIGHT / 2
        return SPARK_PAD + (high - value) / (high - low) * (SPARK_HEIGHT - 2 * SPARK_PAD)

    lines: list[list[str]] = [[]]
    for position, (_, value, _) in enumerate(points):
        if value is None:
            lines.append([])  # a gap: the line breaks here
        else:
            lines[-1].append(f"{SPARK_PAD + position * step:.1f},{y(value):.1f}")
    last = next(index for index in range(len(points) - 1, -1, -1) if points[index][1] is not None)
    shapes = [f'<polyline points="{" ".join(coordinates)}"/>' for coordinates in lines if len(coordinates) > 1]
    for alone in (coordinates[0].split(",") for coordinates in lines if len(coordinates) == 1):  # between gaps
        shapes.append(f'<circle cx="{alone[0]}" cy="{alone[1]}" r="1.5"/>')
    shapes.append(f'<circle cx="{SPARK_PAD + last * step:.1f}" cy="{y(points[last][1]):.1f}" r="2"/>')
    return (
        f'<svg class="sparkline" role="img" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_text(title)}</title>{''.join(shapes)}</svg>"
    )


def _is_headline(finding: str, entry: ReportEntry) -> bool:
    return restates_headline(finding, entry.headline)


def _verdicts(entries: list[ReportEntry]) -> list[tuple[Verdict, ReportEntry, str]]:
    return [
        (verdict, entry, verdict.market or entry.market)
        for entry in entries
        for verdict in (entry.results.verdicts if entry.results else ())
    ]


def _markets(manifest: dict, entries: list[ReportEntry]) -> list[str]:
    """The run's markets in plan order, then any market only a record names; ``ALL`` last."""
    planned = list((manifest.get("plan") or {}).get("markets", []))
    seen = planned + [entry.market for entry in entries]
    for entry in entries:
        if entry.results:
            seen += [item.market for item in (*entry.results.kpis, *entry.results.verdicts) if item.market]
    ordered = list(dict.fromkeys(seen))
    return [market for market in ordered if market != "ALL"] + (["ALL"] if "ALL" in ordered else [])


def _kpi_cell(found: tuple[Kpi, ReportEntry] | None) -> str:
    if found is None:
        return "<td>–</td>"
    kpi, entry = found
    return f"<td>{_link(entry, kpi.text)}{_interval(kpi)}</td>"


def _interval(kpi: Kpi) -> str:
    return f' <span class="interval">{_text(kpi.interval)}</span>' if kpi.interval else ""


def _link(entry: ReportEntry, text: str) -> str:
    if not entry.html:
        return _text(text)
    return f'<a href="{html.escape(quote(entry.html), quote=True)}">{_text(text)}</a>'


def _market_anchor(market: str) -> str:
    return "market-" + "".join(character for character in market if character.isalnum())


def page_head(title: str, css: str) -> list[str]:
    """The opening lines of a self-contained page of the run, up to ``</head>``: ``title`` escaped, ``css`` inline."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_text(title)}</title>",
        f"<style>{css}</style></head>",
    ]


def _text(value: object) -> str:
    return html.escape(str(value))
