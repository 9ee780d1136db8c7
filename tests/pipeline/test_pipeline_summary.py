"""The executive summary of a run, built from the results its (hand-made) executed notebooks recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from analysis.pipeline.index import write_indexes
from analysis.pipeline.summary import SUMMARY, kpi_trend, sparkline
from analysis.present.results import RESULTS_MIME, Kpi, Verdict, build_results

RUN_ID = "20260101T000000Z-abcd"
SCRIPT = "<script>window.__pwned = 1</script>"
MARKETS_CSV = f"market,name,region,currency\nDE,Germany,Europe,EUR\nFR,France {SCRIPT},Europe,EUR\n"
FUNNEL_TITLE = "Customer-journey funnel"
IMPACT_TITLE = "Post-initiative results"


def funnel(market: str, rate: str, interval: str):
    weekly = [(f"W1 {SCRIPT}", 0.030, "3.0%"), ("W2", 0.034, "3.4%"), ("W3", 0.032, rate)]
    return build_results(
        "customer_journey_funnel",
        market,
        f"Conversion in {market} is {rate}.",
        kpis=[Kpi("conversion_rate", "Conversion rate", rate, interval=interval, trend=weekly, trend_label="weekly")],
        findings=[
            f"Scope: {market}, 01 Jan 2025 to 30 Jun 2026. Conversion in {market} is {rate}.",
            "Mobile converts worse.",
            "Paid search leads.",
            "A fourth.",
        ],
    )


IMPACT = build_results(
    "post_initiative_results",
    "ALL",
    f"Two of three KPIs met their target {SCRIPT}",
    verdicts=[
        Verdict("conversion_rate", "Conversion rate", "met", "+17.1% (95% CI +12% to +22%)", "+15–20%"),
        Verdict("nps", f"NPS {SCRIPT}", "missed", "+2 (95% CI +1 to +3)", "+5"),
        Verdict("seller_churn_hazard", "Seller churn hazard", "inconclusive", "-20% (95% CI -40% to +1%)", "-25–30%"),
        Verdict("conversion_rate", "Conversion rate", "met", "+19.0%", "+15–20%", market="DE"),
    ],
    findings=["Conversion met its target.", f"NPS {SCRIPT} missed."],
)


def write_executed(run_dir: Path, notebook: str, market: str, title: str, results) -> dict:
    cells = [v4.new_markdown_cell(f"# {title}\n\n## Key findings"), v4.new_code_cell("")]
    if results is not None:
        cells.append(v4.new_code_cell("", outputs=[v4.new_output("display_data", data={RESULTS_MIME: results})]))
    (run_dir / notebook).mkdir(parents=True, exist_ok=True)
    nbformat.write(v4.new_notebook(cells=cells), run_dir / notebook / f"{market}.ipynb")
    return {
        "notebook": notebook,
        "market": market,
        "status": "ok" if results is not None else "failed",
        "seconds": 1.0,
        "html": f"{notebook}/{market}.html",
        "ipynb": f"{notebook}/{market}.ipynb",
        "error": None if results is not None else "ValueError: no orders",
    }


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """reports/<run>/ with three funnel reports (FR failed before recording) and one across-markets impact report."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "markets.csv").write_text(MARKETS_CSV)
    reports = tmp_path / "reports"
    run_dir = reports / RUN_ID
    results = [
        write_executed(
            run_dir, "customer_journey_funnel", "DE", FUNNEL_TITLE, funnel("DE", "3.2%", "3.0% to 3.4%").to_dict()
        ),
        write_executed(run_dir, "customer_journey_funnel", "FR", FUNNEL_TITLE, None),
        write_executed(run_dir, "post_initiative_results", "ALL", IMPACT_TITLE, IMPACT.to_dict()),
    ]
    manifest = {
        "run_id": RUN_ID,
        "status": "failed",
        "full_plan": True,
        "config": {"period": {"start": "2025-01-01", "end": "2026-06-30"}, "data_dir": "data"},
        "plan": {"notebooks": ["customer_journey_funnel", "post_initiative_results"], "markets": ["DE", "FR", "ALL"]},
        "provenance": {"data_fingerprint": "a" * 64, "started_at": "2026-01-01T00:00:00Z"},
        "results": results,
    }
    (run_dir / "run.json").write_text(json.dumps(manifest))
    write_indexes(reports, RUN_ID, data_dir=data)
    return run_dir


def section(page: str, anchor: str) -> str:
    start = page.index(f'id="{anchor}"')
    end = page.find("<h2", start)
    return page[start : end if end > 0 else len(page)]


