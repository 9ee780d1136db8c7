"""A rendered report: links back to the summary and index, a readable title, a table of contents, a print style."""

from __future__ import annotations

import re

from nbformat import v4

from analysis.pipeline.provenance import Provenance
from analysis.pipeline.render import ReportHeader, contents_html, render_report

PROVENANCE = Provenance("2026-01-02T03:04:05Z", "abc1234", False, "f" * 64, {"python": "3.11.7"})
NOTEBOOK = v4.new_notebook(
    cells=[
        v4.new_markdown_cell("# Customer-journey funnel\n\nWhere buyers drop out."),
        v4.new_markdown_cell("## Key findings"),
        v4.new_code_cell("", outputs=[v4.new_output("stream", name="stdout", text="## not a heading\n")]),
        v4.new_markdown_cell("## Conversion by *segment*\n\n### Time to convert"),
    ]
)


def header(**changes) -> ReportHeader:
    values = {"title": "Customer-journey funnel", "notebook": "funnel", "market": "DE", "period": "p", "parameters": {}}
    return ReportHeader(**(values | changes), provenance=PROVENANCE)


def test_when_a_report_is_rendered_then_it_links_back_to_the_summary_and_the_run_index_first():
    page = render_report(NOTEBOOK, header(market_name="Germany"))

    links = re.findall(r'<a href="([^"]+)"', page)
    assert links[:2] == ["../summary.html", "../index.html"]


def test_when_a_report_has_sections_then_its_contents_list_them_in_order_and_link_their_ids():
    page = render_report(NOTEBOOK, header(market_name="Germany"))

    contents = re.search(r'<nav class="workbook-contents".*?</nav>', page, re.DOTALL).group(0)
    assert re.findall(r'<li class="level-(\d)"><a href="#([^"]+)">([^<]+)</a>', contents) == [
        ("2", "Key-findings", "Key findings"),
        ("2", "Conversion-by-segment", "Conversion by segment"),
        ("3", "Time-to-convert", "Time to convert"),
    ]
    for anchor in ("Key-findings", "Conversion-by-segment", "Time-to-convert"):
        assert f'id="{anchor}"' in page


def test_when_a_report_has_no_sections_then_it_has_no_contents():
    assert contents_html("<h1>Only a title</h1>") == ""


def test_when_the_market_has_a_name_then_title_and_subtitle_use_it_and_the_header_keeps_the_code():
    page = render_report(NOTEBOOK, header(market_name="Germany"))

    assert "<title>Customer-journey funnel — Germany</title>" in page
    assert '<p class="workbook-subtitle">Germany</p>' in page
    assert '<dd data-field="Market">Germany (DE)</dd>' in page


def test_when_no_name_is_given_then_it_comes_from_the_markets_table_of_the_data_dir(tmp_path):
    (tmp_path / "markets.csv").write_text("market,name,region,currency\nDE,Deutschland,Europe,EUR\n")

    named = render_report(NOTEBOOK, header(parameters={"data_dir": str(tmp_path)}))
    across = render_report(NOTEBOOK, header(market="ALL"))

    assert "<title>Customer-journey funnel — Deutschland</title>" in named
    assert "<title>Customer-journey funnel — All markets</title>" in across


def test_when_printed_then_headings_stay_with_their_content_and_pages_carry_report_and_market():
    page = render_report(NOTEBOOK, header(market_name="Germany"))

    assert re.search(r"@media print \{\s*h1, h2, h3, h4 \{ break-after: avoid;", page)
    assert '@top-left { content: "Customer\\2d journey funnel \\2014  Germany";' in page


def test_when_a_market_name_carries_markup_then_title_subtitle_and_running_header_escape_it():
    page = render_report(NOTEBOOK, header(market_name='</style><script>alert("x")</script>'))

    assert "<script>alert" not in page and "</style><script>" not in page
    assert '<p class="workbook-subtitle">&lt;/style&gt;&lt;script&gt;alert("x")&lt;/script&gt;</p>' in page
    assert "\\3c \\2f style\\3e \\3c script\\3e alert\\28 \\22 x\\22 \\29 " in page
