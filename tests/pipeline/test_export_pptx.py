"""The PowerPoint export of a hand-made run, reopened with python-pptx."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from helpers.exported_run import FUNNEL_FINDINGS, IMPACT, RUN_ID, SCRIPT, write_run
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from analysis.pipeline.charts import charts_folder
from analysis.pipeline.export import export_run
from analysis.pipeline.export_pptx import shortened

SOURCE = "Run 20260101T000000Z-abcd · data 0123456789ab · "


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def deck(reports):
    (path,) = export_run(RUN_ID, reports, xlsx=False)
    return path, Presentation(str(path))


def texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def test_when_a_run_is_exported_then_the_deck_opens_with_run_period_and_markets(deck):
    path, presentation = deck

    title = presentation.slides[0]

    assert path.name == f"{RUN_ID}.pptx"
    assert title.shapes.title.text == f"Results of run {RUN_ID}"
    assert texts(title)[1].splitlines() == [
        "Period: 2025-01-01 to 2026-06-30",
        f"Markets: Germany, France {SCRIPT}, All markets",  # plain text on a slide: nothing to escape
        "Data fingerprint: 0123456789ab",
    ]


def test_when_reports_recorded_results_then_each_has_a_slide_titled_with_its_headline(deck):
    _, presentation = deck

    titles = [slide.shapes.title.text for slide in presentation.slides]

    # the failed report (France) recorded nothing and has no slide
    assert titles[1:3] == [FUNNEL_FINDINGS[0], IMPACT.headline]
    assert len(titles) == 4


def test_when_a_report_slide_is_made_then_it_shows_the_next_findings_shortened_its_chart_and_source(deck, reports):
    _, presentation = deck
    funnel = presentation.slides[1]

    body = texts(funnel)[1].splitlines()
    pictures = [shape for shape in funnel.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    chart = (charts_folder(reports / RUN_ID / "customer_journey_funnel" / "DE.ipynb") / "01.png").read_bytes()

    assert body[0] == f"• {FUNNEL_FINDINGS[1]}"
    assert body[1].endswith("…") and len(body[1]) <= 2 + 220 and FUNNEL_FINDINGS[2].startswith(body[1][2:-1])
    assert body[2:] == [f"• {FUNNEL_FINDINGS[3]}", f"• {FUNNEL_FINDINGS[4]}"]  # four findings at most
    assert len(pictures) == 1 and pictures[0].image.blob == chart  # the first chart, at 300 dpi
    assert texts(funnel)[-1] == SOURCE + "Customer-journey funnel, Germany"
    assert texts(presentation.slides[2])[-1] == SOURCE + "Post-initiative results, All markets"


def test_when_verdicts_were_recorded_then_the_scorecard_lists_each_with_market_and_target(deck):
    _, presentation = deck
    scorecard = presentation.slides[3]

    (table,) = [shape.table for shape in scorecard.shapes if shape.has_table]
    rows = [[cell.text for cell in row.cells] for row in table.rows]

    assert scorecard.shapes.title.text == "Scorecard: each KPI against its target"
    assert rows == [
        ["Market", "KPI", "Estimate", "Target", "Verdict"],
        ["All markets", "Conversion rate", "+17.1% (95% CI +12% to +22%)", "+15–20%", "met"],
        ["All markets", "NPS", "+2 (95% CI +1 to +3)", "+5", "missed"],
        ["Germany", "Conversion rate", "+9% (95% CI -1% to +19%)", "+15–20%", "inconclusive"],
    ]


def test_when_the_file_is_searched_then_no_absolute_path_appears(deck, reports):
    path, _ = deck

    with zipfile.ZipFile(path) as archive:
        text = "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())

    assert str(reports.parent) not in text and "/tmp/" not in text


def test_when_a_finding_is_long_then_it_is_cut_at_a_word_with_an_ellipsis():
    assert shortened("one two three", 100) == "one two three"
    assert shortened("alpha beta, gamma delta", 14) == "alpha beta…"
    assert shortened("  spaced\n out  ", 100) == "spaced out"
