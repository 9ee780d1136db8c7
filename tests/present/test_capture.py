"""Tables and charts as data: the records of a displayed frame and figure, in a kernel and in the HTML report."""

from __future__ import annotations

import base64
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from nbformat import v4  # noqa: E402

from analysis.pipeline.provenance import Provenance  # noqa: E402
from analysis.pipeline.render import ReportHeader, render_report  # noqa: E402
from analysis.present.capture import (  # noqa: E402
    CHART_FILES_ENVIRONMENT,
    CHART_MIME,
    TABLE_MIME,
    capture_tables_and_charts,
    chart_record,
    table_record,
)
from analysis.present.findings import escaped_style  # noqa: E402

PROVENANCE = Provenance("2026-01-02T03:04:05Z", "abc1234", False, "f" * 64, {"python": "3.11.7"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_when_a_frame_has_a_named_index_then_the_record_shows_it_first_and_values_as_json():
    frame = pd.DataFrame(
        {"units": [1204, 37], "rate": [0.032, math.nan], "real?": [True, False], "note": ["=SUM(A1)", None]},
        index=pd.Index(["Mobile", "Desktop"], name="device"),
    )

    record = table_record(frame)

    assert record["columns"] == ["device", "units", "rate", "real?", "note"]
    assert record["index_columns"] == 1
    assert record["rows"] == [["Mobile", 1204, 0.032, True, "=SUM(A1)"], ["Desktop", 37, None, False, None]]


def test_when_a_frame_has_the_default_index_then_it_is_left_out():
    record = table_record(pd.DataFrame({"a": [1, 2]}))

    assert (record["columns"], record["index_columns"], record["rows"]) == (["a"], 0, [[1], [2]])


def test_when_labels_have_levels_and_cells_hold_dates_then_they_are_flattened_to_strings():
    columns = pd.MultiIndex.from_tuples([("rate", "low"), ("rate", "high")])
    index = pd.MultiIndex.from_tuples([("visit", "cart")], names=["from", "to"])
    frame = pd.DataFrame([[0.1, 0.2]], columns=columns, index=index)
    dates = pd.DataFrame({"day": pd.to_datetime(["2025-10-01", None])})

    assert table_record(frame)["columns"] == ["from", "to", "rate / low", "rate / high"]
    assert table_record(frame)["rows"] == [["visit", "cart", 0.1, 0.2]]
    assert table_record(dates)["rows"] == [["2025-10-01T00:00:00"], [None]]


def test_when_a_styler_is_displayed_then_its_data_is_recorded_less_hidden_columns_and_index():
    frame = pd.DataFrame({"score": [81.5], "rank": [1.0], "<b>": ["x"]}, index=pd.Index(["DE"], name="market"))
    styler = escaped_style(frame, {"score": "{:.0f}"}).hide(axis="columns", subset=["rank"])

    assert table_record(styler) == {
        "version": 1,
        "columns": ["market", "score", "<b>"],  # raw: the data, not the escaped HTML
        "index_columns": 1,
        "rows": [["DE", 81.5, "x"]],
    }
    assert table_record(styler.hide(axis="index"))["columns"] == ["score", "<b>"]


def test_when_a_figure_is_recorded_then_it_holds_svg_and_a_300_dpi_png():
    figure, axis = plt.subplots(figsize=(2, 1))
    axis.plot([0, 1], [0, 1])

    record = chart_record(figure)
    plt.close(figure)

    png = base64.b64decode(record["png"])
    assert png.startswith(PNG_SIGNATURE) and record["dpi"] == 300
    width = int.from_bytes(png[16:20], "big")
    assert 450 <= width <= 700  # a 2-inch-wide figure, cut to its drawn area, at 300 dpi
    assert record["svg"].lstrip().startswith("<?xml") and "<svg" in record["svg"]


def test_when_not_in_ipython_then_nothing_is_registered(monkeypatch):
    import IPython

    # another test of the same worker may have started an IPython shell in this process: stand for a plain Python
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert capture_tables_and_charts() is False


def execute_capture_notebook(chart_files: bool) -> nbformat.NotebookNode:
    """A kernel that applies the report theme, shows a table, a styled table and a chart."""
    import os

    from nbclient import NotebookClient

    from analysis.config import KERNEL_NAME

    setup = (
        "import matplotlib.pyplot as plt\nimport pandas as pd\n"
        "from analysis.present.findings import escaped_style\n"
        "from analysis.present.theme import use_report_theme\nuse_report_theme()\nuse_report_theme()"
    )
    cells = [
        v4.new_markdown_cell("# Capture\n\n## Devices"),
        v4.new_code_cell(setup),
        v4.new_code_cell("pd.DataFrame({'units': [3, 4]}, index=pd.Index(['Mobile', 'Desktop'], name='device'))"),
        v4.new_code_cell("display(escaped_style(pd.DataFrame({'rate': [0.25]})))"),
        v4.new_code_cell("figure, axis = plt.subplots()\naxis.bar(['a', 'b'], [1, 2]);"),
    ]
    notebook = v4.new_notebook(cells=cells)
    before = os.environ.pop(CHART_FILES_ENVIRONMENT, None)
    if chart_files:  # as the pipeline's workers set it for their kernels
        os.environ[CHART_FILES_ENVIRONMENT] = "1"
    try:
        NotebookClient(notebook, kernel_name=KERNEL_NAME, timeout=120).execute()
    finally:
        os.environ.pop(CHART_FILES_ENVIRONMENT, None)
        if before is not None:
            os.environ[CHART_FILES_ENVIRONMENT] = before
    return notebook


@pytest.fixture(scope="module")
def executed() -> nbformat.NotebookNode:
    return execute_capture_notebook(chart_files=True)


def test_when_a_consultant_runs_a_notebook_in_jupyterlab_then_tables_are_captured_but_charts_cost_nothing_extra():
    explored = execute_capture_notebook(chart_files=False)
    assert len(outputs(explored, TABLE_MIME)) == 2
    assert outputs(explored, CHART_MIME) == [] and len(outputs(explored, "image/png")) == 1


def outputs(notebook: nbformat.NotebookNode, mime: str) -> list:
    return [
        output["data"][mime]
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if mime in output.get("data", {})
    ]


def test_when_a_kernel_shows_tables_and_a_chart_then_each_output_carries_its_record(executed):
    tables, charts = outputs(executed, TABLE_MIME), outputs(executed, CHART_MIME)

    assert [table["rows"] for table in tables] == [[["Mobile", 3], ["Desktop", 4]], [[0.25]]]
    assert len(charts) == 1 and base64.b64decode(charts[0]["png"]).startswith(PNG_SIGNATURE)
    assert len(outputs(executed, "image/png")) == 1 and len(outputs(executed, "text/html")) == 2  # as before


def test_when_the_report_is_rendered_then_neither_record_shows_and_the_page_does_not_grow(executed):
    header = ReportHeader("Capture", "capture", "DE", "p", {}, PROVENANCE, market_name="Germany")
    without = nbformat.from_dict(executed)
    for cell in without.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(TABLE_MIME, None)
            output.get("data", {}).pop(CHART_MIME, None)

    page, plain = render_report(executed, header), render_report(without, header)

    assert TABLE_MIME not in page and CHART_MIME not in page and "<svg" not in page
    assert page == plain  # the same page, byte for byte, as without the records
