"""A run's findings as a PowerPoint deck (python-pptx): a title slide, one slide per report, a verdict scorecard.

Every report that recorded results gets one slide: its headline as the title, its other findings (the first few,
long ones shortened at a word) beside its first chart, and a source line naming the run, the data fingerprint and
the report. The scorecard lists every recorded verdict (market, KPI, estimate, target, verdict), over as many
slides as it needs. Text is what the reports recorded; nothing is recomputed.
"""

from __future__ import annotations

import io
from pathlib import Path

from analysis.pipeline.export import ExportedReport, ExportedRun
from analysis.pipeline.files import write_atomically
from analysis.pipeline.markets import market_label
from analysis.present.results import restates_headline

SLIDE_WIDTH_INCHES, SLIDE_HEIGHT_INCHES = 13.333, 7.5  # 16:9
BODY_FINDINGS = 4  # findings under the headline on a report's slide
FINDING_LENGTH = 220  # characters; longer findings are cut at a word
SCORECARD_ROWS = 12  # verdicts per scorecard slide
SCORECARD_COLUMNS = ("Market", "KPI", "Estimate", "Target", "Verdict")
VERDICT_FILLS = {"met": "DAFBE1", "missed": "FFEBE9", "inconclusive": "EAEEF2"}
SOURCE_COLOUR = "57606A"
TITLE_ONLY_LAYOUT, TITLE_LAYOUT = 5, 0


def write_pptx(run: ExportedRun, path: Path) -> Path:
    """Write ``run``'s deck to ``path`` (atomically) and return it (see the module docstring for the slides)."""
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(SLIDE_WIDTH_INCHES), Inches(SLIDE_HEIGHT_INCHES)
    _title_slide(deck, run)
    for report in run.reports:
        if report.results is not None:
            _report_slide(deck, run, report)
    rows = scorecard_rows(run)
    pages = [rows[start : start + SCORECARD_ROWS] for start in range(0, len(rows), SCORECARD_ROWS)]
    for number, page in enumerate(pages, start=1):
        title = "Scorecard: each KPI against its target" + (f" ({number}/{len(pages)})" if len(pages) > 1 else "")
        _scorecard_slide(deck, run, title, page)
    stream = io.BytesIO()
    deck.save(stream)
    return write_atomically(Path(path), stream.getvalue())


def source_line(run: ExportedRun, report: ExportedReport) -> str:
    """``"Run <id> · data <fingerprint> · <report title>, <market>"``: where a slide's findings come from."""
    return f"Run {run.run_id} · data {run.fingerprint} · {report.title}, {report.market_name}"


def shortened(text: str, length: int = FINDING_LENGTH) -> str:
    """``text``, or its first words up to ``length`` characters followed by ``…`` when it is longer."""
    text = " ".join(str(text).split())
    if len(text) <= length:
        return text
    cut = text[: length - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return f"{cut}…"


def scorecard_rows(run: ExportedRun) -> list[tuple[str, str, str, str, str]]:
    """Every recorded verdict once, in report order: (market name, KPI, estimate, target, verdict)."""
    rows: dict[tuple[str, str, str, str, str], None] = {}
    for report in run.reports:
        for verdict in report.results.verdicts if report.results is not None else ():
            market = market_label(verdict.market, run.names) if verdict.market else report.market_name
            rows[(market, verdict.label, verdict.estimate, verdict.target, verdict.verdict)] = None
    return list(rows)


def _title_slide(deck, run: ExportedRun) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_LAYOUT])
    title, subtitle = slide.placeholders[0], slide.placeholders[1]
    _place(title, 0.75, 1.8, 11.8, 1.5)
    _place(subtitle, 0.75, 3.5, 11.8, 2.5)
    title.text = f"Results of run {run.run_id}"
    subtitle.text = "\n".join(
        [f"Period: {run.period}", f"Markets: {', '.join(run.markets)}", f"Data fingerprint: {run.fingerprint}"]
    )


def _report_slide(deck, run: ExportedRun, report: ExportedReport) -> None:
    from pptx.util import Pt

    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    headline = report.results.headline or report.title
    title = slide.shapes.title
    _place(title, 0.5, 0.3, 12.33, 1.3)
    title.text = headline
    size = 24 if len(headline) <= 90 else 20 if len(headline) <= 160 else 16
    for paragraph in title.text_frame.paragraphs:
        for run_ in paragraph.runs:
            run_.font.size = Pt(size)
    others = [finding for finding in report.results.findings if not restates_headline(finding, headline)]
    others = others[:BODY_FINDINGS]
    if others:
        _text_box(slide, 0.5, 1.8, 5.7 if report.charts else 12.33, 4.8, [f"• {shortened(f)}" for f in others], 14)
    if report.charts:
        _picture(slide, report.charts[0], 6.4, 1.8, 6.4, 4.8)
    _text_box(slide, 0.5, 6.85, 12.33, 0.45, [source_line(run, report)], 10, colour=SOURCE_COLOUR)


def _scorecard_slide(deck, run: ExportedRun, title: str, rows: list[tuple[str, ...]]) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY_LAYOUT])
    _place(slide.shapes.title, 0.5, 0.3, 12.33, 1.0)
    slide.shapes.title.text = title
    shape = slide.shapes.add_table(
        len(rows) + 1, len(SCORECARD_COLUMNS), Inches(0.5), Inches(1.4), Inches(12.33), Inches(0.4 * (len(rows) + 1))
    )
    table = shape.table
    for column, width in enumerate((2.0, 2.6, 3.6, 2.1, 2.03)):
        table.columns[column].width = Inches(width)
    for row, values in enumerate([SCORECARD_COLUMNS, *rows]):
        for column, value in enumerate(values):
            cell = table.cell(row, column)
            cell.text = str(value)
            for paragraph in cell.text_frame.paragraphs:
                for run_ in paragraph.runs:
                    run_.font.size = Pt(12)
            if row and column == len(SCORECARD_COLUMNS) - 1 and value in VERDICT_FILLS:
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(VERDICT_FILLS[value])
                cell.text_frame.paragraphs[0].runs[0].font.color.rgb = RGBColor.from_string("1F2328")
    line = f"Run {run.run_id} · data {run.fingerprint} · verdicts as each report recorded them"
    _text_box(slide, 0.5, 6.85, 12.33, 0.45, [line], 10, colour=SOURCE_COLOUR)


def _place(shape, left: float, top: float, width: float, height: float) -> None:
    from pptx.util import Inches

    shape.left, shape.top, shape.width, shape.height = Inches(left), Inches(top), Inches(width), Inches(height)


def _text_box(slide, left, top, width, height, lines: list[str], size: int, colour: str | None = None) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches, Pt

    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    frame = box.text_frame
    frame.word_wrap = True
    for number, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.space_after = Pt(6)
        for run_ in paragraph.runs:
            run_.font.size = Pt(size)
            if colour:
                run_.font.color.rgb = RGBColor.from_string(colour)


def _picture(slide, png: bytes, left: float, top: float, width: float, height: float) -> None:
    """``png`` as large as fits the box, its aspect kept, centred in the box."""
    from pptx.util import Inches

    pixels_wide, pixels_high = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    scale = min(width / max(pixels_wide, 1), height / max(pixels_high, 1))
    shown_width, shown_height = pixels_wide * scale, pixels_high * scale
    slide.shapes.add_picture(
        io.BytesIO(png),
        Inches(left + (width - shown_width) / 2),
        Inches(top + (height - shown_height) / 2),
        Inches(shown_width),
        Inches(shown_height),
    )
