"""One real report through the pipeline and the exports: its charts beside it, its tables in Excel, its headline
on a slide, and no customer identifier or machine path in any exported file."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from helpers.pipeline_notebooks import run_real_notebooks
from openpyxl import load_workbook
from pptx import Presentation

from analysis.config import DATA_DIR
from analysis.pipeline.charts import chart_files, chart_records, charts_folder
from analysis.pipeline.export import export_run
from analysis.pipeline.recorded import recorded_results
from analysis.present.capture import TABLE_MIME

pytestmark = pytest.mark.slow

NOTEBOOKS = """\
  - notebook: customer_journey_funnel
"""
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    data = Path(os.environ.get("WORKBOOK_DATA_DIR") or DATA_DIR / "test-small")
    project = tmp_path_factory.mktemp("real-run")
    run = run_real_notebooks(project, data, ["US"], NOTEBOOKS, jobs=1)
    assert run.status == "ok", run.failed
    files = export_run(run.run_id, project / "reports")
    return data, project, run.run_dir, files


def test_when_a_report_is_made_then_its_charts_are_files_beside_it_and_out_of_its_notebook(exported):
    _, _, run_dir, _ = exported
    notebook_path = run_dir / "customer_journey_funnel" / "US.ipynb"
    kept = nbformat.read(notebook_path, as_version=4)
    named = chart_files(kept)
    page = (run_dir / "customer_journey_funnel" / "US.html").read_text()

    assert len(named) >= 4 and chart_records(kept) == []
    assert sorted(path.name for path in charts_folder(notebook_path).iterdir()) == sorted(
        name.split("/")[-1] for files in named for name in files
    )
    assert page.count("data:image/png;base64,") >= len(named) and "<svg" not in page


def test_when_the_run_is_exported_then_tables_and_headline_are_the_reports(exported):
    _, _, run_dir, (xlsx, pptx) = exported
    kept = nbformat.read(run_dir / "customer_journey_funnel" / "US.ipynb", as_version=4)
    tables = [
        o["data"][TABLE_MIME] for c in kept.cells for o in c.get("outputs", []) if TABLE_MIME in o.get("data", {})
    ]
    book = load_workbook(xlsx)
    deck = Presentation(str(pptx))

    assert len(book.sheetnames) == len(tables) + 2 and len(tables) >= 3
    first = book["customer journey funnel US 1"]
    assert [cell.value for cell in first[2]] == tables[0]["columns"]
    assert [[cell.value for cell in row] for row in first.iter_rows(min_row=3)] == tables[0]["rows"]
    assert deck.slides[1].shapes.title.text == recorded_results(kept).headline


def test_when_the_exports_are_searched_then_no_customer_id_and_no_machine_path_appear(exported):
    data, project, run_dir, files = exported
    ids = set(pd.read_parquet(data / "orders.parquet", columns=["order_id", "user_id"]).stack().astype(str))
    ids |= set(pd.read_parquet(data / "events.parquet", columns=["session_id"]).stack().astype(str))
    svgs = list(charts_folder(run_dir / "customer_journey_funnel" / "US.ipynb").glob("*.svg"))
    texts = [path.read_text() for path in svgs]
    for path in files:
        with zipfile.ZipFile(path) as archive:
            texts.append(" ".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist()))

    assert len(ids) > 1000
    assert [sorted(set(TOKEN.findall(text)) & ids)[:5] for text in texts] == [[] for _ in texts]
    assert not any(str(project) in text or str(data.resolve()) in text for text in texts)