def test_when_reports_recorded_results_then_the_summary_names_each_market_and_links_each_report(run):
    page = (run / SUMMARY).read_text()

    for market in ("Germany", f"France {SCRIPT}", "All markets"):
        assert f">{escape(market)}</h2>" in page
    assert page.count('href="customer_journey_funnel/DE.html"') == 3  # scorecard cell, headline KPI, report title
    assert 'href="customer_journey_funnel/FR.html"' in page and 'href="post_initiative_results/ALL.html"' in page
    assert "This report failed; see the report for why." in section(page, "market-FR")
    assert str(run.parent.parent) not in page  # no path of the machine


def test_when_a_report_recorded_kpis_then_the_scorecard_shows_them_as_printed_per_market(run):
    scorecard = section((run / SUMMARY).read_text(), "scorecard")
    rows = re.findall(r"<tr>(.*?)</tr>", scorecard, re.DOTALL)

    assert re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rows[0]) == [
        "KPI",
        "Germany",
        escape(f"France {SCRIPT}"),
        "All markets",
    ]
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rows[1])
    assert strip(cells[0]) == f"Conversion rate {FUNNEL_TITLE}"
    assert [strip(cell) for cell in cells[1:]] == ["3.2% 3.0% to 3.4%", "–", "–"]


def test_when_verdicts_were_recorded_then_each_shows_in_words_and_colour_under_its_market(run):
    verdicts = section((run / SUMMARY).read_text(), "verdicts")

    assert verdicts.count('<span class="verdict verdict-met">✓ met</span>') == 2
    assert verdicts.count('<span class="verdict verdict-missed">✗ missed</span>') == 1
    assert verdicts.count('<span class="verdict verdict-inconclusive">? inconclusive</span>') == 1
    germany = section((run / SUMMARY).read_text(), "market-DE")
    assert "+19.0%" in germany and "+17.1%" not in germany  # a per-market verdict sits under its market


def test_when_a_report_has_findings_then_its_market_shows_the_headline_and_the_next_three(run):
    germany = section((run / SUMMARY).read_text(), "market-DE")

    assert '<p class="headline">Conversion in DE is 3.2%.</p>' in germany
    assert "<li>Mobile converts worse.</li><li>Paid search leads.</li><li>A fourth.</li>" in germany


def test_when_data_strings_carry_markup_then_the_summary_and_index_show_them_escaped(run):
    for page in (
        (run / SUMMARY).read_text(),
        (run / "index.html").read_text(),
        (run.parent / "index.html").read_text(),
    ):
        assert "<script" not in page and "__pwned" in page
        assert escape(SCRIPT) in page


def test_when_the_index_is_written_then_its_first_link_is_the_executive_summary(run):
    run_page, top_page = (run / "index.html").read_text(), (run.parent / "index.html").read_text()

    assert re.findall(r'<a href="([^"]+)"', run_page)[0] == SUMMARY
    assert re.findall(r'<a href="([^"]+)"', top_page)[0] == f"{RUN_ID}/{SUMMARY}"


def test_when_reports_recorded_headlines_then_the_index_shows_titles_market_names_and_headlines(run):
    page = (run / "index.html").read_text()

    assert f"<th scope='row'>{FUNNEL_TITLE}<span class='notebook'>customer_journey_funnel</span></th>" in page
    assert "<th scope='col'>Germany</th>" in page and "<th scope='col'>All markets</th>" in page
    assert '<span class="headline">Conversion in DE is 3.2%.</span>' in page


def test_when_a_kpi_recorded_a_trend_then_its_market_shows_a_sparkline_with_its_ends_as_printed(run):
    germany = section((run / SUMMARY).read_text(), "market-DE")

    (svg,) = re.findall(r"<svg .*?</svg>", germany)
    assert svg.startswith('<svg class="sparkline" role="img" width="120" height="28" viewBox="0 0 120 28"')
    assert f"<title>Conversion rate, weekly: W1 {escape(SCRIPT)}: 3.0% → W3: 3.2% (3 points)</title>" in svg
    # values 0.030, 0.034, 0.032 over 3 points: x = 3, 60, 117; y from 25 (lowest) to 3 (highest)
    assert '<polyline points="3.0,25.0 60.0,3.0 117.0,14.0"/><circle cx="117.0" cy="14.0" r="2"/>' in svg
    assert f'<span class="trend">W1 {escape(SCRIPT)}: 3.0% → W3: 3.2%</span>' in germany


def test_when_a_finding_is_the_headline_after_its_scope_then_it_is_not_listed_again(run):
    germany = section((run / SUMMARY).read_text(), "market-DE")

    assert '<p class="headline">Conversion in DE is 3.2%.</p>' in germany and "Scope: DE" not in germany


def test_when_a_trend_has_gaps_then_the_line_breaks_and_a_point_between_gaps_is_a_dot():
    points = (("Jan", 1.0, "1"), ("Feb", None, "–"), ("Mar", 3.0, "3"), ("Apr", 2.0, "2"))

    svg = sparkline(points, "Orders <b>monthly</b>")

    # step (120 - 2 * 3) / 3 = 38: x = 3, 41, 79, 117; y(1) = 25, y(3) = 3, y(2) = 14
    assert '<polyline points="79.0,3.0 117.0,14.0"/>' in svg and svg.count("<polyline") == 1
    assert '<circle cx="3.0" cy="25.0" r="1.5"/>' in svg and '<circle cx="117.0" cy="14.0" r="2"/>' in svg
    assert "<title>Orders &lt;b&gt;monthly&lt;/b&gt;</title>" in svg
    assert sparkline((("Jan", None, "–"),), "nothing") == ""
    assert 'cy="14.0"' in sparkline((("Jan", 5.0, "5"), ("Feb", 5.0, "5")), "flat")  # no range: the middle line


def test_when_a_report_called_a_change_then_the_summary_says_it_in_words_with_the_reports_sentence():
    said = f"Conversion rose from 2.10% to 2.60% {SCRIPT}."
    kpi = Kpi("session_conversion_rate", "Session conversion", "2.35%", change=said, change_direction="rise")
    quiet = Kpi("orders", "Orders", "1,204", trend=(("Jan", 3.0, "3"), ("Feb", 4.0, "4")))

    called, uncalled = kpi_trend(kpi), kpi_trend(quiet)

    assert called == (
        f'<span class="trend-line"> <span class="change change-rise" title="{escape(said)}">↑ real rise</span></span>'
    )
    assert "change" not in uncalled and '<span class="trend">Jan: 3 → Feb: 4</span>' in uncalled
    noise = kpi_trend(Kpi("nps", "NPS", "+3", change="x", change_direction="none"))
    assert noise.endswith("→ within the noise</span></span>") and kpi_trend(Kpi("nps", "NPS", "+3")) == ""


def escape(text: str) -> str:
    import html

    return html.escape(text)


def strip(cell: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


RECORDING_CELL = (
    "from analysis.present.results import Kpi, record_results\n"
    "orders = {'DE': '1,204', 'FR': '980'}[market]\n"
    "record_results('orders', market, findings=[f'{orders} orders in {market} <b>so far</b>.'],\n"
    "               kpis=[Kpi('orders', 'Orders', orders)])"
)
RUN_CONFIG = """\
data_dir: data
reports_dir: reports
period: {start: 2025-01-01, end: 2025-03-31}
markets: [DE, FR]
notebooks:
  - notebook: orders
"""


@pytest.mark.slow
def test_when_a_run_executes_notebooks_that_record_results_then_its_summary_and_index_show_them(tmp_path):
    from helpers.pipeline_notebooks import write_project

    from analysis.pipeline import load_run_config, run_reports

    config = load_run_config(write_project(tmp_path, {"orders": ["## Orders", RECORDING_CELL]}, RUN_CONFIG))
    run = run_reports(config, jobs=1, progress=lambda line: None)

    summary, index = (run.run_dir / SUMMARY).read_text(), (run.run_dir / "index.html").read_text()
    report = (run.run_dir / "orders" / "DE.html").read_text()
    assert [result.status for result in run.results] == ["ok", "ok"]
    assert '<p class="headline">1,204 orders in DE &lt;b&gt;so far&lt;/b&gt;.</p>' in summary
    assert '<a href="orders/DE.html">1,204</a>' in summary and '<a href="orders/FR.html">980</a>' in summary
    assert '<span class="headline">980 orders in FR &lt;b&gt;so far&lt;/b&gt;.</span>' in index
    assert "so far" not in report and '<a href="../summary.html">' in report


@pytest.mark.slow
def test_when_the_summary_and_index_are_opened_in_a_browser_then_no_payload_runs_and_it_shows_as_text(run):
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"{chromium} not found: install the Debian package chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=["--no-sandbox"])
        try:
            for page_path in (run / SUMMARY, run / "index.html", run.parent / "index.html"):
                page = browser.new_page()
                page.goto(page_path.as_uri())
                assert page.evaluate("window.__pwned") is None, page_path
                assert SCRIPT in page.inner_text("body"), page_path
                page.close()
        finally:
            browser.close()
